"""Pinned exact values for kdtheory.self_distillation (paper 002), each derived by hand in the comment next to it.

These kill mutants that turn a formula into another plausible one (see tools/mutate.py): the generic names
(``kappa``, ``matvec``) are shared with other modules, so the module's own pinned file is where they are checked.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kdtheory import self_distillation as sd


def test_spectrum_kappa_pinned():
    # d = (1/2, 2, 8): κ = d_max/d_min = 16 (not d_max·d_min = 4, d_max = 8, d_min/d_max = 1/16)
    S = sd.spectrum(np.diag([2.0, 0.5, 8.0]))
    assert S.kappa == pytest.approx(16.0, rel=1e-12)
    assert (S.d_max, S.d_min) == (pytest.approx(8.0, rel=1e-12), pytest.approx(0.5, rel=1e-12))


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


def test_sobolev_gram_pinned_by_hand():
    # one point x = 1/2, ∫f'² (a = 0), Dirichlet: T = 1/h₀ + 1/h₁ = 4, g(½, ½) = ½·½ = 1/4;
    # a = ln 2·2 (w0 = (2 ln 2)², w1 = 1), gap h = ½: a·coth(a/2) = 2ln2·(5/3), a/sinh(a/2) = 2ln2·(4/3)
    S = sd.SobolevGram([0.5], 0.0, 1.0)
    assert S._Td[0] == pytest.approx(4.0, rel=1e-15) and S.dense()[0, 0] == pytest.approx(0.25, rel=1e-14)
    a = 2 * math.log(2)
    S2 = sd.SobolevGram([0.25, 0.75], a * a, 1.0)  # gaps ¼, ½, ¼: e^{−2a·¼} = ½, e^{−2a·½} = ¼
    coth_q, csch_h = a * (1 + 0.5) / 0.5, 2 * a * 0.5 / 0.75  # a·coth(a/4), a/sinh(a/2)
    coth_h = a * (1 + 0.25) / 0.75
    np.testing.assert_allclose(S2._Td, [coth_q + coth_h] * 2, rtol=1e-14)
    np.testing.assert_allclose(S2._To, [-csch_h], rtol=1e-14)
    # residual by hand at K = 1: r = λT y/(1 + λT), λ = c
    assert float(S.residual(0.5, [2.0])[0]) == pytest.approx(0.5 * 4 * 2 / (1 + 0.5 * 4), rel=1e-12)
    # K = 2 at x = 1/3, 2/3, ∫f'², Dirichlet: gaps 1/3 ⇒ T = [[6, −3], [−3, 6]] (T⁻¹ = [[6, 3], [3, 6]]/27 is the
    # Brownian bridge min(x,t)(1 − max(x,t)) on the points); c = 1/2 ⇒ λ = cK = 1, (I + T)⁻¹ = [[7, 3], [3, 7]]/40,
    # y = (1, 0): Ty = (6, −3), r = (33, −3)/40
    S2 = sd.SobolevGram([2 / 3, 1 / 3], 0.0, 1.0)
    np.testing.assert_allclose(S2.residual(0.5, [0.0, 1.0]), [-3 / 40, 33 / 40], rtol=1e-14)
    np.testing.assert_allclose(S2.dense(), np.array([[6.0, 3.0], [3.0, 6.0]])[::-1, ::-1] / 54, rtol=1e-13)
    # the path: y = (1, 1) lies on G's eigenvector of d = 1/(K·3) = 1/6, so h(c) = (c/(c + 1/6))² = eps = 1/4 at
    # c = 1/6 and y₁ = (1/2)y, which has mean square 1/4 = eps: collapsed at round 1
    p = sd.self_distill(S2, [1.0, 1.0], 0.25, 3)
    assert p.c[0] == pytest.approx(1 / 6, rel=1e-11) and p.collapsed_at == 1
    np.testing.assert_allclose(p.y[1], [0.5, 0.5], rtol=1e-11)


def test_prop3_lower_bound_when_a_rounds_to_zero():
    # κ = 1e20 ≫ u0 = 2 (z0 = 1, K = 1, eps = 1/4, s = 1/2): one_minus_a rounds to 1; exactly
    # a = (1 + 3κ)/(1 + κ)², b = 4κ/(1 + κ)², so t = 1 gives s(2a − b) = s·2/(1 + κ) = 1e-20 (geo = 1, not 2 or ½)
    assert float(sd.prop3_lower_bound(1.0, 1, 0.25, 1e20, 1)) == pytest.approx(1e-20, rel=1e-9, abs=0)
    assert float(sd.prop3_lower_bound(1.0, 1, 0.25, 1e20, 0)) == pytest.approx(1.0, rel=1e-14)


def test_multiplier_bracket_printed_pinned():
    # as printed (√K·ε): K = 4, eps = 1 ⇒ s = 2; z = (0, 0, 3, 4), ‖z‖ = 5; d = (1, 2, 3, 4):
    # [d_min·s/(‖z‖ − s), d_max·s/(‖z‖ − s)] = [2/3, 8/3]
    lo, hi = sd.multiplier_bracket_printed([1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 3.0, 4.0], 1.0)
    assert (lo, hi) == (pytest.approx(2 / 3, rel=1e-14), pytest.approx(8 / 3, rel=1e-14))


def test_spline_gram_bracket_bounds_pinned():
    # g(x, x) = x²(1 − x)²/3: 1/48 at x = 1/2, 4/243 at 1/3 and 2/3
    np.testing.assert_allclose(sd.spline_green_diag([0.5, 1 / 3, 2 / 3]), [1 / 48, 4 / 243, 4 / 243], rtol=1e-14)
    # K = 2 at 1/3, 2/3: d_max_upper = trace G = (8 + 8)/972; Gershgorin: gaps 1/3 ⇒ row sums of |D| = 2(3 + 3) = 12,
    # λ_min(R) ≥ min (h_{i−1} + h_i)/6 = 1/9 ⇒ d_min_lower = (1/9)/(K·12²) = 1/2592
    S = sd.spline_gram([1 / 3, 2 / 3])
    assert S.d_max_upper == pytest.approx(16 / 972, rel=1e-14)
    assert S.d_min_lower == pytest.approx(1 / 2592, rel=1e-14)


def test_effective_basis_count_pinned():
    # participation ratio (Σb)²/Σb² of b = B/max B: (1, ½, ½) ⇒ 4/(3/2) = 8/3 (a swapped exponent gives (1, 2, 2):
    # 25/9); an all-(−inf) row (collapsed) ⇒ 0
    L = np.log(np.array([[1.0, 0.5, 0.5], [4.0, 2.0, 2.0]]))
    np.testing.assert_allclose(sd.effective_basis_count(L), [8 / 3, 8 / 3], rtol=1e-14)
    assert float(sd.effective_basis_count(np.full((1, 3), -np.inf))[0]) == 0.0


def test_path_u_pinned():
    # u_t = ‖z_t‖/√(K·eps) (eq. 116): K = 2, G = I/2, y = (1, 1), eps = 1/4 ⇒ u_0 = √2/√(1/2) = 2
    # (K/eps would give √2/√8 = 1/2; K·eps without the root 2√2)
    path = sd.self_distill(np.eye(2) / 2, np.array([1.0, 1.0]), 0.25, 1)
    assert float(path.u[0]) == pytest.approx(2.0, rel=1e-12)
