"""Self-distillation in a Hilbert space (paper 002: Mobahi, Farajtabar, Bartlett).

Statement
---------
Round ``t`` of self-distillation solves the constrained problem (1)

    f_t = argmin_f R(f)   s.t.   (1/K) Σ_k (f(x_k) − y_{t,k})² ≤ ε,

whose solution (Prop. 1, eq. 18) is ``f_t(x) = g_xᵀ (c_t I + G)⁻¹ y_t`` with ``G[j, k] = g(x_j, x_k)/K``,
``g_x[k] = g(x, x_k)/K`` and the multiplier ``c_t > 0`` the root of ``h(c) = (1/K)Σ_k (z_k c/(c + d_k))² − ε``
(Prop. 2, eq. 21; ``G = V diag(d) Vᵀ``, ``z = Vᵀ y``). The next labels are the predictions,
``y_{t+1} = G (c_t I + G)⁻¹ y_t``, so in the eigenbasis ``z_{t+1} = d/(c_t + d) ⊙ z_t`` (eq. 35) and
``B_t = Π_{i≤t} diag(d/(c_i + d))`` (eq. 46). Once ``(1/K)‖y_t‖² ≤ ε`` the zero function is feasible and optimal:
the path has *collapsed* (Sec. 2.1) and stays at zero.

The ε convention (decided here, see docs/errata.md, 002-1)
---------------------------------------------------------
``eps`` is the **mean-squared** tolerance of (1). The paper's Sec. 2.3–3.5 write ``√K·ε`` where this convention
needs ``√(K·ε)`` (the root of (22) is ``c₁ = d_max √(Kε)/(‖z‖ − √(Kε))``); the printed formulas are exactly right
if ε there is read as the RMS tolerance. Every bound below is stated with ``s = √(K·eps)``,
``u₀ = ‖y₀‖/s`` (eq. 43 with that substitution).

Positive semi-definite G
------------------------
When some training points sit where the boundary conditions pin every admissible f to 0 (x = 0 or 1 for the
spline of eq. 57), G has zero rows and is only PSD. Components of y in the null space of G cannot be fitted by
any f: they contribute the *reachable floor* ``(1/K)‖P_null y‖²`` to the training error. ``eps`` at or below that
floor is infeasible (a ``ValueError`` stating the floor); above it, the bracket (25) is applied to the range of
G (``d_min`` = smallest positive eigenvalue, ``s'² = Kε − ‖z_null‖²``). Eigenvalues below
``K·d_max·machine-ε`` (numpy's rank tolerance) are treated as exactly zero.

Two routes for the spline kernel (57)
-------------------------------------
The eigen route (:func:`self_distill` on a dense G) gives the B_t analysis but is O(K³) and, beyond K ≈ 60 on the
spline Gram, zeroes eigenvalues below the rank tolerance (it then refuses small eps as infeasible). The banded
route (:class:`SplineGram`, O(K) per evaluation of h, no G formed) computes the path itself at any K and down to
near interpolation (checked against 40-digit mpmath: claim ``mobahi.banded_path``). :func:`self_distill_points`
chooses automatically (:func:`choose_route`). The same O(K) route exists for the first-order Sobolev regulariser
``∫ w₁f'² + w₀f²`` with Dirichlet/Neumann ends (:class:`SobolevGram`, tridiagonal G⁻¹); :func:`implicit_gram`
picks the O(K) Gram of a :class:`kdtheory.greens.GreenFunction` when one exists — every other kernel uses the
eigen route. Cost (benchmarks/bench_self_distillation_banded.py): ~3 evaluations of h a round, each one banded
Cholesky of ``R + λD²`` with refinement on the interleaved block system (block LU only as a fallback).

Source
------
Paper 002, Sec. 2–3 and App. A–B: eqs. (1), (16)–(18), (19)–(25), (28)–(35), (40)–(47), (49), (51), (52),
(113)–(122).

References
----------
H. Mobahi, M. Farajtabar, P. L. Bartlett. Self-distillation amplifies regularization in Hilbert space.
NeurIPS 2020.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import linalg, optimize
from scipy.linalg import lapack
from scipy.sparse import linalg as splinalg

from kdtheory import validation as V

__all__ = [
    "Spectrum", "SelfDistillationPath", "EarlyStoppingFit",
    "spectrum", "fit_coefficients", "predict", "interpolant", "round_functions", "fit_predictions", "residual_mse", "h", "reachable_floor",
    "multiplier_bracket", "multiplier_bracket_printed", "solve_multiplier", "self_distill",
    "effective_basis_count", "guaranteed_rounds", "prop3_lower_bound", "prop4_crossing",
    "prop5_ratio_bound", "prop6_bound", "training_loss", "early_stopping", "early_stopping_match",
    "multiclass_self_distill", "SplineGram", "SobolevGram", "implicit_gram", "spline_gram", "spline_green_diag", "choose_route",
    "self_distill_points", "trivial_rounds", "step_bounds", "tangent_bounds", "prop3_upper_bound", "product_form",
    "product_form_printed", "MixedPath", "mixed_self_distill",
]

_MACHEPS = float(np.finfo(float).eps)


# ----------------------------------------------------------------------------------------------- spectrum
@dataclasses.dataclass(frozen=True)
class Spectrum:
    """Eigendecomposition ``G = V diag(d) Vᵀ`` (eq. 19; numpy's V is the paper's Vᵀ), d ascending, ≥ 0.

    ``null`` marks the components no fit can reach (d == 0 after the rank tolerance).
    """

    d: np.ndarray
    V: np.ndarray

    @property
    def K(self) -> int:
        return int(self.d.shape[0])

    @property
    def null(self) -> np.ndarray:
        return self.d == 0.0

    @property
    def d_max(self) -> float:
        return float(self.d[-1]) if self.K else 0.0

    @property
    def d_min(self) -> float:
        """Smallest *positive* eigenvalue (``d_min`` of eq. 25 restricted to the range of G); 0 if G = 0."""
        pos = self.d[self.d > 0]
        return float(pos[0]) if pos.size else 0.0

    @property
    def kappa(self) -> float:
        """Condition number ``d_max/d_min`` of eq. (43) on the range of G (inf if G = 0)."""
        return self.d_max / self.d_min if self.d_min > 0 else math.inf

    def rotate(self, y: np.ndarray) -> np.ndarray:
        """``z = Vᵀ y`` (eq. 20), along the first axis."""
        return self.V.T @ y

    def unrotate(self, z: np.ndarray) -> np.ndarray:
        return self.V @ z


def spectrum(G, *, name: str = "G") -> Spectrum:
    """Validate ``G`` (square, finite, symmetric, PSD — else a ValueError naming the smallest eigenvalue) and
    eigendecompose it once. Eigenvalues ≤ ``K·d_max·machine-ε`` are set to exactly 0 (numerically null)."""
    G = V.as_array(name, G, ndim=2)
    if G.shape[0] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {G.shape}")
    d, Q = V.psd_eigh(name, G)
    tol = G.shape[0] * _MACHEPS * (float(d[-1]) if d.size else 0.0)
    d = np.where(d <= tol, 0.0, d)
    return Spectrum(d=d, V=Q)


def _labels(name: str, y, K: int, *, ndim=1) -> np.ndarray:
    y = V.as_array(name, y, ndim=ndim)
    if y.shape[0] != K:
        raise ValueError(f"{name} has {y.shape[0]} entries but G is {K}×{K} (K must agree)")
    return y


def _dz(d, z, *, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues d (1-D, ≥ 0, or > 0 with ``positive``) and rotated labels z of the same shape."""
    d = V.as_array("d", d, ndim=1, min_size=1)
    if np.any(d < 0) or (positive and np.any(d == 0)):
        raise ValueError(f"d must hold the eigenvalues of G ({'> 0' if positive else '>= 0'}), got min {d.min():.3g}")
    z = V.as_array("z", z, ndim=1)
    V.same_shape(("d", "z"), d, z)
    return d, z


def _spec(G) -> Spectrum:
    return G if isinstance(G, Spectrum) else spectrum(G)


# ------------------------------------------------------------------------------------------ Prop. 1 / 2
def fit_coefficients(G, y, c) -> np.ndarray:
    """``(cI + G)⁻¹ y`` — the coefficients of Prop. 1 (eq. 18), computed in the eigenbasis of G. ``c > 0``."""
    S = _spec(G)
    c = V.positive("c", c)
    y = _labels("y", y, S.K, ndim=(1, 2))
    z = S.rotate(y)
    scale = 1.0 / (c + S.d)
    return S.unrotate(scale[:, None] * z if z.ndim == 2 else scale * z)


def predict(g_new, G, y, c) -> np.ndarray:
    """``f*(x) = g_xᵀ (cI + G)⁻¹ y`` (Prop. 1, eq. 18) at new points.

    ``g_new``: (m, K) with ``g_new[i, k] = g(x_i, x_k)/K`` (eq. 17); returns (m,) (or (m, Q) for (K, Q) labels).
    """
    S = _spec(G)
    g_new = V.as_array("g_new", g_new, ndim=(1, 2), min_size=1)
    if g_new.shape[-1] != S.K:
        raise ValueError(f"g_new has {g_new.shape[-1]} columns but G is {S.K}×{S.K} (K must agree)")
    return g_new @ fit_coefficients(S, y, c)


def interpolant(g_new, G, y) -> np.ndarray:
    """The unregularised fit, the c → 0 limit of Prop. 1: ``g_xᵀ G⁺ y`` (minimum-R interpolant of the reachable
    part of y; exact interpolation when G is positive definite). ``g_new``: (m, K) as in :func:`predict`."""
    S = _spec(G)
    y = _labels("y", y, S.K)
    g_new = V.as_array("g_new", g_new, ndim=(1, 2), min_size=1)
    if g_new.shape[-1] != S.K:
        raise ValueError(f"g_new has {g_new.shape[-1]} columns but G is {S.K}×{S.K} (K must agree)")
    inv = np.divide(1.0, S.d, out=np.zeros_like(S.d), where=S.d > 0)
    return g_new @ S.unrotate(inv * S.rotate(y))


