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


# ---------------------------------------------------------------------------------------------
# Theorem 4 at a non-degenerate point (μ ≠ 1, 𝓛 ≠ 1, L ≠ μ): the earlier pins used μ = L = 𝓛 = 1, where
# 𝓛² = 𝓛, γμ = γ and L − μ = 0, so a dropped 𝓛, μ or (L − μ) factor gave the same number (mutation survivors).

from fractions import Fraction as F  # noqa: E402

import numpy as np  # noqa: E402

_MU, _L, _CALL, _GAMMA = F(1, 2), F(2), F(3), F(1, 64)      # γ ≤ 1/(16𝓛) = 1/48
_G0 = np.array([[1.0], [-1.0]])   # per-sample gradients at x*: mean 0
_G1 = np.array([[2.0], [0.0]])    # at θ: ∇f(θ) = 1, ‖∇f(θ)‖² = 1, E⟨g0, g1⟩ = 1, E‖g1‖² = 2


def _noise(lam):  # E‖g0 − λ g1‖² = ½[(1 − 2λ)² + 1]
    return F(1, 2) * ((1 - 2 * lam) ** 2 + 1)


def _omega_max(gamma, mu, L, calL):  # App. E.2: 2γA + α(L − μ) ≤ ½, α = 2ω/μ, A = 2𝓛 + (𝓛² + 1/γ²)α
    # 2γ·2𝓛 + 2γ(𝓛² + 1/γ²)(2ω/μ) + (2ω/μ)(L − μ) ≤ ½  ⇔  ω ≤ (μ/2)(½ − 4γ𝓛)/(2γ𝓛² + 2/γ + L − μ)
    return mu / 2 * (F(1, 2) - 4 * gamma * calL) / (2 * gamma * calL**2 + 2 / gamma + L - mu)


def _f(*xs):
    return tuple(float(x) for x in xs)


def test_pinned_theorem4_omega_max_non_degenerate():
    w = _omega_max(_GAMMA, _MU, _L, _CALL)
    assert w == F(5, 8306)    # (1/4)(1/2 − 3/16)/(9/32 + 128 + 3/2) = (5/64)/(8306/64)
    assert vr.theorem4_omega_max(*_f(_GAMMA, _MU, _L, _CALL)) == pytest.approx(float(w), rel=1e-12)


@pytest.mark.parametrize("lam", [F(1, 4), F(3, 2), None])
def test_pinned_theorem4_bound_non_degenerate(lam):
    t, omega, d0, xs2 = 3, F(1, 2000), F(3), F(2)
    assert omega < _omega_max(_GAMMA, _MU, _L, _CALL)
    mu, L, calL, gamma = _MU, _L, _CALL, _GAMMA
    c = 2 * mu                                        # Lemma 1 as applied in App. E.2
    # λ* = argmin λ²‖∇f(θ)‖² + cγE‖g0 − λg1‖² = cγE⟨g0, g1⟩/(‖∇f(θ)‖² + cγE‖g1‖²) = cγ/(1 + 2cγ)
    lam_used = c * gamma / (1 + 2 * c * gamma) if lam is None else lam
    N3 = lam_used**2 * 1 + c * gamma * _noise(lam_used)   # = λ²‖∇f(θ)‖² + 2γμ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²
    nu = 2 * omega * xs2
    inner = (1 - gamma * mu) ** t * d0 + nu / mu * (2 * gamma * calL**2 + 2 / gamma + L - mu) + 2 / mu**2 * N3
    exact = (2 * omega + 1) * inner + 2 * omega * xs2
    got = vr.theorem4_bound(t, *_f(gamma, mu, L, calL, omega, d0, xs2), _G0, _G1,
                            lam=None if lam is None else float(lam))
    assert got == pytest.approx(float(exact), rel=1e-12)
    # the 2γ𝓛² term alone moves the value by more than the tolerance (it is not lost in round-off)
    assert float((2 * omega + 1) * nu / mu * 2 * gamma * calL**2 * (1 - 1 / calL)) > 1e-9 * float(exact)


