"""Tests for verification.simulate (the shared vectorised distillation-SGD simulator)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kdtheory import variance_reduction as vr
from kdtheory.testing import variance_reduction as kst
from verification import simulate as sim


def _reference(model, A, b, x0, theta, lams, gamma, idx_seq, unbiased=False, masks=None):
    """Slow reference: loops over seeds, λ and steps, computing (7)/(16)/(18) from per-sample gradients."""
    T, S, B = idx_seq.shape
    out = np.empty((S, len(lams)) + x0.shape)
    tbar = vr.full_gradient(model, theta, A, b)
    for s in range(S):
        for j, lam in enumerate(lams):
            x = x0.copy()
            for t in range(T):
                batch = idx_seq[t, s]
                g = vr.per_sample_gradients(model, x, A[batch], b[batch]).mean(0)
                gt = vr.per_sample_gradients(model, theta, A[batch], b[batch]).mean(0)
                x = x - gamma * (g - lam * gt + (lam * tbar if unbiased else 0))
                if masks is not None:
                    x = x * masks[t, s]
            out[s, j] = x
    return out



@settings(max_examples=10)
@given(kst.glm_problems(), st.booleans(), st.integers(1, 3), st.integers(0, 2**31), st.data())
def test_simulator_matches_slow_reference(prob, unbiased, B, seed, data):
    lams = np.array([0.0, 0.4, 1.0])
    theta = data.draw(kst.teachers(prob, distance=(0.0, 1.0)), label="theta")
    x0 = np.zeros_like(prob.x_star)
    T, S = 5, 3
    res = sim.simulate_distillation(sim.glm_oracle(prob.model, prob.A, prob.b), x0,
                                    prob.grads(theta), lams, 0.05, T, n_seeds=S, rng=np.random.default_rng(seed),
                                    batch_size=B, unbiased=unbiased)
    r = np.random.default_rng(seed)
    idx_seq = np.stack([r.integers(0, prob.n_samples, size=(S, B)) for _ in range(T)])
    ref = _reference(prob.model, prob.A, prob.b, x0, theta, lams, 0.05, idx_seq, unbiased)
    np.testing.assert_allclose(res.x, ref, atol=1e-10 * max(1.0, float(np.max(np.abs(ref)))))


@settings(max_examples=10)
@given(kst.least_squares_problems(), st.booleans(), st.booleans(), st.integers(0, 2**31), st.data())
def test_affine_path_equals_general_path(prob, unbiased, compress, seed, data):
    lams = np.linspace(0, 1, 5)
    d = prob.x_star.size
    comp = sim.rand_k(max(1, d - 1)) if compress else None
    kw = dict(n_seeds=4, batch_size=2, unbiased=unbiased, compressor=comp,
              observers={"e": sim.dist_sq_observer(prob.x_star)}, window=5)
    theta = data.draw(kst.teachers(prob, distance=(0.0, 0.5)), label="theta")
    tg = prob.grads(theta)
    orc = sim.glm_oracle("least_squares", prob.A, prob.b)
    a = sim.simulate_distillation(orc, np.zeros(d), tg, lams, 1e-3, 20, rng=np.random.default_rng(seed), **kw)
    g = sim.simulate_distillation(orc, np.zeros(d), tg, lams, 1e-3, 20, rng=np.random.default_rng(seed), affine=False, **kw)
    scale = max(1.0, float(np.max(np.abs(g.x))))
    np.testing.assert_allclose(a.x, g.x, atol=1e-9 * scale)
    np.testing.assert_allclose(a.windows["e"], g.windows["e"], rtol=1e-7, atol=1e-9 * scale**2)


def test_rand_k_is_unbiased_with_omega_d_over_k_minus_1():
    """Exact enumeration of the masks rand-k can draw: E C(x) = x and E‖C(x) − x‖² = (d/k − 1)‖x‖²."""
    d, k = 5, 2
    x = np.arange(1.0, d + 1)
    comp = sim.rand_k(k)
    seen = {}
    rng = np.random.default_rng(0)
    for _ in range(400):
        (y,) = comp(rng, (x[None, None, :],))
        seen[tuple(np.flatnonzero(y[0, 0]))] = y[0, 0]
    assert len(seen) == 10  # every k-subset occurs
    for sub in itertools.combinations(range(d), k):
        assert sub in seen
    Y = np.array(list(seen.values()))
    np.testing.assert_allclose(Y.mean(0), x)
    assert np.mean(np.sum((Y - x) ** 2, axis=1)) == pytest.approx(comp.omega(d) * np.sum(x**2))


def test_epoch_sampling_visits_each_sample_once_per_epoch():
    N, B, S = 12, 3, 2
    seen = []

    def obs(X, idx):
        seen.append(idx.copy())
        return np.zeros(X.shape[:2])

    A = vr.lift(np.random.default_rng(0).normal(size=(N, 2)))
    b = np.zeros(N)
    sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), np.zeros(3), np.zeros((N, 3)), [0.0], 0.1, 8,
                              n_seeds=S, rng=np.random.default_rng(1), batch_size=B, sampling="epoch",
                              observers={"o": obs})
    for e in range(2):
        ep = np.concatenate(seen[4 * e: 4 * e + 4], axis=1)
        for s in range(S):
            assert sorted(ep[s]) == list(range(N))


def test_fixed_mask_keeps_masked_coordinates_at_zero():
    rng = np.random.default_rng(0)
    A = vr.lift(rng.normal(size=(20, 3)))
    b = rng.normal(size=20)
    mask = np.array([1.0, 0.0, 1.0, 0.0])
    res = sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), np.zeros(4), np.zeros((20, 4)), [0.0, 0.5],
                                    0.05, 30, n_seeds=3, rng=rng, compressor=sim.fixed_mask(mask))
    assert np.all(res.x[..., mask == 0] == 0) and np.any(res.x[..., mask == 1] != 0)


@settings(max_examples=10)
@given(kst.least_squares_problems(n_samples=(10, 30), n_features=(1, 3), scales=(1.0,), rank_deficient=False),
       st.integers(0, 2**31))
def test_optimal_teacher_with_lambda_one_stays_at_x_star(prob, seed):
    """Teacher θ = x*, λ = 1: (7) becomes SGD-star and x^0 = x* is a fixed point (least squares)."""
    A, b, xs = prob.A, prob.b, prob.x_star
    gamma = 0.5 / vr.expected_smoothness("least_squares", A, b).L_max
    res = sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), xs, prob.grads(xs), [0.0, 1.0],
                                    gamma, 50, n_seeds=5, rng=np.random.default_rng(seed))
    assert np.max(np.abs(res.x[:, 1] - xs)) < 1e-12 * max(1.0, float(np.max(np.abs(xs))))
    assert np.max(np.abs(res.x[:, 0] - xs)) > 1e-6  # plain SGD leaves x* (label noise: σ*² > 0)


def test_deterministic_given_rng():
    rng = np.random.default_rng(0)
    A = vr.lift(rng.normal(size=(10, 2)))
    b = rng.uniform(0.1, 0.9, size=10)
    orc = sim.glm_oracle("logistic", A, b)
    run = lambda: sim.simulate_distillation(orc, np.zeros(3), np.ones((10, 3)), [0.2, 0.7], 0.1, 10,  # noqa: E731
                                            n_seeds=3, rng=np.random.default_rng(5)).x
    np.testing.assert_array_equal(run(), run())


def test_bad_input():
    A = vr.lift(np.ones((4, 1)))
    b = np.zeros(4)
    orc = sim.glm_oracle("least_squares", A, b)
    tg = np.zeros((4, 2))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="gamma"):
        sim.simulate_distillation(orc, np.zeros(2), tg, [0.5], 0.0, 3, n_seeds=2, rng=rng)
    with pytest.raises(ValueError, match="teacher_grads"):
        sim.simulate_distillation(orc, np.zeros(2), np.zeros((4, 3)), [0.5], 0.1, 3, n_seeds=2, rng=rng)
    with pytest.raises(ValueError, match="teacher_grads"):
        sim.simulate_distillation(orc, np.zeros(2), np.zeros((3, 2)), [0.5], 0.1, 3, n_seeds=2, rng=rng)
    with pytest.raises(ValueError, match="lams"):
        sim.simulate_distillation(orc, np.zeros(2), tg, [np.nan], 0.1, 3, n_seeds=2, rng=rng)
    with pytest.raises(ValueError, match="batch_size"):
        sim.simulate_distillation(orc, np.zeros(2), tg, [0.5], 0.1, 3, n_seeds=2, rng=rng, batch_size=9, sampling="epoch")
    with pytest.raises(ValueError, match="mask"):
        sim.fixed_mask([0.5, 1.0])
    with pytest.raises(ValueError, match="k must be"):
        sim.rand_k(0)
    with pytest.raises(ValueError, match="teacher_grads contains"):
        sim.simulate_distillation(orc, np.zeros(2), np.full((4, 2), np.inf), [0.5], 0.1, 3, n_seeds=2, rng=rng)
    # a step size far beyond 2/L_max makes (7) blow up: a clear error, not NaN iterates
    big = sim.glm_oracle("least_squares", vr.lift(np.array([[1.0], [2.0], [3.0]])), np.array([1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="diverged"):
        sim.simulate_distillation(big, np.ones(2), np.zeros((3, 2)), [0.0, 0.5], 50.0, 2000, n_seeds=2, rng=rng)


@settings(max_examples=10)
@given(kst.least_squares_problems(n_samples=(10, 30), n_features=(1, 3), scales=(1.0,), rank_deficient=False),
       st.data())
def test_least_squares_stationary_properties(prob, data):
    """Exact stationary moments: λ = 1 with an optimal teacher is SGD-star (zero error); the error
    is a quadratic in λ (four points on one parabola); an unstable step size reports inf."""
    A, b = prob.A, prob.b
    k = vr.expected_smoothness("least_squares", A, b)
    g_opt = prob.grads(prob.x_star)
    e1, f1, rad = sim.least_squares_stationary(A, b, g_opt, 1.0, 1 / (4 * k.calL))
    e0, f0, _ = sim.least_squares_stationary(A, b, g_opt, 0.0, 1 / (4 * k.calL))  # plain SGD: σ*² > 0
    # zero up to the round-off of x* (~1e-16 relative), i.e. many orders below plain SGD's neighbourhood
    assert rad < 1 and e0 > 0 and f0 > 0 and e1 <= 1e-9 * e0 and f1 <= 1e-9 * f0
    tg = prob.grads(data.draw(kst.teachers(prob, distance=(0.1, 1.0)), label="theta"))
    ls = np.array([0.0, 0.3, 0.6, 0.9])
    e = np.array([sim.least_squares_stationary(A, b, tg, float(l), 1 / (4 * k.calL))[0] for l in ls])
    coef = np.polyfit(ls[:3], e[:3], 2)
    assert np.polyval(coef, ls[3]) == pytest.approx(e[3], rel=1e-8)
    assert sim.least_squares_stationary(A, b, tg, 0.5, 10.0 / k.L_max)[0] == float("inf")


@pytest.mark.parametrize("model", ["least_squares", "logistic"])
def test_seed_blocks_do_not_change_the_iterates(model):
    rng = np.random.default_rng(7)
    A = vr.lift(rng.normal(size=(15, 2)))
    b = rng.uniform(0.1, 0.9, size=15)
    orc = sim.glm_oracle(model, A, b)
    tg = vr.per_sample_gradients(model, np.ones(3), A, b)
    kw = dict(n_seeds=130, batch_size=2, unbiased=True, compressor=sim.rand_k(2), affine=False)
    one = sim.simulate_distillation(orc, np.zeros(3), tg, [0.0, 0.5, 1.0], 0.05, 12, rng=np.random.default_rng(3), seed_block=130, **kw)
    blk = sim.simulate_distillation(orc, np.zeros(3), tg, [0.0, 0.5, 1.0], 0.05, 12, rng=np.random.default_rng(3), seed_block=7, **kw)
    np.testing.assert_array_equal(one.x, blk.x)


def test_least_squares_moments_start_at_x0_and_converge_to_the_stationary_solution():
    from kdtheory import variance_reduction as vr

    rng = np.random.default_rng(3)
    A = vr.lift(rng.normal(size=(12, 2)))
    b = A @ rng.normal(size=3) + rng.normal(size=12)
    xs = vr.minimizer("least_squares", A, b)
    tg = vr.per_sample_gradients("least_squares", xs + 0.4, A, b)
    gamma = vr.theorem1_step_max(vr.expected_smoothness("least_squares", A, b).calL)
    x0 = xs + np.array([1.0, -2.0, 0.5])
    dist, gap = sim.least_squares_moments(A, b, tg, 0.3, gamma, x0, 3000, x_star=xs)
    assert dist[0] == pytest.approx(float(np.sum((x0 - xs) ** 2)))
    assert gap[0] == pytest.approx(vr.loss("least_squares", x0, A, b) - vr.loss("least_squares", xs, A, b))
    st_dist, st_gap, _ = sim.least_squares_stationary(A, b, tg, 0.3, gamma, x_star=xs)
    assert dist[-1] == pytest.approx(st_dist, rel=1e-6) and gap[-1] == pytest.approx(st_gap, rel=1e-6)
    # one step by hand: E‖x1 − x*‖² = mean over samples of ‖x0 − γ(∇f_n(x0) − λ∇f_n(θ)) − x*‖²
    g = vr.per_sample_gradients("least_squares", x0, A, b) - 0.3 * tg
    assert dist[1] == pytest.approx(float(np.mean(np.sum((x0 - gamma * g - xs) ** 2, axis=1))), rel=1e-12)


def test_rand_k_outcomes_are_unbiased_with_variance_omega():
    from kdtheory import variance_reduction as vr

    x = np.array([1.0, -2.0, 3.0, 0.5])
    for k in (1, 2, 4):
        C = sim.rand_k_outcomes(x, k)
        np.testing.assert_allclose(C.mean(axis=0), x, atol=1e-12)
        assert np.mean(np.sum((C - x) ** 2, axis=1)) == pytest.approx(vr.rand_k_omega(4, k) * float(x @ x))
