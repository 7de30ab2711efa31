"""Property tests for kdtheory.kernel_regime (paper 001, Rahbar et al.).

Independent routes: per-unit loops from the definitions (slow references written here), the secular
determinant vs the symmetric eigenproblem, dense matrix exponentials of H̄, brute-force enumeration of
all sub-teachers, a generic QP solver for alignf, angle quadrature for the arc-cosine kernel.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.optimize as sopt
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kdtheory import kernel_regime as kr
from kdtheory.testing.kernel_regime import distillation_problems, networks


# ---------------------------------------------------------------- slow references (tests only)
def slow_gram_blocks(W, X, act):
    act = kr.get_activation(act)
    m, n = W.shape[0], X.shape[1]
    H = np.zeros((m, n, n))
    for k in range(m):
        L = np.stack([act.dsigma(W[k] @ X[:, i]) * X[:, i] for i in range(n)], axis=1)  # columns σ'(w·x_i)x_i
        H[k] = L.T @ L
    return H


def slow_hbar(H, a, lam):
    m, n, _ = H.shape
    out = np.zeros((m * n, m * n))
    for k in range(m):
        for l in range(m):
            out[k * n:(k + 1) * n, l * n:(l + 1) * n] = H[k] * (a[k] * a[l] / m + lam * (k == l))
    return out


def expm_trajectory(H, a, lam, y, phi, F0, t):
    """f(t) from exp of the augmented affine system (verification's reference, with the slow element-wise H̄)."""
    from verification.kernel_regime import expm_trajectory as ref
    return ref(H, a, lam, y, phi, F0, t, hbar=slow_hbar(H, a, lam))


small = dict(units=(1, 4), samples=(1, 3), dims=(1, 5))


# ---------------------------------------------------------------- gram blocks and poles
@given(networks(**small))
def test_gram_blocks_match_definition_and_are_psd(net):
    W, a, X, act = net
    H = kr.gram_blocks(W, X, act)
    np.testing.assert_allclose(H, slow_gram_blocks(W, X, act), atol=1e-12)
    assert np.all(np.linalg.eigvalsh(H) >= -1e-12)


@given(networks(**small), st.floats(0.0, 3.0))
def test_poles_equal_eigvals_of_hbar_real_nonnegative(net, lam):
    W, a, X, act = net
    H = kr.gram_blocks(W, X, act)
    p = kr.poles(H, a, lam)
    e = np.linalg.eigvals(slow_hbar(H, a, lam))
    scale = max(1.0, float(np.max(np.abs(e))))
    assert np.all(np.diff(p) >= 0) and np.all(p >= 0)
    # eigenvalues of a non-normal matrix near a (possibly defective) zero are only accurate to √eps
    np.testing.assert_allclose(np.sort(e.real), p, atol=1e-6 * scale)
    assert np.max(np.abs(e.imag)) <= 1e-6 * scale
    np.testing.assert_allclose(kr.hbar(H, a, lam), slow_hbar(H, a, lam), atol=1e-14)


@given(networks(**small))
def test_poles_at_lambda0_are_eig_of_H(net):
    W, a, X, act = net
    m, n, _ = net.shape
    H = kr.gram_blocks(W, X, act)
    Hs = sum(a[k] ** 2 / m * H[k] for k in range(m))
    p = kr.poles(H, a, 0.0)
    np.testing.assert_allclose(p[-n:], np.linalg.eigvalsh(Hs), atol=1e-10 * max(1, p[-1]))
    np.testing.assert_allclose(p[:-n], 0.0, atol=1e-10 * max(1, p[-1]))


@given(networks(**small), st.floats(0.0, 2.0), st.floats(0.0, 2.0))
def test_poles_nondecreasing_in_lambda(net, l1, l2):
    W, a, X, act = net
    H = kr.gram_blocks(W, X, act)
    lo, hi = sorted((l1, l2))
    p_lo, p_hi = kr.poles(H, a, lo), kr.poles(H, a, hi)
    assert np.all(p_hi >= p_lo - 1e-10 * max(1.0, p_hi[-1]))


@settings(max_examples=10)
@given(networks(units=(1, 3), samples=(1, 3), dims=(1, 5), activations=("tanh", "erf", "softplus"),
                weight_scale=(0.1, 1.5), regime="nonsingular"), st.floats(0.05, 2.0))
def test_secular_determinant_roots_equal_poles(net, lam):
    W, a, X, act = net
    H = kr.gram_blocks(W, X, act)
    p = kr.poles(H, a, lam)
    if p[0] < 1e-8 * p[-1]:  # X nearly rank-deficient: Assumption 2 fails, nothing to compare
        return
    s = kr.secular_poles(H, a, lam)
    if len(s) == len(p):
        np.testing.assert_allclose(s, p, rtol=1e-7, atol=1e-10)
    else:  # a double root (no sign change) can only occur at a multiple eigenvalue
        assert np.min(np.diff(p)) < 1e-6 * p[-1]


@settings(max_examples=15)
@given(networks(units=(1, 3), samples=(1, 3), dims=(1, 4), activations="tanh", weight_scale=(0.3, 1.5),
                regime="nonsingular"))
def test_secular_sign_convention_is_s_equals_minus_p(net):
    W, a, X, _ = net
    m, n, _ = net.shape
    H = net.blocks()
    p = kr.poles(H, a, 0.5)
    # a sign change needs a simple pole: skip draws with (numerically) repeated or zero poles
    assume(p[0] > 1e-6 * p[-1] and (len(p) == 1 or np.min(np.diff(p)) > 1e-5 * p[-1]))
    for pj in p:
        sg, _ = kr.secular_determinant(-pj * (1 + 1e-7), H, a, 0.5)
        sg2, _ = kr.secular_determinant(-pj * (1 - 1e-7), H, a, 0.5)
        assert sg * sg2 < 0  # a sign change at s = −p_j
    # the other convention (roots at s = +p) has no roots at all: for s > 0 the printed
    # Γ(s) = Σ_k a_k²/m (sI + λH_k)^{-1}H_k is PSD, so I + Γ(s) ⪰ I (computed here from the printed formula)
    for pj in p:
        Gam = sum(a[k] ** 2 / m * np.linalg.solve(pj * np.eye(n) + 0.5 * H[k], H[k]) for k in range(m))
        assert np.min(np.linalg.eigvalsh(np.eye(n) + 0.5 * (Gam + Gam.T))) >= 1 - 1e-12
        assert math.isfinite(kr.secular_determinant(pj, H, a, 0.5)[1])


@settings(max_examples=15)
@given(networks(units=(1, 6), samples=(1, 4), dims=(1, 6), weight_scale=(0.05, 1.5)), st.floats(0.0, 2.0))
def test_smallest_pole_matrix_free_equals_dense(net, lam):
    W, a, X, act = net
    H = kr.gram_blocks(W, X, act)
    dense = float(kr.poles(H, a, lam)[0])
    mf = kr.smallest_pole(W, X, a, lam, act, tol=1e-12)
    assert math.isfinite(mf) and mf >= 0
    scale = max(float(kr.poles(H, a, lam)[-1]), 1e-12)
    if dense > 1e-8 * scale:
        assert mf == pytest.approx(dense, rel=1e-6)
    else:
        assert mf <= max(1e-6 * scale, 1e-10) or mf == pytest.approx(dense, rel=1e-3)


# ---------------------------------------------------------------- final values, dynamics, Thm 3
@given(distillation_problems(lam=(0.0, 4.0), **small))
def test_final_value_is_convex_combination_and_fixed_point(prob):
    net, y, phi, lam = prob.net, prob.y, prob.phi, prob.lam
    m, n, _ = net.shape
    c = net.a / math.sqrt(m)
    A = float(c @ c)
    f = kr.final_value(y, phi, net.a, lam)
    np.testing.assert_allclose(f, (A * y + lam * (c @ phi)) / (A + lam), atol=1e-12)
    np.testing.assert_allclose(kr.final_value(y, phi, net.a, 0.0), y, atol=1e-12)
    assert kr.final_error(y, phi, net.a, lam) == pytest.approx(float(np.linalg.norm(f - y)), abs=1e-10)
    if lam > 0:
        Fs = kr.unit_final_values(y, phi, net.a, lam)
        np.testing.assert_allclose(c @ Fs, f, atol=1e-10)
        # M F* = b  (so 𝓗(b − MF*) = 0 for any H_k)
        np.testing.assert_allclose(np.outer(c, c @ Fs) + lam * Fs, np.outer(c, y) + lam * phi, atol=1e-10)


def test_final_value_large_lambda_limit_is_teacher():
    rng = np.random.default_rng(0)
    phi, y, a = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.choice([-1.0, 1.0], 5)
    np.testing.assert_allclose(kr.final_value(y, phi, a, 1e12), a @ phi / math.sqrt(5), atol=1e-9)


@settings(max_examples=20)
@given(distillation_problems(lam=(0.0, 2.0), units=(1, 3), samples=(1, 3), dims=(1, 4), weight_scale=(0.1, 1.5)),
       st.sampled_from([0.0, 0.3, 2.0, 10.0]))
def test_linearised_solution_matches_matrix_exponential(prob, t):
    net, y, phi, lam = prob.net, prob.y, prob.phi, prob.lam
    H = net.blocks()
    F0 = prob.F0
    sol = kr.linearised_solution(H, net.a, lam, y, phi, F0)
    ref = expm_trajectory(H, net.a, lam, y, phi, F0, t)
    np.testing.assert_allclose(sol.f(t)[0], ref, atol=1e-7 * (1 + np.abs(ref).max()))
    np.testing.assert_allclose(sol.f(0.0)[0], net.a @ F0 / math.sqrt(net.shape[0]), atol=1e-9)
    assert np.all(sol.poles > 0)


@settings(max_examples=15)
@given(distillation_problems(lam=(0.05, 2.0), units=(1, 3), samples=(1, 3), dims=(3, 5),
                             activations=("tanh", "erf", "softplus"), weight_scale=(0.1, 1.5),
                             regime="nonsingular"))
def test_general_limit_equals_thm1_when_blocks_nonsingular(prob):
    net, y, phi, lam = prob.net, prob.y, prob.phi, prob.lam
    H = net.blocks()
    if np.min(np.linalg.eigvalsh(H)) < 1e-6 * max(1.0, np.max(np.linalg.eigvalsh(H))):
        return  # numerically singular block: Thm 1's condition is not met
    f_lim = kr.linearised_limit(H, net.a, lam, y, phi, prob.F0)
    np.testing.assert_allclose(f_lim, kr.final_value(y, phi, net.a, lam), atol=1e-6)


def test_general_limit_differs_from_thm1_when_n_exceeds_d():
    rng = np.random.default_rng(5)
    X = kr.normalize_columns(rng.standard_normal((2, 5)))
    W = rng.standard_normal((3, 2))
    a = np.array([1.0, -1.0, 1.0])
    F0 = kr.unit_outputs(W, X, "tanh")
    phi = F0 + 0.5 * rng.standard_normal(F0.shape)
    y = rng.choice([-1.0, 1.0], 5)
    H = kr.gram_blocks(W, X, "tanh")
    sol = kr.linearised_solution(H, a, 0.5, y, phi, F0)
    ref = expm_trajectory(H, a, 0.5, y, phi, F0, 60.0 / sol.poles[0])
    np.testing.assert_allclose(sol.f_inf, ref, atol=1e-8)
    assert np.max(np.abs(sol.f_inf - kr.final_value(y, phi, a, 0.5))) > 1e-2


@settings(max_examples=15)
@given(distillation_problems(lam=(0.1, 2.0), units=(1, 3), samples=(1, 3), dims=(1, 4), weight_scale=(0.3, 1.5),
                             activations=("tanh", "erf", "softplus"), regime="nonsingular"))
def test_thm3_secular_coefficients_match_symmetric_modes_on_drawn_problems(prob):
    """Thm 3 (corrected): the secular-determinant poles and coefficients α_j v_j equal the symmetric
    eigen-decomposition's poles and modes, on any nonsingular instance with simple poles."""
    W, a, X, act = prob.net
    H = prob.net.blocks()
    sym = kr.poles(H, a, prob.lam)
    assume(sym[0] > 1e-6 * sym[-1] and (len(sym) == 1 or np.min(np.diff(sym)) > 1e-4 * sym[-1]))
    p = kr.secular_poles(H, a, prob.lam)
    alpha, V = kr.thm3_coefficients(H, a, prob.lam, prob.y, prob.phi, prob.F0, p)
    sol = kr.linearised_solution(H, a, prob.lam, prob.y, prob.phi, prob.F0)
    np.testing.assert_allclose(sol.poles, p, rtol=1e-7)
    scale = max(1.0, float(np.max(np.abs(sol.modes))))
    np.testing.assert_allclose(alpha[:, None] * V, sol.modes, atol=1e-7 * scale)


def test_thm3_secular_coefficients_match_symmetric_modes():
    rng = np.random.default_rng(7)
    X = kr.normalize_columns(rng.standard_normal((4, 3)))
    W = rng.standard_normal((3, 4))
    a = rng.choice([-1.0, 1.0], 3)
    H = kr.gram_blocks(W, X, "tanh")
    F0 = kr.unit_outputs(W, X, "tanh")
    phi = F0 + 0.3 * rng.standard_normal(F0.shape)
    y = rng.choice([-1.0, 1.0], 3)
    lam = 0.4
    p = kr.secular_poles(H, a, lam)
    alpha, V = kr.thm3_coefficients(H, a, lam, y, phi, F0, p)
    sol = kr.linearised_solution(H, a, lam, y, phi, F0)
    np.testing.assert_allclose(sol.poles, p, rtol=1e-8)
    np.testing.assert_allclose(alpha[:, None] * V, sol.modes, atol=1e-8)
    # the printed coefficients do not reproduce f(0) − f_∞
    ap, Vp = kr.thm3_printed_coefficients(H, a, lam, y, phi, F0, p)
    assert np.max(np.abs(ap @ Vp - (sol.f0 - sol.f_inf))) > 1e-3


# ---------------------------------------------------------------- Thm 2, two-stage
def test_lottery_ticket_expectation_by_enumerating_all_subsets():
    rng = np.random.default_rng(11)
    mb, m, n, lam = 7, 3, 4, 0.7
    ab = rng.choice([-1.0, 1.0], mb)
    phib = np.tanh(rng.standard_normal((mb, n)))
    y = kr.teacher_labels(ab, phib, m)
    errs = [kr.final_error(y, phib[list(s)], ab[list(s)], lam) ** 2 for s in itertools.combinations(range(mb), m)]
    assert np.mean(errs) == pytest.approx(kr.lottery_ticket_expected_error(ab, phib, m, lam), rel=1e-10)
    # mean of the sub-teachers' output is the label vector (E Φ = y)
    Phis = [ab[list(s)] @ phib[list(s)] / math.sqrt(m) for s in itertools.combinations(range(mb), m)]
    np.testing.assert_allclose(np.mean(Phis, axis=0), y, atol=1e-12)
    assert kr.lottery_ticket_bound_printed(ab, phib, m, lam) == pytest.approx(
        kr.lottery_ticket_bound(ab, phib, m, lam) * m / mb)
    assert kr.lottery_ticket_expected_error(ab, phib, mb, lam) == 0.0


@pytest.mark.parametrize("mb,m1,m,lam", [(6, 4, 2, 0.7), (7, 5, 3, 2.0), (5, 5, 2, 0.3), (6, 3, 3, 1.0)])
def test_two_stage_expectation_by_enumerating_all_selections(mb, m1, m, lam):
    # every intermediate subset S1 (size m1) and every student subset of it (size m), each network at its
    # Thm 1 / Thm 3 limit: the mean squared error must equal the exact formula of Sec. 7.4.1 (corrected)
    rng = np.random.default_rng(mb * 100 + m1 * 10 + m)
    ab = rng.choice([-1.0, 1.0], mb)
    phib = np.tanh(rng.standard_normal((mb, 3)) + 0.5)  # non-zero mean: the label-scaling bias term matters
    y = kr.teacher_labels(ab, phib, m)
    errs = []
    for S1 in itertools.combinations(range(mb), m1):
        S1 = list(S1)
        F1 = kr.unit_final_values(y, phib[S1], ab[S1], lam)
        for pos in itertools.combinations(range(m1), m):
            pos = list(pos)
            errs.append(kr.final_error(y, F1[pos], ab[S1][pos], lam) ** 2)
    assert np.mean(errs) == pytest.approx(kr.two_stage_expected_error(ab, phib, m, m1, lam), rel=1e-10)
    if m1 == mb:  # the intermediate is the whole teacher: α = m/m̄, β = 1
        direct = kr.lottery_ticket_expected_error(ab, phib, m, lam)
        r = lam / (1 + lam)
        bias = r ** 2 * m * (1 - math.sqrt(m / m1)) ** 2 * float(np.sum((ab @ phib / mb) ** 2)) / (1 + lam) ** 2
        assert kr.two_stage_expected_error(ab, phib, m, m1, lam) == pytest.approx(direct + bias, rel=1e-10)
    assert kr.two_stage_expected_error(ab, phib, m, m1, 0.0) == 0.0  # λ = 0: lottery ticket, zero error


def test_two_stage_bad_sizes_raise():
    with pytest.raises(ValueError, match="m must be"):
        kr.two_stage_expected_error(np.ones(5), np.ones((5, 2)), 4, 3, 0.5)
    with pytest.raises(ValueError, match="m1 must be"):
        kr.two_stage_expected_error(np.ones(5), np.ones((5, 2)), 2, 6, 0.5)
    with pytest.raises(ValueError, match="lam"):
        kr.two_stage_expected_error(np.ones(5), np.ones((5, 2)), 2, 3, -0.5)


@given(st.integers(1, 50), st.integers(0, 50), st.integers(0, 50))
def test_two_stage_is_never_worse(m, e1, e2):
    m1, mb = m + e1, m + e1 + e2
    s1, s2 = kr.two_stage_factors(m, m1, mb)
    assert s1 <= s2 + 1e-15
    al, be = m / m1, m1 / mb
    assert s2 - s1 == pytest.approx(al * (1 - be) + be * (1 - al), abs=1e-12)  # S2 − S1 = α(1−β) + β(1−α)


# ---------------------------------------------------------------- H^∞, overlaps, alignf, Nyström
@given(st.floats(0.0, math.pi))
def test_arccos_kernel_by_angle_quadrature(theta):
    X = np.array([[1.0, math.cos(theta)], [0.0, math.sin(theta)]])
    H = kr.arccos_kernel(X)
    # P(w·x1 > 0, w·x2 > 0) for a Gaussian w = fraction of directions φ with both cosines positive
    phis = (np.arange(200000) + 0.5) * 2 * math.pi / 200000
    frac = np.mean((np.cos(phis) > 0) & (np.cos(phis - theta) > 0))
    assert H[0, 1] == pytest.approx(math.cos(theta) * frac, abs=1e-4)
    assert H[0, 0] == pytest.approx(0.5)


def test_overlap_parameters_extremes():
    rng = np.random.default_rng(2)
    X = kr.normalize_columns(rng.standard_normal((5, 6)))
    Hinf = kr.arccos_kernel(X)
    w, U = np.linalg.eigh(Hinf)
    phi = np.stack([U[:, -1], U[:, 0], np.zeros(6)])
    ov = kr.overlap_parameters(phi, Hinf, top=1)
    np.testing.assert_allclose(ov, [1.0, 0.0, 0.0], atol=1e-10)


def test_alignf_solves_the_qp_and_improves_alignment():
    rng = np.random.default_rng(4)
    n = 20
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    X = kr.normalize_columns(rng.standard_normal((3, n)) + 0.8 * np.outer(rng.standard_normal(3), y))
    Ks = np.stack([kr.gaussian_kernel(X, X, g) for g in (0.1, 1.0, 10.0, 100.0)] + [np.outer(y, y) * 0 + np.eye(n)])
    mu = kr.alignf(Ks, y)
    Kc = np.stack([kr.center_kernel(K) for K in Ks])
    M = np.einsum("kij,lij->kl", Kc, Kc)
    av = np.einsum("kij,i,j->k", Kc, y, y)
    res = sopt.minimize(lambda v: v @ M @ v - 2 * v @ av, np.ones(len(Ks)), jac=lambda v: 2 * (M @ v - av),
                        bounds=[(0, None)] * len(Ks), method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12})
    ref = res.x / np.linalg.norm(res.x)
    np.testing.assert_allclose(mu, ref, atol=1e-4)
    comb = kr.centered_alignment(np.tensordot(mu, Ks, 1), np.outer(y, y))
    assert comb >= max(kr.centered_alignment(K, np.outer(y, y)) for K in Ks) - 1e-9


