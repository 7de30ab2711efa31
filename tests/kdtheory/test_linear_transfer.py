"""Property tests for kdtheory.linear_transfer (paper 003, Phuong & Lampert).

Independent routes: lstsq/pinv vs the QR projection (Thm 1), finite differences vs the gradient and Hessian
(eq. 38, 42), scipy minimisation vs the normalising constant (eq. 36), sampling vs p(θ) and vs the quadrature
risk, full-dimensional vs Bartlett-reduced sampling, SLSQP vs the NNLS max-margin learner, sympy vs eq. (75)=(76).
"""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from kdtheory import linear_transfer as lt
from kdtheory.testing.linear_transfer import angular_tasks, data_matrices, nested_datasets, teacher_vectors

HP = math.pi / 2


def _pinv_projection(X, w):
    """Slow reference: min-norm solution of Xᵀv = Xᵀw via the pseudo-inverse (never used by the library)."""
    return np.linalg.pinv(X.T) @ (X.T @ w)


# ------------------------------------------------------------------------------------------------ Thm 1 / loss


@given(X=data_matrices(max_d=12, max_n=12, max_cond=1e4), data=st.data())
def test_student_solution_is_the_min_norm_global_minimiser(X, data):
    w = data.draw(teacher_vectors(d=X.shape[0]))
    w_hat = lt.student_solution(X, w)
    d, n = X.shape
    if n >= d:
        np.testing.assert_array_equal(w_hat, w)
    # Thm A.2: Xᵀŵ = Xᵀw* (a global minimiser), and ŵ is the minimiser in span(X) (= pinv route)
    np.testing.assert_allclose(X.T @ w_hat, X.T @ w, atol=1e-8 * np.linalg.norm(w) * np.abs(X).max())
    np.testing.assert_allclose(w_hat, _pinv_projection(X, w), atol=1e-7 * np.linalg.norm(w))
    assert np.linalg.norm(w_hat) <= np.linalg.norm(w) * (1 + 1e-12)
    y = lt.soft_labels(X, w)
    assert lt.cross_entropy(w_hat, X, y) <= 1e-10


@given(X=data_matrices(max_d=8, max_n=8, max_cond=1e3), data=st.data())
def test_gradient_and_hessian_match_finite_differences(X, data):
    d, n = X.shape
    w_star = data.draw(teacher_vectors(d=d, max_norm=3.0))
    w = data.draw(teacher_vectors(d=d, max_norm=3.0))
    y = lt.soft_labels(X, w_star)
    g = lt.cross_entropy_gradient(w, X, y)
    H = lt.cross_entropy_hessian(w, X)
    h = 1e-6
    for i in range(d):
        e = np.zeros(d)
        e[i] = h
        fd = (lt.cross_entropy(w + e, X, y) - lt.cross_entropy(w - e, X, y)) / (2 * h)
        assert fd == pytest.approx(g[i], abs=1e-6 * (1 + np.abs(X).max() ** 2))
        fdg = (lt.cross_entropy_gradient(w + e, X, y) - lt.cross_entropy_gradient(w - e, X, y)) / (2 * h)
        np.testing.assert_allclose(fdg, H[:, i], atol=1e-5 * (1 + np.abs(X).max() ** 2))
    # Thm A.1: the gradient lies in span(X)
    coef = np.linalg.lstsq(X, g, rcond=None)[0]
    np.testing.assert_allclose(X @ coef, g, atol=1e-9 * (1 + np.linalg.norm(g)))


@pytest.mark.parametrize("y", [0.0, 1e-9, 0.2, 0.5, 0.93, 1.0])
def test_normalising_constant_makes_minimum_zero(y):
    X = np.array([[1.0]])
    f = lambda u: lt.cross_entropy(np.array([u]), X, np.array([y]))  # noqa: E731
    res = optimize.minimize_scalar(f, bounds=(-40, 40), method="bounded", options={"xatol": 1e-10})
    assert res.fun == pytest.approx(0.0, abs=1e-9)
    assert f(3.0) > 0 or y == pytest.approx(1 / (1 + math.exp(-3.0)))
    # sympy: ℓ(u) + ℓ* at u = logit(y) equals the binary entropy ℓ*
    if 0 < y < 1:
        u, yy = sp.symbols("u y", positive=True)
        ce = -yy * sp.log(1 / (1 + sp.exp(-u))) - (1 - yy) * sp.log(1 - 1 / (1 + sp.exp(-u)))
        val = ce.subs(u, sp.log(yy / (1 - yy))).subs(yy, sp.nsimplify(y))
        ent = -(y * math.log(y) + (1 - y) * math.log(1 - y))
        assert float(val) == pytest.approx(ent, rel=1e-10)


def test_cross_entropy_is_finite_for_extreme_weights():
    X = np.array([[1.0, -2.0], [0.5, 3.0]])
    y = np.array([0.0, 1.0])
    for scale in (1e-300, 1.0, 1e6, 1e300):
        v = lt.cross_entropy(np.array([scale, -scale]), X, y)
        assert np.isfinite(v) and v >= 0


# ------------------------------------------------------------------------------------------------ angles


