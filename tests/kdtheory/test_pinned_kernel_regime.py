"""Pinned exact values of kdtheory.kernel_regime (paper 001) at hand-built instances, derived by hand from the
statement in the docstring (Thm 2, corrected high-probability form) (tools/mutate.py survivors)."""

import math

import numpy as np

import pytest

from kdtheory import kernel_regime as kr


def test_lottery_ticket_tail_bound_by_hand():
    # z_l = ā_l φ̄_l = (2, 0), (0, 2), (1, 1): z̄ = (1, 1) (non-zero, so z − z̄ ≠ z + z̄), ‖z_l − z̄‖ = √2, √2, 0:
    # R = √2, s² = 4/3; m = 1 of m̄ = 3: (1 − 1/3)·(3/2)·s² = 4/3; λ = 1: (1/2)²; δ = e^{−1/2}: √(2 log 1/δ) = 1
    val = kr.lottery_ticket_tail_bound([1.0, 1.0, 1.0], [[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]], 1, 1.0,
                                       math.exp(-0.5))
    assert val == pytest.approx(0.25 * (math.sqrt(4.0 / 3.0) + math.sqrt(2.0)) ** 2, rel=1e-12)


def test_final_value_with_output_weights_above_one_by_hand():
    """Thm 1, eq. (5) at m = 1, a = (3,): c = a/√m = 3, a = Σa_k²/m = 9; y = 1, φ = 2, λ = 1 gives
    f_∞ = (9·1 + 1·3·2)/(9 + 1) = 3/2 (the scaled overflow-safe form once divided λ·cφ by s twice: 1.1)."""
    from kdtheory import kernel_regime as kr

    assert np.isclose(kr.final_value([1.0], [[2.0]], [3.0], 1.0)[0], 1.5, rtol=1e-14)
    # and Thm 3's unit values give the same f_∞: c·F = 3·(3(1 − 6)/10 + 2) = 3·0.5 = 1.5
    assert np.isclose(kr.unit_final_values([1.0], [[2.0]], [3.0], 1.0)[0, 0], 0.5, rtol=1e-14)