def test_nystrom_with_all_landmarks_reproduces_kernel():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((3, 12))
    K = kr.gaussian_kernel(X, X, 0.5)
    Psi = kr.nystrom_embedding(K, K)
    np.testing.assert_allclose(Psi @ Psi.T, K, atol=1e-8)
    L = X[:, :5]
    Psi5 = kr.nystrom_embedding(kr.gaussian_kernel(X, L, 0.5), kr.gaussian_kernel(L, L, 0.5))
    np.testing.assert_allclose((Psi5 @ Psi5.T)[:5, :5], K[:5, :5], atol=1e-8)


# ---------------------------------------------------------------- bad input, extremes
def test_bad_inputs_raise_clear_errors():
    rng = np.random.default_rng(0)
    X = kr.normalize_columns(rng.standard_normal((3, 2)))
    W = rng.standard_normal((4, 3))
    a = np.ones(4)
    H = kr.gram_blocks(W, X, "tanh")
    with pytest.raises(ValueError, match="lam"):
        kr.poles(H, a, -0.1)
    with pytest.raises(ValueError, match="lam"):
        kr.smallest_pole(W, X, a, -1.0, "tanh")
    with pytest.raises(ValueError, match="a must have length"):
        kr.poles(H, np.ones(3), 0.1)
    with pytest.raises(ValueError, match="a must have length"):
        kr.final_value(np.ones(2), np.ones((4, 2)), np.ones(5), 0.1)
    with pytest.raises(ValueError, match="a must not be all zero"):
        kr.poles(H, np.zeros(4), 0.1)
    with pytest.raises(ValueError, match="activation"):
        kr.gram_blocks(W, X, "sigmoid")
    with pytest.raises(TypeError, match="activation"):
        kr.gram_blocks(W, X, 3)
    with pytest.raises(ValueError, match="W must be m×d"):
        kr.gram_blocks(W, np.ones((2, 2)), "tanh")
    with pytest.raises(ValueError, match="W contains"):
        kr.gram_blocks(np.full((2, 3), np.nan), X, "tanh")
    with pytest.raises(ValueError, match="H_blocks must be symmetric"):
        kr.poles(np.arange(8.0).reshape(2, 2, 2), np.ones(2), 0.1)
    with pytest.raises(ValueError, match="H_blocks must have shape"):
        kr.poles(np.ones((2, 2, 3)), np.ones(2), 0.1)
    with pytest.raises(ValueError, match="lam must be > 0"):
        kr.secular_poles(H, a, 0.0)
    F0 = kr.unit_outputs(W, X, "tanh")
    mu = np.linalg.eigvalsh(H)
    with pytest.raises(ValueError, match="pole_values must be > 0 and differ from λ"):
        kr.thm3_coefficients(H, a, 0.5, np.ones(2), F0, F0, [0.5 * mu[1, 0]])  # p = λμ: pI − λH_k singular
    with pytest.raises(ValueError, match="pole_values"):
        kr.thm3_printed_coefficients(H, a, 0.5, np.ones(2), F0, F0, [0.0])
    with pytest.raises(ValueError, match="lam"):
        kr.unit_final_values(np.ones(2), np.ones((4, 2)), a, -1e-3)
    with pytest.raises(ValueError, match="unit-norm"):
        kr.arccos_kernel(2 * X)
    with pytest.raises(ValueError, match="phi must"):
        kr.final_value(np.ones(3), np.ones((4, 2)), a, 0.1)
    with pytest.raises(ValueError, match="a_bar must have entries"):
        kr.lottery_ticket_expected_error(np.full(5, 2.0), np.ones((5, 2)), 2, 0.5)
    with pytest.raises(ValueError, match="m must be"):
        kr.teacher_labels(np.ones(5), np.ones((5, 2)), 6)
    with pytest.raises(ValueError, match="zero column"):
        kr.normalize_columns(np.zeros((2, 2)))