def round_functions(g_new, G, path: "SelfDistillationPath") -> np.ndarray:
    """``f_t(x) = g_xᵀ(c_t I + G)⁻¹ y_t`` (eq. 32) for every fitted round of ``path``: array (T, m)."""
    S = _spec(G)
    if not isinstance(path, SelfDistillationPath):
        raise TypeError(f"path must be a SelfDistillationPath, got {type(path).__name__}")
    g_new = V.as_array("g_new", g_new, ndim=(1, 2), min_size=1)
    if g_new.shape[-1] != S.K or path.d.shape[0] != S.K:
        raise ValueError(f"g_new ({g_new.shape}) and path (K = {path.d.shape[0]}) must match G ({S.K}×{S.K})")
    if path.rounds_fitted == 0:  # collapsed at round 0: no fitted round, an empty (0, m) result
        return np.zeros((0,) + g_new.shape[:-1])
    return np.array([predict(g_new, S, path.y[t], c) for t, c in enumerate(path.c)]).reshape(len(path.c), -1)


def fit_predictions(G, y, c) -> np.ndarray:
    """Training predictions ``f = G(cI + G)⁻¹ y = V D(cI + D)⁻¹ Vᵀ y`` (eq. 26–27)."""
    S = _spec(G)
    c = V.positive("c", c)
    y = _labels("y", y, S.K)
    return S.unrotate(S.d / (c + S.d) * S.rotate(y))


def residual_mse(d, z, c) -> float:
    """Right side of Prop. 2 (eq. 21): ``(1/K) Σ_k (z_k c/(c + d_k))²`` — the training MSE of the Prop. 1 fit."""
    d, z = _dz(d, z)
    c = V.positive("c", c)
    return _residual_mse(d, z, c)


def _residual_mse(d, z, c) -> float:
    return V.finite_result(float(np.mean((z * (c / (c + d))) ** 2)), inputs=("d", "z", "c"), what="residual MSE")


def h(c, d, z, eps) -> float:
    """``h(c) = (1/K)Σ_k (z_k c/(c + d_k))² − ε`` (Sec. 2.3); increasing in c > 0, root = the multiplier."""
    return residual_mse(d, z, c) - V.positive("eps", eps)


def reachable_floor(G, y) -> float:
    """The smallest training MSE any f can reach: ``(1/K)‖P_null(G) y‖²`` (0 when G is positive definite)."""
    S = _spec(G)
    y = _labels("y", y, S.K)
    z = S.rotate(y)
    return float(np.sum(z[S.null] ** 2) / S.K)


# ----------------------------------------------------------------------------------- bracket and root
def multiplier_bracket(d, z, eps) -> tuple[float, float]:
    """The bracket (25) on the multiplier: ``d_min s/(‖z‖ − s) ≤ c ≤ d_max s/(‖z‖ − s)``, ``s = √(K·eps)``.

    ``d``: eigenvalues of G (≥ 0), ``z = Vᵀy``; requires ``(1/K)‖z‖² > eps`` (no collapse). With null
    components (PSD G) the bracket is taken on the range of G with ``s² = K·eps − ‖z_null‖²`` and ``d_min`` the
    smallest positive eigenvalue; ``eps`` at or below the reachable floor raises.
    Source: eqs. (22)–(25) with √K·ε read as √(K·ε) (erratum 002-1).
    """
    d, z = _dz(d, z)
    if np.any(np.diff(d) < 0):
        raise ValueError("d must be ascending (the eigenvalues of G as spectrum() returns them)")
    eps = V.positive("eps", eps)
    K = d.shape[0]
    null = d == 0.0
    zn2 = float(np.sum(z[null] ** 2))
    zr2 = float(np.sum(z[~null] ** 2))
    if zn2 + zr2 <= K * eps:
        raise ValueError(f"eps={eps:.6g} ≥ (1/K)‖y‖² = {(zn2 + zr2) / K:.6g} (labels y, y0, z = Vᵀy): the zero "
                         "function is feasible (collapsed); there is no positive multiplier")
    floor = zn2 / K
    if eps <= floor:
        raise ValueError(f"eps={eps:.6g} is infeasible: no f can reach a training MSE below the reachable floor "
                         f"{floor:.6g} (label components in the null space of G, e.g. points where the boundary "
                         "conditions force f = 0); eps must exceed the floor")
    s = math.sqrt(K * eps - zn2)
    nz = math.sqrt(zr2)
    if nz <= s:  # round-off at the collapse boundary
        raise ValueError(f"eps={eps:.6g} equals (1/K)‖y‖² to rounding: the path has collapsed")
    pos = d[~null]
    return float(pos[0] * s / (nz - s)), float(pos[-1] * s / (nz - s))


def multiplier_bracket_printed(d, z, eps) -> tuple[float, float]:
    """Eq. (24)–(25) **as printed**: ``√K·ε`` with ε the mean-squared tolerance of (1). Kept for erratum 002-1
    only (the bracket does not contain the root in general); PD ``d`` required."""
    d, z = _dz(d, z, positive=True)
    s = math.sqrt(d.shape[0]) * V.positive("eps", eps)
    nz = float(np.linalg.norm(z))
    if nz <= s:
        raise ValueError(f"eps={eps:.6g} too large for the printed bracket: √K·eps ≥ ‖z‖ = {nz:.6g}")
    return float(d.min() * s / (nz - s)), float(d.max() * s / (nz - s))


def _solve_spectral(d: np.ndarray, z: np.ndarray, eps: float) -> tuple[float, int]:
    """Root of h in the bracket (25) by Brent's method; returns (c, number of h evaluations)."""
    lo, hi = multiplier_bracket(d, z, eps)
    K = d.shape[0]
    null = d == 0.0
    zr, dr = z[~null], d[~null]
    target = K * eps - float(np.sum(z[null] ** 2))
    count = [0]

    def f(c):  # K·h(c) restricted to the range; O(K)
        count[0] += 1
        return float(np.sum((zr * (c / (c + dr))) ** 2)) - target

    if not lo > 0:
        raise ValueError(f"the multiplier underflows to 0: the labels (y, y0) and eps are too far apart in scale "
                         f"(‖y‖/√(K·eps) = {math.sqrt(float(np.sum(z ** 2)) / (K * eps)):.3g})")
    if hi <= lo * (1 + 1e-14):  # κ = 1: the bracket is the root — verified, not assumed
        c = 0.5 * (lo + hi)
        if abs(f(c)) > 1e-9 * target:
            raise RuntimeError(f"κ = 1 but h(c) ≠ 0 at the collapsed bracket c = {c:.6g} (K·h = {f(c):.3g}): "
                               "the bracket (25) is wrong")
        return c, count[0]
    a, b = lo * (1 - 1e-12), hi * (1 + 1e-12)
    fa, fb = f(a), f(b)
    if fa > 0 or fb < 0:  # the bracket (25) must contain the root: never return an unverified end point
        raise RuntimeError(f"the bracket (25) [{lo:.6g}, {hi:.6g}] does not contain the multiplier "
                           f"(K·h = {fa:.3g}, {fb:.3g} at its ends)")
    c = optimize.brentq(f, a, b, xtol=lo * 1e-15 + 1e-300, rtol=4 * _MACHEPS, maxiter=200)
    return float(c), count[0]


def solve_multiplier(G, y, eps) -> float:
    """The multiplier ``c > 0`` with ``(1/K)Σ_k (f_c(x_k) − y_k)² = eps`` (Sec. 2.3), found by a bracketed root
    finder (Brent) inside the bracket (25), ``h`` evaluated in O(K) in the eigenbasis (Prop. 2).

    ``G``: (K, K) symmetric PSD (G[j,k] = g(x_j,x_k)/K) or a :class:`Spectrum`; ``y``: (K,); ``eps`` > 0 the
    mean-squared tolerance. Raises if ``(1/K)‖y‖² ≤ eps`` (collapsed: no positive root; :func:`self_distill`
    returns the zero function then) or if ``eps`` is at or below the reachable floor.
    """
    S = _spec(G)
    y = _labels("y", y, S.K)
    eps = V.positive("eps", eps)
    return _solve_spectral(S.d, S.rotate(y), eps)[0]


# ------------------------------------------------------------------------------------------- the path
@dataclasses.dataclass(frozen=True)
class SelfDistillationPath:
    """The self-distillation path (eqs. 28–35, 46).

    Fields
    ------
    c : (T,) multipliers c_0 … c_{T−1}, one per fitted (non-collapsed) round.
    y : list of (K,) label vectors y_0, y_1, …, y_T (y_{t+1} = training predictions of round t, eq. 30).
    log_B : (T, K) ``log diag(B_t)``, columns in the order of ``d`` (ascending eigenvalues); −inf on null
        components (B = 0 exactly there). None on the banded route (no eigenbasis; also ``effective_basis``, ``d``).
    collapsed_at : first t with (1/K)‖y_t‖² ≤ eps (f_t is the zero function from then on), or None.
    z_norm : (T+1,) ‖z_t‖ = ‖y_t‖.
    effective_basis : (T,) participation ratio (Σ B)²/Σ B² of diag(B_t) — the effective number of basis
        functions of Sec. 3.3 (K for B ∝ I, 1 for a single surviving entry).
    d : (K,) eigenvalues of G, ascending; eps: the mean-squared tolerance; evaluations: number of h evaluations.
    route : "eigen" (one eigendecomposition of G) or "banded" (:class:`SplineGram`, O(K) per evaluation).
    """

    c: np.ndarray
    y: list
    log_B: np.ndarray | None
    collapsed_at: int | None
    z_norm: np.ndarray
    effective_basis: np.ndarray | None
    d: np.ndarray | None
    eps: float
    evaluations: int = 0
    route: str = "eigen"

    @property
    def rounds_fitted(self) -> int:
        return int(self.c.shape[0])

    @property
    def K(self) -> int:
        return int(self.y[0].shape[0])

    @property
    def u(self) -> np.ndarray:
        """``u_t = ‖z_t‖/√(K·eps)`` (eq. 116 with the √(Kε) reading)."""
        return self.z_norm / math.sqrt(self.K * self.eps)


