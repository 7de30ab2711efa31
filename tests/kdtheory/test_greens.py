"""Tests of kdtheory.greens (paper 002, eq. 57 and the sympy Green's-function constructor)."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

from kdtheory import greens as gr
from kdtheory.testing.self_distillation import green_gram_matrices

X, T = gr.X, gr.T
unit = st.floats(0.0, 1.0)


@given(unit, unit)
def test_spline_green_symmetric_nonnegative_pinned(x, t):
    g = gr.spline_green(x, t)
    assert g == pytest.approx(gr.spline_green(t, x), abs=1e-15)
    assert g >= -1e-16
    assert gr.spline_green(0.0, t) == 0 and gr.spline_green(1.0, t) == 0


@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95))
def test_spline_green_is_fundamental_solution_by_finite_differences(x, t):
    # independent of sympy: 4th difference vanishes off the diagonal, g''' jumps by 1 at x = t, g'' = 0 at ends
    h = 1e-3
    if abs(x - t) > 5 * h:
        d4 = sum(c * gr.spline_green(x + k * h, t) for k, c in zip(range(-2, 3), (1, -4, 6, -4, 1))) / h**4
        assert abs(d4) < 1e-3
    d3 = lambda z: (gr.spline_green(z + 1.5 * h, t) - 3 * gr.spline_green(z + 0.5 * h, t)  # noqa: E731
                    + 3 * gr.spline_green(z - 0.5 * h, t) - gr.spline_green(z - 1.5 * h, t)) / h**3
    assert d3(t + 3 * h) - d3(t - 3 * h) == pytest.approx(1.0, abs=1e-6)
    d2_end = (gr.spline_green(1.0, t) - 2 * gr.spline_green(1 - h, t) + gr.spline_green(1 - 2 * h, t)) / h**2
    assert abs(d2_end) < 5e-3


def test_derived_spline_green_equals_eq57_and_passes_checks():
    g = gr.spline_green_symbolic()
    assert all(v == 0 for v in gr.matches_eq57(g).values())
    assert gr.check_ode(g) and gr.check_jumps(g) and gr.check_symmetry(g)
    assert all(gr.check_boundary(g).values())
    xs = np.random.default_rng(0).uniform(0, 1, (50, 2))
    np.testing.assert_allclose(g(xs[:, 0], xs[:, 1]), gr.spline_green(xs[:, 0], xs[:, 1]), atol=1e-15)


def test_checks_can_fail():
    g = gr.spline_green_symbolic()
    bad = gr.GreenFunction(left=g.left * 2, right=g.right, weights=g.weights, bcs=g.bcs, numpy=g.numpy)
    assert not gr.check_jumps(bad) and not gr.check_symmetry(bad)
    bad2 = gr.GreenFunction(left=g.left + X**4, right=g.right + X**4, weights=g.weights, bcs=g.bcs, numpy=g.numpy)
    assert not gr.check_ode(bad2) and not all(gr.check_boundary(bad2).values())
    assert gr.matches_eq57(bad)["x<t"] != 0


def test_first_order_dirichlet_is_brownian_bridge():
    g = gr.green_function({1: 1}, [(0, 0), (1, 0)])  # L = −D²: g = min(x,t) − x t
    assert sp.expand(g.left - (X - X * T)) == 0 and sp.expand(g.right - (T - X * T)) == 0


def test_mixed_order_known_closed_form():
    g = gr.green_function({0: 1, 1: 1}, [(0, 0), (1, 0)])  # L = 1 − D²: sinh(min) sinh(1 − max)/sinh(1)
    xs = np.random.default_rng(1).uniform(0, 1, (40, 2))
    lo, hi = xs.min(1), xs.max(1)
    np.testing.assert_allclose(g(xs[:, 0], xs[:, 1]), np.sinh(lo) * np.sinh(1 - hi) / np.sinh(1), rtol=1e-10)
    assert gr.check_ode(g) and gr.check_jumps(g) and gr.check_symmetry(g) and all(gr.check_boundary(g).values())


def test_clamped_spline_checks():
    g = gr.green_function({2: 1}, [(0, 0), (1, 0), (0, 1), (1, 1)])
    assert gr.check_ode(g) and gr.check_jumps(g) and gr.check_symmetry(g) and all(gr.check_boundary(g).values())
    assert gr.check_gram_pd(g, [0.1, 0.4, 0.5, 0.8])


@given(green_gram_matrices(min_points=2, max_points=10))
def test_gram_on_interior_points_is_pd(pair):
    x, G = pair
    assert np.linalg.eigvalsh(G)[0] > 0
    np.testing.assert_allclose(G * len(x), gr.spline_green(x[:, None], x[None, :]))


def test_exact_gram_pd_and_bad_inputs():
    g = gr.spline_green_symbolic()
    assert gr.check_gram_pd(g, [sp.Rational(1, 7), sp.Rational(1, 2), sp.Rational(5, 6)])
    with pytest.raises(ValueError, match="distinct"):
        gr.check_gram_pd(g, [0.5, 0.5])
    with pytest.raises(ValueError, match="open interval"):
        gr.check_gram_pd(g, [0.0, 0.5])
    with pytest.raises(ValueError, match="x must lie in"):
        gr.spline_green(1.5, 0.2)
    with pytest.raises(ValueError, match="t contains"):
        gr.spline_green(0.5, np.nan)
    with pytest.raises(ValueError, match="needs exactly 4"):
        gr.green_function({2: 1}, [(0, 0), (1, 0)])
    with pytest.raises(ValueError, match="point must be 0 or 1"):
        gr.green_function({1: 1}, [(0, 0), (2, 0)])
    with pytest.raises(ValueError, match="weights"):
        gr.green_function({1: -1}, [(0, 0), (1, 0)])
    with pytest.raises(ValueError, match="do not determine"):
        gr.green_function({1: 1}, [(0, 1), (1, 1)])  # Neumann: constants are in the null space


@pytest.mark.parametrize("weights, bcs", [
    ({0: 2, 1: 3, 2: 1}, [(0, 0), (1, 0), (0, 2), (1, 2)]),   # real roots ±1, ±√2
    ({0: 1, 1: 2, 2: 1}, [(0, 0), (1, 0), (0, 2), (1, 2)]),   # double roots ±1 (x·e^{±x} terms)
    ({1: 1, 2: 1}, [(0, 0), (1, 0), (0, 1), (1, 1)]),         # roots 0, 0, ±1, clamped ends
])
def test_general_order2_weights(weights, bcs):
    # every symbolic check on a transcendental (non-polynomial) Green's function, and independently of sympy:
    # the Gram matrix of the numpy callable against a finite-difference inverse of L = Σ w_j(−1)^j D^{2j}
    g = gr.green_function(weights, bcs)
    assert gr.check_ode(g) and gr.check_jumps(g) and gr.check_symmetry(g) and all(gr.check_boundary(g).values())
    assert gr.check_gram_pd(g, [0.1, 0.35, 0.6, 0.9])
    n = 400
    h = 1.0 / n
    xs = np.arange(n + 1) * h
    # L on the grid: w0 I − w1 D2 + w2 D4 with the BCs imposed by ghost-free one-sided rows (second order)
    N = n + 1
    I = np.eye(N)
    D2 = (np.eye(N, k=1) - 2 * I + np.eye(N, k=-1)) / h**2
    L = weights.get(0, 0) * I - weights.get(1, 0) * D2 + weights.get(2, 0) * (D2 @ D2)
    Gfd = _fd_inverse(L, h, bcs, [0, N - 1, 1, N - 2])  # δ(x − x_k) on the grid
    k = np.array([80, 200, 330])
    np.testing.assert_allclose(Gfd[np.ix_(k, k)], g(xs[k][:, None], xs[k][None, :]), rtol=2e-2, atol=1e-5)


def test_non_self_adjoint_bcs_fail_symmetry():
    # free end for w1 f'² + w2 f''²: the natural conditions are f''(1) = 0 and w1 f'(1) − w2 f'''(1) = 0, so
    # f''(1) = f'''(1) = 0 leaves a boundary term: a Green's function exists but is not symmetric, and the check
    # must say so; with w1 = 0 the same conditions are natural and g is symmetric
    bcs = [(0, 0), (0, 1), (1, 2), (1, 3)]
    assert not gr.check_symmetry(gr.green_function({1: 1, 2: 1}, bcs, allow_nonsymmetric=True))
    with pytest.raises(ValueError, match="self-adjoint"):  # rejected when built (no silent causal kernel)
        gr.green_function({1: 1, 2: 1}, bcs)
    causal = gr.green_function({1: 1, 2: 1}, bcs, allow_nonsymmetric=True)
    with pytest.raises(ValueError, match="not symmetric"):  # gram does not symmetrise it either
        gr.gram([0.2, 0.5, 0.8], causal)
    g = gr.green_function({2: 1}, bcs)
    assert gr.check_symmetry(g) and gr.check_ode(g) and gr.check_jumps(g) and all(gr.check_boundary(g).values())


def test_transcendental_zero_test_can_fail():
    g = gr.green_function({0: 2, 1: 3, 2: 1}, [(0, 0), (1, 0), (0, 2), (1, 2)])
    bad = gr.GreenFunction(left=g.left * (1 + sp.Rational(1, 10**6)), right=g.right, weights=g.weights,
                           bcs=g.bcs, numpy=g.numpy)
    assert not gr.check_jumps(bad) and not gr.check_symmetry(bad)
    assert not all(gr.check_boundary(
        gr.GreenFunction(left=g.left + sp.exp(X) * T, right=g.right, weights=g.weights, bcs=g.bcs,
                         numpy=g.numpy)).values())


@pytest.mark.parametrize("weights, bcs", [
    ({0: 4, 2: 1}, [(0, 0), (1, 0), (0, 1), (1, 1)]),   # ∫f''² + 4f², clamped: complex roots ±1 ± i
    ({3: 1}, [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]),   # ∫(f''')², order 6 (polynomial pieces)
])
def test_complex_roots_and_order_six(weights, bcs):
    # complex characteristic roots (r⁴ + 4 = 0: e^{±x}cos x, e^{±x}sin x) and an operator of order 6: every
    # symbolic check, and independently the Gram matrix against a finite-difference inverse of L
    g = gr.green_function(weights, bcs)
    assert gr.check_ode(g) and gr.check_jumps(g) and gr.check_symmetry(g) and all(gr.check_boundary(g).values())
    assert gr.check_gram_pd(g, [0.15, 0.4, 0.55, 0.85])
    n = 300
    h = 1.0 / n
    N = n + 1
    xs = np.arange(N) * h
    I = np.eye(N)
    D2 = (np.eye(N, k=1) - 2 * I + np.eye(N, k=-1)) / h**2
    L = weights.get(0, 0) * I + weights.get(2, 0) * (D2 @ D2) - weights.get(3, 0) * (D2 @ D2 @ D2)
    # f = f' (= f'') = 0 at both ends by one-sided rows on the first/last nodes (rows in the order of bcs)
    Gfd = _fd_inverse(L, h, bcs, [0, N - 1, 1, N - 2, 2, N - 3][:len(bcs)])
    k = np.array([75, 150, 225])
    exact = g(xs[k][:, None], xs[k][None, :])
    np.testing.assert_allclose(Gfd[np.ix_(k, k)], exact, rtol=3e-2, atol=1e-3 * float(np.max(np.abs(exact))))


def _fd_inverse(L, h, bcs, idx):
    """The grid Green's function: L with the rows ``idx`` replaced by one-sided BC rows, applied to δ/h."""
    N = L.shape[0]
    rows = {(0, 0): np.eye(N)[0], (1, 0): np.eye(N)[-1],
            (0, 1): np.r_[-1.5, 2, -0.5, np.zeros(N - 3)] / h, (1, 1): np.r_[np.zeros(N - 3), 0.5, -2, 1.5] / h,
            (0, 2): np.r_[2, -5, 4, -1, np.zeros(N - 4)] / h**2, (1, 2): np.r_[np.zeros(N - 4), -1, 4, -5, 2] / h**2}
    A = L.copy()
    for r, bc in zip(idx, bcs):
        A[r] = rows[tuple(bc)]
    rhs = np.eye(N) / h
    rhs[idx] = 0
    return np.linalg.solve(A, rhs)