@settings(max_examples=20)
@given(networks(units=(1, 4), samples=(1, 3), dims=(1, 4), weight_scale=(1e6, 1e6)))
def test_extreme_weights_give_zero_poles_not_nan(net):
    W, a, X, act = net  # saturated units: σ' ≈ 0 (or exactly 0)
    n = X.shape[1]
    H = kr.gram_blocks(W, X, act)
    p = kr.poles(H, a, 0.5)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    sp = kr.smallest_pole(W, X, a, 0.5, act)
    assert math.isfinite(sp) and sp >= 0
    F0 = kr.unit_outputs(W, X, act)
    sol = kr.linearised_solution(H, a, 0.5, np.ones(n), F0, F0)
    assert np.all(np.isfinite(sol.f_inf))


@settings(max_examples=20)
@given(networks(units=(2, 4), samples=(2, 5), dims=(1, 3), activations=("tanh", "erf", "softplus"),
                output_weights="gaussian", regime="singular"))
def test_singular_hbar_is_documented_zero_pole(net):
    W, a, X, act = net  # n > d: every H_k is singular
    assert kr.smallest_pole(W, X, a, 0.3, act) == 0.0
    assert kr.poles(kr.gram_blocks(W, X, act), a, 0.3)[0] == 0.0
    assert kr.smallest_pole(W, X, a, 0.0, act) == 0.0  # λ = 0, m > 1: rank H̄ <= n