def effective_basis_count(log_B) -> np.ndarray:
    """Participation ratio ``(Σ_k B_k)² / Σ_k B_k²`` of each row of ``log_B`` (computed in log space)."""
    L = np.atleast_2d(V.as_array("log_B", log_B, ndim=(1, 2), allow_neg_inf=True))
    if L.shape[1] == 0:
        return np.zeros(L.shape[0])
    m = np.max(L, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    b = np.exp(L - m)
    s1, s2 = b.sum(axis=1), (b ** 2).sum(axis=1)
    return np.where(s2 > 0, s1 ** 2 / np.where(s2 > 0, s2, 1.0), 0.0)


def self_distill(G, y0, eps, rounds) -> SelfDistillationPath:
    """Run ``rounds`` rounds of self-distillation (round 0 = ordinary training) from labels ``y0``.

    ``G``: (K, K) symmetric PSD Gram matrix, ``G[j, k] = g(x_j, x_k)/K`` (eq. 16; any kernel Gram divided by K,
    e.g. an empirical NTK); ``y0``: (K,) labels; ``eps``: the mean-squared tolerance of eq. (1),
    ``(1/K)Σ(f(x_k) − y_k)² ≤ eps``; ``rounds``: number of fits to attempt (≥ 0).

    One eigendecomposition of G, then O(K) per root-finding evaluation and O(K²) per round (y_t = V z_t).
    Stops at the first collapsed round (the zero function is a fixed point). Source: eqs. (28)–(35), (46).
    ``G`` may also be a :class:`SplineGram` (the kernel of eq. 57 held implicitly) or a :class:`SobolevGram`
    (∫ w₁f'² + w₀f²): then every evaluation of h is one O(K) banded solve, no G is formed, and
    ``log_B``/``effective_basis``/``d`` are None (route "banded").
    """
    if isinstance(G, _ImplicitGram):
        y0 = _labels("y0", y0, G.K)
        eps = V.positive("eps", eps)
        rounds = int(V.scalar("rounds", rounds, lo=0, integer=True))
        return _self_distill_banded(G, y0, eps, rounds)
    S = _spec(G)
    y0 = _labels("y0", y0, S.K)
    V.finite_result(float(y0 @ y0), inputs="y0", what="squared norm of y0")
    eps = V.positive("eps", eps)
    rounds = V.count("rounds", rounds, lo=0)
    K = S.K
    z = S.rotate(y0)
    ys, zn, cs, logB = [y0.copy()], [float(np.linalg.norm(y0))], [], []
    acc = np.zeros(K)
    collapsed, evals = None, 0
    with np.errstate(divide="ignore"):
        logd = np.log(S.d)
    for t in range(rounds + 1):
        if zn[-1] ** 2 <= K * eps * (1 + 1e-12):  # rounding at the boundary counts as collapsed
            collapsed = t
            break
        if t == rounds:
            break
        c, n = _solve_spectral(S.d, z, eps)
        evals += n
        cs.append(c)
        # log(d/(c+d)) = log d − log(c + d): exact −inf on null components
        acc = acc + (logd - np.log(c + S.d))
        logB.append(acc.copy())
        z = S.d / (c + S.d) * z
        ys.append(S.unrotate(z))
        zn.append(float(np.linalg.norm(z)))
    log_B = np.array(logB).reshape(len(logB), K)
    return SelfDistillationPath(c=np.array(cs, dtype=float), y=ys, log_B=log_B, collapsed_at=collapsed,
                                z_norm=np.array(zn), effective_basis=effective_basis_count(log_B),
                                d=S.d.copy(), eps=eps, evaluations=evals)


# --------------------------------------------------------------------------------- Props. 3–6 (bounds)
def _u0(y0_norm, K, eps, name: str = "y0_norm") -> float:
    y0_norm = V.nonnegative(name, y0_norm)
    K = V.count("K", K)
    eps = V.positive("eps", eps)
    return y0_norm / math.sqrt(K * eps)


def _kappa(kappa) -> float:
    if isinstance(kappa, (float, np.floating)) and math.isinf(kappa) and kappa > 0:
        return math.inf
    return V.scalar("kappa", kappa, lo=1.0)


def guaranteed_rounds(y0_norm, K, eps, kappa) -> float:
    """Prop. 4 (eq. 44): ``t̲ = (‖y₀‖/√(K·eps) − 1)/κ`` — the path does not collapse before round t̲
    (collapsed_at ≥ t̲). ``eps`` is the mean-squared tolerance; κ = d_max/d_min ≥ 1 (inf allowed → 0).
    Returns 0 when the path collapses at round 0 (‖y₀‖² ≤ K·eps)."""
    u0 = _u0(y0_norm, K, eps)
    kappa = _kappa(kappa)
    if u0 <= 1 or math.isinf(kappa):
        return 0.0
    return (u0 - 1.0) / kappa


def _ab(u0: float, x: float) -> tuple[float, float]:
    """a(x), b(x) of eqs. (41)–(42)."""
    w = u0 - 1.0 + x  # ratios to w first: no overflow of (u0 − 1 + x)² for huge u0 or κ
    return ((u0 - 1.0) / w) ** 2 + (x / w) * ((2 * u0 - 1.0) / w), (u0 / w) ** 2 * x


def prop3_lower_bound(z0_norm, K, eps, kappa, t) -> np.ndarray:
    """Prop. 3 (eq. 40): ``‖z_t‖ ≥ a^t ‖z₀‖ − s·b·(a^t − 1)/(a − 1)``, ``a = a(κ)``, ``b = b(κ)``, ``s = √(K·eps)``.

    Vectorized over ``t`` (≥ 0). Note ``a(κ) = 1 − κ(κ−1)/(u₀−1+κ)² ∈ (0, 1]``; the geometric sum is t at κ = 1.
    """
    u0 = _u0(z0_norm, K, eps, "z0_norm")
    kappa = _kappa(kappa)
    if math.isinf(kappa):
        raise ValueError("kappa must be finite for Prop. 3 (G must be positive definite on its range)")
    if u0 <= 1:
        raise ValueError(f"Prop. 3 needs z0_norm = ‖z₀‖ > √(K·eps) (u₀ = {u0:.6g} ≤ 1: collapsed at round 0)")
    t = V.as_array("t", t, min_size=1)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and >= 0")
    s = math.sqrt(int(K) * float(eps))
    a, b = _ab(u0, kappa)
    one_minus_a = (kappa / (u0 - 1.0 + kappa)) * ((kappa - 1.0) / (u0 - 1.0 + kappa))
    if one_minus_a == 0:
        geo = t
    elif one_minus_a >= 1.0:  # a rounds to 0 (κ ≫ u₀): (1 − aᵗ)/(1 − a) = 1 for t > 0, 0 at t = 0
        geo = np.where(t > 0, 1.0, 0.0)
    else:
        geo = -np.expm1(t * math.log1p(-one_minus_a)) / one_minus_a  # (1 − aᵗ)/(1 − a)
    return s * (a ** t * u0 - b * geo)


def prop4_crossing(u0, kappa) -> float:
    """The t where Prop. 3's lower bound on u_t = ‖z_t‖/√(Kε) equals 1 (eq. 125, left side of 126)."""
    u0 = V.scalar("u0", u0, lo=1.0, lo_open=True)
    kappa = _kappa(kappa)
    if math.isinf(kappa):  # κ → ∞: a, b → 0, the bound drops below 1 right after t = 0 (the limit of the formula)
        return 0.0
    a, b = _ab(u0, kappa)
    one_minus_a = (kappa / (u0 - 1.0 + kappa)) * ((kappa - 1.0) / (u0 - 1.0 + kappa))
    if one_minus_a == 0:
        return (u0 - 1.0) / b
    if one_minus_a >= 1.0:  # a rounds to 0 (κ ≫ u₀): as for κ = ∞
        return 0.0
    # aᵗ u0 − b(1 − aᵗ)/(1 − a) = 1  ⇔  aᵗ = (1 − a + b)/(b + u0(1 − a))
    #   (1 − a + b)/(b + u0(1 − a)) = 1 − (u0 − 1)(1 − a)/(b + u0(1 − a)); log1p keeps κ → 1 accurate
    return math.log1p(-(u0 - 1.0) * one_minus_a / (b + u0 * one_minus_a)) / math.log1p(-one_minus_a)


def prop5_ratio_bound(y0_norm, K, eps, d_min, d_j, d_k, t) -> np.ndarray:
    """Prop. 5 (eq. 47): ``B_t[k,k]/B_t[j,j] ≥ ((u₀ − 1 + d_min/d_j)/(u₀ − 1 + d_min/d_k))^{t+1}`` for d_k > d_j.

    Vectorized over ``d_j, d_k, t``; ``u₀ = ‖y₀‖/√(K·eps)``. Valid for every non-collapsed round t.
    """
    u0 = _u0(y0_norm, K, eps)
    d_min = V.positive("d_min", d_min)
    # vectorized: d_j, d_k and t broadcast against each other (mobahi.prop5 passes (1, K) rows)
    d_j = V.as_array("d_j", d_j, ndim=(0, 1, 2), min_size=1)
    d_k = V.as_array("d_k", d_k, ndim=(0, 1, 2), min_size=1)
    if np.any(d_j < d_min * (1 - 1e-12)) or np.any(d_k < d_min * (1 - 1e-12)):
        raise ValueError("d_j and d_k must be >= d_min")
    t = V.as_array("t", t, ndim=(0, 1, 2), min_size=1)
    if np.any(t < 0):
        raise ValueError(f"t must be >= 0 (rounds), got min {t.min()}")
    try:
        np.broadcast_shapes(d_j.shape, d_k.shape, t.shape)
    except ValueError:
        raise ValueError(f"d_j {d_j.shape}, d_k {d_k.shape} and t {t.shape} must broadcast together") from None
    return V.finite_result(((u0 - 1 + d_min / d_j) / (u0 - 1 + d_min / d_k)) ** (t + 1),
                           inputs=("y0_norm", "K", "eps", "d_min", "d_j", "d_k", "t"))


def prop6_bound(y0_norm, K, eps, d_min, d_j, d_k, kappa) -> np.ndarray:
    """Prop. 6 (eq. 51): Prop. 5's bound at the guaranteed round t̲ (exponent ``1 + t̲``, t̲ of eq. 44).
    The paper states it is increasing in eps (checked in mobahi.prop6); Sec. 3.5's reading that a *smaller*
    eps gives more sparsity is the opposite for this *bound* (erratum 002-2) — the measured sparsity of real
    paths does grow as eps shrinks (claim mobahi.sparsity_vs_eps)."""
    tl = guaranteed_rounds(y0_norm, K, eps, kappa)
    return prop5_ratio_bound(y0_norm, K, eps, d_min, d_j, d_k, tl)


# ---------------------------------------------------------------------------- early stopping, multiclass
def training_loss(path: SelfDistillationPath, y0=None) -> np.ndarray:
    """Training MSE of each fitted round on the *original* labels: ``(1/K)Σ_k (1 − B_t[k])² z₀[k]²``."""
    if not isinstance(path, SelfDistillationPath):
        raise TypeError(f"path must be a SelfDistillationPath, got {type(path).__name__}")
    K = path.K
    y_0 = path.y[0] if y0 is None else _labels("y0", y0, K)
    out = []
    for t in range(path.rounds_fitted):
        out.append(float(np.sum((y_0 - path.y[t + 1]) ** 2) / K))
    return V.finite_result(np.array(out), inputs=("path", "y0"), what="training loss")


@dataclasses.dataclass(frozen=True)
class EarlyStoppingFit:
    """A one-shot fit (no distillation) at a larger tolerance (Sec. 3.4, eq. 49): ``B₀ = D(c₀I + D)⁻¹``."""

    eps: float
    c: float
    log_B: np.ndarray
    effective_basis: float
    f: np.ndarray


def early_stopping(G, y0, eps) -> EarlyStoppingFit:
    """Early stopping as Sec. 3.4 defines it: f₀* (eq. 49) with the (larger) tolerance ``eps``."""
    S = _spec(G)
    y0 = _labels("y0", y0, S.K)
    eps = V.positive("eps", eps)
    z = S.rotate(y0)
    c, _ = _solve_spectral(S.d, z, eps)
    with np.errstate(divide="ignore"):
        lb = np.log(S.d) - np.log(c + S.d)
    return EarlyStoppingFit(eps=eps, c=c, log_B=lb, effective_basis=float(effective_basis_count(lb)[0]),
                            f=S.unrotate(S.d / (c + S.d) * z))


def early_stopping_match(G, path: SelfDistillationPath) -> list[EarlyStoppingFit]:
    """For each fitted round t ≥ 1 of ``path``, the early-stopped fit with the *same training loss on y₀*
    (its eps is that loss, since the constraint is active). Sec. 3.4."""
    S = _spec(G)
    losses = training_loss(path)
    return [early_stopping(S, path.y[0], float(loss)) for loss in losses[1:]]


def multiclass_self_distill(G, Y0, eps, rounds) -> list[SelfDistillationPath]:
    """Sec. 3.6 (eq. 52): Q outputs, each self-distilled independently with the same G (one eigh for all).

    ``Y0``: (K, Q) (e.g. one-hot); ``eps``: scalar or (Q,) per-output mean-squared tolerances.
    """
    S = _spec(G)
    Y0 = _labels("Y0", Y0, S.K, ndim=2)
    Q = Y0.shape[1]
    e = V.as_array("eps", eps, ndim=(0, 1))
    if e.ndim == 1 and e.shape[0] != Q:
        raise ValueError(f"eps has {e.shape[0]} entries but Y0 has {Q} columns (one tolerance per output)")
    e = np.broadcast_to(e, (Q,))
    V.finite_result(np.sum(Y0 * Y0, axis=0), inputs="Y0", what="squared norm of a column of Y0")
    return [self_distill(S, Y0[:, q], float(e[q]), rounds) for q in range(Q)]


# ------------------------------------------------------------------ O(K) route for the spline kernel (57)
#: relative change of r by one refinement step at which a solve is accepted
_REFINE_TOL = 1e-12
#: |ψ| (log of the constraint's two sides) at which an evaluated multiplier is accepted
_PSI_TOL = 1e-12


class _ImplicitGram:
    """What the O(K) Gram classes share: the residual and fit through ``_factor``/``_apply`` on the points in
    ``_inner`` (points pinned to 0 by a boundary condition are null-space components), Lanczos d_max on
    ``matvec``, the reachable floor."""

    def _residual_inner(self, c, yi):
        return self._apply(self._factor(c), yi)

    def residual(self, c, y) -> np.ndarray:
        """``r = c(cI + G)⁻¹ y = y − f_c(x)`` (the training residual of the Prop. 1 fit) in O(K)."""
        c = V.positive("c", c)
        y = _labels("y", y, self.K)
        r = y.copy()  # boundary points: f = 0 there, the residual is the label
        if self.n_interior:
            r[self._inner] = self._residual_inner(c, y[self._inner])
        return r

    def fit_predictions(self, c, y) -> np.ndarray:
        """``G(cI + G)⁻¹ y`` (eq. 26) in O(K)."""
        y = _labels("y", y, self.K)
        return y - self.residual(c, y)

    def d_max(self, *, tol: float = 1e-12) -> float:
        """Largest eigenvalue of G by Lanczos (``scipy.sparse.linalg.eigsh`` on :meth:`matvec`)."""
        if self.n_interior == 0:
            return 0.0
        if self.n_interior <= 2:
            return float(np.linalg.eigvalsh(self.dense()).max())
        op = splinalg.LinearOperator((self.K, self.K), matvec=self.matvec, dtype=float)
        return float(splinalg.eigsh(op, k=1, which="LA", tol=tol, return_eigenvectors=False)[0])

    def reachable_floor(self, y) -> float:
        y = _labels("y", y, self.K)
        mask = np.ones(self.K, bool)
        mask[self._inner] = False
        return float(np.sum(y[mask] ** 2) / self.K)


@dataclasses.dataclass
class _SplineFactor:
    lam: float
    chol: np.ndarray | None  # Cholesky factor of R + λD² (banded upper storage), None when not usable
    lu: np.ndarray | None = None  # banded LU of the interleaved block system (built only on fallback)
    piv: np.ndarray | None = None
    eta: float = 0.0  # relative change of r by the last refinement step (the accuracy of the last refined r)


class SplineGram(_ImplicitGram):
    """The Gram matrix ``G[j, k] = g(x_j, x_k)/K`` of the spline kernel (57), held implicitly in O(K).

    The Green's function of ``∫(f'')²`` with ``f = f'' = 0`` at 0 and 1 is the kernel of an ODE operator, so on
    sorted points its Gram matrix has a banded inverse quotient: with the knots ``0 = t_0 < x_(1) < … < x_(K) <
    t_{K+1} = 1``, ``h_i = t_{i+1} − t_i``, the symmetric tridiagonal second-difference matrix ``D`` (diagonal
    ``−1/h_{i−1} − 1/h_i``, off-diagonal ``1/h_i``) and the tridiagonal ``R`` (diagonal ``(h_{i−1} + h_i)/3``,
    off-diagonal ``h_i/6``) of Reinsch's smoothing-spline algorithm, ``∫(f'')² = gᵀ D R⁻¹ D g`` for the
    interpolating spline of the values g (with f = f'' = 0 at both ends), hence ``G⁻¹ = K·D R⁻¹ D`` on interior
    points. The Prop. 1 residual ``r = y − G(cI + G)⁻¹y = c(cI + G)⁻¹y`` is then, with ``λ = cK``,
    ``r = λ D γ``, ``(R + λ D²) γ = D y`` — one pentadiagonal Cholesky solve, O(K), no G formed
    (C. H. Reinsch, Numer. Math. 10, 1967; Green & Silverman, *Nonparametric Regression and GLMs*, 1994, §2.3).

    Points at exactly 0 or 1 are allowed: the boundary conditions pin f there, G has zero rows, the label there
    is an unreachable (null-space) component, exactly as in the eigen route. Interior points must be distinct.
    ``d_max_upper`` = trace(G) ≥ d_max and ``d_min_lower`` (Gershgorin on ``K·D R⁻¹ D``) ≤ d_min are rigorous
    bounds used for the bracket (25); ``d_max()`` is the Lanczos value (scipy ``eigsh``).
    """

    def __init__(self, points):
        x = V.as_array("points", points, ndim=1)
        K = x.shape[0]
        if K == 0:
            raise ValueError("points must be non-empty")
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"points must lie in [0, 1] (the domain of eq. 57), got range [{x.min():.6g}, "
                             f"{x.max():.6g}]")
        order = np.argsort(x, kind="stable")
        xs = x[order]
        inner = (xs > 0) & (xs < 1)
        xi = xs[inner]
        if xi.size and np.any(np.diff(xi) <= 0):
            raise ValueError("interior points must be distinct for the banded route (duplicate points make G "
                             "singular; use the eigen route, self_distill(gram(points), ...))")
        gaps = np.diff(np.concatenate([[0.0], xi, [1.0]])) if xi.size else np.ones(1)
        if xi.size and float(np.min(gaps)) < 1e-100:
            raise ValueError("points closer than 1e-100 to each other or to 0/1: the banded route's 1/gap would "
                             "overflow (use the eigen route)")
        self.points = x
        self.K = K
        self._order = order
        self._inner = order[inner]  # indices (into the caller's order) of the interior points, sorted by x
        n = xi.size
        self.n_interior = n
        self.cholesky_solves = self.block_solves = 0  # accepted Cholesky solves / block LU factorisations
        if n:
            hh = np.diff(np.concatenate([[0.0], xi, [1.0]]))  # h_0 … h_n
            inv = 1.0 / hh
            self._Dd = -(inv[:-1] + inv[1:])
            self._Do = inv[1:-1]
            Rd = (hh[:-1] + hh[1:]) / 3.0
            Ro = hh[1:-1] / 6.0
            self._R = np.zeros((3, n))
            self._R[2] = Rd
            self._R[1, 1:] = Ro
            Dd, Do = self._Dd, self._Do
            D2 = np.zeros((3, n))
            D2[2] = Dd ** 2
            D2[2, 1:] += Do ** 2
            D2[2, :-1] += Do ** 2
            D2[1, 1:] = Do * (Dd[:-1] + Dd[1:])
            D2[0, 2:] = Do[:-1] * Do[1:]
            self._D2 = np.asfortranarray(D2)
            # −D is symmetric positive definite (Dirichlet second difference): banded upper form for solveh
            self._mD = np.zeros((2, n))
            self._mD[1] = -Dd
            self._mD[0, 1:] = -Do
            diagG = np.asarray(spline_green_diag(xi)) / K
            self.d_max_upper = float(np.sum(diagG))
            row = 2.0 * (inv[:-1] + inv[1:])  # Gershgorin bound on ‖D‖ (row sums of |D|)
            rmin = float(np.min((hh[:-1] + hh[1:]) / 6.0))  # Gershgorin lower bound on λ_min(R)
            self.d_min_lower = rmin / (K * float(np.max(row)) ** 2)
        else:
            self.d_max_upper = self.d_min_lower = 0.0

    # -- banded algebra on the interior points (sorted)
    def _D(self, u):
        out = self._Dd * u
        out[:-1] += self._Do * u[1:]
        out[1:] += self._Do * u[:-1]
        return out

    def _factor(self, c) -> "_SplineFactor":
        """Factors for ``c(cI + G)⁻¹`` at ``λ = cK``: the SPD pentadiagonal ``R + λD²`` by banded Cholesky (LAPACK
        dpbtrf, one call per column of n, no pivoting) — its accuracy is certified in :meth:`_apply` against the
        interleaved block system, which falls back to banded LU when it is not (see there)."""
        lam = c * self.K
        A = np.empty((3, self.n_interior), order="F")
        np.multiply(self._D2, lam, out=A)
        A += self._R
        chol, info = lapack.dpbtrf(A, overwrite_ab=1)
        return _SplineFactor(lam, chol if info == 0 else None)

    def _block_factor(self, fac: "_SplineFactor"):
        """LU factors of the interleaved block system ``Rγ − Dg = 0``, ``λDγ + g = v`` (unknowns γ_1, g_1, γ_2,
        g_2, …; bandwidth 3 each side), by banded LU with partial pivoting (LAPACK dgbtrf), O(K). Forming
        ``R + λD²`` squares the conditioning of D (≈ 1/min gap²): its Cholesky can fail or lose accuracy for close
        points (K = 10⁴ uniform draws, large λ); this system does not square it. Built only when needed."""
        if fac.lu is None:
            if not hasattr(self, "_ab0"):
                self._ab0 = np.asfortranarray(self._band_template())
            n, m, lam = self.n_interior, 6, fac.lam
            ab = np.array(self._ab0, order="F")  # dgbtrf overwrites it in place (Fortran order: no copy)
            ab[m + 1, 0::2] = lam * self._Dd          # (2i+1, 2i)
            ab[m - 1, 2::2] = lam * self._Do          # (2i+1, 2i+2)
            ab[m + 3, 0:2 * n - 2:2] = lam * self._Do  # (2i+3, 2i)
            lu, piv, info = lapack.dgbtrf(ab, 3, 3, overwrite_ab=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"banded LU of the spline system failed at c={fac.lam / self.K:.6g} "
                                            f"(dgbtrf info={info})")
            fac.lu, fac.piv = lu, piv
            self.block_solves += 1
        return fac.lu, fac.piv

    def _band_template(self):
        """The interleaved band (dgbtrf storage) at λ = 0: R, −D and the identity (the λD rows are set per λ)."""
        n = self.n_interior
        Rd, Ro = self._R[2], self._R[1, 1:]
        Dd, Do = self._Dd, self._Do
        ab0 = np.zeros((10, 2 * n))  # A[i, j] at ab[kl + ku + i − j, j], kl = ku = 3
        ev, od = np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)
        m = 6  # kl + ku
        # rows 2i (γ-equations):  R_{i,i±1} γ_{i±1} + R_ii γ_i − D_{i,i±1} g_{i±1} − D_ii g_i = 0
        ab0[m, ev] = Rd                       # (2i, 2i)
        ab0[m - 2, ev[1:]] = Ro               # (2i, 2i+2)
        ab0[m + 2, ev[:-1]] = Ro              # (2i+2, 2i)
        ab0[m - 1, od] = -Dd                  # (2i, 2i+1)
        ab0[m - 3, od[1:]] = -Do              # (2i, 2i+3)
        ab0[m + 1, od[:-1]] = -Do             # (2i+2, 2i+1)
        # rows 2i+1 (g-equations): λ D_{i,i±1} γ_{i±1} + λ D_ii γ_i + g_i = v_i (λ D set in _block_factor)
        ab0[m, od] = 1.0                      # (2i+1, 2i+1)
        return ab0

    def _R_mul(self, u, R=None):
        R = self._R if R is None else R
        out = R[2] * u
        out[:-1] += R[1, 1:] * u[1:]
        out[1:] += R[1, 1:] * u[:-1]
        return out

    def _apply(self, fac: "_SplineFactor", u, *, refine: bool = True):
        """``c(cI + G)⁻¹ u = λ D γ`` (r from γ, not as u − g: no cancellation near interpolation).

        Both routes end with iterative refinement on the interleaved *block* system ``Rγ − Dg = 0``,
        ``λDγ + g = u``, whose residual is computed without forming D². Cholesky route: ``γ = (R + λD²)⁻¹ D u``;
        with ``g = u − λDγ`` the second row holds by construction and ``(R + λD²)δ = Dg − Rγ`` is the exact
        correction of the first; accepted once a correction changes r by ≤ 1e-12 relative (within 4 corrections:
        1–2 in the path's regime); otherwise (or when dpbtrf failed, large λ with close points) banded LU of the
        block system, refined the same way (up to 3 corrections). Measured (jittered grid, K = 10⁵): unrefined
        block LU was off by up to 5e-11 relative; refined Cholesky and refined LU agree to 1e-15–1e-12 (the
        noise of the block residual). ``refine=False`` (a derivative only steers Halley/Newton): one solve."""
        lam = fac.lam
        if fac.chol is not None:
            gam, info = lapack.dpbtrs(fac.chol, self._D(u))
            if info != 0:
                raise np.linalg.LinAlgError(f"dpbtrs failed (info={info})")
            r = lam * self._D(gam)
            if not refine:
                return r
            nr = float(np.linalg.norm(r))
            for _ in range(4):
                rho = self._D(u - r) - self._R_mul(gam)
                delta = lapack.dpbtrs(fac.chol, rho)[0]
                gam += delta
                dr = lam * self._D(delta)
                r += dr
                fac.eta = float(np.linalg.norm(dr)) / nr if nr > 0 else 0.0
                if fac.eta <= _REFINE_TOL:
                    self.cholesky_solves += 1
                    return r
            fac.chol = None  # corrections do not contract at this λ: the block LU from now on
        lu, piv = self._block_factor(fac)
        n = self.n_interior
        rhs = np.zeros(2 * n)
        rhs[1::2] = u
        sol, info = lapack.dgbtrs(lu, 3, 3, rhs, piv, overwrite_b=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"dgbtrs failed (info={info})")
        gam, g = sol[0::2].copy(), sol[1::2].copy()
        r = lam * self._D(gam)
        if refine:
            nr = float(np.linalg.norm(r))
            for _ in range(3):
                rhs[0::2] = self._D(g) - self._R_mul(gam)
                rhs[1::2] = u - r - g
                sol = lapack.dgbtrs(lu, 3, 3, rhs, piv)[0]
                gam += sol[0::2]
                g += sol[1::2]
                dr = lam * self._D(sol[0::2])
                r += dr
                fac.eta = float(np.linalg.norm(dr)) / nr if nr > 0 else 0.0
                if fac.eta <= _REFINE_TOL:
                    break
        return r

    def matvec(self, u) -> np.ndarray:
        """``G u = (1/K) D⁻¹ R D⁻¹ u`` on interior points (0 on boundary points), O(K)."""
        u = _labels("u", u, self.K)
        out = np.zeros(self.K)
        if self.n_interior:
            w = -linalg.solveh_banded(self._mD, u[self._inner], check_finite=False)  # D⁻¹ u
            Rw = self._R[2] * w
            Rw[:-1] += self._R[1, 1:] * w[1:]
            Rw[1:] += self._R[1, 1:] * w[:-1]
            out[self._inner] = -linalg.solveh_banded(self._mD, Rw, check_finite=False) / self.K
        return out

    def dense(self) -> np.ndarray:
        """The Gram matrix itself (O(K²); for tests and small K)."""
        x = self.points
        return _spline_green_matrix(x) / self.K

