"""Property tests for kdtheory.variance_reduction (paper 000, Safaryan et al.).

Independent routes: finite differences and a slow per-sample reference for gradients; numeric
minimisation for λ*; brute-force batch enumeration for the expected smoothness 𝓛 and for batch
moments; scipy's generalized eigensolver for the tight 𝓛; the ρ/β closed form (15) vs the direct ratio.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import optimize

from kdtheory import variance_reduction as vr
from kdtheory.testing import variance_reduction as kst

GAMMAS = st.floats(1e-4, 10.0)
CS = st.floats(0.01, 10.0)


# ---------------------------------------------------------------- slow references (tests only)

def _slow_loss(model, x, a_bar, b):
    """One sample's loss written from the paper's definitions with plain math (no vectorisation)."""
    if model == "least_squares":
        return (float(np.dot(x, a_bar)) - b) ** 2
    if model == "logistic":
        z = float(np.dot(x, a_bar))
        p = 1.0 / (1.0 + math.exp(-z))
        return -b * math.log(p) - (1 - b) * math.log(1 - p)
    z = x.T @ a_bar
    z = z - z.max()
    logp = z - math.log(float(np.sum(np.exp(z))))
    return -float(np.sum(b * logp))


def _fd_grad(model, x, a_bar, b, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (_slow_loss(model, x + e, a_bar, b) - _slow_loss(model, x - e, a_bar, b)) / (2 * h)
    return g


# ---------------------------------------------------------------- Prop. 1 and the models

@given(kst.glm_problems(), st.data())
def test_per_sample_gradients_match_finite_differences_of_slow_loss(prob, data):
    x = prob.x_star + data.draw(kst.teachers(prob, distance=(0.0, 1.0)))
    x = x - prob.x_star  # a point at a random offset from 0
    G = vr.per_sample_gradients(prob.model, x, prob.A, prob.b)
    losses = vr.per_sample_losses(prob.model, x, prob.A, prob.b)
    for n in range(min(prob.n_samples, 4)):
        assert losses[n] == pytest.approx(_slow_loss(prob.model, x, prob.A[n], prob.b[n]), rel=1e-9, abs=1e-9)
        fd = _fd_grad(prob.model, x, prob.A[n], prob.b[n], h=1e-6 * max(1.0, float(np.max(np.abs(x)))))
        scale = max(1.0, float(np.max(np.abs(G[n]))))
        np.testing.assert_allclose(G[n], fd, atol=1e-5 * scale)


@given(kst.glm_problems(), st.data(), st.floats(0.0, 1.0))
def test_prop1_distillation_gradient_is_exact(prob, data, lam):
    theta = data.draw(kst.teachers(prob, distance=(0.0, 3.0)))
    x = data.draw(kst.teachers(prob, distance=(0.0, 3.0)))
    true = vr.distillation_loss_gradient(prob.model, x, theta, lam, prob.A, prob.b)
    eq5 = vr.distillation_gradient(prob.grads(x), prob.grads(theta), lam)
    np.testing.assert_allclose(eq5, true, atol=1e-10 * max(1.0, float(np.max(np.abs(true)))))


def test_prop1_fails_for_a_nonlinear_student():
    """Sanity check that the exactness test can fail: for a model that is not linear in x (logits x²·a)
    the eq. (5) form differs from the true gradient (cf. App. B.3)."""
    a, b, x, th, lam = 1.3, 1.0, 0.7, -0.4, 0.5
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    # true gradient of (1−λ)CE(σ(x²a), b) + λCE(σ(x²a), σ(θ²a)) w.r.t. x
    s = (1 - lam) * b + lam * sig(th**2 * a)
    true = (sig(x**2 * a) - s) * 2 * x * a
    eq5 = (sig(x**2 * a) - b) * 2 * x * a - lam * (sig(th**2 * a) - b) * 2 * th * a
    assert abs(true - eq5) > 1e-3


@given(kst.glm_problems())
def test_minimizer_is_stationary(prob):
    g = vr.full_gradient(prob.model, prob.x_star, prob.A, prob.b)
    assert np.linalg.norm(g) <= 1e-7 * max(1.0, float(np.max(np.abs(prob.A))) ** 2 * max(1.0, np.linalg.norm(prob.x_star)))


def test_least_squares_minimizer_matches_normal_equations():
    rng = np.random.default_rng(3)
    A = vr.lift(rng.normal(size=(30, 3)))
    b = rng.normal(size=30)
    np.testing.assert_allclose(vr.minimizer("least_squares", A, b), np.linalg.solve(A.T @ A, A.T @ b), rtol=1e-10)


def test_losses_and_gradients_finite_for_huge_logits():
    A = vr.lift(np.array([[1e6], [-1e6]]))
    for model, x, b in [("logistic", np.array([1e3, 0.0]), np.array([0.0, 1.0])),
                        ("softmax", np.array([[1e3, -1e3], [0.0, 0.0]]), np.array([1, 0]))]:
        assert np.all(np.isfinite(vr.per_sample_losses(model, x, A, b)))
        assert np.all(np.isfinite(vr.per_sample_gradients(model, x, A, b)))


def test_logistic_separable_data_has_no_minimizer():
    A = vr.lift(np.array([[-2.0], [-1.0], [1.0], [2.0]]))
    with pytest.raises(ValueError, match="no finite minimiser"):
        vr.minimizer("logistic", A, np.array([0.0, 0.0, 1.0, 1.0]))


@given(kst.glm_problems(), st.integers(1, 3), st.integers(0, 2**31))
def test_minibatch_gradient_is_the_batch_mean(prob, B, seed):
    rng = np.random.default_rng(seed)
    S, M = 2, 3
    X = rng.normal(size=(S, M) + prob.x_star.shape)
    idx = rng.integers(0, prob.n_samples, size=(S, B))
    b = prob.b
    G = vr.minibatch_gradient(prob.model, X, prob.A, b, idx)
    Lb = vr.minibatch_loss(prob.model, X, prob.A, b, idx)
    for s in range(S):
        for m in range(M):
            ref = vr.per_sample_gradients(prob.model, X[s, m], prob.A[idx[s]], b[idx[s]]).mean(axis=0)
            np.testing.assert_allclose(G[s, m], ref, atol=1e-10 * max(1.0, float(np.max(np.abs(ref)))))
            ref_l = vr.per_sample_losses(prob.model, X[s, m], prob.A[idx[s]], b[idx[s]]).mean()
            assert Lb[s, m] == pytest.approx(ref_l, rel=1e-10, abs=1e-10)


# ---------------------------------------------------------------- constants

def _brute_batch_second_moment(Gdiff, B, sampling):
    """E‖mean over a batch of Gdiff rows‖² by enumerating every batch (independent route)."""
    N = Gdiff.shape[0]
    if sampling == "with_replacement":
        batches = itertools.product(range(N), repeat=B)
    else:
        batches = itertools.combinations(range(N), B)
    vals = [float(np.sum(Gdiff[list(c)].mean(axis=0) ** 2)) for c in batches]
    return float(np.mean(vals))


@settings(max_examples=15)
@given(kst.least_squares_problems(n_samples=(4, 7), n_features=(1, 3), scales=(0.1, 1.0, 10.0)),
       st.integers(1, 2), st.sampled_from(vr.SAMPLINGS), st.integers(0, 2**31))
def test_expected_smoothness_least_squares_is_valid_and_tight(prob, B, sampling, seed):
    k = vr.expected_smoothness("least_squares", prob.A, prob.b, batch_size=B, sampling=sampling)
    rng = np.random.default_rng(seed)
    H = 2 * prob.A.T @ prob.A / prob.n_samples
    # validity (10) at random points, brute-force expectation over batches
    for _ in range(3):
        x = prob.x_star + rng.normal(size=prob.x_star.shape)
        D = prob.grads(x) - prob.grads(prob.x_star)
        lhs = _brute_batch_second_moment(D, B, sampling)
        gap = vr.loss("least_squares", x, prob.A, prob.b) - vr.loss("least_squares", prob.x_star, prob.A, prob.b)
        assert lhs <= 2 * k.calL * gap * (1 + 1e-8) + 1e-12 * k.calL
    # tightness: 𝓛 is the top generalized eigenvalue of (E[H_B²], H), H_B the batch-mean Hessian,
    # with E[H_B²] built by enumerating every batch and solved by scipy (full-rank problems only)
    if not prob.rank_deficient and np.linalg.cond(H) < 1e8:
        Hn = np.stack([2 * np.outer(a, a) for a in prob.A])
        N = prob.n_samples
        batches = list(itertools.product(range(N), repeat=B) if sampling == "with_replacement"
                       else itertools.combinations(range(N), B))
        Q = np.mean([Hn[list(c)].mean(0) @ Hn[list(c)].mean(0) for c in batches], axis=0)
        w = scipy.linalg.eigh(Q, H, eigvals_only=True)
        assert k.calL == pytest.approx(float(w[-1]), rel=1e-6)


@given(kst.least_squares_problems(rank_deficient=False))
def test_mu_and_L_are_extreme_singular_values(prob):
    k = vr.expected_smoothness("least_squares", prob.A, prob.b)
    s = np.linalg.svd(prob.A, compute_uv=False)
    N = prob.n_samples
    assert k.L == pytest.approx(2 * s[0] ** 2 / N, rel=1e-8)
    assert k.mu == pytest.approx(2 * s[-1] ** 2 / N, rel=1e-6, abs=1e-10 * k.L)
    assert k.mu <= k.L <= k.calL * (1 + 1e-12) and k.L_max >= k.calL * (1 - 1e-9)


@given(kst.least_squares_problems(rank_deficient=True))
def test_rank_deficient_least_squares_pl_constant(prob):
    k = vr.expected_smoothness("least_squares", prob.A, prob.b)
    kpl = vr.expected_smoothness("least_squares", prob.A, prob.b, pl=True)
    assert k.mu == 0.0
    assert 0.0 < kpl.mu <= kpl.L
    assert math.isfinite(kpl.calL)


@settings(max_examples=10)
@given(kst.gradient_pairs(n_samples=(4, 6), dim=(1, 3), scales=(1e-3, 1.0, 1e3), centred=False, allow_zero=False),
       st.integers(1, 3), st.sampled_from(vr.SAMPLINGS))
def test_batch_equivalent_gradients_reproduce_batch_moments(pair, B, sampling):
    # the batch cross moment E[ḡ0_B·ḡ1_B] by enumerating every batch; holds for any (uncentred) gradients
    g0, g1 = pair
    N = g0.shape[0]
    e0 = vr.batch_equivalent_gradients(g0, B, sampling)
    e1 = vr.batch_equivalent_gradients(g1, B, sampling)
    batches = list(itertools.product(range(N), repeat=B) if sampling == "with_replacement"
                   else itertools.combinations(range(N), B))
    cross = np.mean([g0[list(c)].mean(0) @ g1[list(c)].mean(0) for c in batches])
    tol = 1e-12 * float(np.max(np.abs(g0)) * np.max(np.abs(g1)))
    assert float(np.mean(np.sum(e0 * e1, axis=1))) == pytest.approx(float(cross), rel=1e-10, abs=tol)


# ---------------------------------------------------------------- Lemma 1

@given(kst.gradient_pairs(), GAMMAS, CS)
def test_optimal_lambda_minimises_neighborhood(pair, gamma, c):
    g0, g1 = pair
    lam = vr.optimal_lambda(g0, g1, gamma, c)
    assert math.isfinite(lam)
    n_star = vr.neighborhood(lam, g0, g1, gamma, c)
    for other in (lam - 0.1, lam + 0.1, 0.0, 1.0, -2.0, 3.0):
        assert n_star <= vr.neighborhood(other, g0, g1, gamma, c) * (1 + 1e-9) + 1e-300
    lc = vr.optimal_lambda(g0, g1, gamma, c, clip=True)
    assert 0.0 <= lc <= 1.0
    grid = np.linspace(0, 1, 41)
    assert vr.neighborhood(lc, g0, g1, gamma, c) <= min(vr.neighborhood(t, g0, g1, gamma, c) for t in grid) * (1 + 1e-9) + 1e-300


@given(kst.gradient_pairs(scales=(1.0,)), GAMMAS, CS)
def test_optimal_lambda_matches_numeric_argmin(pair, gamma, c):
    g0, g1 = pair
    if np.all(g1 == 0):
        return  # N is constant: every λ is a minimiser (documented convention λ* = 1)
    res = optimize.minimize_scalar(lambda t: vr.neighborhood(t, g0, g1, gamma, c), bracket=(-1, 2), tol=1e-12)
    lam = vr.optimal_lambda(g0, g1, gamma, c)
    assert vr.neighborhood(lam, g0, g1, gamma, c) <= vr.neighborhood(res.x, g0, g1, gamma, c) * (1 + 1e-10) + 1e-15


@given(kst.gradient_pairs(), GAMMAS, CS)
def test_ratio_identity_15_and_ranges(pair, gamma, c):
    g0, g1 = pair
    r = vr.reduction_ratio(g0, g1, gamma, c)
    rho, beta = vr.rho(g0, g1), vr.beta(g1)
    assert 0.0 <= r <= 1.0 and -1.0 <= rho <= 1.0 and 0.0 <= beta <= 1.0
    if vr.sigma_sq(g0) > 0:
        assert r == pytest.approx(vr.reduction_ratio_formula(rho, beta, gamma, c), abs=1e-9)
        n0 = vr.neighborhood(0.0, g0, g1, gamma, c)
        if 0 < n0 < 1e300:
            assert r == pytest.approx(vr.neighborhood(vr.optimal_lambda(g0, g1, gamma, c), g0, g1, gamma, c) / n0,
                                      rel=1e-8, abs=1e-12)


@given(kst.gradient_pairs(scales=(1.0,)), GAMMAS, CS, st.sampled_from([1e-150, 1e-20, 1e20, 1e120]))
def test_scale_invariance_and_no_nan_at_extreme_scales(pair, gamma, c, s):
    g0, g1 = pair
    assert vr.optimal_lambda(g0 * s, g1 * s, gamma, c) == pytest.approx(vr.optimal_lambda(g0, g1, gamma, c), rel=1e-9, abs=1e-12)
    assert vr.reduction_ratio(g0 * s, g1 * s, gamma, c) == pytest.approx(vr.reduction_ratio(g0, g1, gamma, c), abs=1e-9)
    n1, ns = vr.neighborhood(0.3, g0, g1, gamma, c), vr.neighborhood(0.3, g0 * s, g1 * s, gamma, c)
    assert not math.isnan(ns)
    if n1 > 0 and math.isfinite(ns) and ns > 0:
        assert ns / (s * s) == pytest.approx(n1, rel=1e-9)
    for v in (vr.beta(g1 * s), vr.rho(g0 * s, g1 * s), vr.sigma_sq(g0 * s), vr.noise_at_lambda(0.5, g0 * s, g1 * s),
              vr.direction_variance(g0 * s, g1 * s, 0.5, 2)):
        assert not math.isnan(v)


@given(kst.glm_problems(), GAMMAS)
def test_optimal_teacher_gives_lambda_one_and_ratio_zero(prob, gamma):
    g = prob.grads(prob.x_star)
    assert vr.optimal_lambda(g, g, gamma) == pytest.approx(1.0, abs=1e-9)
    assert vr.reduction_ratio(g, g, gamma) <= 1e-12


def test_zero_gradients_do_not_divide_by_zero():
    z = np.zeros((5, 3))
    assert vr.optimal_lambda(z, z, 0.1) == 1.0
    assert vr.reduction_ratio(z, z, 0.1) == 0.0
    assert vr.beta(z) == 0.0 and vr.rho(z, z) == 0.0 and vr.neighborhood(0.5, z, z, 0.1) == 0.0


@given(kst.glm_problems(), st.data(), st.floats(1e-3, 1.0), st.floats(0.1, 4.0))
def test_lemma1_explicit_bound_holds(prob, data, gamma, c):
    if prob.model == "softmax":
        return  # no valid μ-free L bound needed, but keep LS/logistic where L, 𝓛 are certified
    theta = data.draw(kst.teachers(prob, distance=(0.0, 1.0)))
    g0, g1 = prob.grads(prob.x_star), prob.grads(theta)
    if vr.sigma_sq(g0) == 0 or vr.sigma_sq(g1) == 0:
        return
    k = vr.expected_smoothness(prob.model, prob.A, prob.b, x_star=prob.x_star)
    gap = max(vr.loss(prob.model, theta, prob.A, prob.b) - vr.loss(prob.model, prob.x_star, prob.A, prob.b), 0.0)
    bound = vr.reduction_ratio_bound(gap, math.sqrt(vr.sigma_sq(g0)), math.sqrt(vr.sigma_sq(g1)), k.L, k.calL, gamma, c)
    assert vr.reduction_ratio(g0, g1, gamma, c) <= bound + 1e-9


@given(kst.gradient_pairs(scales=(1.0,), allow_zero=False), st.sampled_from((1e-100, 1e-3, 1e3, 1e100)))
def test_rho_printed_scales_with_the_gradients(pair, s):
    """The printed (32) is ρ·(Var(x*)Var(θ))^{1/4} (Var = Cov(x, x)), so it is not scale invariant:
    multiplying every gradient by s multiplies it by s, while the corrected ρ is unchanged."""
    g0, g1 = pair
    a, t = g0 - g0.mean(0), g1 - g1.mean(0)
    va, vt = float(np.mean(np.sum(a * a, 1))), float(np.mean(np.sum(t * t, 1)))
    if va == 0 or vt == 0:
        return
    assert vr.rho_printed(g0, g1) == pytest.approx(vr.rho(g0, g1) * (va * vt) ** 0.25, rel=1e-9, abs=1e-12)
    assert vr.rho_printed(g0 * s, g1 * s) == pytest.approx(s * vr.rho_printed(g0, g1), rel=1e-9, abs=1e-300)
    assert vr.rho(g0 * s, g1 * s) == pytest.approx(vr.rho(g0, g1), rel=1e-9, abs=1e-12)


def test_rho_printed_is_not_a_correlation():
    g = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    assert vr.rho(g, g) == pytest.approx(1.0)
    assert vr.rho_printed(g, g) == pytest.approx(3.0)


# ---------------------------------------------------------------- Theorems

@given(kst.least_squares_problems(rank_deficient=False, scales=(0.3, 1.0, 3.0)), st.data(), st.integers(0, 200))
def test_theorem_bounds_structure(prob, data, t):
    k = vr.expected_smoothness("least_squares", prob.A, prob.b)
    if k.mu <= 1e-8 * k.L:
        return
    theta = data.draw(kst.teachers(prob, distance=(0.0, 1.0)))
    g0, g1 = prob.grads(prob.x_star), prob.grads(theta)
    gamma = 1 / (4 * k.calL)
    b0 = vr.theorem1_bound(0, gamma, k.mu, k.calL, 2.0, g0, g1)
    bt = vr.theorem1_bound(t, gamma, k.mu, k.calL, 2.0, g0, g1)
    b_inf = vr.theorem1_bound(t, gamma, k.mu, k.calL, 0.0, g0, g1)
    assert b0 >= bt >= b_inf >= 0
    # λ* of N1 gives the smallest bound. Relative 1e-12 plus an absolute floor of 1e-12 of the problem's own
    # scale (the λ = 0 and λ = 1 bounds): with the teacher at x* the λ* bound is round-off (~1e-26, not 0) and a
    # relative tolerance alone compares two round-off values (thorough profile: 2.16281e-26 vs 2.16277e-26)
    at = {lam: vr.theorem1_bound(t, gamma, k.mu, k.calL, 0.0, g0, g1, lam=lam) for lam in (0.0, 0.5, 1.0)}
    floor = 1e-12 * max(at[0.0], at[1.0])
    for lam, b_lam in at.items():
        assert b_inf <= b_lam * (1 + 1e-12) + floor, lam
    # the explicit Lemma-1 rate (11) dominates the λ* bound (35)
    ft = max(vr.loss("least_squares", theta, prob.A, prob.b) - vr.loss("least_squares", prob.x_star, prob.A, prob.b), 0.0)
    if vr.sigma_sq(g1) > 0:
        rate = vr.theorem1_rate_bound(t, gamma, k.mu, k.L, k.calL, 0.0, vr.sigma_sq(g0), vr.sigma_sq(g1), ft)
        assert b_inf <= rate * (1 + 1e-9) + 1e-15
    # descent step (13) with the negative term ≤ the contraction without it (γ ≤ 1/(4𝓛))
    gs, nz = float(np.sum(g1.mean(0) ** 2)), vr.noise_at_lambda(0.5, g0, g1)
    assert vr.descent_step_bound(1.0, 0.3, gamma, k.mu, k.calL, 0.5, gs, nz) <= \
        vr.theorem1_one_step_bound(1.0, gamma, k.mu, k.calL, 0.5, gs, nz) + 1e-15
    g2 = k.mu / (4 * k.L * k.calL)
    assert vr.descent_step_bound(1.0, 0.0, g2, k.mu, k.calL, 0.5, gs, nz, setting="pl", L=k.L) <= \
        vr.theorem2_one_step_bound(1.0, g2, k.mu, k.L, k.calL, 0.5, gs, nz) + 1e-15
    g3 = k.mu / (3 * k.L * k.calL)
    assert vr.theorem3_descent_step(1.0, g3, k.mu, k.L, k.calL, ft) <= vr.theorem3_one_step_bound(1.0, g3, k.mu, k.L, k.calL, ft) + 1e-15
    assert vr.theorem3_bound(t, g3, k.mu, k.L, k.calL, 1.0, ft) >= 3 * k.L * (k.L + k.calL) / k.mu * g3 * ft * (1 - 1e-12)


@given(st.floats(1e-3, 10), st.floats(1, 100), st.floats(1, 100), st.floats(1e-6, 1.0))
def test_theorem4_omega_max_below_mu_over_16_calL(mu, rL, rcal, frac):
    L = mu * rL
    calL = L * rcal
    gamma = frac / (8 * calL)
    assert vr.theorem4_omega_max(gamma, mu, L, calL) <= mu / (16 * calL) * (1 + 1e-12)


@given(st.floats(0, 5), st.floats(1e-3, 10), st.floats(1e-2, 10), st.floats(1.0, 50), st.floats(0, 3), st.floats(0, 5), st.floats(0, 5))
def test_lemma6_printed_B_is_smaller_when_calL_above_one(fg, gamma, mu, calL, omega, xs, nz):
    assert vr.lemma6_rhs(fg, gamma, mu, calL, omega, xs, nz, printed=True) <= vr.lemma6_rhs(fg, gamma, mu, calL, omega, xs, nz)


def test_rand_k_omega():
    assert vr.rand_k_omega(10, 10) == 0.0
    assert vr.rand_k_omega(10, 5) == 1.0


# ---------------------------------------------------------------- bad input

def _g():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3)), rng.normal(size=(5, 3))


@pytest.mark.parametrize("gamma", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_gamma(gamma):
    g0, g1 = _g()
    for fn in (vr.optimal_lambda, vr.reduction_ratio):
        with pytest.raises(ValueError, match="gamma"):
            fn(g0, g1, gamma)
    with pytest.raises(ValueError, match="gamma"):
        vr.neighborhood(0.5, g0, g1, gamma)


def test_bad_shapes_and_nan():
    g0, g1 = _g()
    with pytest.raises(ValueError, match="grads_opt and grads_teacher"):
        vr.optimal_lambda(g0, g1[:4], 0.1)
    bad = g1.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="grads_teacher contains"):
        vr.reduction_ratio(g0, bad, 0.1)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="grads_teacher contains"):
        vr.neighborhood(0.1, g0, bad, 0.1)
    with pytest.raises(ValueError, match="c must be"):
        vr.optimal_lambda(g0, g1, 0.1, c=0.0)
    with pytest.raises(ValueError, match="grad_student and grad_teacher"):
        vr.distillation_gradient(g0, g1[:, :2], 0.5)


@pytest.mark.parametrize("lam", [-0.1, 1.5])
def test_lambda_outside_unit_interval_where_required(lam):
    g0, g1 = _g()
    with pytest.raises(ValueError, match="lam"):
        vr.distillation_gradient(g0, g1, lam)
    A = vr.lift(np.ones((3, 1)))
    with pytest.raises(ValueError, match="lam"):
        vr.distillation_losses("least_squares", np.zeros(2), np.ones(2), lam, A, np.zeros(3))
    with pytest.raises(ValueError, match="lam"):
        vr.distillation_loss_gradient("logistic", np.zeros(2), np.ones(2), lam, A, np.zeros(3))


def test_bad_model_data_and_step_sizes():
    A = vr.lift(np.ones((3, 1)))
    with pytest.raises(ValueError, match="model"):
        vr.per_sample_losses("probit", np.zeros(2), A, np.zeros(3))
    with pytest.raises(ValueError, match="x must have length"):
        vr.per_sample_gradients("least_squares", np.zeros(3), A, np.zeros(3))
    with pytest.raises(ValueError, match="b must have length"):
        vr.per_sample_gradients("least_squares", np.zeros(2), A, np.zeros(4))
    with pytest.raises(ValueError, match="b must lie in"):
        vr.per_sample_gradients("logistic", np.zeros(2), A, np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="labels must lie"):
        vr.per_sample_gradients("softmax", np.zeros((2, 2)), A, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="batch_size"):
        vr.expected_smoothness("least_squares", A, batch_size=0)
    g0, g1 = _g()
    with pytest.raises(ValueError, match="gamma must be <="):
        vr.theorem1_bound(1, 1.0, 0.1, 1.0, 1.0, g0, g1)
    with pytest.raises(ValueError, match="gamma must be <="):
        vr.theorem3_bound(1, 1.0, 0.1, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="omega must be <="):
        vr.theorem4_bound(1, 1 / 16, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, g0, g1)
    with pytest.raises(ValueError, match="t must be"):
        vr.theorem1_bound(-1, 0.1, 0.1, 1.0, 1.0, g0, g1)


@given(kst.least_squares_problems(), st.integers(0, 2**31))
def test_quadratic_gap_equals_loss_difference(prob, seed):
    X = prob.x_star + np.random.default_rng(seed).normal(size=(2, 3, prob.x_star.size))
    fstar = vr.loss("least_squares", prob.x_star, prob.A, prob.b)
    ref = np.array([[vr.loss("least_squares", x, prob.A, prob.b) - fstar for x in row] for row in X])
    np.testing.assert_allclose(vr.quadratic_gap(X, prob.A, prob.x_star), ref, rtol=1e-7, atol=1e-9 * max(1.0, fstar))


@settings(max_examples=15)
@given(kst.least_squares_problems(scales=(1e-100, 1e-8, 1e8, 1e100), n_features=(1, 3)), st.data())
def test_no_nan_at_extreme_data_scales(prob, data):
    k = vr.expected_smoothness("least_squares", prob.A, prob.b)
    kb = vr.expected_smoothness("least_squares", prob.A, prob.b, batch_size=2, sampling="without_replacement")
    for v in (k.mu, k.L, k.L_max, k.calL, k.calL_ms, kb.calL):
        assert math.isfinite(v) and v >= 0
    assert k.calL >= kb.calL * (1 - 1e-9)  # larger batches are smoother in expectation
    theta = data.draw(kst.teachers(prob, distance=(0.0, 1.0)))
    g0, g1 = prob.grads(prob.x_star), prob.grads(theta)
    assert np.all(np.isfinite(g0)) and np.all(np.isfinite(g1))
    for gamma in (1e-8, 1.0):
        for v in (vr.optimal_lambda(g0, g1, gamma), vr.reduction_ratio(g0, g1, gamma), vr.rho(g0, g1), vr.beta(g1)):
            assert math.isfinite(v)
        assert not math.isnan(vr.neighborhood(0.5, g0, g1, gamma))


@given(st.floats(1e-100, 1e100), st.floats(1e-100, 1e100), st.floats(1, 1e3), st.floats(1, 1e3), st.integers(0, 10**6),
       st.floats(0, 1e100), st.floats(0, 1e100))
def test_theorem_functions_never_nan(mu, scale_t, rL, rcal, t, e, ft):
    L = mu * rL
    calL = L * rcal
    for v in (vr.theorem3_bound(t, mu / (3 * L * calL), mu, L, calL, e, ft),
              vr.theorem3_descent_step(e, mu / (3 * L * calL), mu, L, calL, ft),
              vr.theorem2_one_step_bound(e, mu / (4 * L * calL), mu, L, calL, 0.5, scale_t, scale_t),
              vr.theorem1_one_step_bound(e, 1 / (4 * calL), mu, calL, 0.5, scale_t, scale_t),
              vr.descent_step_bound(e, ft, 1 / (4 * calL), mu, calL, 0.5, scale_t, scale_t),
              vr.theorem4_omega_max(1 / (16 * calL), mu, L, calL),
              vr.lemma6_rhs(ft, 1 / (16 * calL), mu, calL, 0.1, e, scale_t)):
        assert not math.isnan(v)


# ---------------------------------------------------------------- extreme inputs for every public function

EXTREME = (1e-300, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e300)


def _raw_problem(model, seed, N, p, deficient):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(N, p))
    if deficient:
        a = np.hstack([a, a[:, :1]])  # duplicated feature: rank-deficient design
    if model == "least_squares":
        b, x = rng.normal(size=N), rng.normal(size=a.shape[1] + 1)
    elif model == "logistic":
        b, x = rng.uniform(0.05, 0.95, size=N), rng.normal(size=a.shape[1] + 1)
    else:
        b, x = rng.dirichlet(np.ones(3), size=N), rng.normal(size=(a.shape[1] + 1, 3))
    return a, b, x


def _finite_or_overflow(fn, *args, **kw):
    """Call fn: it must return NaN-free values, or refuse with the documented overflow ValueError."""
    try:
        out = fn(*args, **kw)
    except ValueError as exc:
        assert "overflows float64" in str(exc), exc
        return None
    if dataclasses.is_dataclass(out):
        vals = np.array([v for v in dataclasses.astuple(out) if isinstance(v, float)])
    else:
        vals = np.asarray(out, dtype=float)
    assert not np.isnan(vals).any(), f"{fn.__name__} returned NaN"
    return out


def _corners(test):
    """The extreme corners (data scale 1e±300 × parameter scale 1e±100) for every model, always run."""
    for model in vr.MODELS:
        for s in (1e-300, 1e300):
            for xs in (1e-100, 1e100):
                test = example(model, 1, 5, 2, model == "least_squares", s, xs, 0.5)(test)
    return test


@settings(max_examples=30)
@given(st.sampled_from(vr.MODELS), st.integers(0, 2**31), st.integers(4, 9), st.integers(1, 3), st.booleans(),
       st.sampled_from(EXTREME), st.sampled_from((1e-100, 1.0, 1e100)), st.floats(0.0, 1.0))
@_corners
def test_glm_functions_never_return_nan_at_extreme_scales(model, seed, N, p, deficient, s, xs, lam):
    """Every data/model function at input scales 1e-300 … 1e300 (and rank-deficient designs): finite where
    representable, ±inf or the overflow error otherwise, never NaN; where finite, the identities hold:
    f = mean f_n, ∇f = mean ∇f_n, outputs are probabilities, eq. (5) = gradient of (4) (Prop. 1)."""
    a, b, x = _raw_problem(model, seed, N, p, deficient)
    A = vr.lift(a * s)
    assert np.array_equal(A[:, -1], np.ones(N)) and np.array_equal(A[:, :-1], a * s)
    x = x * xs
    theta = 0.5 * x
    out = _finite_or_overflow(vr.predictions, model, x, A)
    if out is not None and model != "least_squares":
        assert np.all((out >= 0) & (out <= 1))
    if out is not None and model == "softmax":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    losses = _finite_or_overflow(vr.per_sample_losses, model, x, A, b)
    grads = _finite_or_overflow(vr.per_sample_gradients, model, x, A, b)
    if losses is not None and np.all(np.isfinite(losses)):
        assert vr.loss(model, x, A, b) == pytest.approx(float(np.mean(losses)), rel=1e-12)
    if grads is not None and np.all(np.isfinite(grads)):
        np.testing.assert_allclose(vr.full_gradient(model, x, A, b), grads.mean(axis=0), rtol=1e-12)
    _finite_or_overflow(vr.distillation_losses, model, x, theta, lam, A, b)
    true = _finite_or_overflow(vr.distillation_loss_gradient, model, x, theta, lam, A, b)
    gt = _finite_or_overflow(vr.per_sample_gradients, model, theta, A, b)
    if grads is not None and gt is not None and np.all(np.isfinite(grads)) and np.all(np.isfinite(gt)):
        eq5 = _finite_or_overflow(vr.distillation_gradient, grads, gt, lam)
        if true is not None and eq5 is not None and np.all(np.isfinite(true)) and np.all(np.isfinite(eq5)):
            # Prop. 1 at every scale; the label terms may cancel, so the tolerance is relative to the parts
            scale = max(float(np.max(np.abs(grads))), float(np.max(np.abs(gt))), 1e-300)
            assert float(np.max(np.abs(true - eq5))) <= 1e-9 * scale
    X = np.broadcast_to(x, (2, 2) + x.shape).copy()
    idx = np.array([[0, 1], [2, 3]])
    _finite_or_overflow(vr.minibatch_gradient, model, X, A, b, idx)
    _finite_or_overflow(vr.minibatch_loss, model, X, A, b, idx)
    for sampling in vr.SAMPLINGS:
        k = _finite_or_overflow(vr.expected_smoothness, model, A, b, batch_size=2, sampling=sampling,
                                x_star=np.zeros(A.shape[1]) if model == "logistic" else None)
        assert k.calL >= k.L * (1 - 1e-12) and k.L >= k.mu >= 0 and k.L_max >= k.calL * (1 - 1e-9)
        assert vr.smoothness_constants(model, A, b, batch_size=2, sampling=sampling,
                                       x_star=np.zeros(A.shape[1]) if model == "logistic" else None) == k
    if model == "least_squares":
        qg = vr.quadratic_gap(X, A, np.zeros(A.shape[1]))
        assert not np.isnan(qg).any() and np.all(qg >= 0)


@settings(max_examples=8)
@given(kst.logistic_problems(n_samples=(8, 14), n_features=(1, 2), scales=(1.0,))
       | kst.softmax_problems(n_samples=(8, 14), n_features=(1, 2), n_classes=(3, 3), scales=(1.0,)),
       st.sampled_from((1e-150, 1e-8, 1e8, 1e150)))
def test_minimizer_is_equivariant_to_feature_scale(prob, s):
    """f(x; [s·a, 1]) = f(diag(1/s, …, 1/s, 1)·x; [a, 1]): the minimiser at feature scale s is the unit-scale
    minimiser with its feature weights divided by s (bias unchanged) — for tiny and huge s alike."""
    model, a, b, ref = prob.model, prob.A[:, :-1], prob.b, prob.x_star
    got = vr.minimizer(model, vr.lift(a * s), b)
    np.testing.assert_allclose(got[:-1] * s, ref[:-1], rtol=1e-6, atol=1e-8 * max(1.0, float(np.max(np.abs(ref)))))
    np.testing.assert_allclose(got[-1], ref[-1], rtol=1e-6, atol=1e-8 * max(1.0, float(np.max(np.abs(ref)))))


@settings(max_examples=10)
@given(kst.logistic_problems(n_samples=(4, 6), n_features=(1, 1), scales=(1.0,))
       | kst.softmax_problems(n_samples=(4, 6), n_features=(1, 1), n_classes=(3, 3), scales=(1.0,)),
       st.integers(1, 2), st.sampled_from(vr.SAMPLINGS), st.data())
def test_expected_smoothness_bound_holds_for_logistic_and_softmax(prob, B, sampling, data):
    """(10) for the Gower et al. upper bound 𝓛: E‖∇f_B(x) − ∇f_B(x*)‖² ≤ 2𝓛(f(x) − f*), the expectation
    taken by enumerating every batch, at points x at distances 0.1 … 5 from x* (independent of the formula
    for 𝓛)."""
    model, A, b, xs = prob.model, prob.A, prob.b, prob.x_star
    N = prob.n_samples
    k = vr.expected_smoothness(model, A, b, batch_size=B, sampling=sampling, x_star=xs if model == "logistic" else None)
    fstar = vr.loss(model, xs, A, b)
    for lo, hi in ((0.1, 0.1), (1.0, 1.0), (5.0, 5.0)):
        x = data.draw(kst.teachers(prob, distance=(lo, hi), relative=False), label=f"x at distance {lo}")
        D = (vr.per_sample_gradients(model, x, A, b) - vr.per_sample_gradients(model, xs, A, b)).reshape(N, -1)
        lhs = _brute_batch_second_moment(D, B, sampling)
        assert lhs <= 2 * k.calL * (vr.loss(model, x, A, b) - fstar) * (1 + 1e-9) + 1e-14


@settings(max_examples=20)
@given(kst.gradient_pairs(allow_zero=False), st.floats(1e-3, 1.0), st.floats(0.01, 1.0), st.integers(0, 10**6),
       st.sampled_from((1e-100, 1.0, 1e100)))
def test_theorem_bounds_at_extreme_gradient_scales(pair, frac, wfrac, t, dscale):
    """Thms 1, 2, 4 (eqs. 35, 36, App. E) and the rate (11): never NaN, non-increasing in t, and λ* (of the
    matching Lemma-1 constant c) gives a bound no larger than λ = 0 (plain SGD) or λ = 1 — for gradients
    from 1e-150 to 1e100 and initial distances from 1e-100 to 1e100."""
    g0, g1 = pair
    mu, L = 0.5, 2.0
    calL = 3.0
    gamma1, gamma2, gamma4 = frac / (4 * calL), frac * mu / (4 * L * calL), frac / (16 * calL)
    omega = wfrac * vr.theorem4_omega_max(gamma4, mu, L, calL)
    fns = {
        "thm1": lambda tt, lam=None: vr.theorem1_bound(tt, gamma1, mu, calL, dscale, g0, g1, lam=lam),
        "thm2": lambda tt, lam=None: vr.theorem2_bound(tt, gamma2, mu, L, calL, dscale, g0, g1, lam=lam),
        "thm4": lambda tt, lam=None: vr.theorem4_bound(tt, gamma4, mu, L, calL, max(omega, 0.0), dscale, dscale,
                                                       g0, g1, lam=lam),
    }
    for name, f in fns.items():
        b_t, b_next, b_star = f(t), f(t + 1), f(t)
        assert not math.isnan(b_t) and b_t >= 0, name
        assert b_next <= b_t * (1 + 1e-12) or b_t == math.inf, name
        for lam in (0.0, 1.0):
            assert b_star <= f(t, lam) * (1 + 1e-9) or f(t, lam) == math.inf, name
    s0, s1 = vr.sigma_sq(g0), vr.sigma_sq(g1)
    gap = float(np.sum(g1.mean(0) ** 2))  # any non-negative value: only the formula's arithmetic is exercised
    r = vr.theorem1_rate_bound(t, gamma1, mu, L, calL, dscale, s0, max(s1, 1e-300), gap)
    assert not math.isnan(r) and r >= 0
    if s0 > 0 and s1 > 0:
        rb = vr.reduction_ratio_bound(gap, math.sqrt(s0), math.sqrt(s1), L, calL, gamma1)
        assert 0 <= rb <= 1


@settings(max_examples=20)
@given(kst.gradient_pairs(allow_zero=False), st.integers(1, 8), st.sampled_from(vr.SAMPLINGS))
def test_batch_equivalent_gradients_at_extreme_scales(pair, B, sampling):
    """Mean preserved and centred second moment scaled by the batch factor, at any gradient scale; the
    factor is the same for every scale (checked against the unit-scale result)."""
    g0, _ = pair
    N = g0.shape[0]
    if sampling == "without_replacement" and B > N:
        with pytest.raises(ValueError, match="batch_size"):
            vr.batch_equivalent_gradients(g0, B, sampling)
        return
    e = vr.batch_equivalent_gradients(g0, B, sampling)
    assert not np.isnan(e).any()
    np.testing.assert_allclose(e.mean(axis=0), g0.mean(axis=0), rtol=1e-9, atol=1e-12 * float(np.max(np.abs(g0))))
    s = float(np.max(np.abs(g0))) or 1.0
    unit = vr.batch_equivalent_gradients(g0 / s, B, sampling)
    np.testing.assert_allclose(e / s, unit, rtol=1e-12, atol=1e-15)


@given(st.integers(1, 7), st.data())
def test_rand_k_omega_by_enumerating_masks(d, data):
    """ω of rand-k equals E‖C(x)‖²/‖x‖² − 1 with the expectation over all k-subsets (Assumption 4)."""
    k = data.draw(st.integers(1, d))
    x = np.arange(1.0, d + 1.0) * data.draw(st.sampled_from((1e-100, 1.0, 1e100)))
    second = np.mean([np.sum((x[list(S)] * d / k) ** 2) for S in itertools.combinations(range(d), k)])
    assert vr.rand_k_omega(d, k) == pytest.approx(second / np.sum(x * x) - 1.0, rel=1e-12, abs=1e-12)


def test_every_public_function_is_driven_by_a_property_test():
    """Each public callable of kdtheory.variance_reduction is called inside some @given test here."""
    import ast
    import inspect
    import sys

    tree = ast.parse(inspect.getsource(sys.modules[__name__]))
    driven = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
                isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "given" for dec in node.decorator_list):
            driven |= {n.attr for n in ast.walk(node)
                       if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "vr"}
    public = {n for n in vr.__all__ if callable(getattr(vr, n)) and not isinstance(getattr(vr, n), type)}
    assert public - driven == set(), f"public functions with no hypothesis test: {sorted(public - driven)}"


# ---------------------------------------------------------------- pinned transcriptions (issue 13, item 3)
# Exact values at rational points, computed here with fractions from the paper's expressions typed
# separately (not from kdtheory): these kill mutants that turn a bound into a different *true* bound
# (÷4 on a noise term, λ ↔ 1−λ, a dropped factor), which no "the bound holds" check can see.

from fractions import Fraction as F  # noqa: E402

# per-sample gradients (N = 2, d = 1): at x* g0 = (1, −1) (mean 0), at θ g1 = (2, 0) (mean 1)
_G0 = np.array([[1.0], [-1.0]])
_G1 = np.array([[2.0], [0.0]])


def _noise(lam):  # E‖g0 − λ g1‖² = ½[(1 − 2λ)² + 1]
    return F(1, 2) * ((1 - 2 * lam) ** 2 + 1)


_GT2 = F(1)       # ‖∇f(θ)‖² = 1
_CROSS = F(1)     # E⟨g0, g1⟩ = ½(2 + 0)
_MT = F(2)        # E‖g1‖² = ½(4 + 0)


def _close(value, exact, rel=1e-12) -> bool:
    """Whether ``value`` equals the exact fraction ``exact`` to ``rel`` (callers assert it)."""
    return value == pytest.approx(float(exact), rel=rel, abs=1e-300)


def test_pinned_step_limits_and_lemma1_constants():
    assert _close(vr.theorem1_step_max(4.0), F(1, 16))
    assert _close(vr.theorem1_step_max(4.0, printed=True), F(1, 32))
    assert _close(vr.theorem2_step_max(0.5, 2.0, 3.0), F(1, 2) / (4 * 2 * 3))
    assert _close(vr.theorem3_step_max(0.5, 2.0, 3.0), F(1, 2) / (3 * 2 * 3))
    assert _close(vr.theorem4_step_max(4.0), F(1, 64))
    assert _close(vr.step_max(2, mu=0.5, L=2.0, calL=3.0), F(1, 48))
    assert _close(vr.lemma1_c(1, mu=0.5), F(1, 8))
    assert _close(vr.lemma1_c(2, mu=0.5, L=3.0), F(3))
    assert _close(vr.lemma1_c(4, mu=0.5), F(1))
    assert _close(vr.restart_step_max(0.5, 2.0, 3.0), F(1, 2) / (24 * 6))
    assert _close(vr.restart_step_max(0.5, 2.0, 3.0, printed=True), F(1, 2) / (12 * 6))
    with pytest.raises(ValueError, match="theorem"):
        vr.lemma1_c(3, mu=1.0)


def test_pinned_lemma1():
    gamma, c = F(1, 16), F(1, 8)              # cγ = 1/128
    lam_star = _CROSS / (_MT + _GT2 / (c * gamma))
    assert lam_star == F(1, 130)
    assert _close(vr.optimal_lambda(_G0, _G1, float(gamma), float(c)), lam_star)
    lam = F(1, 4)
    assert _close(vr.neighborhood(float(lam), _G0, _G1, float(gamma), float(c)), lam**2 * _GT2 + c * gamma * _noise(lam))
    assert _close(vr.noise_at_lambda(float(lam), _G0, _G1), _noise(lam))
    rho, beta = F(1, 2), F(1, 4)
    assert _close(vr.reduction_ratio_formula(0.5, 0.25, float(gamma), float(c)), 1 - rho**2 * (1 - beta) / (1 + beta / (c * gamma)))
    # explicit Lemma-1 bound: min(1, (2𝓛/(σ*σ(θ)) + 2L/(cγσ²(θ))) (f(θ) − f*)) at σ* = 1, σ(θ) = 2
    k = 2 * F(3) / (1 * 2) + 2 * F(2) / (c * gamma * 4)
    assert _close(vr.reduction_ratio_bound(1e-4, 1.0, 2.0, 2.0, 3.0, float(gamma), float(c)), min(F(1), k * F(1, 10000)))


def test_pinned_theorem1():
    t, gamma, mu, calL, d0, lam = 2, F(1, 16), F(1, 2), F(4), F(3), F(1, 4)
    N1 = lam**2 * _GT2 + gamma * mu / 4 * _noise(lam)
    exact = (1 - gamma * mu) ** t * d0 + 8 / mu**2 * N1
    assert _close(vr.theorem1_bound(t, float(gamma), float(mu), float(calL), float(d0), _G0, _G1, lam=float(lam)), exact)
    lam0 = F(0)
    assert _close(vr.theorem1_bound(t, float(gamma), float(mu), float(calL), 0.0, _G0, _G1, lam=0.0),
           8 / mu**2 * (gamma * mu / 4 * _noise(lam0)))
    # one-step (App. C.2) and the descent inequality (13), strongly quasi-convex form
    e, fg, gs, nz = F(2), F(1, 3), F(5, 7), F(3, 11)
    one = (1 - gamma * mu) * e + 8 * gamma / mu * lam**2 * gs + 2 * gamma**2 * nz
    assert _close(vr.theorem1_one_step_bound(float(e), float(gamma), float(mu), float(calL), float(lam), float(gs), float(nz)), one)
    assert _close(vr.descent_step_bound(float(e), float(fg), float(gamma), float(mu), float(calL), float(lam), float(gs), float(nz)),
           one - gamma * (1 - 4 * gamma * calL) * fg)
    # rate (11) with the explicit Lemma-1 factor, c = μ/4
    s2, st2, L, ft = F(4), F(9), F(3), F(1, 1000)
    r = min(F(1), (2 * calL / (2 * 3) + 2 * L / (mu / 4 * gamma * st2)) * ft)
    assert _close(vr.theorem1_rate_bound(t, float(gamma), float(mu), float(L), float(calL), float(d0), float(s2), float(st2), float(ft)),
           (1 - gamma * mu) ** t * d0 + 2 * s2 / mu * gamma * r)


def test_pinned_theorem2():
    t, mu, L, calL, f0, lam = 3, F(1, 2), F(2), F(3), F(5), F(1, 4)
    gamma = mu / (4 * L * calL)
    N2 = lam**2 * _GT2 + L * gamma * _noise(lam)
    assert _close(vr.theorem2_bound(t, float(gamma), float(mu), float(L), float(calL), float(f0), _G0, _G1, lam=float(lam)),
           (1 - gamma * mu) ** t * f0 + N2 / mu)
    e, gs, nz = F(2), F(5, 7), F(3, 11)
    one = (1 - gamma * mu) * e + gamma * lam**2 * gs + L * gamma**2 * nz
    assert _close(vr.theorem2_one_step_bound(float(e), float(gamma), float(mu), float(L), float(calL), float(lam), float(gs), float(nz)), one)
    assert _close(vr.descent_step_bound(float(e), 0.0, float(gamma), float(mu), float(calL), float(lam), float(gs), float(nz),
                                 setting="pl", L=float(L)),
           one - gamma * mu / 2 * (1 - 4 * gamma * L * calL / mu) * e)


def test_pinned_theorem3_and_restart():
    t, mu, L, calL, f0, ft = 4, F(1, 2), F(2), F(3), F(5), F(1, 7)
    gamma = mu / (3 * L * calL) / 2
    assert _close(vr.theorem3_bound(t, float(gamma), float(mu), float(L), float(calL), float(f0), float(ft)),
           (1 - gamma * mu) ** t * f0 + 3 * L * (L + calL) / mu * gamma * ft)
    e = F(2)
    assert _close(vr.theorem3_one_step_bound(float(e), float(gamma), float(mu), float(L), float(calL), float(ft)),
           (1 - gamma * mu) * e + 3 * L * (L + calL) * gamma**2 * ft)
    assert _close(vr.theorem3_descent_step(float(e), float(gamma), float(mu), float(L), float(calL), float(ft)),
           (1 - gamma * mu) * e - gamma * mu * e + 3 * L * calL * gamma**2 * e + 3 * L * (L + calL) * gamma**2 * ft)
    assert _close(vr.restart_factor(t, float(gamma), float(mu), float(L), float(calL)),
           (1 - gamma * mu) ** t + gamma * 3 * L * (L + calL) / mu)
    # τ = least integer with (1 − γμ)^τ ≤ 1/4: γμ = 1/2 → τ = 2
    assert vr.restart_phase_length(1.0, 0.5) == 2
    assert vr.restart_phase_length(0.1, 1.0) == 14   # 0.9^13 = 0.254 > 1/4 ≥ 0.9^14 = 0.229


def test_pinned_theorem4_and_lemmas_2_to_6():
    mu, L, calL = F(1), F(1), F(1)
    gamma = F(1, 16)
    wmax = mu / 2 * (F(1, 2) - 4 * gamma * calL) / (2 * gamma * calL**2 + 2 / gamma + L - mu)
    assert wmax == F(1, 257)
    assert _close(vr.theorem4_omega_max(float(gamma), float(mu), float(L), float(calL)), wmax)
    mu2, L2, calL2, gamma2 = F(1, 2), F(1), F(1), F(1, 32)
    assert _close(vr.theorem4_omega_max(float(gamma2), float(mu2), float(L2), float(calL2)), F(3, 2066))
    t, omega, d0, xs2, lam = 2, F(1, 514), F(3), F(2), F(1, 4)
    N3 = lam**2 * _GT2 + 2 * gamma * mu * _noise(lam)
    nu = 2 * omega * xs2
    inner = (1 - gamma * mu) ** t * d0 + nu / mu * (2 * gamma * calL**2 + 2 / gamma + L - mu) + 2 / mu**2 * N3
    assert _close(vr.theorem4_bound(t, float(gamma), float(mu), float(L), float(calL), float(omega), float(d0), float(xs2),
                             _G0, _G1, lam=float(lam)), (2 * omega + 1) * inner + 2 * omega * xs2)
    # Lemma 6 (45) with A = 2𝓛 + (𝓛² + 1/γ²)α, B = (𝓛² + 1/γ²)ν (printed: (𝓛 + 1/γ²)ν), α = 2ω/μ
    fg, mu6, calL6, gamma6, om6, xs6, nz = F(1, 3), F(1, 2), F(3), F(1, 5), F(1, 4), F(2), F(7)
    alpha, nu6 = 2 * om6 / mu6, 2 * om6 * xs6
    A = 2 * calL6 + (calL6**2 + 1 / gamma6**2) * alpha
    args = tuple(float(v) for v in (fg, gamma6, mu6, calL6, om6, xs6, nz))
    assert _close(vr.lemma6_rhs(*args), 4 * A * fg + 2 * (calL6**2 + 1 / gamma6**2) * nu6 + 4 * nz)
    assert _close(vr.lemma6_rhs(*args, printed=True), 4 * A * fg + 2 * (calL6 + 1 / gamma6**2) * nu6 + 4 * nz)
    # Lemma 2 (40), Lemma 3 (41)/(42), Lemma 4 (43), Lemma 5 (44), eq. (38)
    assert _close(vr.lemma2_rhs(float(fg), float(mu6), float(om6), float(xs6)), 2 * alpha * fg + nu6)
    dist, dsq = F(5, 3), F(2, 9)
    assert _close(vr.lemma3_rhs41(float(calL6), float(dist), float(dsq)), calL6**2 * (dist + dsq))
    fy, inn, L6 = F(3, 2), F(-1, 4), F(5)
    assert _close(vr.lemma3_rhs42(float(fy), float(inn), float(L6), float(dist), float(dsq)), fy + inn + L6 / 2 * dist + L6 / 2 * dsq)
    assert _close(vr.lemma4_rhs(float(nz), float(calL6), float(dist), float(gamma6), float(dsq)),
           2 * nz + 2 * calL6**2 * dist + 2 * (calL6**2 + 1 / gamma6**2) * dsq)
    assert _close(vr.lemma5_rhs(float(fy), float(inn), float(mu6), float(L6), float(dist), float(dsq)),
           fy + inn + mu6 / 2 * dist - (L6 - mu6) / 2 * dsq)
    assert _close(vr.eq38_rhs(float(om6), float(dist), float(xs6)), (2 * om6 + 1) * dist + 2 * om6 * xs6)
    assert _close(vr.quadratic_growth_bound(float(mu6), float(dist)), mu6 / 8 * dist)


def test_pinned_least_squares_hessian():
    A = np.array([[1.0, 2.0], [0.0, 3.0]])
    assert np.array_equal(vr.least_squares_hessian(A), np.array([[1.0, 2.0], [2.0, 13.0]]))  # (2/2)·AᵀA


@settings(max_examples=30, deadline=None)
@given(kst.least_squares_problems(rank_deficient=False, n_features=(1, 3)), st.data())
def test_lemmas_2_to_5_and_eq38_hold_exactly_for_rand_k(prob, data):
    """Lemmas 2–5 (40)–(44) and (38): left sides by exact enumeration of every rand-k mask and sample."""
    from verification.simulate import rand_k_outcomes

    A, b, xs = prob.A, prob.b, prob.x_star
    d = A.shape[1]
    H = vr.least_squares_hessian(A)
    assert np.allclose(H, np.einsum("ni,nj->ij", A, A) * 2 / A.shape[0])
    K = vr.expected_smoothness("least_squares", A, b)
    if K.mu <= 1e-6 * K.L:
        return
    calL = max(K.calL, K.calL_ms)
    k = data.draw(st.integers(1, d))
    omega = vr.rand_k_omega(d, k)
    x = xs + data.draw(st.floats(0.1, 3.0)) * np.ones(d)
    y = xs - data.draw(st.floats(0.0, 2.0)) * np.ones(d)
    f = lambda z: vr.loss("least_squares", z, A, b)  # noqa: E731
    fstar = f(xs)
    Cx = rand_k_outcomes(x, k)
    delta = Cx - x
    dsq = float(np.mean(np.sum(delta**2, axis=1)))
    tol = 1e-9 * (1 + abs(fstar) + float(np.sum(x**2)))
    # (40)
    assert dsq <= vr.lemma2_rhs(f(x) - fstar, K.mu, omega, float(xs @ xs)) + tol
    # (41): E over masks and samples
    gy = vr.per_sample_gradients("least_squares", y, A, b)
    lhs41 = np.mean([np.mean(np.sum((vr.per_sample_gradients("least_squares", c, A, b) - gy) ** 2, axis=1)) for c in Cx])
    assert lhs41 <= vr.lemma3_rhs41(calL, float(np.sum((x - y) ** 2)), dsq) * (1 + 1e-9) + tol
    # (42): f(x) <= E f(x + δ) <= upper side
    Ef = float(np.mean([f(c) for c in Cx]))
    gfy = vr.full_gradient("least_squares", y, A, b)
    assert f(x) <= Ef + tol
    assert Ef <= vr.lemma3_rhs42(f(y), float(gfy @ (x - y)), K.L, float(np.sum((x - y) ** 2)), dsq) + tol
    # (43) with E over samples (corrected reading)
    lam, gamma = data.draw(st.floats(0.0, 1.0)), data.draw(st.floats(1e-2, 1.0)) / calL
    theta = xs + 0.5 * np.ones(d)
    gt = vr.per_sample_gradients("least_squares", theta, A, b)
    lhs43 = np.mean([np.mean(np.sum(((c - x) / gamma - vr.per_sample_gradients("least_squares", c, A, b) + lam * gt) ** 2, axis=1))
                     for c in Cx])
    noise_y = float(np.mean(np.sum((gy - lam * gt) ** 2, axis=1)))
    assert lhs43 <= vr.lemma4_rhs(noise_y, calL, float(np.sum((x - y) ** 2)), gamma, dsq) * (1 + 1e-9) + tol
    # (44): f(y) >= lower side, with E∇f(x + δ)
    Eg = np.mean([vr.full_gradient("least_squares", c, A, b) for c in Cx], axis=0)
    assert f(y) >= vr.lemma5_rhs(f(x), float(Eg @ (y - x)), K.mu, K.L, float(np.sum((y - x) ** 2)), dsq) - tol
    # (38) with x = C(y): E‖C(y) − x*‖² <= (2ω+1)‖y − x*‖² + 2ω‖x*‖²
    Cy = rand_k_outcomes(y, k)
    assert np.mean(np.sum((Cy - xs) ** 2, axis=1)) <= vr.eq38_rhs(omega, float(np.sum((y - xs) ** 2)), float(xs @ xs)) + tol
    # (28): quadratic growth at the unique minimiser of a strongly convex f
    assert f(x) - fstar >= vr.quadratic_growth_bound(K.mu, float(np.sum((x - xs) ** 2))) - tol


@given(st.floats(1e-3, 10), st.floats(1, 100), st.floats(1, 100), st.sampled_from((1, 2, 3, 4)))
@example(mu=1.0, rL=99.23895500672192, rcal=24.743002313368507, theorem=1)  # τ = 8.1e6: round-off in (1 − γμ)^(τ−1)
def test_step_limits_and_restart_halving(mu, rL, rcal, theorem):
    L, calL = mu * rL, mu * rL * rcal
    g = vr.step_max(theorem, mu=mu, L=L, calL=calL)
    assert g > 0
    assert vr.theorem4_step_max(calL) == pytest.approx(vr.theorem1_step_max(calL) / 4)
    assert vr.theorem3_step_max(mu, L, calL) == pytest.approx(vr.theorem2_step_max(mu, L, calL) * 4 / 3)
    if theorem != 3:
        c = vr.lemma1_c(theorem, mu=mu, L=L)
        assert c == pytest.approx({1: mu / 4, 2: L, 4: 2 * mu}[theorem])
    # corrected restart: γ = μ/(24L𝓛), τ = restart_phase_length ⇒ per-phase factor <= 1/2 (Sec. 5)
    gr = vr.restart_step_max(mu, L, calL)
    tau = vr.restart_phase_length(gr, mu)
    assert vr.restart_factor(tau, gr, mu, L, calL) <= 0.5 + 1e-12
    # τ is the least such integer: (τ − 1)·(−ln(1 − γμ)) < ln 4, compared in log form with a round-off margin
    # ((1 − γμ)^(τ−1) in floats carries a relative error ~τ·1e-16: 9e-10 at γμ = 1.7e-7, τ = 8.1e6, found by hypothesis)
    assert tau == 1 or (tau - 1) * -math.log1p(-gr * mu) < math.log(4.0) * (1 + 1e-9)
    # printed restart step: the neighbourhood factor alone is (L + 𝓛)/(4𝓛) — ½ when L = 𝓛
    gp = vr.restart_step_max(mu, calL, calL, printed=True)
    assert vr.restart_factor(10**6, gp, mu, calL, calL) >= 0.5 - 1e-12


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=6), st.floats(-4.0, 4.0))
def test_sin_pl_family_gradients_and_constants(c, x):
    """sin-PL family: f_n' by central differences; μ satisfies PL and 𝓛 satisfies (10) at random points;
    L bounds |f''| (finite differences of f')."""
    c = np.array(c)
    h = 1e-6
    fd = (vr.sin_pl_losses(x + h, c) - vr.sin_pl_losses(x - h, c)) / (2 * h)
    np.testing.assert_allclose(vr.sin_pl_gradients(x, c), fd, rtol=1e-6, atol=1e-6)
    try:
        k = vr.sin_pl_constants(c, n_grid=20001)
    except ValueError:
        return  # not PL on these data (a spurious stationary point): reported, not hidden
    xs = k.x_star + np.linspace(-5, 5, 401)
    xs = xs[np.abs(xs - k.x_star) > 1e-2]
    gap = np.mean(vr.sin_pl_losses(xs, c), axis=-1) - k.f_star
    assert np.all(gap >= -1e-12)
    g = vr.sin_pl_gradients(xs, c)
    assert np.all(np.mean(g, axis=-1) ** 2 >= 2 * k.mu * gap * (1 - 1e-6))
    assert np.all(np.mean((g - vr.sin_pl_gradients(k.x_star, c)) ** 2, axis=-1) <= 2 * k.calL * gap * (1 + 1e-6) + 1e-12)
    f2 = (np.mean(vr.sin_pl_gradients(xs + h, c), -1) - np.mean(vr.sin_pl_gradients(xs - h, c), -1)) / (2 * h)
    assert np.all(np.abs(f2) <= k.L * (1 + 1e-5))
    assert k.min_curvature <= np.min(f2) + 1e-4


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 4), st.integers(2, 5), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_logit_gradient_and_jacobian_form_reduce_to_prop1_for_a_linear_model(K, d, lam, seed):
    """App. B.3 with ψ_n(X) = Xᵀā_n (linear): J(x)(∇φ(ψ(x)) − λ∇φ(ψ(θ))) is eq. (5) (Prop. 1), and
    ∇_z ℓ(σ(z), b) = σ(z) − b matches central differences of the soft-max loss in the logits."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=d)
    X, Th = rng.normal(size=(d, K)), rng.normal(size=(d, K))
    y = np.eye(K)[[int(rng.integers(K))]]
    zx, zt = (a @ X)[None], (a @ Th)[None]
    gx, gt = vr.logit_loss_gradient(zx, y)[0], vr.logit_loss_gradient(zt, y)[0]
    h = 1e-6
    fd = np.array([(vr.per_sample_losses("softmax", np.eye(K), zx + h * e, y)[0]
                    - vr.per_sample_losses("softmax", np.eye(K), zx - h * e, y)[0]) / (2 * h) for e in np.eye(K)])
    np.testing.assert_allclose(gx, fd, atol=1e-6)
    # Jacobian of vec(X) ↦ Xᵀa: row (i, k) is a_i δ_k → J = kron(a, I_K) of shape (dK, K)
    J = np.kron(a[:, None], np.eye(K))
    eq5 = vr.distillation_gradient(vr.per_sample_gradients("softmax", X, a[None], y)[0],
                                   vr.per_sample_gradients("softmax", Th, a[None], y)[0], lam)
    np.testing.assert_allclose(vr.jacobian_distillation_gradient(J, gx, gt, lam), eq5.ravel(), atol=1e-12)


def test_pinned_theorem4_one_step():
    mu, L, calL, gamma = F(1), F(1), F(1), F(1, 16)
    omega, e, xs2, lam, gs, nz = F(1, 514), F(3), F(2), F(1, 4), F(5, 7), F(3, 11)
    nu = 2 * omega * xs2
    D = 2 * gamma**2 * (calL**2 + 1 / gamma**2) * nu + gamma * (L - mu) * nu + 2 * gamma / mu * (lam**2 * gs + 2 * gamma * mu * nz)
    assert _close(vr.theorem4_one_step_bound(*(float(v) for v in (e, gamma, mu, L, calL, omega, xs2, lam, gs, nz))), (1 - gamma * mu) * e + D)
    mu2, L2 = F(1, 2), F(2)
    D2 = 2 * gamma**2 * (calL**2 + 1 / gamma**2) * nu + gamma * (L2 - mu2) * nu + 2 * gamma / mu2 * (lam**2 * gs + 2 * gamma * mu2 * nz)
    w2 = vr.theorem4_omega_max(float(gamma), float(mu2), float(L2), float(calL))
    assert float(omega) > w2  # this ω is too large for μ = 1/2, L = 2: the guard refuses it
    with pytest.raises(ValueError, match="omega"):
        vr.theorem4_one_step_bound(*(float(v) for v in (e, gamma, mu2, L2, calL, omega, xs2, lam, gs, nz)))
    om = F(1, 10**5)
    nu2 = 2 * om * xs2
    D2 = 2 * gamma**2 * (calL**2 + 1 / gamma**2) * nu2 + gamma * (L2 - mu2) * nu2 + 2 * gamma / mu2 * (lam**2 * gs + 2 * gamma * mu2 * nz)
    assert _close(vr.theorem4_one_step_bound(*(float(v) for v in (e, gamma, mu2, L2, calL, om, xs2, lam, gs, nz))), (1 - gamma * mu2) * e + D2)


@given(st.floats(0, 10), st.floats(1e-3, 10), st.floats(1, 10), st.floats(1, 10), st.floats(0.01, 1), st.floats(0, 1),
       st.floats(0, 5), st.floats(-1, 2), st.floats(0, 5), st.floats(0, 5))
def test_theorem4_one_step_bound_reduces_to_the_uncompressed_recursion(e, mu, rL, rcal, gfrac, wfrac, xs2, lam, gs, nz):
    L, calL = mu * rL, mu * rL * rcal
    gamma = gfrac * vr.theorem4_step_max(calL)
    w = wfrac * vr.theorem4_omega_max(gamma, mu, L, calL)
    base = (1 - gamma * mu) * e + 2 * gamma / mu * (lam * lam * gs + 2 * gamma * mu * nz)
    assert vr.theorem4_one_step_bound(e, gamma, mu, L, calL, 0.0, xs2, lam, gs, nz) == pytest.approx(base, rel=1e-12, abs=1e-300)
    assert vr.theorem4_one_step_bound(e, gamma, mu, L, calL, w, xs2, lam, gs, nz) >= base * (1 - 1e-12)