def test_non_unit_inputs_warn_when_asked():
    from kdtheory.kernel_regime import _W_X
    with pytest.warns(UserWarning, match="unit-norm"):
        _, Xn = _W_X(np.ones((2, 2)), 3 * np.eye(2), unit_norm="warn")
    np.testing.assert_allclose(np.linalg.norm(Xn, axis=0), 1.0)
    with pytest.raises(ValueError, match="unit-norm"):
        _W_X(np.ones((2, 2)), 3 * np.eye(2), unit_norm="raise")


# ---------------------------------------------------------------- strategies
def test_strategies_reject_bad_arguments():
    with pytest.raises(TypeError, match="units"):
        networks(units=3)
    with pytest.raises(ValueError, match="activations"):
        networks(activations=("sigmoid",))
    with pytest.raises(ValueError, match="regime"):
        networks(regime="weird")
    with pytest.raises(ValueError, match="weight_scale"):
        networks(weight_scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="lam"):
        distillation_problems(lam=(-1.0, 1.0))


@given(networks(regime="singular", samples=(2, 5), dims=(1, 3)))
def test_singular_regime_strategy_has_n_greater_than_d(net):
    m, n, d = net.shape
    assert n > d
    assert np.allclose(np.linalg.norm(net.X, axis=0), 1.0)