@given(st.data(), st.integers(1, 10))
def test_angles(data, d):
    u, v = data.draw(teacher_vectors(d=d)), data.draw(teacher_vectors(d=d))
    a, ab = lt.signed_angle(u, v), lt.unsigned_angle(u, v)
    assert 0 <= ab <= HP + 1e-15 and 0 <= a <= math.pi
    assert ab == pytest.approx(min(a, math.pi - a), abs=1e-7)
    assert lt.signed_angle(u, -v) == pytest.approx(math.pi - a, abs=1e-7)
    assert lt.unsigned_angle(3 * u, -2 * v) == pytest.approx(ab, abs=1e-7)


# ------------------------------------------------------------------------------------------------ tasks


@pytest.mark.parametrize("kappa,c,theta_max", [(0.5, 1.0, HP), (1.0, 1.0, HP), (3.0, 1.0, HP), (2.0, 4.0, HP),
                                               (1.0, 1.0, 1.0)])
def test_sampler_angles_follow_p(kappa, c, theta_max):
    rng = np.random.default_rng(7)
    task = lt.PolynomialAngleTask(d=6, kappa=kappa, c=c, theta_max=theta_max, w_star=rng.standard_normal(6))
    X = task.sample(4000, rng)
    ang = lt.unsigned_angle(X.T, task.w_star[None, :])

    def ref_cdf(t):  # P[a < θ] = 1 − min(1, c(1 − θ/θ_max)₊^κ), written out here (not the library's p)
        return 1.0 - np.minimum(1.0, c * np.clip(1.0 - np.asarray(t) / theta_max, 0.0, None) ** kappa)

    # KS test against the law of Sec. 5.1 (exact sampler ⇒ p-values uniform)
    assert stats.kstest(ang, ref_cdf).pvalue > 1e-3
    # x = ν z with ν ~ N(0, 1) and ‖z‖ = 1: ‖x‖ is half-normal (χ with 1 degree of freedom)
    assert stats.kstest(np.linalg.norm(X, axis=0), stats.chi(1).cdf).pvalue > 1e-3
    # z uniform among directions at angle a: the unit perpendicular part has mean 0, covariance I/(d − 1)
    wbar = task.w_star / np.linalg.norm(task.w_star)
    perp = X - np.outer(wbar, wbar @ X)
    u = perp / np.linalg.norm(perp, axis=0)
    Qc = np.linalg.qr(np.column_stack([wbar, np.eye(6)]))[0][:, 1:6]  # basis of w*^⊥
    uc = Qc.T @ u
    assert np.max(np.abs(uc.mean(axis=1))) < 5 / math.sqrt(5 * 4000)
    assert np.max(np.abs(uc @ uc.T / 4000 - np.eye(5) / 5)) < 0.03
    phat = lt.empirical_p(X, task.w_star)
    grid = np.linspace(0, HP, 50)
    assert np.max(np.abs(phat(grid) - task(grid))) < 0.04


def test_quadrature_risk_matches_monte_carlo_test_points():
    rng = np.random.default_rng(3)
    M = 40_000
    for d, kappa in [(3, 1.0), (30, 0.5), (200, 3.0)]:
        task = lt.polynomial_task(d, kappa)
        test = task.sample(M, rng)
        for phi in (0.05, 0.7, 1.3, 2.5):
            w = np.zeros(d)
            w[0], w[1] = math.cos(phi), math.sin(phi)
            exact = lt.transfer_risk(w, task)
            mc = lt.empirical_transfer_risk(w, test, task.w_star)
            assert abs(exact - mc) <= 4 * math.sqrt(max(exact * (1 - exact), 1e-6) / M) + 1e-5
    assert lt.transfer_risk(np.zeros(5), lt.polynomial_task(5, 1.0)) == 0.5
    r = lt.transfer_risk_from_angle(np.array([0.0, HP, math.pi]), lt.polynomial_task(10, 2.0))
    assert r[0] == 0 and r[2] == 1 and r[1] == pytest.approx(0.5) and np.all(np.isfinite(r))


@pytest.mark.parametrize("d,n,kappa", [(6, 3, 1.0), (40, 10, 2.0), (15, 14, 0.5)])
def test_reduced_sampler_matches_full_dimensional_sampler(d, n, kappa):
    rng = np.random.default_rng(11)
    task = lt.polynomial_task(d, kappa)
    a = lt.sample_student_angles(task, n, 3000, rng)
    b = lt.sample_student_angles(task, n, 3000, rng, method="full")
    assert stats.ks_2samp(a, b).pvalue > 1e-3
    assert np.all(lt.sample_student_angles(task, d, 10, rng) == 0)  # eq. (18)