def spline_green_diag(x) -> np.ndarray:
    """``g(x, x)`` of eq. (57): ``x²(1 − x)²/3`` (the x = t value of either piece)."""
    x = V.as_array("x", x, ndim=(0, 1), min_size=1)
    if np.any(x < 0) or np.any(x > 1):
        raise ValueError("x must lie in [0, 1] (the domain of eq. 57)")
    return x * x * (1.0 - x) ** 2 / 3.0


def _spline_green_matrix(x) -> np.ndarray:
    """``[g(x_j, x_k)]`` of eq. (57) (lazy import of kdtheory.greens to keep the modules independent)."""
    from kdtheory.greens import spline_green
    x = np.asarray(x, dtype=float)
    return spline_green(x[:, None], x[None, :])


def spline_gram(points) -> SplineGram:
    """The implicit O(K) Gram matrix of eq. (57) on ``points`` (see :class:`SplineGram`)."""
    return SplineGram(points)


def _pttrf(d, e):
    """LAPACK dpttrf (SPD tridiagonal LDLᵀ); n = 1 by hand (f2py wants a non-empty e)."""
    if d.size == 1:
        return d.copy(), e, 0 if d[0] > 0 else 1
    return lapack.dpttrf(d, e)


def _pttrs(d, e, b):
    if d.size == 1:
        return b / d, 0
    return lapack.dpttrs(d, e, b)