# --------------------------------------------------------------------------------------------------
# proof lemmas (Sec. 7.3), tail bound, helpers: exact values at rational points derived by hand
# --------------------------------------------------------------------------------------------------
def test_lemma_bounds_pinned_by_hand():
    # Lemma 1 corrected κ²q‖η0‖/(p(1−κq)) at q=1/4, p=2, ‖η0‖=3, κ=2: 4·(1/4)·3/(2·(1/2)) = 3; printed (κ=1): 0.75/1.5
    assert kr.lemma1_bound(0.25, 2.0, 3.0, kappa=2.0) == pytest.approx(3.0, rel=1e-14)
    assert kr.lemma1_bound_printed(0.25, 2.0, 3.0) == pytest.approx(0.5, rel=1e-14)
    assert kr.lemma1_bound(0.25, 2.0, 3.0) == pytest.approx(kr.lemma1_bound_printed(0.25, 2.0, 3.0), rel=1e-14)
    with pytest.raises(ValueError, match="kappa"):
        kr.lemma1_bound(0.5, 1.0, 1.0, kappa=2.0)
    # Lemma 2: a = (1,1,1,1) → Σa_k²/m = 1; λ = 1: √2·√2·3 = 6 = sharp (1+1)·3; λ = 0: √2·3 and 3
    a = np.ones(4)
    assert kr.lemma2_bound(a, 1.0, 3.0) == pytest.approx(6.0, rel=1e-14)
    assert kr.lemma2_bound_sharp(a, 1.0, 3.0) == pytest.approx(6.0, rel=1e-14)
    assert kr.lemma2_bound(a, 0.0, 3.0) == pytest.approx(3 * math.sqrt(2), rel=1e-14)
    assert kr.lemma2_bound_sharp(2 * a, 0.5, 1.0) == pytest.approx(4.5, rel=1e-14)  # a = 4
    # Lemma 3: L=1, σ_x=2, B=1/2, ‖Δw‖=1: 1·4·(1/2)·1·(1/2 + 2) = 5; printed with ‖w0‖=3: 4·(1/4)·1·(1 + 6) = 7
    assert kr.lemma3_bound(1.0, L=1.0, sigma_x=2.0, B=0.5) == pytest.approx(5.0, rel=1e-14)
    assert kr.lemma3_bound_printed(1.0, 3.0, L=1.0, sigma_x=2.0, B=0.5) == pytest.approx(7.0, rel=1e-14)
    # Lemma 4: L=2, σ_x=3, ∫ = 1/2 → 3; printed a_k=2, m=4, L=1, σ_x=3, B=2, ∫‖δ_k‖ = 1 → (2/2)·3·2 = 6
    assert kr.lemma4_bound(0.5, L=2.0, sigma_x=3.0) == pytest.approx(3.0, rel=1e-14)
    assert kr.lemma4_bound_printed(2.0, 4, 1.0, L=1.0, sigma_x=3.0, B=2.0) == pytest.approx(6.0, rel=1e-14)
    # κ(M^{1/2}) for a = (2, 0) (m = 2: c = (√2, 0), Σa²/m = 2), λ = 1/2: √(2.5/0.5) = √5
    assert kr.hbar_eigvec_condition_bound([2.0, 0.0], 0.5) == pytest.approx(math.sqrt(5), rel=1e-14)