def _thm3_min_by_stationarity(kappa, n):
    """min over s = 2β/π ∈ [0, 1] of f(s) = (1 − s)^κ + s^{nκ} (Thm 3 for c = 1, θ_max = π/2) by calculus:
    the interior stationary points solve log n + (nκ − 1) log s = (κ − 1) log(1 − s) (brentq on every sign
    change over a grid dense at both ends); the minimum is over them and the end points (f(0) = f(1) = 1)."""
    from scipy.optimize import brentq

    def h(s):
        return math.log(n) + (n * kappa - 1) * math.log(s) - (kappa - 1) * math.log1p(-s)

    ends = np.geomspace(1e-15, 0.5, 3000)
    grid = np.unique(np.concatenate([ends, 1 - ends]))
    hv = np.array([h(s) for s in grid])
    cands = [0.0, 1.0]
    for i in np.flatnonzero(np.sign(hv[:-1]) != np.sign(hv[1:])):
        cands.append(brentq(h, grid[i], grid[i + 1], xtol=1e-300, rtol=1e-15))
    return min((1 - s) ** kappa + s ** (n * kappa) for s in cands)


@given(task=angular_tasks(max_d=30, margin=False), n=st.integers(1, 20_000))
def test_minimised_bound_equals_the_stationary_point_minimum(task, n):
    # independent route: the calculus minimum of (1 − s)^κ + s^{nκ}; the library value is attained at a β,
    # so it can never be below the true minimum, and it must be within 1e-7 (relative) of it
    b = lt.transfer_risk_bound(task, n)
    truth = min(1.0, _thm3_min_by_stationarity(task.kappa, n))
    assert truth * (1 - 1e-9) <= b <= truth * (1 + 1e-7)
    beta = lt.optimal_beta(task, n)
    assert lt.transfer_risk_bound(task, n, beta=beta) == pytest.approx(b, rel=1e-12)


@given(task=angular_tasks(max_d=30, max_c=3.0, margin=None), n=st.integers(1, 40))
def test_bound_properties(task, n):
    b = lt.transfer_risk_bound(task, n)
    bt = lt.transfer_risk_bound(task, n, tight=True)
    assert 0 <= bt <= b <= 1
    assert lt.transfer_risk_bound(task, n + 1) <= b + 1e-15  # more data never loosens the bound
    for beta in (0.0, 0.3, HP / 2, HP):
        assert b <= lt.transfer_risk_bound(task, n, beta=beta) + 1e-15
    # independent route: brute force over a much finer grid cannot beat the minimiser by more than the grid gap
    fine = np.linspace(0, HP, 200_001)
    brute = float(np.min(task(fine) + task(HP - fine) ** n))
    assert b <= min(1.0, brute) + 2e-3
    assert lt.transfer_risk_bound(task, n, d=n) == 0.0


def test_cor1_and_empirical_p():
    task = lt.margin_task(10, 0.3)
    beta = HP - 0.3
    assert lt.corollary1_bound(task, 5, beta) == pytest.approx(float(task(0.3)) ** 5)
    assert lt.corollary1_bound(task, 5, beta) >= lt.transfer_risk_bound(task, 5) - 1e-12
    with pytest.raises(ValueError, match="p\\(beta\\) = 0"):
        lt.corollary1_bound(task, 5, 0.2)
    p = lt.EmpiricalAngleTask(angles=np.array([0.1, 0.5, 0.5, 1.2]))
    np.testing.assert_allclose(p(np.array([0.0, 0.1, 0.11, 0.5, 0.6, 1.2, 1.3])), [1, 1, .75, .75, .25, .25, 0])
    # the empirical bound uses its breakpoints: β just above 0.5 gives p(β) = 1/4, p(π/2 − β) ≤ …
    assert lt.transfer_risk_bound(p, 3) <= float(p(0.5000001) + p(HP - 0.5000001) ** 3) + 1e-12


@given(n=st.integers(1, 5000), kappa=st.floats(0.0, 8.0), c=st.floats(1.0, 5.0))
def test_cor2_printed_holds_for_c1_and_corrected_always(n, kappa, c):
    task = lt.PolynomialAngleTask(d=n + 1, kappa=kappa, c=c)
    beta = lt.corollary2_proof_beta(n)
    at_beta = float(task(beta) + task(HP - beta) ** n)
    assert min(1.0, at_beta) <= lt.corollary2_corrected_bound(n, kappa, c) * (1 + 1e-12) + 1e-300
    raw = lt.corollary2_corrected_bound(n, kappa, c, clip=False)  # the sum itself bounds Thm 3 at the proof's β
    assert at_beta <= raw * (1 + 1e-12) + 1e-300 and lt.corollary2_corrected_bound(n, kappa, c) == min(1.0, raw)
    t1 = lt.PolynomialAngleTask(d=n + 1, kappa=kappa)
    at1 = float(t1(beta) + t1(HP - beta) ** n)
    assert at1 <= lt.corollary2_bound(n, kappa) * (1 + 1e-12) + 1e-300
    p1, p2 = lt.corollary2_proof_terms(n, kappa, c)
    log_pred = n * math.log(c) - kappa * math.log(n)  # the proof's second term is c^n n^(−κ), in log space
    assert (math.isinf(p2) and log_pred > 700) or math.log(p2) == pytest.approx(log_pred, rel=1e-9, abs=1e-9)
    assert p1 <= c * (math.log(n) / n) ** kappa * (1 + 1e-12) + 1e-300 if n > 1 else True


