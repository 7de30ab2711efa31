"""Green's functions of quadratic regularisers on [0, 1] (paper 002, Sec. 4 and eq. 15/57).

Statement
---------
For ``R(f) = ∫₀¹ Σ_j w_j (f^(j))² dx`` with constant weights and homogeneous boundary conditions that make the
boundary terms of the integration by parts vanish, ``R(f) = ⟨f, L f⟩`` with
``L = Σ_j w_j (−1)^j D^{2j}`` (order 2m, m the highest order with w_m ≠ 0). The Green's function
``L g(·, t) = δ(· − t)`` (eq. 15) is, on each side of ``x = t``, a solution of ``L g = 0``; the 4m constants
follow from continuity of ``g, g', …, g^(2m−2)`` at ``x = t``, the jump ``[g^(2m−1)] = 1/(w_m (−1)^m)`` and
the 2m boundary conditions. :func:`green_function` does exactly that with sympy and returns the pieces and
a vectorized numpy callable. For ``R = ∫(f'')²`` with ``f(0) = f(1) = f''(0) = f''(1) = 0`` it reproduces eq.
(57) exactly (checked by :func:`matches_eq57`), and :func:`spline_green` is eq. (57) itself.

Source
------
Paper 002, eqs. (4), (15), (53)–(57) and footnote 5 (``U = Σ_j w_j P_j* P_j``).

References
----------
D. Duffy, Green's Functions with Applications, CRC 2001 (jump conditions).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from kdtheory import validation as V

__all__ = [
    "spline_green", "spline_green_expr", "GreenFunction", "green_function", "spline_green_symbolic",
    "check_ode", "check_jumps", "check_boundary", "check_symmetry", "check_gram_pd", "matches_eq57", "gram",
]

X, T = sp.symbols("x t", real=True)


def spline_green(x, t) -> np.ndarray:
    """Eq. (57): ``g(x, t) = max((x − t)³, 0)/6 − x(1 − t)(x² − 2t + t²)/6``, broadcast over ``x`` and ``t``.

    The Green's function of ``R(f) = ∫₀¹ (f'')²`` with ``f(0) = f(1) = f''(0) = f''(1) = 0`` (L = D⁴):
    symmetric, ≥ 0 on [0, 1]², zero when x or t is 0 or 1. Points outside [0, 1] are an error.
    """
    x = V.as_array("x", x)
    t = V.as_array("t", t)
    try:
        np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(f"x and t must broadcast together, got shapes {x.shape} and {t.shape}") from None
    for name, a in (("x", x), ("t", t)):
        if a.size and (a.min() < 0 or a.max() > 1):
            raise ValueError(f"{name} must lie in [0, 1] (the domain of eq. 57), got range "
                             f"[{a.min():.6g}, {a.max():.6g}]")
    g = np.maximum(x - t, 0.0) ** 3 / 6.0 - x * (1.0 - t) * (x * x - 2.0 * t + t * t) / 6.0
    # exactly 0 on the boundary (eq. 55 pins f(0) = f(1) = 0); the formula leaves ~1e-19 round-off at x = 1
    return np.where((x > 0) & (x < 1) & (t > 0) & (t < 1), g, 0.0)


def spline_green_expr() -> sp.Piecewise:
    """Eq. (57) as a sympy Piecewise in (x, t) (for comparison with the derived Green's function)."""
    common = -X * (1 - T) * (X**2 - 2 * T + T**2) / 6
    return sp.Piecewise((common, X < T), ((X - T) ** 3 / 6 + common, True))


def gram(points, kernel: Callable = spline_green, *, scale: float | None = None) -> np.ndarray:
    """``G[j, k] = g(x_j, x_k)/K`` (eq. 16) for 1-D points; ``scale`` overrides the 1/K factor."""
    x = V.as_array("points", points, ndim=1)
    K = x.shape[0]
    if K == 0:
        raise ValueError("points must be non-empty")
    s = 1.0 / K if scale is None else V.positive("scale", scale)
    V.function("kernel", kernel)
    try:
        out = kernel(x[:, None], x[None, :])
    except (ValueError, TypeError) as exc:  # e.g. points outside the kernel's domain
        raise type(exc)(f"kernel rejected points: {exc}") from exc
    G = s * V.callable_output("kernel", out, shape=(K, K))
    asym = float(np.max(np.abs(G - G.T))) if K > 1 else 0.0
    if asym > 1e-10 * max(float(np.max(np.abs(G))), 1e-300):
        raise ValueError(f"kernel is not symmetric on these points (max |g(x_j, x_k) - g(x_k, x_j)|/K = {asym:.3g}): "
                         "not the Green's function of a self-adjoint problem, so no Gram matrix (eq. 16) exists")
    return 0.5 * (G + G.T)  # removes round-off only


# ------------------------------------------------------------------------------------ sympy constructor
@dataclasses.dataclass(frozen=True)
class GreenFunction:
    """A Green's function on [0, 1]: ``left`` for x < t, ``right`` for x > t (sympy in ``x``, ``t``).

    ``weights``: {order j: w_j}; ``bcs``: tuple of (end point 0|1, derivative order); ``numpy(x, t)``: fast
    vectorized callable (broadcasting).
    """

    left: sp.Expr
    right: sp.Expr
    weights: Mapping[int, sp.Expr]
    bcs: tuple[tuple[int, int], ...]
    numpy: Callable[[np.ndarray, np.ndarray], np.ndarray]

    @property
    def order(self) -> int:
        return 2 * max(self.weights)

    @property
    def expr(self) -> sp.Piecewise:
        return sp.Piecewise((self.left, X < T), (self.right, True))

    def operator(self, f: sp.Expr) -> sp.Expr:
        """``L f = Σ_j w_j (−1)^j f^(2j)`` (the operator of the regulariser, footnote 5)."""
        return sum(w * (-1) ** j * sp.diff(f, X, 2 * j) for j, w in self.weights.items())

    def __call__(self, x, t) -> np.ndarray:
        return self.numpy(x, t)


def _weights(weights) -> dict[int, sp.Expr]:
    if not isinstance(weights, Mapping) or not weights:
        raise TypeError(f"weights must be a non-empty mapping {{derivative order j: w_j}}, got {weights!r:.40}")
    out = {}
    for j, w in weights.items():
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or j < 0:
            raise ValueError(f"weights keys must be derivative orders j >= 0, got {j!r}")
        if isinstance(w, (bool, np.bool_, complex, np.complexfloating)) or w is None:
            raise TypeError(f"weights[{j}] must be a real number >= 0, got {type(w).__name__}")
        if isinstance(w, (int, float, np.integer, np.floating)):
            w0 = w
            V.nonnegative(f"weights[{j}]", w0)
            w = sp.nsimplify(w0)
            if w == 0 and w0 != 0:  # nsimplify rounds tiny floats to 0: keep the exact binary value instead
                w = sp.Rational(float(w0))
        else:
            try:
                w = sp.sympify(w)
            except (sp.SympifyError, TypeError) as exc:
                raise TypeError(f"weights[{j}] must be a real number >= 0: {exc}") from None
        if not (w.is_real and w.is_nonnegative):
            raise ValueError(f"weights[{j}] must be a real number >= 0, got {w}")
        if w != 0:
            out[int(j)] = w
    if not out or max(out) < 1:
        raise ValueError("weights need some w_j > 0 with j >= 1 (a differential regulariser)")
    return out


def _real_basis(weights: dict[int, sp.Expr]) -> list[sp.Expr]:
    """Real fundamental solutions of Σ w_j (−1)^j D^{2j} g = 0 from the characteristic polynomial."""
    r = sp.Symbol("r")
    poly = sp.Poly(sum(w * (-1) ** j * r ** (2 * j) for j, w in weights.items()), r)
    roots = sp.roots(poly)
    if sum(roots.values()) != poly.degree():
        raise ValueError("could not find all roots of the characteristic polynomial in closed form")
    basis, seen = [], set()
    for root, mult in roots.items():
        root = sp.nsimplify(sp.simplify(root))
        a, b = sp.re(root), sp.im(root)
        if b != 0 and (a, -b) in seen:
            continue
        seen.add((a, b))
        for i in range(mult):
            if b == 0:
                basis.append(X**i * sp.exp(a * X))
            else:
                basis.append(X**i * sp.exp(a * X) * sp.cos(abs(b) * X))
                basis.append(X**i * sp.exp(a * X) * sp.sin(abs(b) * X))
    return basis


@functools.lru_cache(maxsize=32)
def _green_cached(wkey: tuple, bkey: tuple) -> tuple[sp.Expr, sp.Expr]:
    """Pieces (x < t, x > t). Written as ``g = Σ_i a_i(t) y_i(x) + H(x − t) φ(x − t)``: φ solves L φ = 0 with
    φ(0) = … = φ^(2m−2)(0) = 0, φ^(2m−1)(0) = 1/(w_m(−1)^m), which is exactly the continuity-and-jump
    conditions at x = t; the 2m boundary conditions then fix a(t) through a constant 2m × 2m matrix."""
    weights = dict(wkey)
    m = max(weights)
    n = 2 * m
    basis = _real_basis(weights)
    lead = weights[m] * (-1) ** m
    W0 = sp.Matrix(n, n, lambda k, i: sp.diff(basis[i], X, k).subs(X, 0))  # Wronskian at 0
    rhs = sp.zeros(n, 1)
    rhs[n - 1] = 1 / lead
    beta = W0.LUsolve(rhs)
    phi = sum(b * f for b, f in zip(beta, basis))  # φ(x)
    shifted = phi.subs(X, X - T)
    M = sp.Matrix(n, n, lambda r, i: sp.diff(basis[i], X, bkey[r][1]).subs(X, bkey[r][0]))
    if abs(complex(M.det().evalf(40))) < 1e-30 * max(1.0, float(max(abs(complex(e.evalf())) for e in M))):
        raise ValueError(f"boundary conditions {list(bkey)} do not determine a unique Green's function "
                         "(the operator has a null space under them)")
    b = sp.Matrix([-(sp.diff(shifted, X, k).subs(X, p) if p == 1 else 0) for p, k in bkey])
    a = M.LUsolve(b)
    left = sum(ai * f for ai, f in zip(a, basis))
    return _tidy(left), _tidy(left + shifted)


@functools.lru_cache(maxsize=32)
def _symmetric_cached(wkey: tuple, bkey: tuple) -> bool:
    left, right = _green_cached(wkey, bkey)
    return _is_zero(left - right.subs({X: T, T: X}, simultaneous=True))


def _tidy(e: sp.Expr) -> sp.Expr:
    """Polynomial pieces are expanded and factored (eq. 57 comes out in closed form); transcendental pieces
    (exp/cos/sin of the characteristic roots, e.g. any w_0 > 0) are left unexpanded: expanding products of the
    nested radicals of the roots blows the expression up by orders of magnitude (minutes to print/evaluate)."""
    if e.is_polynomial(X, T):
        return sp.factor(sp.expand(e))
    return e


# rational sample points for the identity test of transcendental expressions (fixed: reproducible)
_PTS = [(sp.Rational(2, 7), sp.Rational(5, 9)), (sp.Rational(3, 4), sp.Rational(1, 3)),
        (sp.Rational(1, 11), sp.Rational(7, 8)), (sp.Rational(13, 17), sp.Rational(3, 5)),
        (sp.Rational(1, 3), sp.Rational(1, 3) + sp.Rational(1, 97))]


def _is_zero(e: sp.Expr) -> bool:
    """Zero test of an exact sympy expression in (x, t).

    Polynomials: exact (expansion). Transcendental expressions (exp/cos/sin of the characteristic roots):
    evaluated at five fixed rational points with 60 significant digits (mpmath); zero iff every
    value is below 1e-40 relative to the expression's own scale (a non-zero exponential polynomial vanishes
    at all five generic points only by coincidence; a wrong piece, jump or boundary term gives O(1) values)."""
    if e == 0:
        return True
    if e.is_polynomial(X, T):
        return sp.expand(e) == 0
    free = e.free_symbols - {X, T}
    if free:
        raise ValueError(f"cannot test an expression with free symbols {free} for zero")
    terms = sp.Add.make_args(e)
    fs = [sp.lambdify((X, T), term, "mpmath", cse=True) for term in terms]  # evalf on big trees is far slower
    with mpmath.workdps(60):
        for a, b in _PTS:
            vals = [f(mpmath.mpf(a.p) / a.q, mpmath.mpf(b.p) / b.q) for f in fs]
            if not abs(mpmath.fsum(vals)) <= mpmath.mpf(10) ** -40 * max(1, mpmath.fsum(abs(u) for u in vals)):
                return False
    return True


def green_function(weights: Mapping[int, float], bcs: Sequence[tuple[int, int]], *,
                   allow_nonsymmetric: bool = False) -> GreenFunction:
    """Derive the Green's function of ``R(f) = ∫₀¹ Σ_j w_j (f^(j))²`` on [0, 1] with sympy.

    ``weights``: {j: w_j} with constant w_j ≥ 0 (e.g. ``{2: 1}`` for ∫(f'')², ``{0: 1, 1: 1}`` for
    ∫ f² + (f')²); ``bcs``: 2m homogeneous conditions ``(point, order)`` meaning ``f^(order)(point) = 0``,
    point ∈ {0, 1} (e.g. ``[(0, 0), (1, 0), (0, 2), (1, 2)]`` for eq. 55). The conditions must make the
    boundary terms of ``∫ f L f`` vanish for ``R(f) = ⟨f, Lf⟩`` to hold; that is the caller's choice (Dirichlet
    and ``f = f'' = 0`` ends do). Returns the pieces for x < t and x > t and a numpy callable.
    Boundary conditions that leave a boundary term give a causal, non-symmetric g (no kernel, no Gram matrix):
    that raises a ValueError when built (``allow_nonsymmetric=True`` returns it, for the symmetry checks).
    Source: paper 002, eq. (15); the jump conditions of a 2m-th order operator.
    """
    w = _weights(weights)
    m = max(w)
    if not isinstance(bcs, Sequence) or isinstance(bcs, str):
        raise TypeError(f"bcs must be a sequence of (point, order) pairs, got {type(bcs).__name__}")
    bkey = []
    for bc in bcs:
        if not (isinstance(bc, (tuple, list)) and len(bc) == 2):
            raise TypeError(f"bcs: each boundary condition must be a (point, order) pair, got {bc!r}")
        p, k = bc
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)) or p not in (0, 1):
            raise ValueError(f"bcs: boundary condition point must be 0 or 1, got {p!r}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < 2 * m:
            raise ValueError(f"bcs: boundary condition order must be an integer in [0, {2 * m - 1}], got {k!r}")
        bkey.append((int(p), int(k)))
    if len(set(bkey)) != len(bkey):
        dup = sorted({b for b in bkey if bkey.count(b) > 1})
        raise ValueError(f"bcs must be distinct boundary conditions; repeated: {dup}")
    if len(bkey) != 2 * m:
        raise ValueError(f"bcs: an operator of order {2 * m} needs exactly {2 * m} distinct boundary conditions, "
                         f"got {len(bkey)}")
    if not isinstance(allow_nonsymmetric, bool):
        raise TypeError(f"allow_nonsymmetric must be a bool, got {type(allow_nonsymmetric).__name__}")
    left, right = _green_cached(tuple(sorted(w.items())), tuple(bkey))
    if not allow_nonsymmetric and not _symmetric_cached(tuple(sorted(w.items())), tuple(bkey)):
        raise ValueError(f"boundary conditions {bkey} do not make the problem self-adjoint: the Green's function "
                         "is not symmetric (a boundary term of the integral of f L f survives), so it is not a kernel")
    fl = sp.lambdify((X, T), left, "numpy", cse=True)
    fr = sp.lambdify((X, T), right, "numpy", cse=True)

    def fast(x, t):
        x = np.asarray(x, dtype=float)
        t = np.asarray(t, dtype=float)
        xb, tb = np.broadcast_arrays(x, t)
        return np.where(xb < tb, fl(xb, tb) + 0.0 * xb, fr(xb, tb) + 0.0 * xb)

    return GreenFunction(left=left, right=right, weights=w, bcs=tuple(bkey), numpy=fast)


def spline_green_symbolic() -> GreenFunction:
    """The Green's function of eq. (56) with the boundary conditions (55), derived (not copied) by sympy."""
    return green_function({2: 1}, [(0, 0), (1, 0), (0, 2), (1, 2)])


# ------------------------------------------------------------------------------------- symbolic checks
def _green(g) -> GreenFunction:
    if not isinstance(g, GreenFunction):
        raise TypeError(f"g must be a GreenFunction (from green_function), got {type(g).__name__}")
    return g


def check_ode(g: GreenFunction) -> bool:
    """``L g = 0`` on both pieces (off the diagonal)."""
    g = _green(g)
    return all(_is_zero(g.operator(p)) for p in (g.left, g.right))


def check_jumps(g: GreenFunction) -> bool:
    """``g … g^(2m−2)`` continuous at x = t and ``[g^(2m−1)] = 1/(w_m(−1)^m)`` (so that ``L g = δ``)."""
    n = _green(g).order
    m = n // 2
    for k in range(n - 1):
        if not _is_zero((sp.diff(g.right, X, k) - sp.diff(g.left, X, k)).subs(X, T)):
            return False
    jump = (sp.diff(g.right, X, n - 1) - sp.diff(g.left, X, n - 1)).subs(X, T)
    return _is_zero(jump - 1 / (g.weights[m] * (-1) ** m))


def check_boundary(g: GreenFunction) -> dict[tuple[int, int], bool]:
    """Each boundary condition ``∂ₓ^k g(point, t) = 0`` for all t, one entry per condition."""
    out = {}
    for p, k in _green(g).bcs:
        piece = g.left if p == 0 else g.right
        out[(p, k)] = _is_zero(sp.diff(piece, X, k).subs(X, p))
    return out


def check_symmetry(g: GreenFunction) -> bool:
    """``g(x, t) = g(t, x)``: the x < t piece equals the x > t piece with the arguments swapped."""
    swapped = _green(g).right.subs({X: T, T: X}, simultaneous=True)
    return _is_zero(g.left - swapped)


def check_gram_pd(g: GreenFunction, points) -> bool:
    """Gram matrix ``[g(x_j, x_k)]`` on distinct points of (0, 1) is positive definite.

    Exact (sympy, all leading minors) when the points are rational and g is rational in them; numerical
    (Cholesky) otherwise."""
    g = _green(g)
    V.as_array("points", points, ndim=1, min_size=1)
    pts = [sp.nsimplify(p) for p in points]
    if len(set(pts)) != len(pts):
        raise ValueError("points must be distinct")
    if any(not bool(0 < p < 1) for p in pts):
        raise ValueError("points must lie in the open interval (0, 1)")
    if g.left.is_polynomial(X, T) and g.right.is_polynomial(X, T) and all(p.is_Rational for p in pts):
        M = sp.Matrix(len(pts), len(pts), lambda i, j: g.expr.subs({X: pts[i], T: pts[j]}))
        return bool(M.is_positive_definite)
    xs = np.array([float(p) for p in pts])
    A = np.asarray(g(xs[:, None], xs[None, :]), dtype=float)
    try:
        np.linalg.cholesky(0.5 * (A + A.T))
        return True
    except np.linalg.LinAlgError:
        return False


def matches_eq57(g: GreenFunction | None = None) -> dict[str, sp.Expr]:
    """Difference between the derived Green's function and eq. (57), piece by piece (0 when (57) is exact)."""
    g = spline_green_symbolic() if g is None else _green(g)
    printed = spline_green_expr()
    pl = printed.args[0][0]
    pr = printed.args[1][0]
    return {"x<t": sp.factor(sp.expand(g.left - pl)), "x>t": sp.factor(sp.expand(g.right - pr))}