def test_delta_hbar_matches_the_elementwise_block_matrix_for_indefinite_blocks():
    rng = np.random.default_rng(8)
    G = rng.standard_normal((3, 2, 2))
    dH = G + np.swapaxes(G, 1, 2)
    a = np.array([1.0, -0.5, 2.0])
    np.testing.assert_allclose(kr.delta_hbar(dH, a, 0.7), slow_hbar(dH, a, 0.7), atol=1e-14)
    with pytest.raises(ValueError, match="dH_blocks"):
        kr.delta_hbar(G, a, 0.7)


def test_lemma2_sharp_bound_is_attained_by_equal_blocks():
    rng = np.random.default_rng(3)
    G = rng.standard_normal((3, 3))
    dH = np.stack([G + G.T] * 4)
    a = np.array([1.0, -2.0, 0.5, 1.5])
    for lam in (0.0, 0.3, 4.0):
        lhs = np.linalg.norm(kr.delta_hbar(dH, a, lam), 2)
        assert lhs == pytest.approx(kr.lemma2_bound_sharp(a, lam, np.linalg.norm(dH[0], 2)), rel=1e-10)
        assert lhs <= kr.lemma2_bound(a, lam, np.linalg.norm(dH[0], 2)) * (1 + 1e-12)


def test_hbar_eigvec_condition_bound_bounds_the_eigenvector_basis():
    rng = np.random.default_rng(4)
    for lam in (0.01, 0.3, 2.0):
        W, X = rng.standard_normal((3, 4)), kr.normalize_columns(rng.standard_normal((4, 2)))
        a = rng.choice([-1.0, 1.0], 3) * 1.7
        H = kr.gram_blocks(W, X, "tanh")
        M = np.kron(np.outer(a, a) / 3 + lam * np.eye(3), np.eye(2))
        w, V = np.linalg.eigh(M)
        Vb = np.linalg.solve(V @ np.diag(np.sqrt(w)) @ V.T, np.linalg.eigh(kr.symmetric_form(H, a, lam))[1])
        assert np.linalg.cond(Vb) <= kr.hbar_eigvec_condition_bound(a, lam) * (1 + 1e-8)