@given(st.data(), st.integers(2, 5), st.floats(1e-6, 0.5))
def test_lemma_d1(data, d, frac):
    # teacher and perturbation direction from the public strategy (no private teacher builder)
    w = data.draw(teacher_vectors(d=d))
    u = data.draw(teacher_vectors(d=d, min_norm=1.0, max_norm=1.0))
    eps = frac * np.linalg.norm(w)
    v = w + eps * u
    assert lt.signed_angle(w, v) <= lt.lemma_d1_angle_bound(eps, np.linalg.norm(w)) + 1e-12
    # the exact worst case is arcsin(ε/‖w‖) and it is below the bound too
    assert math.asin(frac) <= math.sqrt(2 * math.pi * frac)


def test_thm_d1_reduces_to_thm3_as_eps_to_zero():
    task = lt.polynomial_task(50, 2.0)
    assert lt.approximate_transfer_risk_bound(task, 8, 1e-14, 1.0) == pytest.approx(lt.transfer_risk_bound(task, 8), abs=1e-5)
    assert lt.approximate_transfer_risk_bound(task, 8, 0.1, 1.0) >= lt.transfer_risk_bound(task, 8)


# ------------------------------------------------------------------------------------------------ Lemma 1


@given(nested_datasets())
def test_lemma1_strong_monotonicity(data):
    Xp, idx, w = data
    a_plus = lt.unsigned_angle(w, lt.student_solution(Xp, w)) if np.any(lt.student_solution(Xp, w)) else HP
    wm = lt.student_solution(Xp[:, idx], w)
    a_minus = lt.unsigned_angle(w, wm) if np.any(wm) else HP
    assert a_plus <= a_minus + 1e-9


def test_monotonicity_index_routes_agree():
    rng = np.random.default_rng(5)
    task = lt.polynomial_task(30, 1.0)
    sets, extra = task.sample_sets(60, 4, rng), task.sample_sets(60, 1, rng)[:, :, 0]
    fast, a0, a1 = lt.monotonicity_index_distillation(sets, extra, task.w_star, return_angles=True)
    slow = lt.monotonicity_index(lambda X, k: lt.student_solution(X, task.w_star), sets, extra, task.w_star)
    assert fast == slow == 1.0
    for k in range(5):
        assert a1[k] == pytest.approx(lt.unsigned_angle(task.w_star, lt.student_solution(
            np.column_stack([sets[k], extra[k]]), task.w_star)), abs=1e-8)
    hard = lt.monotonicity_index(lambda X, k: lt.hard_target_solution(X, task.w_star), sets, extra, task.w_star)
    assert hard < 1.0


def test_hard_target_is_the_max_margin_separator():
    rng = np.random.default_rng(2)
    d, n = 7, 4
    w_star = rng.standard_normal(d)
    X = rng.standard_normal((d, n))
    w = lt.hard_target_solution(X, w_star)
    yl = np.sign(w_star @ X)
    res = optimize.minimize(lambda v: v @ v, np.ones(d), jac=lambda v: 2 * v, method="SLSQP",
                            constraints=[{"type": "ineq", "fun": lambda v: yl * (v @ X) - 1}], options={"ftol": 1e-14})
    np.testing.assert_allclose(w, res.x, atol=1e-5)
    assert np.all(yl * (w @ X) >= 1 - 1e-9)


def test_reduced_bias_learner_minimises_the_loss():
    rng = np.random.default_rng(4)
    X, w, g = rng.standard_normal((12, 4)), rng.standard_normal(12), rng.standard_normal(12)
    w_hat = lt.student_solution(X, w)
    for delta in (0.0, 0.5, 3.0):
        wd = lt.reduced_bias_solution(X, w, delta, g)
        np.testing.assert_allclose(X.T @ wd, X.T @ w, atol=1e-10)
        assert np.linalg.norm(wd - w_hat) == pytest.approx(delta * np.linalg.norm(w_hat))


# ------------------------------------------------------------------------------------------------ Thm 2


@given(N=st.integers(1, 6), d=st.integers(1, 8), r=st.floats(1e-4, 10.0), seed=st.integers(0, 2**32 - 1))
def test_balanced_init(N, d, r, seed):
    Ws = lt.balanced_init(d, N, r, np.random.default_rng(seed), width=3)
    assert lt.balancedness_defect(Ws) <= 1e-12 * max(1.0, r ** (2 / N))
    assert np.linalg.norm(lt.end_to_end(Ws)) == pytest.approx(r, rel=1e-12)


@given(W=st.floats(1e-2, 1e2), frac=st.floats(1e-3, 2.0), N=st.integers(2, 8), shrink=st.floats(1e-3, 0.999))
def test_initial_radius_condition_implies_distance_below_eps(W, frac, N, shrink):
    eps = frac * W
    r_max = lt.initial_radius_bound(W, eps, N)
    assert lt.deep_distance_bound(shrink * r_max, W, N) < eps
    if r_max < W:  # the second term of (11) is active: the bound (76) equals ε at the boundary
        assert lt.deep_distance_bound(r_max * (1 - 1e-12), W, N) == pytest.approx(eps, rel=1e-6)
    assert lt.deep_norm_bound(shrink * min(r_max, W), W, N) >= W