@dataclasses.dataclass
class _TriFactor:
    lam: float
    d: np.ndarray  # LDLᵀ of I + λT (LAPACK dpttrf)
    e: np.ndarray
    eta: float = 0.0


class SobolevGram(_ImplicitGram):
    """The Gram matrix ``G[j, k] = g(x_j, x_k)/K`` of the first-order Sobolev regulariser
    ``R(f) = ∫₀¹ w₁ f'² + w₀ f²`` (L = w₀ − w₁D², w₁ > 0, w₀ ≥ 0), held implicitly in O(K).

    Each end carries a Dirichlet (f = 0) or Neumann (f' = 0) condition, both self-adjoint. The Green's function of
    a second-order operator is ``u(min(x, t))·v(max(x, t))/W`` (semiseparable), so on sorted points
    ``[g(x_j, x_k)]⁻¹ = T`` is tridiagonal: ``gᵀTg`` is the energy of the minimal-R interpolant of the values g,
    which on a gap of length h between values α, β is ``w₁a[(α² + β²)coth(ah) − 2αβ/sinh(ah)]`` (a = √(w₀/w₁);
    ``w₁(β − α)²/h`` at a = 0); the end gaps give ``w₁a·coth(ah)·β²`` (Dirichlet) or ``w₁a·tanh(ah)·β²``
    (Neumann). Hence ``G⁻¹ = K·T`` and, with λ = cK, ``r = c(cI + G)⁻¹y = λ(I + λT)⁻¹Ty``: one SPD tridiagonal
    LDLᵀ (LAPACK dpttrf, no BLAS calls: ~25 ms at K = 10⁶) per evaluation of h, refined on the same system.

    Points at a Dirichlet end are null-space components (G has zero rows there), as for :class:`SplineGram`;
    points at a Neumann end are ordinary. Interior points must be distinct. Which kernels have an O(K) route:
    the spline kernel (57) (:class:`SplineGram`) and this family (:func:`implicit_gram` picks it from a
    :class:`kdtheory.greens.GreenFunction`); every other regulariser (order ≥ 4 other than (57), other boundary
    conditions) falls back to the eigen route on the dense Gram.
    """

    def __init__(self, points, w0, w1, bcs=((0, 0), (1, 0))):
        x = V.as_array("points", points, ndim=1)
        w0, w1 = V.nonnegative("w0", w0), V.positive("w1", w1)
        if not (isinstance(bcs, (tuple, list)) and len(bcs) == 2
                and all(isinstance(b, (tuple, list)) and len(b) == 2 for b in bcs)
                and sorted(b[0] for b in bcs) == [0, 1] and all(b[1] in (0, 1) for b in bcs)):
            raise ValueError(f"bcs must be one condition (end, order) per end with order 0 (Dirichlet) or 1 "
                             f"(Neumann), got {bcs!r}")
        kind = {int(p): int(k) for p, k in bcs}
        if w0 == 0 and kind[0] == kind[1] == 1:
            raise ValueError("w0 = 0 with Neumann conditions at both ends: constants have R = 0, no Green's function")
        K = x.shape[0]
        if K == 0:
            raise ValueError("points must be non-empty")
        if x.min() < 0 or x.max() > 1:
            raise ValueError(f"points must lie in [0, 1], got range [{x.min():.6g}, {x.max():.6g}]")
        order = np.argsort(x, kind="stable")
        xs = x[order]
        keep = np.ones(K, bool)
        if kind[0] == 0:
            keep &= xs > 0
        if kind[1] == 0:
            keep &= xs < 1
        xi = xs[keep]
        if xi.size > 1 and np.any(np.diff(xi) <= 0):
            raise ValueError("points must be distinct for the O(K) route (duplicates make G singular; use the "
                             "eigen route on the dense Gram)")
        self.points, self.K, self.w0, self.w1, self.bcs = x, K, w0, w1, ((0, kind[0]), (1, kind[1]))
        self._inner = order[keep]
        n = self.n_interior = xi.size
        self.cholesky_solves = self.block_solves = 0
        if n == 0:
            self.d_max_upper = self.d_min_lower = 0.0
            return
        a = math.sqrt(w0 / w1)
        gaps = np.diff(xi)
        h0, h1 = float(xi[0]), float(1.0 - xi[-1])

        def cth(h):  # a·coth(ah), a/sinh(ah), a·tanh(ah), overflow-free (1/h, 1/h, 0 at a = 0)
            h = np.asarray(h, dtype=float)
            if a == 0:
                with np.errstate(divide="ignore"):
                    return 1.0 / h, 1.0 / h, np.zeros_like(h)
            m = -np.expm1(-2 * a * h)  # 1 − e^{−2ah}
            q = np.exp(-2 * a * h)
            with np.errstate(divide="ignore", invalid="ignore"):
                return a * (1 + q) / m, 2 * a * np.exp(-a * h) / m, a * m / (1 + q)
        if gaps.size and float(np.min(gaps)) < 1e-100:
            raise ValueError("points closer than 1e-100: the O(K) route's 1/gap would overflow (use the eigen route)")
        cg, sg, _ = cth(gaps)
        Td = np.zeros(n)
        Td[:-1] += cg
        Td[1:] += cg
        for end, h in ((0, h0), (1, h1)):
            c_, _, t_ = cth(h)
            i = 0 if end == 0 else n - 1
            if kind[end] == 0:
                if h <= 0:
                    raise ValueError("a point at a Dirichlet end must be dropped (internal error)")
                Td[i] += float(c_)
            else:
                Td[i] += float(t_)
        self._Td, self._To = w1 * Td, -w1 * sg
        self.d_max_upper = float(np.sum(self._green_diag(xi))) / K  # trace G ≥ d_max
        self.d_min_lower = 1.0 / (K * float(np.max(np.abs(self._Td) + np.r_[0, -self._To] + np.r_[-self._To, 0])))

    def _green_diag(self, x):
        """``g(x, x) = u(x)v(x)/(w₁W)``: u = sinh(ax) (Dirichlet at 0) or cosh(ax) (Neumann), v likewise from 1,
        W = a·sinh(a) (same kinds) or a·cosh(a) (mixed); written with e^{−2a·} so it never overflows (the
        sympy pieces of :func:`kdtheory.greens.green_function` cancel e^{±ax} terms and lose everything for
        a ≳ 40). At a = 0: x(1 − x), x or 1 − x over w₁."""
        kL, kR = self.bcs[0][1], self.bcs[1][1]
        a = math.sqrt(self.w0 / self.w1)
        if a == 0:
            return {(0, 0): x * (1 - x), (0, 1): x, (1, 0): 1 - x}[(kL, kR)] / self.w1

        def f(z, kind):  # (1 − e^{−2z}) for sinh (Dirichlet), (1 + e^{−2z}) for cosh (Neumann)
            return -np.expm1(-2 * z) if kind == 0 else 1 + np.exp(-2 * z)
        return f(a * x, kL) * f(a * (1 - x), kR) / (2 * self.w1 * a * f(a, 0 if kL == kR else 1))

    def green(self):
        """The Green's function itself (derived by sympy in :mod:`kdtheory.greens`; lazy import)."""
        from kdtheory.greens import green_function
        return green_function({0: self.w0, 1: self.w1} if self.w0 else {1: self.w1}, list(self.bcs))

    def _T(self, u):
        out = self._Td * u
        out[:-1] += self._To * u[1:]
        out[1:] += self._To * u[:-1]
        return out

    def _factor(self, c) -> _TriFactor:
        lam = c * self.K
        d, e, info = _pttrf(1.0 + lam * self._Td, lam * self._To)
        if info != 0:
            raise np.linalg.LinAlgError(f"LDLᵀ of I + λT failed at c={c:.6g} (dpttrf info={info})")
        return _TriFactor(lam, d, e)

    def _apply(self, fac: _TriFactor, u, *, refine: bool = True):
        """``c(cI + G)⁻¹u = λ(I + λT)⁻¹Tu`` (r directly, no cancellation near interpolation), refined on the
        tridiagonal system until a correction changes r by ≤ 1e-12 relative (3 at most; η kept for the root)."""
        lam = fac.lam
        b = self._T(u)
        xs, info = _pttrs(fac.d, fac.e, b)
        if info != 0:
            raise np.linalg.LinAlgError(f"dpttrs failed (info={info})")
        if refine:
            nr = float(np.linalg.norm(xs)) * lam
            for _ in range(3):
                delta = _pttrs(fac.d, fac.e, b - xs - lam * self._T(xs))[0]
                xs += delta
                fac.eta = float(np.linalg.norm(delta)) * lam / nr if nr > 0 else 0.0
                if fac.eta <= _REFINE_TOL:
                    break
            self.cholesky_solves += 1
        return lam * xs

    def matvec(self, u) -> np.ndarray:
        """``G u = T⁻¹u/K`` on the kept points (0 at points on a Dirichlet end), O(K)."""
        u = _labels("u", u, self.K)
        out = np.zeros(self.K)
        if self.n_interior:
            d, e, _ = _pttrf(self._Td, self._To)
            out[self._inner] = _pttrs(d, e, u[self._inner])[0] / self.K
        return out

    def dense(self) -> np.ndarray:
        """The Gram matrix itself from the sympy-derived Green's function (O(K²); for tests and small K)."""
        x = self.points
        return self.green()(x[:, None], x[None, :]) / self.K