def test_pole_count_below_matches_eigenvalue_count():
    rng = np.random.default_rng(5)
    for act, (m, n, d) in [("tanh", (5, 3, 6)), ("erf", (4, 4, 5)), ("softplus", (7, 2, 3))]:
        W, X = rng.standard_normal((m, d)), kr.normalize_columns(rng.standard_normal((d, n)))
        a = rng.choice([-1.0, 1.0], m) * np.exp(0.4 * rng.standard_normal(m))
        lam = float(rng.uniform(0.05, 2.0))
        H = kr.gram_blocks(W, X, act)
        ev = np.sort(np.linalg.eigvals(kr.hbar(H, a, lam)).real)
        for p in np.concatenate([0.5 * (ev[1:] + ev[:-1]), [ev[0] * 0.9, ev[-1] * 1.1]]):
            assert kr.pole_count_below(H, a, lam, p) == int(np.sum(ev < p))


def test_smallest_pole_bracket_contains_dense_minimum():
    rng = np.random.default_rng(6)
    W, X = rng.standard_normal((8, 6)), kr.normalize_columns(rng.standard_normal((6, 4)))
    a = rng.choice([-1.0, 1.0], 8)
    lo, hi = kr.smallest_pole_bracket(W, X, a, 0.2, "tanh", tol=1e-10)
    p = kr.poles(kr.gram_blocks(W, X, "tanh"), a, 0.2)[0]
    assert lo <= p * (1 + 1e-9) and p <= hi * (1 + 1e-9) and (hi - lo) <= 1e-8 * hi


