"""Pinned exact values of kdtheory.linear_transfer (paper 003) on hand-built instances, derived by hand, for the
branches the claims' random instances never reach (tools/mutate.py survivors)."""

import math

import numpy as np
import pytest

from kdtheory import linear_transfer as lt


@pytest.mark.parametrize("eps", [1.0, 1e-7])  # 1e-7: Gram condition ~1e15 > 1e6, the Householder fallback
def test_monotonicity_index_distillation_angles_by_hand(eps):
    # span(X) = span(e₁, e₂) in R⁴, w̄* = (1, 1, 1, 1)/2: cos²ᾱ(X) = ‖proj w̄*‖² = 1/2, ᾱ = π/4.
    # x = e₁ + 3e₃: residual r = 3e₃, (rᵀw̄*)²/‖r‖² = (3/2)²/9 = 1/4, so cos²ᾱ([X, x]) = 3/4, ᾱ = π/6.
    X = np.array([[[1.0, 1.0], [0.0, eps], [0.0, 0.0], [0.0, 0.0]]])
    x = np.array([[1.0, 0.0, 3.0, 0.0]])
    idx, a0, a1 = lt.monotonicity_index_distillation(X, x, np.ones(4), return_angles=True)
    assert a0[0] == pytest.approx(math.pi / 4, rel=1e-6)
    assert a1[0] == pytest.approx(math.pi / 6, rel=1e-6)
    assert idx == 1.0
    # a point inside span(X) leaves the angle unchanged (the index counts strict decreases only)
    idx, a0, a1 = lt.monotonicity_index_distillation(X, np.array([[2.0, 0.0, 0.0, 0.0]]), np.ones(4),
                                                     return_angles=True)
    assert a1[0] == pytest.approx(math.pi / 4, rel=1e-6) and idx == 0.0