def implicit_gram(points, green=None):
    """The O(K) implicit Gram of ``green`` on ``points`` when one exists, else None.

    ``green``: a :class:`kdtheory.greens.GreenFunction` (None: the spline kernel (57)). O(K) routes: (57) itself
    (weights {2: 1}, conditions (55)) → :class:`SplineGram`; ``∫ w₁f'² + w₀f²`` with a Dirichlet or Neumann
    condition at each end → :class:`SobolevGram`. Everything else: None (use the dense Gram, eigen route)."""
    if green is None:
        return SplineGram(points)
    if getattr(green, "weights", None) is None or getattr(green, "bcs", None) is None:
        V.function("green", green)
        return None  # a plain kernel callable: no structure known
    w = {int(j): float(v) for j, v in dict(green.weights).items()}
    bcs = tuple(sorted(green.bcs))
    if w == {2: 1.0} and bcs == ((0, 0), (0, 2), (1, 0), (1, 2)):
        return SplineGram(points)
    if set(w) <= {0, 1} and 1 in w and len(bcs) == 2 and {p for p, _ in bcs} == {0, 1}:
        return SobolevGram(points, w.get(0, 0.0), w[1], bcs)
    return None


def _solve_banded_root(S: _ImplicitGram, y: np.ndarray, eps: float,
                       guess: float | None = None) -> tuple[float, int, np.ndarray]:
    """Root of h (Prop. 2) for the implicit spline Gram, inside the bracket (25) with ``d_min ≥ d_min_lower``
    and ``d_max ≤ trace G`` (a valid, wider bracket).

    Safeguarded Halley iteration on ``ψ(s) = log N − log(K·eps − floor)``, ``N(s) = ‖r(eˢ)‖²``, ``s = log c``
    (``guess``: a start, e.g. extrapolated from the previous rounds). One factorisation per evaluation gives
    ``r = c(cI + G)⁻¹y`` and ``q = c(cI + G)⁻¹r``; with ``p = r − q = G(cI + G)⁻¹r`` (eigenbasis: r_k = c z_k/(c +
    d_k)) ``N' = 2rᵀp`` and ``N'' = 2(3‖p‖² − rᵀp)`` — both derivatives from the same solve, so the iteration is
    cubic at no extra cost; a step leaving the current bracket is replaced by bisection. Stops at an *evaluated*
    point (|ψ| ≤ max(1e-12, 4η), i.e. the constraint to 1e-12 relative or to the accuracy η of the refined r
    where that is worse — large λ near collapse, η up to ~1e-9 — or a step below the round-off of s) and returns
    (c, evaluations, r at c), so the caller reuses r for the next labels. Raises when the iterates end at a
    bracket end without a sign change (never returns an unverified point)."""
    K = S.K
    yi = y[S._inner]
    zr2 = float(np.sum(yi ** 2))
    zn2 = float(np.sum(y ** 2)) - zr2
    if zn2 + zr2 <= K * eps:
        raise ValueError(f"eps={eps:.6g} ≥ (1/K)‖y‖² = {(zn2 + zr2) / K:.6g}: the zero function is feasible "
                         "(collapsed); there is no positive multiplier")
    if eps <= zn2 / K:
        raise ValueError(f"eps={eps:.6g} is infeasible: no f can reach a training MSE below the reachable floor "
                         f"{zn2 / K:.6g} (labels at points where a boundary condition — (55) for the spline kernel — forces f = 0)")
    target = K * eps - zn2
    s0 = math.sqrt(target)
    nz = math.sqrt(zr2)
    if nz <= s0:
        raise ValueError(f"eps={eps:.6g} equals (1/K)‖y‖² to rounding: the path has collapsed")
    a = math.log(S.d_min_lower * s0 / (nz - s0)) - 1e-12
    b = math.log(S.d_max_upper * s0 / (nz - s0)) + 1e-12
    lt = math.log(target)
    count = 0
    neg = pos = False  # a sign of ψ seen on the lower / upper side
    s = min(max(math.log(guess), a), b) if guess is not None and guess > 0 else 0.5 * (a + b)
    psi = math.nan
    for _ in range(200):
        fac = S._factor(math.exp(s))
        r = S._apply(fac, yi)
        rr = float(r @ r)
        count += 1
        psi = math.log(rr) - lt if rr > 0 else -math.inf
        if abs(psi) <= max(_PSI_TOL, 4.0 * fac.eta):  # ψ to its own accuracy (2η from r's, with margin)
            return math.exp(s), count, r
        if psi < 0:
            a, neg = s, True
        else:
            b, pos = s, True
        step = math.nan
        if rr > 0:
            p = r - S._apply(fac, r, refine=False)
            rp = float(r @ p)
            d1 = 2.0 * rp / rr                                  # ψ'
            d2 = 2.0 * (3.0 * float(p @ p) - rp) / rr - d1 * d1  # ψ''
            if d1 > 0:
                den = 2.0 * d1 * d1 - psi * d2
                step = -2.0 * psi * d1 / den if den > 0 else -psi / d1  # Halley, else Newton
        if math.isfinite(step) and abs(step) <= 1e-14 * max(1.0, abs(s)):
            return math.exp(s), count, r  # at the round-off of s: this evaluated point is the root
        sn = s + step
        if not (a < sn < b) or not math.isfinite(sn):
            sn = 0.5 * (a + b)
        if b - a <= 1e-13 * max(1.0, abs(s)):
            if not (neg and pos):
                break
            return math.exp(s), count, r
        s = sn
    raise RuntimeError(f"no multiplier found in the bracket (25) [{math.exp(a):.6g}, {math.exp(b):.6g}] after "
                       f"{count} evaluations (ψ = {psi:.3g}): the banded residual is inaccurate here")


