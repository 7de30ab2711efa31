"""Pinned exact values of kdtheory.variance_reduction (paper 000) at hand-built data, derived by hand from the
formulas of Gower et al. (2019, Prop. 3.8) cited in the docstring (tools/mutate.py survivors)."""

import pytest

from kdtheory import variance_reduction as vr


def test_expected_smoothness_without_replacement_small_n_by_hand():
    # logistic (x_star given only for the local μ), A = [[1, 0], [0, 2]] (N = 2): L = λ_max(AᵀA/N)/4 = (4/2)/4 = 1/2, L_max = max‖a_n‖²/4 = 1;
    # 𝓛 = N(b−1)/(b(N−1))·L + (N−b)/(b(N−1))·L_max: b = 1 → L_max = 1, b = 2 (full batch) → L = 1/2
    A = [[1.0, 0.0], [0.0, 2.0]]
    one = vr.expected_smoothness("logistic", A, batch_size=1, sampling="without_replacement", x_star=[0.0, 0.0])
    full = vr.expected_smoothness("logistic", A, batch_size=2, sampling="without_replacement", x_star=[0.0, 0.0])
    assert one.calL == pytest.approx(1.0, rel=1e-12)
    assert full.calL == pytest.approx(0.5, rel=1e-12)
    assert one.L == pytest.approx(0.5, rel=1e-12) and one.L_max == pytest.approx(1.0, rel=1e-12)
    # N = 1: the only batch is the sample itself, 𝓛 = L = L_max = ‖a‖²/4 = 1
    single = vr.expected_smoothness("logistic", [[2.0, 0.0]], batch_size=1, sampling="without_replacement", x_star=[0.0, 0.0])
    assert single.calL == pytest.approx(1.0, rel=1e-12)
    # N = 3, b = 2, A = diag-like rows (2, 0), (0, 2), (0, 0): L = λ_max(diag(4, 4)/3)/4 = 1/3, L_max = 1:
    # 𝓛 = 3·1/(2·2)·(1/3) + 1/(2·2)·1 = 1/4 + 1/4 = 1/2
    three = vr.expected_smoothness("logistic", [[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]], batch_size=2,
                                   sampling="without_replacement", x_star=[0.0, 0.0])
    assert three.calL == pytest.approx(0.5, rel=1e-12)