def test_pinned_theorem4_one_step_bound_non_degenerate():
    mu, L, calL, gamma = _MU, _L, _CALL, _GAMMA
    omega, e, xs2, lam, gs, nz = F(1, 2000), F(3), F(2), F(1, 4), F(5, 7), F(3, 11)
    nu = 2 * omega * xs2
    B = (calL**2 + 1 / gamma**2) * nu
    D = 2 * gamma**2 * B + gamma * (L - mu) * nu + 2 * gamma / mu * (lam**2 * gs + 2 * gamma * mu * nz)
    exact = (1 - gamma * mu) * e + D
    # by hand: (1 − γμ)e = (127/128)·3, ν = 1/500, 2γ²B = 2(9/4096 + 1)/500, γ(L − μ)ν = (3/128)/500,
    # (2γ/μ)λ²‖∇f(θ)‖² = (1/16)(5/112), (2γ/μ)·2γμ·noise = 4γ²·(3/11)
    assert exact == F(381, 128) + F(4105, 1024000) + F(3, 64000) + F(5, 1792) + F(3, 11264)
    got = vr.theorem4_one_step_bound(*_f(e, gamma, mu, L, calL, omega, xs2, lam, gs, nz))
    assert got == pytest.approx(float(exact), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# calL_ms (the (39) constant) at a data scale ≠ 1 (max|A| = 4): by hand and by enumerating every batch


def test_pinned_calL_ms_least_squares_by_hand():
    # A = diag(2, 4), N = 2: H = (2/N)AᵀA = diag(4, 16); H_n = 2a_na_nᵀ: diag(8, 0), diag(0, 32);
    # M = (1/N)ΣH_n² = diag(32, 512). b = 1 (c_b = 1): Q = M → calL_ms = √512 = 16√2, 𝓛 = max(32/4, 512/16) = 32.
    # b = 2 with replacement (c_b = 1/2): Q = H² + ½(M − H²) = diag(24, 384) → calL_ms = √384 = 8√6, 𝓛 = 24.
    A = [[2.0, 0.0], [0.0, 4.0]]
    k1 = vr.expected_smoothness("least_squares", A, batch_size=1)
    k2 = vr.expected_smoothness("least_squares", A, batch_size=2)
    assert k1.calL_ms == pytest.approx(16 * 2**0.5, rel=1e-12) and k1.calL == pytest.approx(32.0, rel=1e-12)
    assert k2.calL_ms == pytest.approx(8 * 6**0.5, rel=1e-12) and k2.calL == pytest.approx(24.0, rel=1e-12)
    assert (k1.mu, k1.L, k1.L_max) == pytest.approx((4.0, 16.0, 32.0), rel=1e-12)


@pytest.mark.parametrize("b,sampling", [(1, "with_replacement"), (2, "with_replacement"), (2, "without_replacement")])
def test_pinned_calL_ms_least_squares_by_enumeration(b, sampling):
    # a non-diagonal A with max|A| = 4: Q = E_B[H_B²], H_B = mean of H_n = 2a_na_nᵀ over the batch, by listing
    # every batch (ordered tuples with replacement, subsets without), in exact fractions
    import itertools

    A = [[1, 4], [2, -1], [0, 3]]
    Hn = [[[2 * F(a[i]) * a[j] for j in range(2)] for i in range(2)] for a in A]
    batches = (list(itertools.product(range(3), repeat=b)) if sampling == "with_replacement"
               else list(itertools.combinations(range(3), b)))
    Q = [[F(0)] * 2 for _ in range(2)]
    for B in batches:
        HB = [[sum(Hn[n][i][j] for n in B) / b for j in range(2)] for i in range(2)]
        for i in range(2):
            for j in range(2):
                Q[i][j] += sum(HB[i][k] * HB[k][j] for k in range(2)) / len(batches)
    # λ_max of the symmetric 2×2 [[p, q], [q, r]]: (p + r)/2 + √(((p − r)/2)² + q²)
    p, q, r = Q[0][0], Q[0][1], Q[1][1]
    lmax = float((p + r) / 2) + float(((p - r) / 2) ** 2 + q * q) ** 0.5
    k = vr.expected_smoothness("least_squares", np.array(A, dtype=float), batch_size=b, sampling=sampling)
    assert k.calL_ms == pytest.approx(lmax**0.5, rel=1e-10)


def test_pinned_calL_ms_logistic_by_hand():
    # logistic, A = diag(2, 4): L = λ_max(AᵀA/N)/4 = 8/4 = 2, L_max = 16/4 = 4; calL_ms = √(L_max·𝓛):
    # b = 1: 𝓛 = L_max = 4 → 4;  b = 2 with replacement: 𝓛 = ½L + ½L_max = 3 → 2√3
    A = [[2.0, 0.0], [0.0, 4.0]]
    k1 = vr.expected_smoothness("logistic", A, batch_size=1, x_star=[0.0, 0.0])
    k2 = vr.expected_smoothness("logistic", A, batch_size=2, x_star=[0.0, 0.0])
    assert k1.calL_ms == pytest.approx(4.0, rel=1e-12) and k2.calL_ms == pytest.approx(2 * 3**0.5, rel=1e-12)
    assert k2.calL == pytest.approx(3.0, rel=1e-12)


def test_pinned_logistic_local_mu_at_data_scale_four():
    # μ = λ_min of the logistic Hessian (1/N)Σ σ(z_n)(1 − σ(z_n)) a_na_nᵀ at x*, A = diag(2, 4) (max|A| = 4):
    # x* = 0: σ(1−σ) = 1/4 → H = ½·¼·diag(4, 16) = diag(1/2, 2), μ = 1/2;
    # x* = (ln 3 / 2, 0): z = (ln 3, 0), σ(ln 3) = 3/4 → weights (3/16, 1/4), H = diag(3/8, 2), μ = 3/8
    import math

    A = [[2.0, 0.0], [0.0, 4.0]]
    assert vr.expected_smoothness("logistic", A, x_star=[0.0, 0.0]).mu == pytest.approx(0.5, rel=1e-12)
    assert vr.expected_smoothness("logistic", A, x_star=[math.log(3) / 2, 0.0]).mu == pytest.approx(0.375, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# survivors of a 40-mutant sample of the module (seed 7): terms the earlier pins multiplied by 0


def test_pinned_descent_step_bound_with_the_f_gap_and_pl_terms_alive():
    # the earlier pins sat at γ = 1/(4𝓛) (sqc) and γ = μ/(4L𝓛) (PL), where 1 − 4γ𝓛 = 0 and 1 − 4γL𝓛/μ = 0
    e, fg, mu, calL, L, lam, gs, nz = F(2), F(1, 3), F(1, 2), F(4), F(3), F(1, 4), F(5, 7), F(3, 11)
    g = F(1, 32)                       # 1 − 4γ𝓛 = 1/2
    sqc = (1 - g * mu) * e - g * F(1, 2) * fg + 8 * g / mu * lam**2 * gs + 2 * g**2 * nz
    got = vr.descent_step_bound(*_f(e, fg, g, mu, calL, lam, gs, nz))
    assert got == pytest.approx(float(sqc), rel=1e-12)
    gp = mu / (8 * L * calL)           # 1 − 4γL𝓛/μ = 1/2: (1 − γμ)e − (γμ/2)(1/2)e + γλ²‖∇f(θ)‖² + Lγ²·noise
    pl = (1 - gp * mu) * e - gp * mu / 4 * e + gp * lam**2 * gs + L * gp**2 * nz
    got = vr.descent_step_bound(*_f(e, 0, gp, mu, calL, lam, gs, nz), setting="pl", L=float(L))
    assert got == pytest.approx(float(pl), rel=1e-12)


def test_pinned_theorem1_rate_bound_without_noise_at_the_optimum():
    # σ*² = 0: only the transient (1 − γμ)^t‖x⁰ − x*‖² is left; γμ = 1/16, t = 3, d0 = 5
    t, g, mu, L, calL, d0 = 3, F(1, 8), F(1, 2), F(3), F(4), F(5)
    got = vr.theorem1_rate_bound(t, *_f(g, mu, L, calL, d0, 0, 9, F(1, 10)))
    assert got == pytest.approx(float((1 - g * mu) ** t * d0), rel=1e-12)


def test_pinned_direction_variance_at_gradient_scale_three():
    # g = g_x − λg_θ with g_x = (3, 1), g_θ = (1, −1), λ = 2: g = (1, 3), mean 2, variance ((−1)² + 1²)/2 = 1;
    # a batch of b with replacement divides by b. max|g| = 3 and |λ| = 2: the internal rescaling is by 6.
    gx, gt = np.array([[3.0], [1.0]]), np.array([[1.0], [-1.0]])
    assert vr.direction_variance(gx, gt, 2.0) == pytest.approx(1.0, rel=1e-12)
    assert vr.direction_variance(gx, gt, 2.0, batch_size=2) == pytest.approx(0.5, rel=1e-12)
    # λ = 1/2: g = (5/2, 3/2), variance 1/4
    assert vr.direction_variance(gx, gt, 0.5) == pytest.approx(0.25, rel=1e-12)


def test_minimizer_softmax_returned_with_columns_summing_to_zero():
    # the docstring's representative: f is invariant to adding one vector to every column, x* is the centred one
    rng = np.random.default_rng(0)
    A = vr.lift(rng.normal(size=(12, 2)))
    y = np.arange(12) % 3
    # from x0 = 0 the iterates never leave the centred subspace (every gradient has zero row sums), so start off it
    for x0 in (None, np.ones((A.shape[1], 3))):
        X = vr.minimizer("softmax", A, y, K=3, x0=x0)
        assert np.abs(X.sum(axis=1)).max() < 1e-9 * max(1.0, np.abs(X).max())


def test_logistic_recession_lp_by_hand():
    # one hard label 1 at a = −1: w = −1 has margin wᵀa = 1 > 0 (needs a negative component within the box [−1, 1])
    assert vr._logistic_recedes(np.array([[-1.0]]), np.array([1.0]))
    # one hard label 1 at a = 1: w = 1, recedes; with a soft label 1/2 at the same a, wᵀa = 0 is forced: no recession
    assert vr._logistic_recedes(np.array([[1.0]]), np.array([1.0]))
    assert not vr._logistic_recedes(np.array([[1.0], [1.0]]), np.array([1.0, 0.5]))
    # labels 1 and 0 at the same a: w > 0 and w < 0 at once, not separable (label 0 enters with y = −1)
    assert not vr._logistic_recedes(np.array([[1.0], [1.0]]), np.array([1.0, 0.0]))
    # only soft labels: never separable
    assert not vr._logistic_recedes(np.array([[1.0], [2.0]]), np.array([0.5, 0.25]))


def test_optimal_lambda_is_one_for_an_interpolating_teacher():
    # every teacher gradient 0: N(λ) is constant and the docstring's value for an optimal teacher is 1
    g0 = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert vr.optimal_lambda(g0, np.zeros_like(g0), 0.1, 1.0) == 1.0
    assert vr.optimal_lambda(g0, np.zeros_like(g0), 0.1, 1.0, clip=True) == 1.0


def test_softmax_hessian_by_hand():
    # x = 0, K = 2: p = (½, ½), S = diag(p) − ppᵀ = ¼[[1, −1], [−1, 1]]; A = (1, 2)ᵀ (d = 1, N = 2):
    # H = (1/N) Σ kron(a_na_nᵀ, S) = ½(1 + 4)·S = (5/8)[[1, −1], [−1, 1]]
    H = vr._hessian("softmax", np.zeros((1, 2)), np.array([[1.0], [2.0]]))
    np.testing.assert_allclose(H, 0.625 * np.array([[1.0, -1.0], [-1.0, 1.0]]), rtol=1e-12)


def test_sin_pl_mu_against_a_brute_force_grid():
    # c = (−0.3, 0.5): f* > 0, so a slip in f − f* would show; μ = inf f'²/(2(f − f*)) by a plain grid
    c = np.array([-0.3, 0.5])
    k = vr.sin_pl_constants(c)
    x = np.linspace(-12.0, 12.0, 480001)
    f = np.mean(vr.sin_pl_losses(x, c), axis=-1)
    g = np.mean(vr.sin_pl_gradients(x, c), axis=-1)
    fs = f.min()
    assert k.f_star == pytest.approx(fs, abs=1e-8) and fs > 0.1
    keep = np.abs(x - x[np.argmin(f)]) > 1e-2
    mu = np.min(g[keep] ** 2 / (2 * (f[keep] - fs)))
    assert k.mu == pytest.approx(mu, rel=1e-3)


def test_logistic_softmax_losses_and_full_gradient_by_hand():
    import math

    # logistic f_n = log(1 + e^z) − b z at z = aᵀx = 2, b = 1: log(1 + e²) − 2
    assert vr.per_sample_losses("logistic", np.array([1.0]), np.array([[2.0]]), np.array([1.0]))[0] == \
        pytest.approx(math.log1p(math.exp(2.0)) - 2.0, rel=1e-12)
    # soft-max f_n = logsumexp(z) − Σ_k b_k z_k at z = (0, 1): label class 0 → log(1 + e); class 1 → log(1 + e) − 1
    X1 = np.array([[0.0, 1.0]])
    f = vr.per_sample_losses("softmax", X1, np.array([[1.0], [1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(f, [math.log1p(math.e), math.log1p(math.e) - 1.0], rtol=1e-12)
    # least squares ∇f_n = 2(aᵀx − b)a at x = 1, a = (1, 3), b = 0: (2, 18), mean 10 (gradient scale 18)
    g = vr.full_gradient("least_squares", np.array([1.0]), np.array([[1.0], [3.0]]), np.array([0.0, 0.0]))
    assert g[0] == pytest.approx(10.0, rel=1e-12)