def _extrapolated_guess(cs: list) -> float | None:
    """Start of round t's root search from the previous multipliers: log c_t is smooth in t (quadratic
    extrapolation from three rounds, linear from two)."""
    ls = [math.log(c) for c in cs[-3:]]
    if len(ls) == 3:
        return math.exp(3 * ls[2] - 3 * ls[1] + ls[0])
    if len(ls) == 2:
        return math.exp(2 * ls[1] - ls[0])
    return cs[-1] if cs else None


def _self_distill_banded(S: _ImplicitGram, y0: np.ndarray, eps: float, rounds: int) -> "SelfDistillationPath":
    K = S.K
    ys, zn, cs = [y0.copy()], [float(np.linalg.norm(y0))], []
    collapsed, evals = None, 0
    y = y0.copy()
    for t in range(rounds + 1):
        if zn[-1] ** 2 <= K * eps * (1 + 1e-12):
            collapsed = t
            break
        if t == rounds:
            break
        c, n, r = _solve_banded_root(S, y, eps, _extrapolated_guess(cs))
        evals += n
        cs.append(c)
        yn = np.zeros(K)
        yn[S._inner] = y[S._inner] - r
        y = yn
        ys.append(y)
        zn.append(float(np.linalg.norm(y)))
    return SelfDistillationPath(c=np.array(cs, dtype=float), y=ys, log_B=None, collapsed_at=collapsed,
                                z_norm=np.array(zn), effective_basis=None, d=None, eps=eps, evaluations=evals,
                                route="banded")


#: the eigen route is used only where its smallest eigenvalue keeps this relative accuracy
_EIGEN_REL_ACC = 1e-6
_EIGEN_MAX_K = 3000


def choose_route(points, green=None) -> str:
    """``"eigen"`` or ``"banded"`` for the kernel ``green`` (None: the spline kernel (57)) on ``points``.

    The eigen route (one ``eigh``, O(K³)) gives the B_t analysis (eq. 46) and is used when it is accurate:
    K ≤ 3000, an O(K) Gram exists and builds (:func:`implicit_gram`: interior points distinct), and
    ``κ_upper·K·machine-ε ≤ 1e-6`` (eigh's absolute error ~K·ε·d_max leaves the smallest eigenvalue a relative
    accuracy of 1e-6 or better; κ_upper = trace(G)/d_min_lower ≥ κ). Otherwise the O(K) banded route (no B_t).
    Kernels without an O(K) route, and duplicate interior points: eigen."""
    x = V.as_array("points", points, ndim=1)
    try:
        S = implicit_gram(x, green)
    except ValueError:
        if x.size and x.min() >= 0 and x.max() <= 1:
            return "eigen"
        raise
    if S is None or S.n_interior == 0:
        return "eigen"
    kappa_up = S.d_max_upper / S.d_min_lower
    if S.K <= _EIGEN_MAX_K and kappa_up * S.K * _MACHEPS <= _EIGEN_REL_ACC:
        return "eigen"
    return "banded"


