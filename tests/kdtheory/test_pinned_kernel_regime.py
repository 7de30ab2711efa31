"""Pinned exact values of kdtheory.kernel_regime (paper 001) at hand-built instances, derived by hand from the
statement in the docstring (Thm 2, corrected high-probability form) (tools/mutate.py survivors)."""

import math

import pytest

from kdtheory import kernel_regime as kr


def test_lottery_ticket_tail_bound_by_hand():
    # z_l = ā_l φ̄_l = (2, 0), (0, 2), (1, 1): z̄ = (1, 1) (non-zero, so z − z̄ ≠ z + z̄), ‖z_l − z̄‖ = √2, √2, 0:
    # R = √2, s² = 4/3; m = 1 of m̄ = 3: (1 − 1/3)·(3/2)·s² = 4/3; λ = 1: (1/2)²; δ = e^{−1/2}: √(2 log 1/δ) = 1
    val = kr.lottery_ticket_tail_bound([1.0, 1.0, 1.0], [[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]], 1, 1.0,
                                       math.exp(-0.5))
    assert val == pytest.approx(0.25 * (math.sqrt(4.0 / 3.0) + math.sqrt(2.0)) ** 2, rel=1e-12)