def test_eq75_equals_eq76_symbolically():
    r, W, N = sp.symbols("r W N", positive=True)
    e75 = r ** (2 / N) * W ** (2 * (N - 1) / N) / (1 - r ** (2 / N) / W ** (2 / N))
    e76 = W ** (2 + 2 / N) / (W ** (2 / N) - r ** (2 / N)) - W**2
    assert sp.simplify(e75 - e76) == 0
    assert lt.deep_distance_bound(0.3, 2.0, 3) ** 2 == pytest.approx(float(e76.subs({r: 0.3, W: 2.0, N: 3})))


# ------------------------------------------------------------------------------------------------ bad input


def test_bad_inputs():
    X = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 1.0]])
    with pytest.raises(ValueError, match="w_star must be non-zero"):
        lt.student_solution(X, np.zeros(3))
    with pytest.raises(ValueError, match="X must have full column rank"):
        lt.student_solution(np.column_stack([X[:, 0], X[:, 0]]), np.ones(3))
    with pytest.raises(ValueError, match="X must have full rank"):
        lt.student_solution(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]), np.ones(2))
    with pytest.raises(ValueError, match="X must have d >= 1"):
        lt.student_solution(np.zeros((0, 2)), np.ones(0))
    with pytest.raises(ValueError, match="X must have n >= 1"):
        lt.student_solution(np.zeros((3, 0)), np.ones(3))
    with pytest.raises(ValueError, match="w_star has length"):
        lt.student_solution(X, np.ones(4))
    with pytest.raises(ValueError, match="X contains"):
        lt.student_solution(X * np.nan, np.ones(3))
    with pytest.raises(ValueError, match="kappa"):
        lt.polynomial_task(5, -1.0)
    for d in (0, 1):  # an angular law needs d >= 2
        with pytest.raises(ValueError, match="d must be >= 2"):
            lt.polynomial_task(d, 1.0)
    with pytest.raises(ValueError, match="kappa"):
        lt.margin_task(5, 0.2, kappa=-0.5)
    with pytest.raises(ValueError, match="c must be >= 1"):
        lt.PolynomialAngleTask(d=3, kappa=1.0, c=0.5)
    task = lt.polynomial_task(5, 1.0)
    for beta in (-0.1, 1.6, math.nan):
        with pytest.raises(ValueError, match="beta"):
            lt.transfer_risk_bound(task, 3, beta=beta)
    with pytest.raises(ValueError, match="n must be >= 1"):
        lt.transfer_risk_bound(task, 0)
    with pytest.raises(TypeError, match="p must be callable"):
        lt.transfer_risk_bound(0.5, 3)
    with pytest.raises(ValueError, match="theta"):
        task(np.array([2.0]))
    with pytest.raises(ValueError, match="eps must be <="):
        lt.lemma_d1_angle_bound(1.0, 1.0)
    with pytest.raises(ValueError, match="margin"):
        lt.margin_task(5, HP)
    with pytest.raises(ValueError, match="u and v must be non-zero"):
        lt.unsigned_angle(np.zeros(3), np.ones(3))
    for beta in (-0.1, HP + 0.1):
        with pytest.raises(ValueError, match="beta"):
            lt.corollary1_bound(lt.margin_task(5, 0.3), 3, beta)
        with pytest.raises(ValueError, match="beta"):
            lt.approximate_transfer_risk_bound(task, 3, 0.01, 1.0, beta=beta)
    with pytest.raises(ValueError, match="n must be >= 1"):
        lt.expected_transfer_risk(task, 0, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be >= 1"):
        task.sample(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="d must be >= 1"):
        lt.balanced_init(0, 2, 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        lt.corollary2_bound(5, -1.0)
    # rank-deficient transfer sets (a duplicate point) in the batched routes: an error, not a wrong angle
    rng = np.random.default_rng(1)
    sets = lt.polynomial_task(8, 1.0).sample_sets(4, 3, rng)
    sets[1, :, 2] = sets[1, :, 0]
    with pytest.raises(ValueError, match=r"Xs\[1\] must have full column rank"):
        lt.student_cosines(sets, np.eye(8)[0])
    with pytest.raises(ValueError, match=r"sets\[1\] must have full column rank"):
        lt.monotonicity_index_distillation(sets, rng.standard_normal((4, 8)), np.eye(8)[0])
    with pytest.raises(ValueError, match="w_star must be non-zero"):
        lt.monotonicity_index_distillation(np.delete(sets, 1, axis=0), rng.standard_normal((3, 8)), np.zeros(8))


@pytest.mark.parametrize("kw,match", [({"min_d": 0}, "min_d"), ({"min_d": 5, "max_d": 3}, "max_d"),
                                      ({"min_kappa": -1.0}, "min_kappa"), ({"max_c": 0.5}, "max_c"),
                                      ({"margin": "yes"}, "margin")])
def test_strategies_reject_bad_arguments(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        angular_tasks(**kw)


def test_data_matrix_strategy_rejects_impossible_regime():
    with pytest.raises(ValueError, match="impossible"):
        data_matrices(min_n=5, max_d=5, regime="n<d")
    with pytest.raises(TypeError, match="d must be an integer"):
        teacher_vectors(d=2.5)


@settings(max_examples=10)
@given(X=data_matrices(max_d=6, max_n=6, regime="n<d"))
def test_data_matrix_strategy_regime(X):
    assert X.shape[1] < X.shape[0] and np.linalg.matrix_rank(X) == X.shape[1]


def test_rank_one_index_handles_points_already_in_the_span():
    rng = np.random.default_rng(8)
    task = lt.polynomial_task(20, 1.0)
    sets = task.sample_sets(30, 4, rng)
    extra = sets[:, :, 0] * 2.0 + 1e-300  # x already in span(X): the angle cannot change (fallback route)
    idx, a0, a1 = lt.monotonicity_index_distillation(sets, extra, task.w_star, return_angles=True)
    assert idx == 0.0
    np.testing.assert_allclose(a1, a0, atol=1e-7)
    for k in range(3):
        assert a0[k] == pytest.approx(lt.unsigned_angle(task.w_star, lt.student_solution(sets[k], task.w_star)), abs=1e-8)


# ------------------------------------------------------------------------------------------------ pinned values
# Exact values at rational points derived by hand (in the comments); they kill mutants that turn a bound into a
# different true bound (exponent n → 2n or n², p(β) → p(β)², ×0.5, a wrong exponent in (73)).


def test_thm3_pinned_on_the_uniform_angle_law():
    task = lt.polynomial_task(10, 1.0)  # p(θ) = 1 − x with x = 2θ/π, p(π/2 − β) = x
    # n = 1: (1 − x) + x = 1 for every β;  n = 2: min 1 − x + x² = 3/4 at x = 1/2
    assert lt.transfer_risk_bound(task, 1) == pytest.approx(1.0, abs=1e-12)
    assert lt.transfer_risk_bound(task, 2) == pytest.approx(0.75, abs=1e-10)
    # n = 3: min 1 − x + x³ at x = 1/√3: 1 − 2/(3√3)
    assert lt.transfer_risk_bound(task, 3) == pytest.approx(1 - 2 / (3 * math.sqrt(3)), abs=1e-10)
    # tight form: (1 − x) + x·x^n = 1 − x + x^(n+1), i.e. the plain bound at n + 1
    assert lt.transfer_risk_bound(task, 2, tight=True) == pytest.approx(1 - 2 / (3 * math.sqrt(3)), abs=1e-10)
    # a fixed β: x = 1/2, n = 2: 1/2 + 1/4
    assert lt.transfer_risk_bound(task, 2, beta=math.pi / 4) == pytest.approx(0.75, abs=1e-12)


def test_thm3_pinned_on_a_two_window_law():
    # mass 1/2 uniform on [0, 0.1], 1/2 on [1.3, 1.4]; for β ∈ [1.4, π/2]: p(β) = 0 and p(π/2 − β) ≥ 1/2 with
    # equality at π/2 − β = 0.1; every β < 1.4 has p(β) ≥ 1/2 · (1.4 − β)/0.1 … ≥ the value at the kink: bound 1/8
    task = lt.WindowAngleTask(d=5, lows=(0.0, 1.3), highs=(0.1, 1.4), weights=(0.5, 0.5))
    assert float(task(0.05)) == pytest.approx(0.75)
    assert float(task(1.35)) == pytest.approx(0.25)
    assert float(task(1.45)) == 0.0
    assert lt.transfer_risk_bound(task, 3) == pytest.approx(0.125, abs=1e-9)
    assert lt.transfer_risk_bound(task, 3, tight=True) == pytest.approx(0.125, abs=1e-9)


def test_cor1_cor2_lemma_d1_thm_d1_pinned():
    # margin task, κ = 1, θ_max = π/2 − 0.3: γ = p(0.3) = 1 − 0.3/(π/2 − 0.3); Cor. 1 at n = 2 is γ²
    task = lt.margin_task(10, 0.3)
    g = 1 - 0.3 / (HP - 0.3)
    assert lt.corollary1_bound(task, 2, HP - 0.3) == pytest.approx(g**2, rel=1e-12)
    assert lt.corollary2_bound(4, 1.0) == pytest.approx((1 + math.log(4)) / 4, rel=1e-14)
    assert lt.corollary2_bound(4, 2.0) == pytest.approx((1 + math.log(4) ** 2) / 16, rel=1e-14)
    assert lt.lemma_d1_angle_bound(0.125, 1.0) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-14)
    # Thm D.1 on p = 1 − x: δ = 0.05π (η = δ²/(2π) = 0.00125π), 2δ/π = 0.1; n = 2: min over x ∈ [0, 0.9] of
    # (1 − x) + (x + 0.1)² at x = 0.4: 0.85
    assert lt.approximate_transfer_risk_bound(lt.polynomial_task(10, 1.0), 2, 0.00125 * math.pi, 1.0) == \
        pytest.approx(0.85, abs=1e-9)


def test_deep_bounds_pinned_and_the_inverse_of_condition_11():
    # N = 2, ‖w(0)‖ = 1, ‖ŵ‖ = 4: ρ = 1/4; (73): 4·(3/4)^(−1) = 16/3; (76): 4·√((1/4)/(3/4)) = 4/√3
    assert lt.deep_norm_bound(1.0, 4.0, 2) == pytest.approx(16 / 3, rel=1e-14)
    assert lt.deep_distance_bound(1.0, 4.0, 2) == pytest.approx(4 / math.sqrt(3), rel=1e-14)
    # N = 3, ‖w(0)‖ = 1, ‖ŵ‖ = 8: ρ = 8^(−2/3) = 1/4; (73): 8·(3/4)^(−3/4) (the exponent −N/(2(N−1)))
    assert lt.deep_norm_bound(1.0, 8.0, 3) == pytest.approx(8 * 0.75 ** -0.75, rel=1e-14)
    # the inverse of (11) is (76): (11) fails just below ε* and holds just above
    for r0, W, N in [(1.0, 4.0, 2), (0.3, 2.0, 3), (1e-3, 1.5, 5)]:
        e = lt.initial_radius_epsilon(r0, W, N)
        assert e == pytest.approx(lt.deep_distance_bound(r0, W, N), rel=1e-14)
        assert lt.initial_radius_bound(W, e * (1 + 1e-9), N) > r0 > lt.initial_radius_bound(W, e * (1 - 1e-9), N)
    assert lt.initial_radius_epsilon(4.0, 4.0, 2) == math.inf


def test_restricted_strong_convexity_pinned():
    # d = n = 1, x = 1, y = 1/2: ℓ(u) = log cosh(u/2) ≤ l ⇔ |u| ≤ 2 arccosh(e^l), σ'(u) there = 1/(4cosh²(u/2)) = e^(−2l)/4
    X, y = np.array([[1.0]]), np.array([0.5])
    lo, hi = lt.sublevel_logit_range(X, y, 0.3)
    assert hi[0] == pytest.approx(2 * math.acosh(math.exp(0.3)), rel=1e-10) and lo[0] == pytest.approx(-hi[0], rel=1e-10)
    assert lt.sublevel_omega(X, y, 0.3) == pytest.approx(math.exp(-0.6) / 4, rel=1e-10)
    # d = n = 2, X = diag(1, 2), y = ½: each ℓ_i ≤ 2l, ω = e^(−4l)/4; λ⁺_min(XXᵀ) = 1, n = 2: μ = e^(−4l)/8;
    # l = (log 2)/2 gives μ = 1/32 (printed Hessian without the 1/n would give 1/16)
    X2, y2 = np.diag([1.0, 2.0]), np.array([0.5, 0.5])
    assert lt.restricted_strong_convexity(X2, y2, math.log(2) / 2) == pytest.approx(1 / 32, rel=1e-10)
    assert lt.restricted_pl_constant(X2, y2, math.log(2) / 2) == pytest.approx(1 / 32, rel=1e-10)
    with pytest.raises(ValueError, match="y"):
        lt.sublevel_omega(X, np.array([1.0]), 0.3)


def test_asymmetric_window_risk_pinned():
    # tilt 0: a point at angle a on side s is x ∝ cos a e₁ + s sin a e₂; student e₂ errs iff s = −1
    t = lt.WindowAngleTask(d=5, lows=(0.5, 0.9), highs=(0.7, 1.1), weights=(0.7, 0.3), sides=(1, -1), tilt=0.0)
    e = np.eye(5)
    assert t.risk(e[1]) == pytest.approx(0.3, abs=1e-12)
    # student (e₁ + e₂)/√2 errs iff cos a − sin a < 0 on side −1, i.e. a > π/4: the whole window [0.9, 1.1]
    assert t.risk((e[0] + e[1]) / math.sqrt(2)) == pytest.approx(0.3, abs=1e-12)
    assert t.risk((e[0] - e[1]) / math.sqrt(2)) == pytest.approx(0.0, abs=1e-12)  # [0.5, 0.7] < π/4 on side +1
    # tilt > 0: a student along e₃ sees t = ±uniform symmetric: risk 1/2
    t2 = lt.WindowAngleTask(d=6, lows=(0.5,), highs=(0.7,), weights=(1.0,), sides=(1,), tilt=0.4)
    assert t2.risk(e[2][:5].tolist() + [0.0]) == pytest.approx(0.5, abs=1e-12)
    assert t2.risk(np.zeros(6)) == 0.5


def test_window_tasks_sample_their_angle_law_and_exact_risk():
    rng = np.random.default_rng(7)
    for sides in (None, (1, -1)):
        t = lt.window_task(6, [1.2, 0.4], 0.1, [0.3, 0.7], sides=sides, tilt=0.3)
        pts = t.sample(200_000, rng)
        a = lt.unsigned_angle(pts.T, t.w_star[None, :])
        for th in (0.2, 0.4, 1.15, 1.25):
            assert np.mean(a >= th) == pytest.approx(float(t(th)), abs=5e-3)
        W = rng.standard_normal((3, 6))
        assert np.asarray(t.risk(W)) == pytest.approx(lt.empirical_transfer_risk(W, pts, t.w_star), abs=6e-3)


def test_batched_students_and_stratified_estimator():
    rng = np.random.default_rng(3)
    Xs = rng.standard_normal((5, 7, 3))
    w = rng.standard_normal(7)
    assert np.allclose(lt.student_solutions(Xs, w), [lt.student_solution(X, w) for X in Xs], atol=1e-12)
    t = lt.window_task(6, [1.35, 0.45], 0.02, [0.2, 0.8], sides=[1, -1], tilt=0.3)
    plain = lt.transfer_risk_samples(t, 2, 20_000, rng)
    strat = lt.transfer_risk_samples(t, 2, 2_000, rng, stratified=True)
    se = math.hypot(plain.std() / math.sqrt(plain.size), strat.std() / math.sqrt(strat.size))
    assert abs(plain.mean() - strat.mean()) < 4 * se
    assert strat.std() < plain.std() / 3  # the between-pattern variance is gone


def test_bad_inputs_of_the_new_functions():
    t = lt.window_task(5, [1.0], 0.1, [1.0])
    cases = [
        (lambda: lt.window_task(5, [1.0], -0.1, [1.0]), "halfwidth"),
        (lambda: lt.WindowAngleTask(d=5, lows=(0.0,), highs=(0.5,), weights=(0.7,)), "weights"),
        (lambda: lt.WindowAngleTask(d=5, lows=(0.6,), highs=(0.5,), weights=(1.0,)), "lows"),
        (lambda: lt.WindowAngleTask(d=5, lows=(0.1,), highs=(0.5,), weights=(1.0,), sides=(2,)), "sides"),
        (lambda: lt.WindowAngleTask(d=2, lows=(0.1,), highs=(0.5,), weights=(1.0,), sides=(1,)), "d >= 3"),
        (lambda: t.sample_sets(3, 2, np.random.default_rng(0), windows=[0, 0]), "windows"),
        (lambda: lt.transfer_risk_samples(t, 0, 10, np.random.default_rng(0)), "n"),
        (lambda: lt.transfer_risk_samples(t, 2, 10, np.random.default_rng(0), stratified=True), "stratified"),
        (lambda: lt.student_solutions(np.zeros((3, 2)), np.ones(3)), "Xs"),
        (lambda: lt.student_solutions(np.zeros((1, 3, 2)), np.ones(3)), "full column rank"),
        (lambda: lt.initial_radius_epsilon(-1.0, 1.0, 2), "w0_norm"),
        (lambda: lt.sublevel_logit_range(np.eye(2), [0.5, 0.5], -1.0), "level"),
        (lambda: lt.sublevel_logit_range(np.eye(2), [0.5], 1.0), "y"),
        (lambda: lt.restricted_strong_convexity(np.ones((2, 2)), [0.5, 0.5], 1.0), "full rank"),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match):
            fn()


def test_simplex_leans_and_lean_tasks():
    for K, d in [(2, 3), (4, 6), (6, 7)]:
        L = lt.simplex_leans(K, d)
        assert np.allclose(L[:, 0], 0) and np.allclose(L @ L.T, (K / (K - 1)) * np.eye(K) - 1 / (K - 1))
    # n = 1, tilt 0, far mass on K simplex windows at angle a: the student from x₁ at lean j errs on a point at lean
    # k ≠ j iff cos²a − sin²a/(K − 1) < 0; at a = 1.45, K = 4 every such pair errs: R(e₁cos a + ℓ_j sin a) = 1 − 1/K
    K, d, a = 4, 6, 1.45
    L = lt.simplex_leans(K, d)
    t = lt.WindowAngleTask(d=d, lows=(a - 0.01,) * K, highs=(a + 0.01,) * K, weights=(1 / K,) * K, leans=L, tilt=0.0)
    w = np.cos(a) * np.eye(d)[0] + np.sin(a) * L[0]
    assert t.risk(w) == pytest.approx(1 - 1 / K, abs=1e-12)
    rng = np.random.default_rng(11)
    t2 = lt.WindowAngleTask(d=d, lows=(a - 0.01,) * K, highs=(a + 0.01,) * K, weights=(1 / K,) * K, leans=L, tilt=0.3)
    pts = t2.sample(200_000, rng)
    W = rng.standard_normal((3, d))
    assert np.asarray(t2.risk(W)) == pytest.approx(lt.empirical_transfer_risk(W, pts, t2.w_star), abs=6e-3)
    with pytest.raises(ValueError, match="leans"):
        lt.WindowAngleTask(d=d, lows=(0.1,), highs=(0.2,), weights=(1.0,), leans=np.eye(d)[:1])  # e₁ is not ⊥ w*
    with pytest.raises(ValueError, match="not both"):
        lt.WindowAngleTask(d=d, lows=(0.1,), highs=(0.2,), weights=(1.0,), sides=(1,), leans=L[:1])
    with pytest.raises(ValueError, match="K"):
        lt.simplex_leans(6, 6)
