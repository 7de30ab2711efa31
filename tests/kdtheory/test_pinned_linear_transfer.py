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


def test_t_cdf_on_spheres_by_hand():
    # t = vᵀu, u uniform on S^{d−2}: d = 2: t = ±1 with ½ each; d = 3: t = cos φ, φ uniform, P = 1 − arccos(s)/π;
    # d = 4: t uniform on [−1, 1] (Archimedes), P = (s + 1)/2
    s = np.array([-2.0, -1.0, -0.5, 0.0, 0.75, 1.0, 1.5])
    assert np.array_equal(lt._t_cdf(s, 2), [0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 1.0])
    assert lt._t_cdf(0.5, 3) == pytest.approx(2.0 / 3.0, rel=1e-12)
    assert lt._t_cdf(-0.5, 3) == pytest.approx(1.0 / 3.0, rel=1e-12)
    assert lt._t_cdf(0.3, 4) == pytest.approx(0.65, rel=1e-12)
    assert lt._t_cdf(-0.6, 4) == pytest.approx(0.2, rel=1e-12)


def test_corollary2_corrected_bound_by_hand():
    # c((log n)/n)^κ + c^n n^{−κ}: n = 100, κ = 1, c = 1: ln(100)/100 + 1/100
    assert lt.corollary2_corrected_bound(100, 1.0, 1.0, clip=False) == pytest.approx(
        math.log(100) / 100 + 0.01, rel=1e-12)
    # n = 4, κ = 2, c = 2: 2 (ln 4 / 4)² + 2⁴ / 4² = (ln 4)²/8 + 1; clipped at 1
    assert lt.corollary2_corrected_bound(4, 2.0, 2.0, clip=False) == pytest.approx(
        math.log(4) ** 2 / 8 + 1, rel=1e-12)
    assert lt.corollary2_corrected_bound(4, 2.0, 2.0) == 1.0
    # n = 50, κ = 0.5, c = 1.01: 1.01 (ln 50/50)^½ + e^{50 ln 1.01} / √50
    assert lt.corollary2_corrected_bound(50, 0.5, 1.01, clip=False) == pytest.approx(
        1.01 * math.sqrt(math.log(50) / 50) + math.exp(50 * math.log(1.01)) / math.sqrt(50), rel=1e-12)


def test_expected_transfer_risk_mean_and_standard_error():
    task = lt.polynomial_task(3, 1.0)
    mean, se = lt.expected_transfer_risk(task, 2, 40, np.random.default_rng(5))
    r = lt.transfer_risk_samples(task, 2, 40, np.random.default_rng(5))
    assert mean == pytest.approx(float(np.mean(r)), rel=1e-12)
    assert se == pytest.approx(float(np.std(r, ddof=1)) / math.sqrt(40), rel=1e-12)
    assert 0 < se < 0.5