def test_tail_bound_pinned_and_dominates_every_subset():
    # ā = (1, 1), φ̄ rows (1, 0) and (−1, 0): z̄ = 0, ‖z_l − z̄‖ = 1 = R, s² = 1; m = 1: E g² = (1/2)·2·1 = 1;
    # δ = e^{−1/2}: R√(2 log 1/δ) = 1; λ = 1: (1/2)²(1 + 1)² = 1. Each subset's error is (1/4)·1 = 1/4.
    ab, phib = np.ones(2), np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert kr.lottery_ticket_tail_bound(ab, phib, 1, 1.0, math.exp(-0.5)) == pytest.approx(1.0, rel=1e-14)
    y = kr.teacher_labels(ab, phib, 1)
    for k in range(2):
        assert kr.final_error(y, phib[[k]], ab[[k]], 1.0) ** 2 == pytest.approx(0.25, rel=1e-12)
    with pytest.raises(ValueError, match="delta"):
        kr.lottery_ticket_tail_bound(ab, phib, 1, 1.0, 0.0)


def test_helpers_unit_coefficients_kernel_matrix_outputs():
    np.testing.assert_allclose(kr.unit_coefficients([3.0, 4.0, 0.0, 0.0]), [1.5, 2.0, 0.0, 0.0], rtol=1e-15)
    with pytest.raises(ValueError, match="a"):
        kr.unit_coefficients([0.0, 0.0])
    rng = np.random.default_rng(7)
    W, X = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    a = rng.standard_normal(5)
    for act in ("tanh", "relu"):
        H = kr.gram_blocks(W, X, act)
        np.testing.assert_allclose(kr.kernel_matrix(W, X, a, act), np.einsum("k,kij->ij", a ** 2 / 5, H),
                                   rtol=1e-12, atol=1e-14)
        F = kr.unit_outputs(W, X, act)
        np.testing.assert_allclose(kr.output_from_features(a, F), kr.network_output(W, a, X, act), rtol=1e-13)
        np.testing.assert_allclose(kr.output_from_features(np.stack([a, 2 * a]), np.stack([F, F]))[1],
                                   2 * kr.network_output(W, a, X, act), rtol=1e-13)
    # proof square as printed: y = 0, φ = 2, a = 1, λ = 1: (1/2)²·2 = 1/2
    assert kr.thm2_proof_square_printed([0.0], [[2.0]], [1.0], 1.0) == pytest.approx(0.5, rel=1e-14)


@pytest.mark.parametrize("name", ["tanh", "erf", "softplus"])
def test_lipschitz_constants_are_the_suprema(name):
    act = kr.get_activation(name)
    z = np.linspace(-30, 30, 600001)  # softplus: sup σ' = 1 is reached as z → ∞
    d1 = np.abs(act.dsigma(z)).max()
    d2 = np.abs(np.gradient(act.dsigma(z), z)).max()
    assert d1 == pytest.approx(act.lipschitz_sigma, rel=1e-6)
    assert d2 == pytest.approx(act.lipschitz_dsigma, rel=1e-4)
    assert kr.lipschitz_constant(name) == max(act.lipschitz_sigma, act.lipschitz_dsigma)


def test_lipschitz_constant_relu_raises():
    with pytest.raises(ValueError, match="Lipschitz"):
        kr.lipschitz_constant("relu")


def test_thm3_coefficients_printed_and_corrected_pinned_for_scalar_blocks():
    # n = 1: H_k = h_k, v^j = 1; typed from the paper (printed) and from docs/errata.md 001 item 4 (corrected)
    h, a, lam, p = np.array([1.0, 2.0]), np.array([1.0, 1.0]), 1.0, 3.0
    H = h[:, None, None]
    y, phi, F0 = np.array([1.0]), np.array([[0.0], [1.0]]), np.array([[0.5], [-0.25]])
    c = a / math.sqrt(2)
    Finf = kr.unit_final_values(y, phi, a, lam)[:, 0]
    printed, V = kr.thm3_printed_coefficients(H, a, lam, y, phi, F0, [p])
    assert abs(V[0, 0]) == pytest.approx(1.0)
    want = np.sum(c ** 2 * h / (p - lam * h) * (Finf - F0[:, 0]))  # = ½(½·f∞_1 + 2·(f∞_2 + ¼)) − ½·½·½
    assert printed[0] * V[0, 0] == pytest.approx(want, rel=1e-12)
    corr, V = kr.thm3_coefficients(H, a, lam, y, phi, F0, [p])
    want = np.sum(c * (F0[:, 0] - Finf) / (p - lam * h)) / np.sum(c ** 2 * h / (p - lam * h) ** 2)
    assert corr[0] * V[0, 0] == pytest.approx(want, rel=1e-12)
