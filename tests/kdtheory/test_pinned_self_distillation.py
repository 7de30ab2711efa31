"""Pinned exact values for kdtheory.self_distillation (paper 002), each derived by hand in the comment next to it.

These kill mutants that turn a formula into another plausible one (see tools/mutate.py): the generic names
(``kappa``, ``matvec``) are shared with other modules, so the module's own pinned file is where they are checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from kdtheory import self_distillation as sd


def test_spectrum_kappa_pinned():
    # d = (1/2, 2, 8): κ = d_max/d_min = 16 (not d_max·d_min = 4, d_max = 8, d_min/d_max = 1/16)
    S = sd.spectrum(np.diag([2.0, 0.5, 8.0]))
    assert S.kappa == pytest.approx(16.0, rel=1e-14)
    assert (S.d_max, S.d_min) == (pytest.approx(8.0, rel=1e-14), pytest.approx(0.5, rel=1e-14))


def test_spline_gram_matvec_pinned():
    # eq. (57) at x = 1/3, 2/3 (K = 2): g(x, x) = x²(1 − x)²/3 = 4/243 for both; for x = 1/3 < t = 2/3,
    # g = −x(1 − t)(x² − 2t + t²)/6 = −(1/9)(1/9 − 12/9 + 4/9)/6 = 7/486; G = g/K = [[8, 7], [7, 8]]/972
    S = sd.spline_gram([2 / 3, 1 / 3])  # unsorted on purpose
    G = np.array([[8.0, 7.0], [7.0, 8.0]]) / 972
    np.testing.assert_allclose(S.matvec([0.0, 1.0]), [7 / 972, 8 / 972], rtol=1e-13)
    # caller order (2/3, 1/3): u sorted = (1, 2), G·(1, 2) = (22, 23)/972, back in caller order (23, 22)/972
    np.testing.assert_allclose(S.matvec([2.0, 1.0]), [23 / 972, 22 / 972], rtol=1e-13)
    np.testing.assert_allclose(S.dense()[::-1, ::-1], G, rtol=1e-13)
    assert S.d_max() == pytest.approx(15 / 972, rel=1e-12)  # eigenvalues (8 ± 7)/972
    # three points (an interior row of R and D): x = 1/4, 1/2, 3/4, g by (57) by hand, divided by K = 3:
    # g(¼,¼) = g(¾,¾) = (1/16)(9/16)/3 = 9/768, g(½,½) = (1/4)(1/4)/3 = 16/768,
    # g(¼,½) = −(¼)(½)(1/16 − 1 + ¼)/6 = 11/768, g(¼,¾) = −(¼)(¼)(1/16 − 3/2 + 9/16)/6 = 7/768,
    # g(½,¾) = −(½)(¼)(¼ − 3/2 + 9/16)/6 = 11/768 (symmetric)
    S3 = sd.spline_gram([0.25, 0.5, 0.75])
    g = np.array([[9, 11, 7], [11, 16, 11], [7, 11, 9]]) / 768 / 3
    u = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(S3.matvec(u), g @ u, rtol=1e-12)


def test_prop3_upper_bound_pinned():
    # κ = 1: a(1) = 1, b(1) = 1 ⇒ (122) is s(u0 − t); u0 = 6, s = √(1·0.25) = 1/2 ⇒ 3, 5/2, 2
    np.testing.assert_allclose(sd.prop3_upper_bound(3.0, 1, 0.25, 1.0, [0, 1, 2]), [3.0, 2.5, 2.0], rtol=1e-14)
    # κ = 4, u0 = 6: a(1/4) = 148/147, b(1/4) = 16/49 (w = 21/4); t = 2: s(a²u0 − b(a + 1)) = 2792/1029
    assert float(sd.prop3_upper_bound(3.0, 1, 0.25, 4.0, 2)) == pytest.approx(2792 / 1029, rel=1e-13)
    assert float(sd.prop3_upper_bound(3.0, 1, 0.25, 4.0, 0)) == pytest.approx(3.0, rel=1e-14)