def self_distill_points(points, y0, eps, rounds, *, route: str = "auto", green=None) -> SelfDistillationPath:
    """Self-distillation with the kernel ``green`` (a :class:`kdtheory.greens.GreenFunction`; None: the spline
    kernel (57)) on 1-D ``points`` (G = g(x_j, x_k)/K, eq. 16).

    ``route``: ``"auto"`` (:func:`choose_route`), ``"eigen"`` (:func:`self_distill` on the dense Gram: B_t
    available) or ``"banded"`` (O(K) per evaluation of h, no G formed; ``log_B``/``effective_basis`` are None;
    a ValueError for a kernel without an O(K) route, see :func:`implicit_gram`).
    """
    route = V.one_of("route", route, ("auto", "eigen", "banded"))
    x = V.as_array("points", points, ndim=1)
    if green is not None:
        V.function("green", green)
    if route == "auto":
        route = choose_route(x, green)
    if route == "eigen":
        G = _spline_green_matrix(x) if green is None else green(x[:, None], x[None, :])
        return self_distill(G / x.shape[0], y0, eps, rounds)
    S = implicit_gram(x, green)
    if S is None:
        raise ValueError("route='banded': this kernel has no O(K) route (the spline kernel (57) and ∫ w₁f'² + "
                         "w₀f² with Dirichlet/Neumann ends do); use route='eigen' or 'auto'")
    return self_distill(S, y0, eps, rounds)


# -------------------------------------------------------- App. B: the one-step bounds and Prop. 3's upper side
def trivial_rounds(y0_norm, K, eps) -> float:
    """The one-line bound: while the constraint is active ‖z_t − z_{t+1}‖ = √(K·eps), so u_{t+1} ≥ u_t − 1 and
    the path does not collapse before ``u₀ − 1`` rounds (0 if u₀ ≤ 1). Dominates Prop. 4 (t̲ = (u₀ − 1)/κ)."""
    return max(_u0(y0_norm, K, eps) - 1.0, 0.0)


def step_bounds(u_prev, kappa) -> tuple[np.ndarray, np.ndarray]:
    """Eq. (114): ``u/(κ/(u − 1) + 1) ≤ u_t ≤ u/((1/κ)/(u − 1) + 1)`` with ``u = u_{t−1} > 1``."""
    u = V.as_array("u_prev", u_prev, ndim=(0, 1), min_size=1)
    if np.any(u <= 1):
        raise ValueError("u_prev must be > 1 (a non-collapsed round)")
    kappa = _kappa(kappa)
    if math.isinf(kappa):
        raise ValueError("kappa must be finite")
    return u / (kappa / (u - 1) + 1), u / ((1 / kappa) / (u - 1) + 1)


def tangent_bounds(u, u0, kappa) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Footnote 8, eqs. (117)–(118): the maps ``φ_x(u) = u/(x/(u − 1) + 1)`` and their tangents at u₀,
    ``a(x)u − b(x)`` (eqs. 119–120). Returns ``(φ_{1/κ}(u), a(1/κ)u − b(1/κ), φ_κ(u), a(κ)u − b(κ))``; (117)
    states the first ≤ the second (φ_{1/κ} concave), (118) the third ≥ the fourth (φ_κ is *convex* for κ > 1,
    so its tangent is below it — the inequality holds although footnote 8 calls the map concave)."""
    u = V.as_array("u", u, ndim=(0, 1), min_size=1)
    u0 = V.scalar("u0", u0, lo=1.0, lo_open=True)
    if np.any(u <= 1):
        raise ValueError("u must be > 1")
    kappa = _kappa(kappa)
    phi = lambda x: u / (x / (u - 1) + 1)  # noqa: E731
    a_lo, b_lo = _ab(u0, kappa)
    a_hi, b_hi = _ab(u0, 1.0 / kappa)
    return phi(1.0 / kappa), a_hi * u - b_hi, phi(kappa), a_lo * u - b_lo


def prop3_upper_bound(z0_norm, K, eps, kappa, t) -> np.ndarray:
    """Eq. (122), right side: ``‖z_t‖ ≤ s(a(1/κ)^t u₀ − b(1/κ)(a(1/κ)^t − 1)/(a(1/κ) − 1))``, s = √(K·eps)."""
    u0 = _u0(z0_norm, K, eps, "z0_norm")
    kappa = _kappa(kappa)
    if math.isinf(kappa) or u0 <= 1:
        raise ValueError("Prop. 3 needs a finite kappa and z0_norm = ‖z₀‖ > √(K·eps)")
    t = V.as_array("t", t, ndim=(0, 1), min_size=1)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and >= 0")
    a, b = _ab(u0, 1.0 / kappa)
    s = math.sqrt(int(K) * float(eps))
    geo = t if a == 1.0 else (a ** t - 1.0) / (a - 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        out = s * (a ** t * u0 - b * geo)
    return V.finite_result(out, inputs=("t", "z0_norm", "kappa"), what="Prop. 3's upper bound")


def product_form(g_new, G, path: "SelfDistillationPath", t: int) -> np.ndarray:
    """Eqs. (32)/(48) corrected: ``f_t(x) = g_xᵀ Vᵀ D⁻¹ B_t V y₀`` (numpy's V is the paper's Vᵀ) — the Prop. 1
    solution of round t written with the product ``B_t = Π_{i≤t} A_i`` only. The printed form lacks ``D⁻¹``
    (:func:`product_form_printed`, erratum 002-3): ``(c_tI + G)⁻¹y_t = Vᵀ(c_tI + D)⁻¹Π_{i<t}A_i V y₀`` and
    ``(c_t + d)⁻¹ = d⁻¹·d/(c_t + d)``. Null components (d = 0) carry B = 0 and contribute nothing."""
    S = _spec(G)
    if not isinstance(path, SelfDistillationPath) or path.log_B is None:
        raise TypeError("path must be an eigen-route SelfDistillationPath (with log_B)")
    t = int(V.scalar("t", t, lo=0, hi=path.rounds_fitted - 1, integer=True))
    g_new = V.as_array("g_new", g_new, ndim=(1, 2), min_size=1)
    if g_new.shape[-1] != S.K:
        raise ValueError(f"g_new has {g_new.shape[-1]} columns but G is {S.K}×{S.K} (K must agree)")
    B = np.exp(path.log_B[t])
    w = np.divide(B, S.d, out=np.zeros_like(B), where=S.d > 0)
    return g_new @ S.unrotate(w * S.rotate(path.y[0]))


def product_form_printed(g_new, G, path: "SelfDistillationPath", t: int) -> np.ndarray:
    """Eqs. (32)/(48) **as printed**: ``g_xᵀ Vᵀ B_t V y₀`` (no D⁻¹). Kept for erratum 002-3 only."""
    S = _spec(G)
    if not isinstance(path, SelfDistillationPath) or path.log_B is None:
        raise TypeError("path must be an eigen-route SelfDistillationPath (with log_B)")
    t = int(V.scalar("t", t, lo=0, hi=path.rounds_fitted - 1, integer=True))
    g_new = V.as_array("g_new", g_new, ndim=(1, 2), min_size=1)
    return g_new @ S.unrotate(np.exp(path.log_B[t]) * S.rotate(path.y[0]))


# ------------------------------------------------ beyond the paper: α-mixed targets (Borup & Andersen 2021)
@dataclasses.dataclass(frozen=True)
class MixedPath:
    """Self-distillation with mixed targets ``α y₀ + (1 − α) f_{t−1}`` (α = 0: the paper's path).

    c: (T,) multipliers; y: fitted predictions f_0 … f_{T−1} on the training points, preceded by y₀;
    log_F: (T, K) log of the spectral filter F_t with ``Vᵀf_t = F_t ⊙ z₀``; alpha, eps as given;
    collapsed_at: first round whose target has (1/K)‖target‖² ≤ eps (zero fit), or None."""

    c: np.ndarray
    y: list
    log_F: np.ndarray
    alpha: float
    eps: float
    collapsed_at: int | None


def mixed_self_distill(G, y0, eps, rounds, alpha) -> MixedPath:
    """Round t fits the target ``τ_t = α y₀ + (1 − α) f_{t−1}`` (τ₀ = y₀) under the constraint of eq. (1).

    Beyond paper 002: the α-mixed distillation of Borup & Andersen (NeurIPS 2021), in the paper's Hilbert-space
    setting. Prop. 1 applies to each round with labels τ_t, so in the eigenbasis ``Vᵀf_t = A_t(α z₀ + (1 − α)Vᵀf_{t−1})``
    with ``A_t = D(c_tI + D)⁻¹``: a spectral filter ``F_t = A_t ⊙ (α + (1 − α)F_{t−1})``, ``F_{−1} = 1`` (α = 0 gives
    B_t of eq. 46; α = 1 refits y₀ every round: F_t = A_0). c_t is the Prop. 2 root for the target τ_t. A round
    whose target has (1/K)‖τ_t‖² ≤ eps collapses (zero fit); with α > 0 the next target α y₀ is then non-zero,
    but we stop there, as for α = 0."""
    S = _spec(G)
    y0 = _labels("y0", y0, S.K)
    eps = V.positive("eps", eps)
    rounds = int(V.scalar("rounds", rounds, lo=0, integer=True))
    alpha = V.scalar("alpha", alpha, lo=0.0, hi=1.0)
    z0 = S.rotate(y0)
    F = np.ones(S.K)
    ys, cs, logF, collapsed = [y0.copy()], [], [], None
    for t in range(rounds):
        tau = z0 if t == 0 else alpha * z0 + (1 - alpha) * F * z0
        if float(np.sum(tau ** 2)) <= S.K * eps * (1 + 1e-12):
            collapsed = t
            break
        c, _ = _solve_spectral(S.d, tau, eps)
        cs.append(c)
        A = S.d / (c + S.d)
        F = A * (1.0 if t == 0 else alpha + (1 - alpha) * F)
        logF.append(np.where(F > 0, np.log(np.where(F > 0, F, 1.0)), -np.inf))
        ys.append(S.unrotate(F * z0))
    return MixedPath(c=np.array(cs), y=ys, log_F=np.array(logF).reshape(len(logF), S.K), alpha=alpha, eps=eps,
                     collapsed_at=collapsed)
