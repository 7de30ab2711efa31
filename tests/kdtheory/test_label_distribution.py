"""Property tests of kdtheory.label_distribution (paper 004, SoTeacher).

Each closed form is checked by an independent route: Weissman's ℓ1 inequality for eq. (3), numpy.linalg.norm
for ξ_K, direct simplex minimisation (SLSQP) for the minimisers, sympy for the divergences, slow loop
implementations for ECE, the unrolled convolution matrix for Gouk's bound, and exhaustive checks for Lemma A.4.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

from kdtheory import label_distribution as LD
from kdtheory.testing.label_distribution import categorical_distributions, label_counts, logits, point_sets

deltas = st.floats(1e-6, 0.999, allow_nan=False)
Ks = st.integers(2, 60)
norms = st.sampled_from([1, 1.5, 2, 3, math.inf])


# ------------------------------------------------------------------ Prop. 3.3, Thm 3.6, Thm 3.8

@given(K=Ks, n=st.integers(1, 10**6), delta=deltas)
def test_sibling_bound_follows_from_weissman(K, n, delta):
    # Weissman et al. (2003): P(‖ȳ − p‖_1 ≥ ε) ≤ (2^K − 2) exp(−nε²/2); at ε = eq. (3) this is ≤ δ
    eps = LD.sibling_bound(K, n, delta)
    log_tail = math.log(2.0**K - 2.0) - n * eps**2 / 2.0
    assert log_tail <= math.log(delta) + 1e-9


@given(K=Ks, n=st.integers(1, 10**5), delta=deltas)
def test_sibling_bound_scaling(K, n, delta):
    b = LD.sibling_bound(K, n, delta)
    assert LD.sibling_bound(K, 4 * n, delta) == pytest.approx(b / 2, rel=1e-12)
    assert LD.sibling_bound(K + 1, n, delta) > b
    assert LD.sibling_bound(K, n, delta / 2) > b


@settings(max_examples=8)
@given(data=st.data())
def test_sibling_bound_l2_is_smaller_for_large_K_and_holds_by_simulation(data):
    # distribution-free: must hold for every p*, including one-hot and sparse ones
    rng = np.random.default_rng(3)
    for K, n, delta in [(20, 50, 0.1), (50, 10, 0.05)]:
        p = data.draw(categorical_distributions(classes=K), label=f"p (K={K})")
        err = np.linalg.norm(rng.multinomial(n, p, size=20000) / n - p, axis=1)
        b = LD.sibling_bound_l2(n, delta)
        assert np.mean(err <= b) >= 1 - delta
        assert b < LD.sibling_bound(K, n, delta) / 2


@given(K=Ks, norm=norms)
def test_xi_matches_numpy_norm(K, norm):
    e = np.full(K, -1.0 / K)
    e[K // 2] += 1.0
    expected = 1.0 + K * np.linalg.norm(e, ord=norm)
    assert LD.xi(K, norm) == pytest.approx(expected, rel=1e-12)


@given(K=Ks)
def test_xi_closed_forms_and_order(K):
    assert LD.xi(K, 1) == pytest.approx(1 + 2 * (K - 1), rel=1e-12)
    assert LD.xi(K, 2) == pytest.approx(1 + K * math.sqrt(1 - 1 / K), rel=1e-12)
    assert LD.xi(K, "inf") == pytest.approx(K, rel=1e-12)
    assert LD.xi(K, 1) >= LD.xi(K, 2) >= LD.xi(K, 3) >= LD.xi(K, math.inf)


@given(N=st.integers(1, 10**6), K=Ks, delta=deltas, L=st.floats(0, 10), r=st.floats(0, 2), Ls=st.floats(0, 10),
       norm=norms, kappa=st.floats(1, 20))
def test_erm_bound_structure(N, K, delta, L, r, Ls, norm, kappa):
    m = max(1, N // 7)
    b = LD.erm_bound(N, K, m, kappa, delta, L, r, Ls, norm)
    base = LD.erm_bound(N, K, m, kappa, delta, 0.0, r, 0.0, norm)
    # concentration term = eq. (3) with |S| replaced by N/(κ N^r)
    assert base == pytest.approx(math.sqrt(kappa * m / N) * LD.sibling_bound(K, 1, delta), rel=1e-10)
    assert b == pytest.approx(base + L * r * LD.xi(K, norm) + 2 * Ls * r, rel=1e-10, abs=1e-12)
    assert LD.augmented_erm_bound(N, K, m, kappa, delta, L, r, Ls, 0.0, 0.0, norm) == pytest.approx(b, rel=1e-12)
    aug = LD.augmented_erm_bound(N, K, m, kappa, delta, L, r, Ls, 0.3, 0.2, norm)
    assert aug == pytest.approx(b + 0.3 * LD.xi(K, norm) + 0.2, rel=1e-10)


def test_erm_bound_with_one_cell_is_the_sibling_bound():
    assert LD.erm_bound(500, 7, 1, 1.0, 0.1, 0, 0.3, 0) == pytest.approx(LD.sibling_bound(7, 500, 0.1), rel=1e-14)


@given(X=point_sets(max_points=30), Z=point_sets(max_points=6), r=st.floats(0.0, 0.8),
       norm=st.sampled_from([1, 2, math.inf]), data=st.data())
def test_augmentation_constant_matches_double_loop(X, Z, r, norm, data):
    # Def. 3.7 / Thm 3.8 by the definition, one pair at a time
    n, m = len(X), len(Z)
    rows = categorical_distributions(classes=3)
    F_X = np.array(data.draw(st.lists(rows, min_size=n, max_size=n), label="F_X"))
    F_ref = np.array(data.draw(st.lists(rows, min_size=m, max_size=m), label="F_ref"))
    slow = 0.0
    for i in range(m):
        for j in range(n):
            if np.linalg.norm(X[j] - Z[i], ord=norm) <= r:
                slow = max(slow, float(np.linalg.norm(F_X[j] - F_ref[i], ord=1)))
    nb = LD.augmented_neighbourhoods(X, Z, r, norm)
    assert LD.augmentation_constant(X, F_X, Z, F_ref, r, norm=norm, out_norm=1) == pytest.approx(slow, abs=1e-15)
    assert LD.augmentation_constant(X, F_X, Z, F_ref, r, norm=norm, out_norm=1, neighbours=nb) == pytest.approx(
        slow, abs=1e-15)


def test_augmentation_constant_invariance_gap():
    # p* constant on each of two mirror strips: printed L_p^A sees nothing, the corrected one the full gap
    X = np.array([[0.05, 0.5], [0.95, 0.5]])
    P = np.array([[0.9, 0.1], [0.1, 0.9]])
    images = np.array([[0.95, 0.5], [0.05, 0.5]])  # flips of the two centres
    assert LD.augmentation_constant(X, P, images, P[::-1], 0.1, out_norm=1) == 0.0  # F_ref = p*(A(x̄))
    assert LD.augmentation_constant(X, P, images, P, 0.1, out_norm=1) == pytest.approx(1.6)  # F_ref = p*(x̄)
    with pytest.raises(ValueError, match="F_ref"):
        LD.augmentation_constant(X, P, images, P[:1], 0.1)
    with pytest.raises(ValueError, match="r"):
        LD.augmented_neighbourhoods(X, images, -0.1)


# ------------------------------------------------------------------ Lemma A.4, coverings

@given(sizes=st.lists(st.integers(0, 30), min_size=1, max_size=8), kappa=st.floats(1, 50))
def test_lemma_a4_on_random_partitions(sizes, kappa):
    assume(sum(sizes) > 0)
    m = len(sizes)
    a = np.repeat(np.arange(m), sizes)
    mask = LD.large_cell_mask(a, kappa, m)
    N = a.size
    # slow reference for the mask
    ref = np.array([sizes[c] >= N / (kappa * m) - 1e-12 for c in a])
    assert np.array_equal(mask, ref)
    assert mask.sum() >= LD.covering_fraction(kappa, m) * N - 1e-9


def test_lemma_a4_is_attained():
    # m − 1 cells just below N/(κm): equality in eq. (30) (κ = 2, m = 3, N = 12: threshold 2, cells of size 1)
    a = np.repeat(np.arange(3), [1, 1, 10])
    assert LD.large_cell_mask(a, 2.0, 3).sum() == 10
    assert LD.covering_fraction(2.0, 3) * 12 == pytest.approx(8.0)
    a = np.repeat(np.arange(3), [4, 4, 4])
    assert LD.large_cell_mask(a, 1.0, 3).sum() == 12 and LD.covering_fraction(1.0, 3) * 12 == pytest.approx(4.0)


@given(X=point_sets(max_points=40, dim=2), r=st.floats(0.0, 0.7), norm=st.sampled_from([1, 2, math.inf]))
def test_greedy_covering_is_a_covering_partition(X, r, norm):
    cov = LD.greedy_covering(X, r, norm)
    assert cov.assignment.shape == (len(X),) and cov.assignment.min() >= 0
    assert cov.cell_sizes().sum() == len(X) and np.all(cov.cell_sizes() >= 1)
    d = LD.lp_norm(X - X[cov.centers[cov.assignment]], norm, axis=1)
    assert np.all(d <= r + 1e-12)
    C = X[cov.centers]
    if len(C) > 1:  # centres are r-separated
        D = LD.lp_norm(C[:, None, :] - C[None, :, :], norm, axis=2)
        assert np.all(D[~np.eye(len(C), dtype=bool)] > r)


@settings(max_examples=10)
@given(X=point_sets(min_points=9, max_points=9, dim=2), r=st.sampled_from([0.1, 0.35, 0.6]))
def test_greedy_covering_upper_bounds_the_minimum_covering(X, r):
    # the exhaustive minimum covering by centres taken from X (all subsets of the 9 points)
    cov = LD.greedy_covering(X, r)
    D = np.linalg.norm(X[:, None] - X[None], axis=2) <= r
    best = next(k for k in range(1, 10) for S in itertools.combinations(range(9), k) if D[list(S)].any(0).all())
    assert best <= cov.size


def test_greedy_covering_with_radius_zero_keeps_distinct_points_apart():
    assert LD.greedy_covering(np.eye(3), 0.0).size == 3


@given(p=st.integers(2, 12), seed=st.integers(0, 10**6))
def test_softmax_affine_lipschitz(p, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(p, 2)) * rng.uniform(0.1, 5)
    b = rng.normal(size=p)
    L = LD.softmax_affine_lipschitz(W)
    x, y = rng.random((200, 2)), rng.random((200, 2))
    diff = special.softmax(x @ W.T + b, axis=1) - special.softmax(y @ W.T + b, axis=1)
    dx = np.linalg.norm(x - y, axis=1)
    for q in (1, 2, math.inf):
        assert np.all(LD.lp_norm(diff, q, axis=1) <= L * dx + 1e-12)


# ------------------------------------------------------------------ scoring rules

@given(p=categorical_distributions(max_classes=6), data=st.data())
def test_expected_score_matches_slow_definition(p, data):
    q = data.draw(categorical_distributions(classes=len(p)), label="q")
    for loss in LD.LOSSES:
        slow = sum(q[y] * LD.loss_values(loss, p, np.int64(y)) for y in range(len(p)) if q[y] > 0)
        fast = float(LD.expected_score(loss, p, q))
        if math.isinf(slow):
            assert math.isinf(fast)
        else:
            assert fast == pytest.approx(slow, rel=1e-10, abs=1e-12)


@given(q=categorical_distributions(max_classes=8, min_prob=0.01), data=st.data())
def test_divergences_are_kl_and_squared_distance(q, data):
    p = data.draw(categorical_distributions(classes=len(q)), label="p")  # zeros in p: KL(q‖p) = ∞
    assert LD.score_divergence("nll", p, q) == pytest.approx(stats.entropy(q, p), rel=1e-9, abs=1e-12)
    assert LD.score_divergence("brier", p, q) == pytest.approx(np.sum((p - q) ** 2), rel=1e-9, abs=1e-12)


@settings(max_examples=10)
@pytest.mark.parametrize("loss", ["nll", "brier"])
@given(p=categorical_distributions(classes=3, min_prob=0.01), q=categorical_distributions(classes=3, min_prob=0.01))
def test_symbolic_divergence_agrees_with_numpy(loss, p, q):
    import sympy as sp

    D, ps, qs = LD.symbolic_divergence(loss, 3)
    assert isinstance(D, sp.Expr)
    val = float(D.subs({**dict(zip(ps, p)), **dict(zip(qs, q))}).evalf())
    assert val == pytest.approx(float(LD.score_divergence(loss, p, q)), rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("loss", ["nll", "brier"])
def test_symbolic_properness_certificate(loss):
    assert LD.symbolic_properness(loss, 2) and LD.symbolic_properness(loss, 3)


def test_check_proper_certifies_and_refutes():
    rng = np.random.default_rng(0)
    for loss in ("nll", "brier"):
        rep = LD.check_proper(loss, 4, rng, n_q=15, n_p=30)
        assert rep.proper and rep.strict and rep.counterexample is None and rep.min_divergence > 0
    a = LD.check_proper("absolute", 3, rng, n_q=15, n_p=30)
    assert not a.proper and a.counterexample["kind"] == "improper"
    ce = a.counterexample  # re-verify the counterexample independently
    assert LD.expected_score("absolute", ce["p"], ce["q"]) < LD.expected_score("absolute", ce["q"], ce["q"])
    z = LD.check_proper("zero_one", 3, rng, n_q=15, n_p=30)
    assert z.proper and not z.strict and z.counterexample["kind"] == "not strict"
    assert not np.allclose(z.counterexample["p"], z.counterexample["q"], atol=1e-4)
    assert z.counterexample["score_p"] <= z.counterexample["score_q"] + 1e-12


@given(c=label_counts(max_classes=5, max_n=30))
def test_empirical_mean_minimises_empirical_risk(c):
    # Prop. 3.3: for NLL and Brier the ERM on siblings is ȳ (direct SLSQP minimisation over the simplex)
    K = len(c)
    y = np.repeat(np.arange(K), c)
    ybar = c / c.sum()
    for loss in ("nll", "brier"):
        f = lambda q, loss=loss: float(np.mean(LD.loss_values(loss, np.tile(np.clip(q, 1e-300, None) /  # noqa: E731
                                                                             np.clip(q, 1e-300, None).sum(), (len(y), 1)), y)))
        res = optimize.minimize(f, np.full(K, 1 / K), method="SLSQP", bounds=[(0, 1)] * K,
                                constraints=[{"type": "eq", "fun": lambda q: q.sum() - 1}], options={"ftol": 1e-14})
        assert f(ybar) <= res.fun + 1e-9
        assert np.max(np.abs(res.x - ybar)) < 2e-3


# ------------------------------------------------------------------ Lemma A.3 minimisers

@given(c=label_counts(max_classes=5, max_n=30), eps=st.floats(0.0, 0.3))
def test_smoothed_minimiser_minimises_eq22(c, eps):
    ybar = c / c.sum()
    K = len(ybar)
    p = LD.smoothed_minimiser(ybar, eps)
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12)
    act = ybar > 0
    obj = lambda q: -float(np.sum(ybar[act] * np.log(np.clip(q[act], 0, None) + eps + 1e-300)))  # noqa: E731
    rng = np.random.default_rng(0)
    for _ in range(3):
        res = optimize.minimize(obj, rng.dirichlet(np.ones(K)), method="SLSQP", bounds=[(0, 1)] * K,
                                constraints=[{"type": "eq", "fun": lambda q: q.sum() - 1}], options={"ftol": 1e-14})
        assert obj(p) <= res.fun + 1e-8
    printed = LD.printed_smoothed_minimiser(ybar, eps)
    if printed.min() >= 0:
        assert np.allclose(p, printed, atol=1e-12)
    else:  # the printed point is infeasible: the minimiser differs from it at least by its negative part
        assert np.max(np.abs(p - printed)) >= -printed.min() - 1e-15


@given(c=label_counts(max_classes=4, max_n=20), eps=st.sampled_from([0.01, 0.05, 0.2]))
def test_lipschitz_cell_erm_is_consistent(c, eps):
    ybar = c / c.sum()
    K = len(ybar)
    p, Q, val = LD.lipschitz_cell_erm(ybar, eps)
    assert np.all(np.abs(Q - p) <= eps + 1e-7)
    assert np.allclose(Q.sum(axis=1), 1, atol=1e-7)
    assert LD.centre_risk(ybar, eps, p / p.sum()) == pytest.approx(val, abs=1e-6)
    # the ERM is at least as good as the water-filling centre and as ȳ itself
    assert val <= LD.centre_risk(ybar, eps, LD.smoothed_minimiser(ybar, eps)) + 1e-7
    assert val <= LD.centre_risk(ybar, eps, ybar) + 1e-7
    assert np.max(np.abs(Q[ybar > 0] - ybar)) <= eps * LD.xi(K, math.inf) + 1e-6  # eq. (28)


def test_printed_lemma_a3_counterexample():
    y = np.array([0.85, 0.15])
    p, _, val = LD.lipschitz_cell_erm(y, 0.2)
    assert np.allclose(p, [0.8, 0.2], atol=1e-6)
    assert val == pytest.approx(-0.15 * math.log(0.4), rel=1e-6)
    assert LD.centre_risk(y, 0.2, LD.printed_smoothed_minimiser(y, 0.2)) == pytest.approx(-0.15 * math.log(0.21))


@given(c=label_counts(max_classes=5, min_n=5, max_n=40), eps=st.floats(0.001, 0.3))
def test_condition_27_is_the_algebra_of_26(c, eps):
    ybar = c / c.sum()
    assume(np.all(ybar > 0))
    k = int(np.argmax(ybar))
    K = len(ybar)
    o = np.arange(K) != k
    s = ybar[o].sum()
    lhs = -np.sum(ybar[o] * np.log(K * eps * ybar[o] / s))
    rhs = -np.sum(ybar[o] * np.log(ybar[o] * (1 + K * eps)))
    assume(abs(lhs - rhs) > 1e-9)
    assert (lhs < rhs) == LD.condition_27(ybar, eps, k)
    p2 = LD.case2_minimiser(ybar, eps, k)
    assert p2.sum() == pytest.approx(1.0) and p2[o].sum() == pytest.approx(eps)


# ------------------------------------------------------------------ regularisers (App. C, D)

def _conv_valid(x, w, stride=1):
    """Slow reference: cross-correlation, no padding. x: (in, H, W), w: (out, in, kh, kw)."""
    co, ci, kh, kw = w.shape
    H, Wd = x.shape[1:]
    oh, ow = (H - kh) // stride + 1, (Wd - kw) // stride + 1
    out = np.zeros((co, oh, ow))
    for o in range(co):
        for i in range(oh):
            for j in range(ow):
                out[o, i, j] = np.sum(w[o] * x[:, i * stride:i * stride + kh, j * stride:j * stride + kw])
    return out


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 0), (1, 1), (2, 1), (3, 2)])
def test_conv_l1_bound_against_unrolled_matrix(stride, pad):
    # the induced 1-norm of the explicit (unrolled) matrix of the convolution = its max abs column sum
    rng = np.random.default_rng(10 * stride + pad)
    w = rng.normal(size=(3, 2, 3, 3))
    H = 7  # has an interior pixel at distance >= 3 from the border
    cols = []
    for idx in range(2 * H * H):
        e = np.zeros(2 * H * H)
        e[idx] = 1.0
        x = np.pad(e.reshape(2, H, H), ((0, 0), (pad, pad), (pad, pad)))  # zero padding is linear
        cols.append(np.abs(_conv_valid(x, w, stride)).sum())
    exact = max(cols)
    bound = LD.lipschitz_conv2d_l1(w)
    assert exact <= bound + 1e-12
    if stride == 1:  # every tap of an interior pixel lands on an output: Gouk's bound is attained
        assert exact == pytest.approx(bound, rel=1e-12)
    else:
        assert exact < bound


@given(seed=st.integers(0, 10**6), m=st.integers(1, 8), n=st.integers(1, 8))
def test_linear_l1_is_the_operator_norm(seed, m, n):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(m, n))
    L = LD.lipschitz_linear_l1(W)
    assert L == pytest.approx(np.linalg.norm(W, ord=1), rel=1e-12)  # numpy: max abs column sum
    x = rng.normal(size=(50, n))
    assert np.all(np.abs(x @ W.T).sum(1) <= L * np.abs(x).sum(1) + 1e-12)
    j = int(np.argmax(np.abs(W).sum(0)))
    assert np.abs(W[:, j]).sum() == pytest.approx(L)  # attained at a basis vector
    conv = rng.normal(size=(2, n, 3, 3))
    assert LD.network_lipschitz_l1([W, conv]) == pytest.approx(L + LD.lipschitz_conv2d_l1(conv))


@given(seed=st.integers(0, 10**6), T=st.integers(1, 20))
def test_running_average_equals_batch_mean(seed, T):
    rng = np.random.default_rng(seed)
    hist = rng.random((T, 5, 3))
    avg = None
    for t in range(T):
        avg = LD.running_average_update(avg, t, hist[t])
    assert np.allclose(avg, hist.mean(axis=0), atol=1e-12)
    pred = rng.random((5, 3))
    assert LD.consistency_loss(pred, avg, T) == pytest.approx(np.mean(np.sum((pred - hist.mean(0)) ** 2, 1)))
    assert LD.consistency_loss(pred, None, 0) == 0.0


@pytest.mark.parametrize("kind", LD.SCHEDULES)
def test_lambda_cr_schedules(kind):
    T, lam = 90.0, 2.0
    t = np.linspace(0, T, 901)
    v = LD.lambda_cr(t, T, lam, kind)
    assert v[0] == pytest.approx(0.0, abs=1e-15) and v[-1] == pytest.approx(lam)
    assert np.all(np.diff(v) >= -1e-12) and np.all((v >= 0) & (v <= lam + 1e-12))
    if kind == "linear":
        assert LD.lambda_cr(45, T, lam, kind) == pytest.approx(1.0)
    if kind == "cosine":  # cos((1 − s)π/2) = sin(sπ/2)
        assert np.allclose(v, lam * np.sin(np.pi * t / (2 * T)))
    if kind == "cyclic":  # a quarter circle: (λ/λmax)² + (1 − t/T)² = 1
        assert np.allclose((v / lam) ** 2 + (1 - t / T) ** 2, 1)
    if kind == "piecewise":
        assert LD.lambda_cr(30, T, lam, kind) == 0 and LD.lambda_cr(31, T, lam, kind) == 1.0
        assert LD.lambda_cr(60, T, lam, kind) == 1.0 and LD.lambda_cr(61, T, lam, kind) == 2.0


# ------------------------------------------------------------------ calibration

def _ece_slow(P, y, B):
    conf, pred = P.max(1), P.argmax(1)
    total = 0.0
    for b in range(B):
        lo, hi = b / B, (b + 1) / B
        sel = [(lo < c <= hi) or (b == 0 and c == 0) for c in conf]
        sel = np.array(sel)
        if sel.any():
            total += sel.sum() / len(y) * abs(np.mean(pred[sel] == y[sel]) - np.mean(conf[sel]))
    return total


@given(Z=logits(max_n=40), seed=st.integers(0, 10**6), B=st.integers(1, 20))
def test_ece_matches_slow_reference(Z, seed, B):
    P = special.softmax(Z, axis=1)
    y = np.random.default_rng(seed).integers(0, Z.shape[1], size=len(Z))
    e = LD.expected_calibration_error(P, y, n_bins=B)
    assert 0 <= e <= 1
    assert e == pytest.approx(_ece_slow(P, y, B), abs=1e-9)


def test_ece_one_bin_and_perfect():
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    y = np.array([0, 1, 1])
    assert LD.expected_calibration_error(P, y, 1) == pytest.approx(abs(2 / 3 - np.mean([0.9, 0.6, 0.8])))
    assert LD.expected_calibration_error(np.eye(3), np.arange(3)) == 0.0


@given(Z=logits(max_n=60, max_abs=1000.0), seed=st.integers(0, 10**6))
def test_nll_and_temperature_scaling(Z, seed):
    y = np.random.default_rng(seed).integers(0, Z.shape[1], size=len(Z))
    ref = -np.mean(special.log_softmax(Z, axis=1)[np.arange(len(y)), y])
    n = LD.nll(LD.softmax(Z), y)
    assert np.isfinite(n)
    assert n == pytest.approx(min(ref, -math.log(1e-12)), rel=1e-9) or ref > -math.log(1e-12)
    T = LD.fit_temperature(Z, y)
    assert 0.05 - 1e-9 <= T <= 20 + 1e-6
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 60))
    nll_T = lambda t: -np.mean(special.log_softmax(Z / t, axis=1)[np.arange(len(y)), y])  # noqa: E731
    assert nll_T(T) <= min(nll_T(t) for t in grid) + 1e-6
    assert nll_T(T) <= nll_T(1.0) + 1e-9


@given(Z=logits(min_n=1, max_n=30), T=st.floats(0.05, 20))
def test_top1_agreement(Z, T):
    P = LD.softmax(Z)
    assert LD.top1_agreement(P, LD.softmax(Z, T)) == pytest.approx(
        np.mean(P.argmax(1) == special.softmax(Z / T, axis=1).argmax(1)))
    assert LD.top1_agreement(Z, Z) == 1.0
    assert LD.top1_agreement(P, -P) <= 1.0


# ------------------------------------------------------------------ bad input

def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="K"):
        LD.sibling_bound(1, 10, 0.1)
    with pytest.raises(ValueError, match="delta"):
        LD.sibling_bound(3, 10, 1.0)
    with pytest.raises(ValueError, match="delta"):
        LD.erm_bound(100, 3, 4, 2, 0.0, 0, 0.1, 0)
    with pytest.raises(ValueError, match="r"):
        LD.erm_bound(100, 3, 4, 2, 0.1, 0, -0.1, 0)
    with pytest.raises(ValueError, match="L_star"):
        LD.erm_bound(100, 3, 4, 2, 0.1, 0, 0.1, -1)
    with pytest.raises(ValueError, match="L "):
        LD.erm_bound(100, 3, 4, 2, 0.1, -1, 0.1, 0)
    with pytest.raises(ValueError, match="kappa"):
        LD.erm_bound(100, 3, 4, 0.5, 0.1, 0, 0.1, 0)
    with pytest.raises(ValueError, match="covering_number"):
        LD.erm_bound(10, 3, 40, 2, 0.1, 0, 0.1, 0)
    with pytest.raises(ValueError, match="r"):
        LD.greedy_covering(np.zeros((3, 2)), -1)
    with pytest.raises(ValueError, match="norm"):
        LD.xi(3, 0.5)
    with pytest.raises(ValueError, match="off by up to 0.1"):
        LD.expected_score("nll", [0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match="ybar must sum to 1"):
        LD.smoothed_minimiser([0.2, 0.2], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        LD.fit_temperature(np.array([[0.0, np.nan]]), np.array([0]))
    with pytest.raises(ValueError, match="NaN"):
        LD.softmax(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="loss"):
        LD.loss_values("hinge", [0.5, 0.5], 0)
    with pytest.raises(ValueError, match="kind"):
        LD.lambda_cr(1, 10, 1, "gaussian")
    with pytest.raises(ValueError, match="t must lie"):
        LD.lambda_cr(11, 10, 1)
    with pytest.raises(ValueError, match="weights\\[0\\]"):
        LD.network_lipschitz_l1([np.ones(3)])
    with pytest.raises(ValueError, match="labels"):
        LD.expected_calibration_error(np.eye(2), np.array([0, 2]))


def test_strategies_reject_bad_arguments():
    with pytest.raises(ValueError, match="min_classes"):
        categorical_distributions(min_classes=1)
    with pytest.raises(ValueError, match="max_classes"):
        categorical_distributions(min_classes=5, max_classes=3)
    with pytest.raises(ValueError, match="min_prob"):
        categorical_distributions(max_classes=10, min_prob=0.2)
    with pytest.raises(TypeError, match="n"):
        logits(n=2.5)
    with pytest.raises(ValueError, match="max_abs"):
        logits(max_abs=-1.0)
    with pytest.raises(ValueError, match="dim"):
        point_sets(dim=0)
    with pytest.raises(TypeError):
        categorical_distributions(2, 3)  # keyword-only


@given(data=st.data(), K=st.integers(2, 12))
def test_strategy_with_fixed_classes_draws_that_many(data, K):
    p = data.draw(categorical_distributions(classes=K, min_prob=0.5 / K))
    assert p.shape == (K,) and p.sum() == pytest.approx(1.0) and p.min() >= 0.5 / K - 1e-12


@given(p=categorical_distributions(min_prob=0.01, max_classes=8))
def test_strategy_respects_min_prob(p):
    assert p.min() >= 0.01 - 1e-12 and p.sum() == pytest.approx(1.0)


# --- pinned transcriptions: exact values at rational points, worked by hand from the printed formulas ---

def test_erm_bound_pinned_by_hand():
    # δ = 2/e makes log(2/δ) = 1; N = 80, K = 5, N^r = 2, κ = 2: sqrt(2·2·2·5/80) = sqrt(1/2)
    d = 2 / math.e
    conc = math.sqrt(0.5)
    # ξ_5 (∞-norm) = 1 + 5·(4/5) = 5; (1-norm) = 1 + 5·(8/5) = 9; (2-norm) = 1 + 5·sqrt(4/5) = 1 + 2√5
    assert LD.erm_bound(80, 5, 2, 2.0, d, 1.0, 0.5, 0.25, math.inf) == pytest.approx(conc + 0.5 * 5 + 0.25, rel=1e-12)
    assert LD.erm_bound(80, 5, 2, 2.0, d, 1.0, 0.5, 0.25, 1) == pytest.approx(conc + 0.5 * 9 + 0.25, rel=1e-12)
    assert LD.erm_bound(80, 5, 2, 2.0, d, 1.0, 0.5, 0.25, 2) == pytest.approx(
        conc + 0.5 * (1 + 2 * math.sqrt(5)) + 0.25, rel=1e-12)
    # δ = 1/2: log 4; N = 100, K = 2, one cell, κ = 1, no Lipschitz terms: sqrt(4 log 4/100) = 0.2 sqrt(log 4)
    assert LD.erm_bound(100, 2, 1, 1.0, 0.5, 0.0, 0.3, 0.0) == pytest.approx(0.2 * math.sqrt(math.log(4)), rel=1e-12)


def test_sibling_bound_and_lemma_a1_pinned_by_hand():
    assert LD.sibling_bound(3, 6, 2 / math.e) == pytest.approx(1.0, rel=1e-12)      # sqrt(2·3/6 · 1)
    assert LD.sibling_bound(2, 16, 2 / math.e ** 4) == pytest.approx(1.0, rel=1e-12)  # sqrt(4/16 · 4)
    assert LD.lemma_a1_bound(0.5, 0.3) == pytest.approx(0.3, rel=1e-12)              # 2 · 0.5 · 0.3
    assert LD.lemma_a1_bound(0.5, 0.3, 4) == pytest.approx(0.225, rel=1e-12)         # 2 · 3/4 · 0.15
    assert LD.lemma_a1_bound(0.5, 0.3, 1) == 0.0                                      # a cell of one input
    with pytest.raises(ValueError, match="n_cell"):
        LD.lemma_a1_bound(0.5, 0.3, 0)
