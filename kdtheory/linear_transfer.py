"""Linear and deep-linear knowledge distillation (paper 003: Phuong & Lampert, "Towards understanding KD").

Statement
---------
A linear teacher ``h*(x) = 1{w*ᵀx ≥ 0}`` labels a transfer set ``X = [x_1 … x_n] ∈ R^{d×n}`` with soft labels
``y_i = σ(w*ᵀx_i)``; a (deep) linear student minimises the normalised cross-entropy L¹ (eq. 1, 35–36) by
gradient flow. The student converges to ``ŵ`` = w* (n ≥ d) or the projection of w* onto span(X) (n < d)
(Thm 1), up to ε for balanced deep linear students (Thm 2), and its expected transfer risk obeys
``E R ≤ p(β) + p(π/2 − β)^n`` for every β (Thm 3, eq. 19), where ``p(θ) = P[ᾱ(w*, x) ≥ θ]`` (eq. 17). The
loss is restricted-strongly convex / PL on its sublevel sets (Thm A.3, Cor. A.1). Task families: Sec. 5.1's
κ-polynomial laws (:class:`PolynomialAngleTask`) and few-window laws, symmetric or leaning to two sides of w*
(:class:`WindowAngleTask`, on which Thm 3 is nearly tight).

Source
------
M. Phuong, C. H. Lampert, "Towards Understanding Knowledge Distillation", ICML 2019 — seed 003.
Equation numbers refer to that paper (main text 1–34, supplement 35–91).

Conventions: ``X`` is d×n (one column per point); ``w`` vectors are 1-D arrays of length d. Angles in
radians. ``ᾱ`` (:func:`unsigned_angle`, eq. 16) ∈ [0, π/2]; ``α`` (:func:`signed_angle`, eq. 28) ∈ [0, π].

References
----------
Arora, Cohen, Hazan (ICML 2018), Claim 2 — the end-to-end flow of balanced deep linear networks (Lemma C.1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize, special

from kdtheory import validation as V

HALF_PI = 0.5 * math.pi

__all__ = [
    "student_solution", "optimal_beta", "projection_cosine", "student_cosines", "transfer_risk_bound", "cross_entropy",
    "cross_entropy_gradient", "cross_entropy_hessian", "soft_labels", "unsigned_angle", "signed_angle",
    "PolynomialAngleTask", "polynomial_task", "margin_task", "WindowAngleTask", "window_task", "simplex_leans", "student_solutions",
    "transfer_risk_samples", "initial_radius_epsilon", "sublevel_logit_range", "sublevel_omega",
    "restricted_strong_convexity", "restricted_pl_constant", "EmpiricalAngleTask", "empirical_p",
    "corollary1_bound", "corollary2_bound", "corollary2_proof_terms", "corollary2_corrected_bound",
    "corollary2_proof_beta", "approximate_delta", "approximate_transfer_risk_bound", "lemma_d1_angle_bound",
    "balanced_init", "balancedness_defect", "end_to_end", "initial_radius_bound", "deep_distance_bound",
    "deep_norm_bound", "end_to_end_flow", "factor_gradients", "reduced_bias_solution", "hard_target_solution",
    "monotonicity_index", "monotonicity_index_distillation", "transfer_risk", "transfer_risk_from_angle",
    "expected_transfer_risk", "sample_student_angles", "empirical_transfer_risk",
]


# ---------------------------------------------------------------------------------------------------------
# argument checks


def _data_matrix(X, name="X") -> np.ndarray:
    X = V.as_array(name, X, ndim=2)
    d, n = X.shape
    if d == 0:
        raise ValueError(f"{name} must have d >= 1 rows (input dimension), got shape {X.shape}")
    if n == 0:
        raise ValueError(f"{name} must have n >= 1 columns (transfer points), got shape {X.shape}")
    return X


def _teacher(w_star, d: int | None = None, name="w_star") -> np.ndarray:
    w = V.as_array(name, w_star, ndim=1)
    if w.size == 0:
        raise ValueError(f"{name} must have length d >= 1")
    if d is not None and w.size != d:
        raise ValueError(f"{name} has length {w.size} but X has d = {d} rows")
    if not np.any(w):
        raise ValueError(f"{name} must be non-zero (the teacher is w* ∈ R^d \\ {{0}})")
    return w


def _unit(w: np.ndarray) -> np.ndarray:
    """w/‖w‖ formed at unit scale (no under/overflow of ‖w‖ for tiny or huge w)."""
    w = w / np.max(np.abs(w))
    return w / np.linalg.norm(w)


def _full_rank_q(X: np.ndarray, name="X") -> np.ndarray:
    """Orthonormal basis of span(X) for a full-column-rank X (n < d) via reduced QR; clear error otherwise."""
    Q, R = np.linalg.qr(X)
    diag = np.abs(np.diag(R))
    scale = max(float(np.max(np.abs(X))), 1e-300)
    tol = max(X.shape) * np.finfo(float).eps * scale * 10
    if np.any(diag <= tol):
        raise ValueError(
            f"{name} must have full column rank (Thm 1 needs X full-rank, e.g. no duplicate points); "
            f"smallest |R_ii| = {diag.min():.3g}"
        )
    return Q


# ---------------------------------------------------------------------------------------------------------
# Theorem 1 and the loss (eq. 1, 6, 35–38)


def student_solution(X, w_star) -> np.ndarray:
    """The distillation solution ŵ reached by gradient flow from w = 0 (Thm 1, eq. 6).

    Statement: ``ŵ = w*`` if n ≥ d, else ``ŵ = X(XᵀX)⁻¹Xᵀw* = QQᵀw*`` (projection of w* onto span(X)).

    Source: Phuong & Lampert, Thm 1, eq. (6); the projection is computed from a reduced QR factorisation
    (never an explicit inverse). X is d×n and must have full rank (a.s. for data with a density);
    rank-deficient X (duplicate points) raises. ``ŵ = 0`` is a legitimate result when w* ⊥ span(X).
    """
    X = _data_matrix(X)
    d, n = X.shape
    w = _teacher(w_star, d)
    if n >= d:
        # n ≥ d: full rank means rank d
        s = np.linalg.svd(X, compute_uv=False)
        if s[-1] <= max(X.shape) * np.finfo(float).eps * s[0] * 10:
            raise ValueError(f"X must have full rank d = {d} when n >= d (Thm 1); smallest singular value {s[-1]:.3g}")
        return w.copy()
    Q = _full_rank_q(X)
    return Q @ (Q.T @ w)


def projection_cosine(X, w_star) -> float:
    """cos ᾱ(w*, ŵ(X)) = ‖Qᵀw*‖/‖w*‖ (eq. 26), 1 when n ≥ d."""
    X = _data_matrix(X)
    w = _teacher(w_star, X.shape[0])
    if X.shape[1] >= X.shape[0]:
        return 1.0
    Q = _full_rank_q(X)
    return float(min(1.0, np.linalg.norm(Q.T @ _unit(w))))


def _stacked_span_basis(Xs: np.ndarray) -> np.ndarray:
    """Orthonormal bases Q_k of span(X_k) for a stack (m, d, n), n < d, by one stacked QR; rank-deficient sets raise."""
    m, d, n = Xs.shape
    Q, R = np.linalg.qr(Xs, mode="reduced")
    diag = np.abs(np.diagonal(R, axis1=1, axis2=2))
    tol = 10 * max(d, n) * np.finfo(float).eps * np.max(np.abs(Xs), axis=(1, 2))
    if np.any(diag <= tol[:, None]):
        k = int(np.flatnonzero(np.any(diag <= tol[:, None], axis=1))[0])
        raise ValueError(f"Xs[{k}] must have full column rank (Thm 1 needs X full-rank, e.g. no duplicate points)")
    return Q


def student_cosines(Xs, w_star) -> np.ndarray:
    """Batched eq. (26): cos ᾱ(w*, ŵ(X_k)) for a stack ``Xs`` of shape (m, d, n) via one stacked QR."""
    Xs = V.as_array("Xs", Xs, ndim=3, min_size=1)
    m, d, n = Xs.shape
    w = _teacher(w_star, d)
    if n >= d:
        return np.ones(m)
    Q = _stacked_span_basis(Xs)
    c = np.linalg.norm(np.einsum("mdn,d->mn", Q, _unit(w)), axis=1)
    return np.minimum(c, 1.0)


def soft_labels(X, w_star) -> np.ndarray:
    """Teacher soft labels y_i = σ(w*ᵀx_i) (Sec. 3)."""
    X = _data_matrix(X)
    return special.expit(_teacher(w_star, X.shape[0]) @ X)


def _binary_entropy(y):
    return special.entr(y) + special.entr(1.0 - y)


def cross_entropy(w, X, y) -> float:
    """Normalised soft-label cross-entropy L¹(w) (eq. 1, 35–36), minimum value 0.

    ``L¹(w) = (1/n) Σ_i ℓ_i(wᵀx_i)`` with ``ℓ_i(u) = −y_i log σ(u) − (1 − y_i) log(1 − σ(u)) − ℓ_i*`` and
    ``ℓ_i* = −y_i log y_i − (1 − y_i) log(1 − y_i)`` (the binary entropy). Computed stably as
    ``softplus(u) − y u − H(y)`` (log σ(u) = −softplus(−u)).
    """
    X = _data_matrix(X)
    w = V.as_array("w", w, ndim=1)
    y = V.as_array("y", y, ndim=1)
    if w.size != X.shape[0] or y.size != X.shape[1]:
        raise ValueError(f"shapes disagree: w {w.shape}, X {X.shape}, y {y.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must be soft labels in [0, 1]")
    u = w @ X
    vals = np.logaddexp(0.0, u) - y * u - _binary_entropy(y)
    return float(np.mean(np.maximum(vals, 0.0)))


def cross_entropy_gradient(w, X, y) -> np.ndarray:
    """∇L¹(w) = (1/n) Σ_i (σ(wᵀx_i) − y_i) x_i (Thm A.1, eq. 38); lies in span(X)."""
    X = _data_matrix(X)
    w = V.as_array("w", w, ndim=1)
    y = V.as_array("y", y, ndim=1)
    if w.size != X.shape[0] or y.size != X.shape[1]:
        raise ValueError(f"shapes disagree: w {w.shape}, X {X.shape}, y {y.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must be soft labels in [0, 1]")
    return X @ (special.expit(w @ X) - y) / X.shape[1]


def cross_entropy_hessian(w, X) -> np.ndarray:
    """∇²L¹(w) = X D_w Xᵀ / n with D_w = diag σ(wᵀx_i)(1 − σ(wᵀx_i)) (eq. 42–43, with the 1/n of eq. 35)."""
    X = _data_matrix(X)
    w = V.as_array("w", w, ndim=1)
    if w.size != X.shape[0]:
        raise ValueError(f"w must have length d = {X.shape[0]} (the rows of X), got {w.shape}")
    s = special.expit(w @ X)
    return (X * (s * (1 - s))) @ X.T / X.shape[1]


# ---------------------------------------------------------------------------------------------------------
# restricted strong convexity and Polyak–Łojasiewicz on a sublevel set (Thm A.3, Cor. A.1, eq. 40–51)


def sublevel_logit_range(X, y, level) -> tuple[np.ndarray, np.ndarray]:
    """Per point, the interval [u_lo,i, u_hi,i] of u = wᵀx_i over the sublevel set W = {w : L¹(w) ≤ level} implied
    by eq. (45): ℓ_i(u) ≤ n·L¹(w) ≤ n·level, ℓ_i(u) = softplus(u) − y_i u − H(y_i) (convex, 0 at u = logit y_i).

    Needs soft labels y_i ∈ (0, 1) (a hard label leaves one side unbounded and ω = 0)."""
    X = _data_matrix(X)
    y = V.as_array("y", y, ndim=1)
    level = V.nonnegative("level", level)
    n = X.shape[1]
    if y.size != n:
        raise ValueError(f"y must have length n = {n}, got {y.size}")
    if np.any((y <= 0) | (y >= 1)):
        raise ValueError("y must be soft labels in the open interval (0, 1) (Thm A.3 needs ω > 0)")
    target = n * level
    lo, hi = np.empty(n), np.empty(n)
    for i, yi in enumerate(y):
        c = float(special.logit(yi))
        h = float(_binary_entropy(yi))

        def ell(u, yi=yi, h=h):
            return float(np.logaddexp(0.0, u) - yi * u - h) - target
        if target == 0:
            lo[i] = hi[i] = c
            continue
        for sign, out in ((-1.0, lo), (1.0, hi)):
            step = 1.0
            while ell(c + sign * step) < 0:
                step *= 2.0
            a, b = sorted((c, c + sign * step))
            out[i] = optimize.brentq(ell, a, b, xtol=1e-14, rtol=1e-14)
    return lo, hi


def sublevel_omega(X, y, level) -> float:
    """ω of eq. (44): min over W = {L¹ ≤ level} and i of σ(wᵀx_i)(1 − σ(wᵀx_i)), over the ranges of
    :func:`sublevel_logit_range` (σ' is unimodal, so the minimum sits at an end of each interval)."""
    lo, hi = sublevel_logit_range(X, y, level)
    sp = lambda u: special.expit(u) * special.expit(-u)  # noqa: E731
    return float(np.min(np.minimum(sp(lo), sp(hi))))


def restricted_strong_convexity(X, y, level) -> float:
    """μ of Thm A.3 (eq. 40): L¹(v) ≥ L¹(w) + ∇L¹(w)ᵀ(v − w) + (μ/2)‖v − w‖² for w, v ∈ W, v − w ∈ span(X).

    From the proof: ∇²L¹ ⪰ ω XXᵀ/n on W (eq. 42 with the 1/n of eq. 35, erratum 003-2) and, on span(X),
    XXᵀ ⪰ λ⁺_min(XXᵀ)·I (n ≥ d: λ_min(XXᵀ); n < d: 1/λ_max((XᵀX)⁻¹), eq. 47) — so μ = ω·λ⁺_min(XXᵀ)/n with λ⁺_min
    the smallest non-zero eigenvalue of XXᵀ (= that of XᵀX for full-rank X). X must have full rank.
    """
    X = _data_matrix(X)
    d, n = X.shape
    s = np.linalg.svd(X, compute_uv=False)
    if s[-1] <= max(d, n) * np.finfo(float).eps * s[0] * 10:
        raise ValueError("X must have full rank (Thm A.3)")
    omega = sublevel_omega(X, y, level)
    with np.errstate(over="ignore"):  # an overflow is reported by finite_result, naming the inputs
        mu = float(omega * np.square(s[-1] / s[0]) * np.square(s[0]) / n) if omega > 0 else 0.0
    return float(V.finite_result(mu, inputs=("X", "y", "level"), what="restricted strong convexity constant μ"))


def restricted_pl_constant(X, y, level) -> float:
    """c of Cor. A.1 (eq. 48): c·L¹(w) ≤ ½‖∇L¹(w)‖² on W; c = μ/λ_max with λ_max the largest eigenvalue of
    X(XᵀX)⁻¹Xᵀ (eq. 51) — a projection, λ_max = 1 — so c = μ of :func:`restricted_strong_convexity`."""
    return restricted_strong_convexity(X, y, level)


# ---------------------------------------------------------------------------------------------------------
# angles (eq. 16, 28)


def _angle(u, v, signed: bool):
    u = V.as_array("u", u, min_size=1)
    v = V.as_array("v", v, min_size=1)
    if u.ndim == 0 or v.ndim == 0:
        raise ValueError(f"u and v must be vectors (last axis = coordinates), got shapes {u.shape} and {v.shape}")
    try:
        np.broadcast_shapes(u.shape, v.shape)
    except ValueError:
        raise ValueError(f"u and v must broadcast together, got shapes {u.shape} and {v.shape}") from None
    mu_, mv_ = np.max(np.abs(u), axis=-1, keepdims=True), np.max(np.abs(v), axis=-1, keepdims=True)
    if np.any(mu_ == 0) or np.any(mv_ == 0):
        raise ValueError("u and v must be non-zero (angles are defined on R^d \\ {0})")
    u, v = u / mu_, v / mv_  # unit scale: the norms neither underflow nor overflow
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
    c = np.sum(u * v, axis=-1) / (nu * nv)
    if not signed:
        c = np.abs(c)
    return np.arccos(np.clip(c, -1.0, 1.0))


def unsigned_angle(u, v):
    """ᾱ(u, v) = arccos(|uᵀv|/(‖u‖‖v‖)) ∈ [0, π/2] (eq. 16); broadcasts over leading axes."""
    return _angle(u, v, signed=False)


def signed_angle(u, v):
    """α(u, v) = arccos(uᵀv/(‖u‖‖v‖)) ∈ [0, π] (eq. 28, 79); broadcasts over leading axes."""
    return _angle(u, v, signed=True)


# ---------------------------------------------------------------------------------------------------------
# transfer tasks: p(θ) (eq. 17) with exact samplers


def _theta(theta) -> np.ndarray:
    t = V.as_array("theta", theta)
    if np.any(t < 0) or np.any(t > HALF_PI + 1e-12):
        raise ValueError(f"theta must lie in [0, π/2], got range [{t.min():.4g}, {t.max():.4g}]")
    return t


def _t_cdf(s, d: int):
    """P[t < s] for t = vᵀu, u uniform on the unit sphere of R^{d−1} and v a fixed unit vector in it."""
    s = np.asarray(s, dtype=float)
    if d == 2:  # S^0: t = ±1
        return np.where(s > 1, 1.0, np.where(s > -1, 0.5, 0.0))
    a = 0.5 * (d - 2)
    return special.betainc(a, a, np.clip(0.5 * (s + 1.0), 0.0, 1.0))


@dataclasses.dataclass(frozen=True)
class PolynomialAngleTask:
    """A transfer task with ``p(θ) = min(1, c·(1 − θ/θ_max)₊^κ)`` (eq. 17), sampled exactly.

    Sec. 5.1's κ-polynomial task is ``c = 1, θ_max = π/2``: P[a ≥ θ] = (1 − 2θ/π)^κ. A margin task (Cor. 1)
    has ``θ_max < π/2`` (no mass within π/2 − θ_max of the decision boundary). ``c > 1`` puts an atom-free
    shell of angles in [θ_max(1 − c^{−1/κ}), θ_max] (used to test Cor. 2 with c > 1).
    Sampling (Sec. 5.1): angle a by inversion, a direction z uniform among unit vectors at angle a with w*,
    ``x = ν z`` with ν ~ N(0, 1). ``w_star`` defaults to e₁. Needs d ≥ 2 (in R¹ every angle is 0).
    """

    d: int
    kappa: float
    c: float = 1.0
    theta_max: float = HALF_PI
    w_star: np.ndarray | None = None

    def __post_init__(self):
        # d = 1 has only the angle 0 (every x is parallel to w*): no angular law but a point mass exists there
        d = V.scalar("d", self.d, lo=2, integer=True)
        V.scalar("kappa", self.kappa, lo=0.0)
        V.scalar("c", self.c, lo=1.0)
        V.scalar("theta_max", self.theta_max, lo=0.0, hi=HALF_PI, lo_open=True)
        object.__setattr__(self, "d", d)
        if self.w_star is None:
            w = np.zeros(d)
            w[0] = 1.0
        else:
            w = _teacher(self.w_star, d).copy()
        w.setflags(write=False)
        object.__setattr__(self, "w_star", w)

    # -- p(θ) and the angle law
    def __call__(self, theta):
        """p(θ) = P[ᾱ(w*, x) ≥ θ] (eq. 17)."""
        t = _theta(theta)
        if self.kappa == 0:
            return np.where(t <= self.theta_max, 1.0, 0.0) * np.ones_like(t)
        base = np.clip(1.0 - t / self.theta_max, 0.0, None)
        return np.minimum(1.0, self.c * base**self.kappa)

    symmetric = True  # rotationally symmetric about w*: the risk of a student depends on its angle only

    @property
    def s_max(self) -> float:
        """Largest s = 1 − a/θ_max with mass: c^{−1/κ} (the angle law on s has density cκ s^{κ−1})."""
        return 0.0 if self.kappa == 0 else float(self.c ** (-1.0 / self.kappa))

    def sample_angles(self, size, rng) -> np.ndarray:
        """Angles a = ᾱ(w*, x) by inversion: a = θ_max(1 − (U/c)^{1/κ}), U ~ Unif(0, 1)."""
        rng = V.generator("rng", rng)
        if self.kappa == 0:
            return np.full(size, float(self.theta_max))
        u = rng.random(size)
        return self.theta_max * (1.0 - (u / self.c) ** (1.0 / self.kappa))

    def sample(self, n, rng) -> np.ndarray:
        """A transfer set X (d×n) drawn exactly as in Sec. 5.1."""
        return self.sample_sets(1, n, rng)[0]

    def sample_sets(self, m, n, rng) -> np.ndarray:
        """m independent transfer sets, shape (m, d, n)."""
        return _symmetric_sets(self, m, n, rng)

    # -- exact quadrature of E_a[f(a)]
    def angle_quadrature(self, nodes: int = 8, depth: int = 24):
        """Nodes a_k and weights w_k with Σ w_k f(a_k) ≈ E[f(a)] for the angle law of this task.

        On s = 1 − a/θ_max the law has density cκ s^{κ−1} on [0, c^{−1/κ}]; Gauss–Jacobi on the first of
        geometrically shrinking panels (exact for the s^{κ−1} singularity), Gauss–Legendre on the others,
        so that integrands that are sharp near s = 0 (the decision boundary, large d) are resolved.
        """
        if self.kappa == 0:
            return np.array([float(self.theta_max)]), np.array([1.0])
        k, smax = float(self.kappa), self.s_max
        edges = smax * np.concatenate([[0.0], 2.0 ** -np.arange(depth, -1, -1)])
        xs, ws = [], []
        gl_x, gl_w = np.polynomial.legendre.leggauss(nodes)
        # first panel [0, e1]: ∫ cκ s^{κ−1} f ds, with s = e1(1 + t)/2, weight (1 + t)^{κ−1}
        e1 = edges[1]
        tj, wj = special.roots_jacobi(nodes, 0.0, k - 1.0)
        xs.append(e1 * 0.5 * (1 + tj))
        ws.append(self.c * k * wj * (0.5 * e1) ** k)
        for lo, hi in zip(edges[1:-1], edges[2:]):
            s = lo + (hi - lo) * 0.5 * (gl_x + 1)
            xs.append(s)
            ws.append(gl_w * 0.5 * (hi - lo) * self.c * k * s ** (k - 1))
        s = np.concatenate(xs)
        w = np.concatenate(ws)
        return self.theta_max * (1.0 - s), w / w.sum()


def polynomial_task(d, kappa, *, w_star=None) -> PolynomialAngleTask:
    """Sec. 5.1's κ-polynomial task: P[a ≥ θ] = (1 − 2θ/π)^κ."""
    return PolynomialAngleTask(d=d, kappa=kappa, w_star=w_star)


def margin_task(d, margin, *, kappa=1.0, w_star=None) -> PolynomialAngleTask:
    """A large-margin task (Cor. 1): angles ᾱ(w*, x) ≤ π/2 − margin, P[a ≥ θ] = (1 − θ/(π/2 − margin))^κ."""
    margin = V.scalar("margin", margin, lo=0.0, hi=HALF_PI, hi_open=True)
    return PolynomialAngleTask(d=d, kappa=kappa, theta_max=HALF_PI - margin, w_star=w_star)


def _symmetric_sets(task, m, n, rng) -> np.ndarray:
    """m transfer sets (m, d, n) of a task that is rotationally symmetric about w* (Sec. 5.1's construction):
    angle a from ``task.sample_angles``, a direction uniform among unit vectors at angle a with w*, ν ~ N(0, 1)."""
    m = V.count("m", m)
    n = V.count("n", n)
    rng = V.generator("rng", rng)
    d = task.d
    wbar = task.w_star / np.linalg.norm(task.w_star)
    a = task.sample_angles((m, n), rng)
    nu = rng.standard_normal((m, n))
    g = rng.standard_normal((m, d, n))
    g -= wbar[None, :, None] * np.einsum("d,mdn->mn", wbar, g)[:, None, :]  # into w*^⊥
    nrm = np.linalg.norm(g, axis=1, keepdims=True)
    u = np.divide(g, nrm, out=np.zeros_like(g), where=nrm > 0)
    sgn = np.where(rng.random((m, n)) < 0.5, -1.0, 1.0)  # z on either side: ᾱ is unsigned
    z = sgn[:, None, :] * (np.cos(a)[:, None, :] * wbar[None, :, None] + np.sin(a)[:, None, :] * u)
    return nu[:, None, :] * z


@dataclasses.dataclass(frozen=True)
class WindowAngleTask:
    """A transfer task whose angle law ᾱ(w*, x) is a mixture of uniform windows (eq. 17 with mass near a few angles).

    Statement: with probability ``weights[k]`` the angle a = ᾱ(w*, x) is uniform on [lows[k], highs[k]] ⊂ [0, π/2]
    (a smoothed few-angle law), so ``p(θ) = Σ_k q_k · clip((hi_k − θ)/(hi_k − lo_k), 0, 1)`` (continuous,
    piecewise linear with kinks at the window ends: :attr:`kinks`). ``x = ν z``, ν ~ N(0, 1), ‖z‖ = 1 and
    z = cos a · w̄* + sin a · v with the unit vector v ⊥ w* drawn

    * ``sides=None`` (symmetric): uniform on the sphere of w*^⊥, as in Sec. 5.1 — the risk of a student at
      angle φ is :func:`transfer_risk_from_angle`;
    * ``sides`` given (one ±1 per window; *asymmetric*): v = s_k cos ψ · e + sin ψ · u, with e = e₂ a fixed
      direction ⊥ w* = e₁, ψ = ``tilt`` and u uniform on the unit sphere of span(e₁, e₂)^⊥. Points of windows
      with opposite sides lean to opposite sides of w*; the small tilt ψ > 0 keeps X full rank for n ≤ d − 2;
    * ``leans`` given instead (one unit vector ℓ_k ⊥ w* per window, shape (K, d)): v = cos ψ · ℓ_k + sin ψ · u with
      u uniform on the unit sphere of span(e₁, ℓ_k)^⊥ (``sides`` is the case ℓ_k = s_k e₂; e.g. the vertices of a
      regular simplex make every two windows lean away from each other).
      The risk of a student is exact (:meth:`risk`, a Beta CDF per quadrature node).

    Theorem 3 holds for every input law (no symmetry is assumed), so both kinds are valid tasks. Rotational
    symmetry makes the bound loose by at least a factor 2 (a student at angle φ ≤ π/2 errs on a point at
    angle a with probability P[t < −cot a cot φ] ≤ 1/2); the asymmetric kind can approach the bound.
    ``w_star`` is e₁ (both kinds). Source: Phuong & Lampert, Thm 3 (eq. 17–19); the task family is ours.
    """

    d: int
    lows: tuple
    highs: tuple
    weights: tuple
    sides: tuple | None = None
    tilt: float = 0.1
    leans: np.ndarray | None = None

    def __post_init__(self):
        d = V.count("d", self.d, lo=2)
        V.scalar("tilt", self.tilt, lo=0.0, hi=HALF_PI)
        lo = V.as_array("lows", self.lows, ndim=1)
        hi = V.as_array("highs", self.highs, ndim=1)
        q = V.as_array("weights", self.weights, ndim=1)
        if not (lo.size == hi.size == q.size) or lo.size == 0:
            raise ValueError(f"lows, highs and weights must have the same non-zero length, got {lo.size}, {hi.size}, {q.size}")
        if np.any(lo < 0) or np.any(hi > HALF_PI) or np.any(hi <= lo):
            raise ValueError("windows must satisfy 0 <= lows[k] < highs[k] <= π/2")
        if np.any(q < 0) or not math.isclose(float(q.sum()), 1.0, rel_tol=0, abs_tol=1e-12):
            raise ValueError(f"weights must be non-negative and sum to 1, got sum {q.sum():.15g}")
        object.__setattr__(self, "d", d)
        for name, arr in (("lows", lo), ("highs", hi), ("weights", q)):
            arr = arr.copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.sides is not None:
            s = V.as_array("sides", self.sides, ndim=1)
            if s.size != lo.size or not np.all(np.abs(s) == 1):
                raise ValueError("sides must hold one ±1 per window")
            if d < 3:
                raise ValueError("an asymmetric task (sides given) needs d >= 3")
            if self.leans is not None:
                raise ValueError("give sides or leans, not both")
            s = s.copy()
            s.setflags(write=False)
            object.__setattr__(self, "sides", s)
            L = np.zeros((lo.size, d))
            L[:, 1] = s
        elif self.leans is not None:
            L = V.as_array("leans", self.leans, ndim=2).copy()
            if L.shape != (lo.size, d):
                raise ValueError(f"leans must have shape (windows, d) = {(lo.size, d)}, got {L.shape}")
            if d < 3:
                raise ValueError("an asymmetric task (leans given) needs d >= 3")
            if np.any(np.abs(L[:, 0]) > 1e-12) or not np.allclose(np.linalg.norm(L, axis=1), 1.0, atol=1e-12):
                raise ValueError("leans must be unit vectors orthogonal to w* = e₁")
        if self.sides is not None or self.leans is not None:
            L.setflags(write=False)
            object.__setattr__(self, "leans", L)
        w = np.zeros(d)
        w[0] = 1.0
        w.setflags(write=False)
        object.__setattr__(self, "w_star", w)

    @property
    def symmetric(self) -> bool:
        return self.leans is None

    @property
    def kinks(self) -> np.ndarray:
        """The window ends: p is linear between consecutive kinks (candidates for the minimising β)."""
        return np.unique(np.concatenate([self.lows, self.highs]))

    def __call__(self, theta):
        """p(θ) = P[ᾱ(w*, x) ≥ θ] (eq. 17)."""
        t = _theta(theta)
        frac = np.clip((self.highs - t[..., None]) / (self.highs - self.lows), 0.0, 1.0)
        return frac @ self.weights

    def sample_angles(self, size, rng) -> np.ndarray:
        return self._sample_angles_and_windows(size, rng)[0]

    def _sample_angles_and_windows(self, size, rng):
        k = rng.choice(self.weights.size, size=size, p=self.weights)
        return self.lows[k] + (self.highs[k] - self.lows[k]) * rng.random(size), k

    def angle_quadrature(self, nodes: int = 8, panels: int = 32):
        """Nodes and weights of E[f(a)]: Gauss–Legendre on ``panels`` equal panels of every window."""
        gl_x, gl_w = np.polynomial.legendre.leggauss(nodes)
        xs, ws = [], []
        for lo, hi, q in zip(self.lows, self.highs, self.weights):
            e = np.linspace(lo, hi, panels + 1)
            mid, half = 0.5 * (e[1:] + e[:-1]), 0.5 * (e[1:] - e[:-1])
            xs.append((mid[:, None] + half[:, None] * gl_x[None, :]).ravel())
            ws.append((q / (hi - lo) * half[:, None] * gl_w[None, :]).ravel())
        return np.concatenate(xs), np.concatenate(ws)

    def _window_quadrature(self, nodes: int = 8, panels: int = 32):
        a, w = self.angle_quadrature(nodes, panels)
        k = np.repeat(np.arange(self.weights.size), nodes * panels)
        return a, w, k

    def sample(self, n, rng) -> np.ndarray:
        return self.sample_sets(1, n, rng)[0]

    def sample_sets(self, m, n, rng, *, windows=None) -> np.ndarray:
        """m independent transfer sets, shape (m, d, n). ``windows`` (asymmetric kind only): the window index of
        every point, an int array broadcastable to (m, n) (then the angles are drawn within those windows)."""
        if self.symmetric and windows is None:
            return _symmetric_sets(self, m, n, rng)
        if self.symmetric:
            raise ValueError("windows= is only supported for an asymmetric task (sides or leans given)")
        m = V.scalar("m", m, lo=1, integer=True)
        n = V.scalar("n", n, lo=1, integer=True)
        d, psi = self.d, float(self.tilt)
        if windows is None:
            a, k = self._sample_angles_and_windows((m, n), rng)
        else:
            k = np.broadcast_to(np.asarray(windows, dtype=int), (m, n))
            if np.any(k < 0) or np.any(k >= self.weights.size):
                raise ValueError(f"windows must index the {self.weights.size} windows")
            a = self.lows[k] + (self.highs[k] - self.lows[k]) * rng.random((m, n))
        lean = np.moveaxis(self.leans[k], -1, 1)  # (m, d, n)
        g = rng.standard_normal((m, d, n))
        g[:, 0, :] = 0.0
        g -= lean * np.einsum("mdn,mdn->mn", g, lean)[:, None, :]  # into span(e₁, ℓ_k)^⊥
        u = g / np.linalg.norm(g, axis=1, keepdims=True)
        z = (np.sin(a) * math.cos(psi))[:, None, :] * lean + (np.sin(a) * math.sin(psi))[:, None, :] * u
        z[:, 0, :] = np.cos(a)
        return rng.standard_normal((m, 1, n)) * z

    def risk(self, w, *, nodes: int = 8, panels: int = 8) -> np.ndarray:
        """Exact transfer risk R(h_w) (eq. 4) of students w ((d,) or (m, d)); w = 0 predicts 1 → 1/2.

        Asymmetric kind: with α = w̄ᵀe₁, β_k = w̄ᵀℓ_k and g_k = ‖w̄ projected on span(e₁, ℓ_k)^⊥‖ (w̄ = w/‖w‖), a
        point of window k at angle a errs iff t < −(α cos a + β_k sin a cos ψ)/(g_k sin a sin ψ), t = ûᵀu,
        (1 + t)/2 ~ Beta((d−3)/2, (d−3)/2).
        """
        if self.symmetric:
            return transfer_risk(w, self)
        w = V.as_array("w", w, ndim=(1, 2))
        W = np.atleast_2d(w)
        if W.shape[1] != self.d:
            raise ValueError(f"w has length {W.shape[1]}, task has d = {self.d}")
        nrm = np.linalg.norm(W, axis=1)
        Wn = W / np.where(nrm > 0, nrm, 1.0)[:, None]
        al = Wn[:, :1]
        be = Wn @ self.leans.T  # (m, windows)
        g = np.sqrt(np.clip(1.0 - al**2 - be**2, 0.0, None))
        a, wq, k = self._window_quadrature(nodes, panels)  # 8 × 8 nodes per window: |error| < 1e-4
        psi = float(self.tilt)
        num = al * np.cos(a)[None, :] + be[:, k] * (np.sin(a) * math.cos(psi))[None, :]
        den = g[:, k] * (np.sin(a) * math.sin(psi))[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where(den > 0, -num / den, np.where(num < 0, np.inf, -np.inf))
        r = _t_cdf(tau, self.d - 1) @ wq
        r = np.where(nrm == 0, 0.5, np.clip(r, 0.0, 1.0))
        return r if w.ndim == 2 else float(r[0])


def simplex_leans(K, d) -> np.ndarray:
    """K unit vectors ⊥ e₁ in R^d with pairwise inner products −1/(K − 1) (a regular simplex in coordinates 2…K),
    for :class:`WindowAngleTask` ``leans``. Needs 2 ≤ K ≤ d − 1."""
    K = V.count("K", K, lo=2)
    d = V.count("d", d, lo=3)
    if K > d - 1:
        raise ValueError(f"K must be <= d - 1 = {d - 1} (the simplex lives in w*^⊥ minus one free direction)")
    C = np.eye(K) - 1.0 / K  # centred standard basis: rows span the (K−1)-dim plane ⊥ (1, …, 1)
    B = np.linalg.svd(C)[2][: K - 1]  # orthonormal basis of that plane
    P = C @ B.T
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    out = np.zeros((K, d))
    out[:, 1:K] = P
    return out


def window_task(d, centers, halfwidth, weights, *, sides=None, tilt=0.1, leans=None) -> WindowAngleTask:
    """A smoothed few-angle law: windows [c − h, c + h] ∩ [0, π/2] around each centre (see :class:`WindowAngleTask`)."""
    c = V.as_array("centers", centers, ndim=1, min_size=1)
    h = V.positive("halfwidth", halfwidth)
    if np.any(c < 0) or np.any(c > HALF_PI):
        raise ValueError("centers must lie in [0, π/2]")
    if np.any(np.minimum(c + h, HALF_PI) - np.maximum(c - h, 0.0) <= 1e-12):
        raise ValueError("halfwidth must leave every window [c − h, c + h] ∩ [0, π/2] a positive width (centers, halfwidth)")
    return WindowAngleTask(d=d, lows=tuple(np.clip(c - h, 0.0, HALF_PI)), highs=tuple(np.clip(c + h, 0.0, HALF_PI)),
                           weights=tuple(V.as_array("weights", weights, ndim=1)),
                           sides=None if sides is None else tuple(sides), tilt=tilt, leans=leans)


@dataclasses.dataclass(frozen=True)
class EmpiricalAngleTask:
    """The empirical reverse CDF p̂(θ) = (1/M) #{j : ᾱ(w*, x_j) ≥ θ} of sample angles (eq. 17 on a sample).

    Build it with :func:`empirical_p` from points and a teacher. ``points`` (d×M) are kept when given so
    that :func:`empirical_transfer_risk` can evaluate a student on the same sample.
    """

    angles: np.ndarray
    points: np.ndarray | None = None
    w_star: np.ndarray | None = None

    def __post_init__(self):
        a = np.sort(V.as_array("angles", self.angles, ndim=1))
        if a.size == 0:
            raise ValueError("angles must not be empty")
        if np.any(a < 0) or np.any(a > HALF_PI + 1e-12):
            raise ValueError("angles must lie in [0, π/2]")
        a.setflags(write=False)
        object.__setattr__(self, "angles", a)

    def __call__(self, theta):
        t = _theta(theta)
        return 1.0 - np.searchsorted(self.angles, t, side="left") / self.angles.size

    @property
    def breakpoints(self) -> np.ndarray:
        return self.angles


def empirical_p(X, w_star) -> EmpiricalAngleTask:
    """p̂ from sample points X (d×M): the angles ᾱ(w*, x_j) (eq. 16). Zero columns are rejected."""
    X = _data_matrix(X)
    w = _teacher(w_star, X.shape[0])
    if np.any(np.linalg.norm(X, axis=0) == 0):
        raise ValueError("X must not contain zero columns (their angle is undefined)")
    ang = unsigned_angle(X.T, w[None, :])
    return EmpiricalAngleTask(angles=ang, points=X, w_star=w)


# ---------------------------------------------------------------------------------------------------------
# Theorem 3 and its corollaries


def _p_callable(p) -> Callable:
    """p wrapped so that each output is checked: real, finite, of θ's shape, in [0, 1] (a NaN from a user's p
    would otherwise be masked by min/argmin as a plausible bound)."""
    if not callable(p):
        raise TypeError("p must be callable: p(theta) -> reverse CDF of the angle (eq. 17)")

    def checked(theta):
        out = V.callable_output("p", p(theta), shape=np.shape(theta))
        if out.size and (out.min() < -1e-12 or out.max() > 1 + 1e-12):
            raise ValueError(f"p (its output) must be a probability P[angle >= theta] in [0, 1], "
                             f"got range [{out.min():.4g}, {out.max():.4g}]")
        return out

    checked.breakpoints = getattr(p, "breakpoints", None)
    checked.kinks = getattr(p, "kinks", None)  # a piecewise-linear p (WindowAngleTask): its kinks seed the β grid
    return checked


def _task(task) -> "PolynomialAngleTask | WindowAngleTask":
    """A rotationally symmetric angular task: the risk of a student depends only on its angle to w*."""
    if isinstance(task, WindowAngleTask) and not task.symmetric:
        raise ValueError("task must be rotationally symmetric here (a WindowAngleTask without sides/leans); "
                         "use WindowAngleTask.risk / transfer_risk_samples for an asymmetric task")
    if not isinstance(task, (PolynomialAngleTask, WindowAngleTask)):
        raise TypeError("task must be a PolynomialAngleTask (polynomial_task, margin_task) or a WindowAngleTask, "
                        f"got {type(task).__name__}")
    return task


def _beta_grid(p, lo=0.0, hi=HALF_PI, size=4097) -> np.ndarray:
    """Candidate β: a uniform grid, geometric grids towards both ends (for large n the minimiser sits at
    distance ~ (log n)/n from an end, below the uniform spacing) and, for a step function p̂, its breakpoints
    and their mirror images with the next float above (p̂ is constant between consecutive candidates)."""
    g = np.linspace(lo, hi, size)
    geo = (hi - lo) * 2.0 ** -np.linspace(1.0, 60.0, 1200)
    g = np.concatenate([g, lo + geo, hi - geo])
    kinks = getattr(p, "kinks", None)  # a continuous piecewise-linear p: its kinks and their mirror images
    if kinks is not None:
        kinks = np.asarray(kinks, dtype=float)
        g = np.concatenate([g, kinks, hi - kinks, lo + kinks, hi + lo - kinks])
    bp = getattr(p, "breakpoints", None)
    if bp is not None:
        bp = np.asarray(bp, dtype=float)
        extra = np.concatenate([bp, np.nextafter(bp, np.inf), hi - bp, np.nextafter(hi - bp, np.inf)])
        g = np.concatenate([g, extra])
    return np.unique(g[(g >= lo) & (g <= hi)])


def _minimise_over_beta(objective: Callable, p, lo: float, hi: float) -> tuple[float, float]:
    """(β*, value): grid search over :func:`_beta_grid`, then (for a p without breakpoints) a bounded Brent
    search on the bracket of the best grid point. Every evaluated β gives a valid bound, so refining can
    only tighten it; the returned value is attained at the returned β."""
    b = _beta_grid(p, lo, hi)
    vals = np.asarray(objective(b), dtype=float)
    k = int(np.argmin(vals))
    best_b, best_v = float(b[k]), float(vals[k])
    if getattr(p, "breakpoints", None) is None and 0 < best_v:
        a, c = float(b[max(k - 1, 0)]), float(b[min(k + 1, b.size - 1)])
        if c > a:
            # minimise log f: the values span many decades when n is large
            res = optimize.minimize_scalar(lambda t: math.log(max(float(objective(np.array([t]))[0]), 1e-300)),
                                           bounds=(a, c), method="bounded", options={"xatol": 1e-15 * (1 + c)})
            v = float(objective(np.array([res.x]))[0])
            if v < best_v:
                best_b, best_v = float(res.x), v
    return best_b, best_v


def _thm3_objective(p, n: int, tight: bool) -> Callable:
    def f(b):
        pb = np.asarray(p(b), dtype=float)
        pc = np.asarray(p(np.clip(HALF_PI - b, 0.0, HALF_PI)), dtype=float)
        return pb + ((1.0 - pb) if tight else 1.0) * pc ** float(n)
    return f


def optimal_beta(p, n, tight=False) -> float:
    """The β ∈ [0, π/2] minimising Thm 3's right-hand side p(β) + p(π/2 − β)^n (eq. 19), or the tight form
    p(β) + (1 − p(β))·p(π/2 − β)^n when ``tight`` (grid search then Brent refinement; see
    :func:`transfer_risk_bound`)."""
    p = _p_callable(p)
    n = V.count("n", n)
    return _minimise_over_beta(_thm3_objective(p, n, V.flag("tight", tight)), p, 0.0, HALF_PI)[0]


def transfer_risk_bound(p, n, beta=None, tight=False, *, d=None) -> float:
    """Theorem 3's bound on the expected transfer risk E_X[R(ĥ_X)] (eq. 19).

    Statement: for n < d and any β ∈ [0, π/2], ``E R ≤ p(β) + p(π/2 − β)^n``; the proof yields the sharper
    ``p(β) + (1 − p(β))·p(π/2 − β)^n`` (``tight=True``). ``beta=None`` minimises over β: a uniform grid,
    geometric grids towards both ends and the breakpoints of an empirical p̂, then a bounded Brent search
    around the best grid point when p is continuous (every evaluated β is itself a valid bound). If ``d`` is
    given and n ≥ d the bound is 0 (eq. 18). The result is clipped to 1 (a risk is a probability).

    Source: Phuong & Lampert, Thm 3, eqs. (18)–(19) and the last display of Sec. 4.3.
    p: callable θ ↦ P[ᾱ(w*, x) ≥ θ] (a task object or :func:`empirical_p`); n: transfer-set size;
    beta: a fixed β ∈ [0, π/2] (ValueError outside).
    """
    p = _p_callable(p)
    n = V.count("n", n)
    tight = V.flag("tight", tight)
    if d is not None:
        d = V.count("d", d)
        if n >= d:
            return 0.0
    f = _thm3_objective(p, n, tight)
    if beta is None:
        val = _minimise_over_beta(f, p, 0.0, HALF_PI)[1]
        if tight:  # the tight objective is ≤ the plain one pointwise: also try the plain form's minimiser, so that
            # the tight bound is never above the plain bound by the search's tolerance
            b_plain = _minimise_over_beta(_thm3_objective(p, n, False), p, 0.0, HALF_PI)[0]
            val = min(val, float(f(np.array([b_plain]))[0]))
    else:
        val = float(f(np.atleast_1d(V.scalar("beta", beta, lo=0.0, hi=HALF_PI)))[0])
    return float(min(1.0, val))


def corollary1_bound(p, n, beta) -> float:
    """Cor. 1 (eq. 20): if p(β) = 0 then E R ≤ γ^n with γ = p(π/2 − β). Raises if p(β) > 0."""
    p = _p_callable(p)
    n = V.scalar("n", n, lo=1, integer=True)
    beta = V.scalar("beta", beta, lo=0.0, hi=HALF_PI)
    if float(p(beta)) > 0:
        raise ValueError(f"Cor. 1 needs p(beta) = 0; got p({beta:.4g}) = {float(p(beta)):.4g}")
    return float(p(HALF_PI - beta)) ** n


def corollary2_bound(n, kappa, c=1.0) -> float:
    """Cor. 2 as printed (eq. 21): E R ≤ c(1 + (log n)^κ)/n^κ when p(θ) ≤ c(1 − 2θ/π)^κ.

    Holds for c = 1 (the proof's β = (π/2)n^{−1/n} gives exactly this); for c > 1 the proof's second term is
    c^n n^{−κ}, not c n^{−κ} (erratum 003-1): use :func:`corollary2_corrected_bound`.
    """
    n = V.scalar("n", n, lo=1, integer=True)
    kappa = V.scalar("kappa", kappa, lo=0.0)
    c = V.scalar("c", c, lo=0.0, lo_open=True)
    return c * (float(n) ** -kappa + (math.log(n) / n) ** kappa)  # = c(1 + (log n)^κ)/n^κ without overflow


def corollary2_proof_beta(n) -> float:
    """The β the proof of Cor. 2 sets: (π/2)·n^{−1/n}."""
    n = V.scalar("n", n, lo=1, integer=True)
    return HALF_PI * n ** (-1.0 / n)


def corollary2_proof_terms(n, kappa, c=1.0, beta=None) -> tuple[float, float]:
    """The two terms of eq. (22) *with* the constant c: (c(1 − 2β/π)^κ, (c(2β/π)^κ)^n) at the proof's β."""
    n = V.scalar("n", n, lo=1, integer=True)
    kappa = V.scalar("kappa", kappa, lo=0.0)
    c = V.scalar("c", c, lo=1.0)
    b = corollary2_proof_beta(n) if beta is None else V.scalar("beta", beta, lo=0.0, hi=HALF_PI)
    first = c * (1.0 - b / HALF_PI) ** kappa
    base = c * (b / HALF_PI) ** kappa
    if base == 0:
        return first, 0.0
    log_second = n * math.log(base)  # in log space: c^n overflows for large n (returned as inf)
    return first, math.exp(log_second) if log_second < 709.0 else math.inf


def corollary2_corrected_bound(n, kappa, c=1.0, *, clip=True) -> float:
    """Corrected Cor. 2: E R ≤ min(1, c((log n)/n)^κ + c^n n^{−κ}) (= the printed bound's rate when c = 1).

    From Thm 3 at β = (π/2)n^{−1/n}: p(β) ≤ c(1 − n^{−1/n})^κ ≤ c((log n)/n)^κ (1 − e^{−x} ≤ x) and
    p(π/2 − β)^n ≤ (c n^{−κ/n})^n = c^n n^{−κ}. For c > 1 the second term does not give the printed rate.
    ``clip=False`` returns the sum itself (inf when c^n n^{−κ} overflows), to compare with Thm 3 at that β.
    """
    n = V.scalar("n", n, lo=1, integer=True)
    kappa = V.scalar("kappa", kappa, lo=0.0)
    c = V.scalar("c", c, lo=1.0)
    clip = V.flag("clip", clip)
    first = c * (math.log(n) / n) ** kappa if n > 1 or kappa > 0 else c
    log_second = n * math.log(c) - kappa * math.log(n)
    second = math.exp(log_second) if log_second < 709.0 else math.inf
    return float(min(1.0, first + second)) if clip else float(first + second)


def _d1(eps, w_norm, name: str) -> float:
    eps = V.nonnegative("eps", eps)
    w_norm = V.positive(name, w_norm)
    if eps > 0.5 * w_norm:
        raise ValueError(f"eps must be <= {name}/2 = {0.5 * w_norm:.4g} (Lemma D.1), got {eps}")
    return math.sqrt(2.0 * math.pi * eps / w_norm)


def lemma_d1_angle_bound(eps, w_norm) -> float:
    """Lemma D.1: ‖w − v‖ ≤ ε ≤ ‖w‖/2 ⇒ α(w, v) ≤ √(2πε/‖w‖)."""
    return _d1(eps, w_norm, "w_norm")


def approximate_delta(eps, w_hat_norm) -> float:
    """δ = √(2πε/‖ŵ‖) of Thm D.1 (Lemma D.1's angle bound for a student ε-close to ŵ, ε ≤ ‖ŵ‖/2)."""
    return _d1(eps, w_hat_norm, "w_hat_norm")


def approximate_transfer_risk_bound(p, n, eps, w_hat_norm, beta=None) -> float:
    """Thm D.1 (eq. 78): for ‖ŵ_ε − ŵ‖ ≤ ε ≤ ‖ŵ‖/2, E R ≤ p(β) + p(π/2 − δ − β)^n, β ∈ [0, π/2 − δ].

    δ = √(2πε/‖ŵ‖). Minimised over β when ``beta`` is None; 1 when the β range is empty (δ > π/2).
    """
    p = _p_callable(p)
    n = V.count("n", n)
    delta = approximate_delta(eps, w_hat_norm)
    hi = HALF_PI - delta
    if hi < 0:
        return 1.0

    def f(b):
        return np.asarray(p(b), dtype=float) + np.asarray(p(np.clip(hi - b, 0.0, HALF_PI)), dtype=float) ** float(n)

    if beta is None:
        val = _minimise_over_beta(f, p, 0.0, hi)[1]
    else:
        val = float(f(np.atleast_1d(V.scalar("beta", beta, lo=0.0, hi=hi)))[0])
    return float(min(1.0, val))


# ---------------------------------------------------------------------------------------------------------
# transfer risk of a given student (exact for the angular tasks, empirical for p̂)


def transfer_risk_from_angle(phi, task: PolynomialAngleTask, *, nodes: int = 8) -> np.ndarray:
    """R(h_w) (eq. 4) for students at signed angle φ = α(w*, w) under an angular task (exact quadrature).

    For x = ν(cos a w̄* + sin a u) with u uniform on the sphere of w*^⊥ and w = cos φ w̄* + sin φ v, the
    prediction differs iff t = vᵀu < −cot a · cot φ, where (1 + t)/2 ~ Beta((d−2)/2, (d−2)/2). So
    R = E_a[P(t < −cot a cot φ)], integrated by :meth:`PolynomialAngleTask.angle_quadrature`.
    Vectorised over φ (any shape). φ = 0 gives 0, φ = π gives 1.
    """
    phi = V.as_array("phi", phi)
    if np.any(phi < 0) or np.any(phi > math.pi + 1e-12):
        raise ValueError("phi must lie in [0, π]")
    task = _task(task)
    nodes = V.count("nodes", nodes, hi=10_000)
    a, wq = task.angle_quadrature(nodes)
    flat = phi.reshape(-1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cot_a = np.cos(a) / np.sin(a)
        cot_p = np.cos(flat) / np.sin(flat)
        s = -cot_a[None, :] * cot_p
    s = np.nan_to_num(s, nan=0.0, posinf=np.inf, neginf=-np.inf)
    r = _t_cdf(s, task.d) @ wq
    r = np.where(flat[:, 0] == 0, 0.0, r)
    r = np.where(flat[:, 0] >= math.pi, 1.0, r)
    return np.clip(r, 0.0, 1.0).reshape(phi.shape)


def transfer_risk(w, task: PolynomialAngleTask) -> np.ndarray:
    """R(h_w) for weight vector(s) w (shape (d,) or (m, d)) under an angular task; w = 0 predicts 1 → 1/2."""
    w = V.as_array("w", w, ndim=(1, 2), min_size=1)
    task = _task(task)
    W = np.atleast_2d(w)
    if W.shape[1] != task.d:
        raise ValueError(f"w has length {W.shape[1]}, task has d = {task.d}")
    nrm = np.linalg.norm(W, axis=1)
    wbar = task.w_star / np.linalg.norm(task.w_star)
    c = np.divide(W @ wbar, nrm, out=np.zeros(len(W)), where=nrm > 0)
    r = transfer_risk_from_angle(np.arccos(np.clip(c, -1, 1)), task)
    r = np.where(nrm == 0, 0.5, r)
    return r if w.ndim == 2 else float(r[0])


def empirical_transfer_risk(w, X, w_star) -> np.ndarray:
    """Fraction of the columns of X (d×M) on which 1{wᵀx ≥ 0} ≠ 1{w*ᵀx ≥ 0}; w may be (d,) or (m, d)."""
    X = _data_matrix(X)
    ws = _teacher(w_star, X.shape[0])
    w = V.as_array("w", w, ndim=(1, 2), min_size=1)
    W = np.atleast_2d(w)
    if W.shape[1] != X.shape[0]:
        raise ValueError(f"w must have length d = {X.shape[0]} (the rows of X), got {w.shape}")
    r = np.mean((W @ X >= 0) != (ws @ X >= 0)[None, :], axis=1)
    return r if w.ndim == 2 else float(r[0])


def _reduced_sets(task: PolynomialAngleTask, n: int, m: int, rng) -> np.ndarray:
    """Exact (n+1)×n isometric images of m transfer sets: row 0 = coordinates along w̄*.

    The perpendicular parts g_i ~ N(0, I_{d−1}) enter ŵ only through their Gram matrix; G = QR with the
    Bartlett factor R (R_kk ~ χ_{d−1−k}, R_kl ~ N(0,1) for k < l), so [c; R·diag(1/‖r_i‖)·diag(s)] has the same
    ‖P_X w̄*‖ as the d-dimensional set, at O(n³) cost independent of d. Needs n ≤ d − 1.
    """
    d = task.d
    a = task.sample_angles((m, n), rng)
    nu = rng.standard_normal((m, n))
    R = np.triu(rng.standard_normal((m, n, n)), 1)
    dfs = (d - 1) - np.arange(n)
    R[:, np.arange(n), np.arange(n)] = np.sqrt(rng.chisquare(dfs, size=(m, n)))
    U = R / np.linalg.norm(R, axis=1, keepdims=True)
    out = np.empty((m, n + 1, n))
    out[:, 0, :] = nu * np.cos(a)
    out[:, 1:, :] = U * (nu * np.sin(a))[:, None, :]
    return out


def sample_student_angles(task: PolynomialAngleTask, n, m, rng, *, method="reduced") -> np.ndarray:
    """ᾱ(w*, ŵ(X)) for m transfer sets of size n drawn from an angular task (vectorised, no loop over sets).

    ``method="reduced"``: exact Bartlett-reduced sets (see :func:`_reduced_sets`) and one stacked QR of
    shape (m, n+1, n); ``method="full"``: d-dimensional sets and a stacked QR of shape (m, d, n) (in chunks).
    Both have the same distribution; n ≥ d gives 0 (eq. 18).
    """
    task = _task(task)
    n = V.count("n", n)
    m = V.count("m", m)
    rng = V.generator("rng", rng)
    V.one_of("method", method, {"reduced", "full"})
    if n >= task.d:
        return np.zeros(m)
    if method == "reduced":
        Xs = _reduced_sets(task, n, m, rng)
        Q = np.linalg.qr(Xs)[0]
        c = np.linalg.norm(Q[:, 0, :], axis=1)
    else:
        chunk = max(1, int(2e6 // (task.d * n)))
        c = np.concatenate([
            student_cosines(task.sample_sets(min(chunk, m - i), n, rng), task.w_star) for i in range(0, m, chunk)
        ])
    return np.arccos(np.clip(c, 0.0, 1.0))


def student_solutions(Xs, w_star) -> np.ndarray:
    """Batched Thm 1 (eq. 6): ŵ(X_k) for a stack ``Xs`` (m, d, n) — w* for n ≥ d, else Q_kQ_kᵀw* (one stacked QR)."""
    Xs = V.as_array("Xs", Xs, ndim=3, min_size=1)
    m, d, n = Xs.shape
    w = _teacher(w_star, d)
    if n >= d:
        return np.tile(w, (m, 1))
    Q = _stacked_span_basis(Xs)
    return np.einsum("mdn,mn->md", Q, np.einsum("mdn,d->mn", Q, w))


def transfer_risk_samples(task, n, m, rng, *, stratified=False, student=None) -> np.ndarray:
    """m independent, unbiased estimates of E_X[R(ĥ_X)] (eq. 4): the exact risks of the students of m transfer sets.

    Rotationally symmetric tasks (:class:`PolynomialAngleTask`, symmetric :class:`WindowAngleTask`) use the exact
    Bartlett-reduced sampler of :func:`sample_student_angles`; an asymmetric :class:`WindowAngleTask` draws the
    d-dimensional sets and evaluates :meth:`WindowAngleTask.risk` on the batched ŵ (:func:`student_solutions`).
    ``stratified=True`` (asymmetric tasks): each estimate is Σ_π P(π)·R(ĥ_{X_π}) over every window pattern π of
    the n points (P(π) = Π_i q_{π_i}, one set drawn per pattern), which removes the between-pattern variance —
    the draws stay independent across the m estimates, so a t interval over them is valid. ``student(W, task)``
    maps the batched ŵ (m, d) to the students whose risk is measured (default: ŵ itself).
    """
    n = V.count("n", n)
    m = V.count("m", m)
    rng = V.generator("rng", rng)
    stratified = V.flag("stratified", stratified)
    if student is not None and not callable(student):
        raise TypeError("student must be None or a callable student(W, task) -> students (m, d)")
    if not isinstance(task, (PolynomialAngleTask, WindowAngleTask)):
        raise TypeError(f"task must be a PolynomialAngleTask or a WindowAngleTask, got {type(task).__name__}")
    if getattr(task, "symmetric", True):
        if stratified or student is not None:
            raise ValueError("stratified= and student= need an asymmetric WindowAngleTask")
        return transfer_risk_from_angle(sample_student_angles(task, n, m, rng), task)
    def risks(Xs):
        W = student_solutions(Xs, task.w_star)
        return task.risk(W if student is None else student(W, task))
    if stratified:
        import itertools

        live = np.flatnonzero(task.weights > 0)
        out = np.zeros(m)
        for pat in itertools.product(live, repeat=n):
            prob = float(np.prod(task.weights[list(pat)]))
            out += prob * risks(task.sample_sets(m, n, rng, windows=np.array(pat)[None, :]))
        return out
    chunk = max(1, int(2e6 // (task.d * n)))
    return np.concatenate([risks(task.sample_sets(min(chunk, m - i), n, rng)) for i in range(0, m, chunk)])


def expected_transfer_risk(task, n, m, rng, *, method="reduced") -> tuple[float, float]:
    """Monte-Carlo E_X[R(ĥ_X)] over m transfer sets (exact risk per set): returns (mean, standard error)."""
    if method == "reduced" or not getattr(task, "symmetric", True):
        r = transfer_risk_samples(task, n, m, rng)
    else:
        r = transfer_risk_from_angle(sample_student_angles(task, n, m, rng, method=method), task)
    return float(r.mean()), float(r.std(ddof=1) / math.sqrt(len(r))) if len(r) > 1 else 0.0


# ---------------------------------------------------------------------------------------------------------
# deep linear students (Thm 2, Lemma C.1)


def _layers(Ws) -> list[np.ndarray]:
    """Ws as a non-empty list of finite 2-D factors whose shapes chain (W_{j+1} has h_j columns)."""
    if isinstance(Ws, (str, bytes, np.ndarray)) or not isinstance(Ws, Sequence):
        raise TypeError(f"Ws must be a sequence of 2-D factor matrices [W_1, …, W_N], got {type(Ws).__name__}")
    if len(Ws) == 0:
        raise ValueError("Ws must hold at least one factor matrix")
    out = [V.as_array(f"Ws[{j}]", W, ndim=2, min_size=1) for j, W in enumerate(Ws)]
    for j in range(len(out) - 1):
        if out[j + 1].shape[1] != out[j].shape[0]:
            raise ValueError(f"Ws[{j + 1}] must have {out[j].shape[0]} columns (the rows of Ws[{j}]), "
                             f"got shape {out[j + 1].shape}")
    return out


def end_to_end(Ws: Sequence[np.ndarray]) -> np.ndarray:
    """w with wᵀ = W_N ⋯ W_1 (eq. 2); W_1 is h_1×d, W_N is 1×h_{N−1}."""
    Ws = _layers(Ws)
    out = Ws[0]
    for W in Ws[1:]:
        out = W @ out
    if out.shape[0] != 1:
        raise ValueError(f"the last factor must have one row, product has shape {out.shape}")
    return out[0]


def balanced_init(d, N, radius, rng, *, width=None, direction=None) -> list[np.ndarray]:
    """A balanced initialisation (eq. 13) of an N-layer linear student with ‖w(0)‖ = radius.

    Rank-one construction: W_1 = s u_1 vᵀ, W_j = s u_j u_{j−1}ᵀ, W_N = s u_{N−1}ᵀ with unit vectors u_j
    (random) and v (random or ``direction``), s = radius^{1/N}; then W_{j+1}ᵀW_{j+1} = s² u_j u_jᵀ = W_jW_jᵀ
    exactly and w(0) = radius·v. ``width`` is the hidden width (default d).
    """
    d = V.count("d", d, hi=1_000_000)
    N = V.count("N", N, hi=100_000)  # layers: a list of N matrices is built
    radius = V.positive("radius", radius)
    rng = V.generator("rng", rng)
    h = d if width is None else V.count("width", width, hi=1_000_000)
    if direction is None:
        v = rng.standard_normal(d)
    else:
        v = V.as_array("direction", direction, ndim=1).copy()
        if v.size != d or not np.any(v):
            raise ValueError("direction must be a non-zero vector of length d")
        v /= np.max(np.abs(v))  # unit scale before the norm (tiny or huge directions)
    v /= np.linalg.norm(v)
    s = radius ** (1.0 / N)
    if N == 1:
        return [radius * v[None, :]]
    us = [rng.standard_normal(h) for _ in range(N - 1)]
    us = [u / np.linalg.norm(u) for u in us]
    Ws = [s * np.outer(us[0], v)]
    for j in range(1, N - 1):
        Ws.append(s * np.outer(us[j], us[j - 1]))
    Ws.append(s * us[-1][None, :])
    return Ws


def balancedness_defect(Ws: Sequence[np.ndarray]) -> float:
    """max_j ‖W_{j+1}ᵀW_{j+1} − W_jW_jᵀ‖_F (eq. 13); 0 for a balanced network."""
    Ws = _layers(Ws)
    out = 0.0
    for Wj, Wn in zip(Ws[:-1], Ws[1:]):
        out = max(out, float(np.linalg.norm(Wn.T @ Wn - Wj @ Wj.T)))
    return out


def initial_radius_bound(w_hat_norm, eps, N) -> float:
    """Condition (11): ‖w(0)‖ < min{‖ŵ‖, ε^N (ε²‖ŵ‖^{−2/N} + ‖ŵ‖^{2−2/N})^{−N/2}}."""
    W = V.positive("w_hat_norm", w_hat_norm)
    eps = V.positive("eps", eps)
    N = V.scalar("N", N, lo=1, integer=True)
    # log space: ε^N (ε²W^{−2/N} + W^{2−2/N})^{−N/2} overflows (eps**2 raises) for huge ε or W
    log_inner = np.logaddexp(2 * math.log(eps) - (2.0 / N) * math.log(W), (2.0 - 2.0 / N) * math.log(W))
    return float(min(W, math.exp(min(N * math.log(eps) - (N / 2.0) * float(log_inner), 709.0))))


def initial_radius_epsilon(w0_norm, w_hat_norm, N) -> float:
    """The inverse of condition (11): the infimum ε* of the ε for which ‖w(0)‖ = ``w0_norm`` satisfies (11).

    Solving ‖w(0)‖ < ε^N (ε²‖ŵ‖^{−2/N} + ‖ŵ‖^{2−2/N})^{−N/2} for ε (with ρ = ‖w(0)‖^{2/N}:
    ε²(1 − ρ‖ŵ‖^{−2/N}) > ρ‖ŵ‖^{2−2/N}) gives ε* = ‖ŵ‖√(b/(a − b)), a = ‖ŵ‖^{2/N}, b = ‖w(0)‖^{2/N} — exactly the
    distance bound (76), :func:`deep_distance_bound`. So (11) holds for every ε > ε* and Thm 2 bounds
    limsup ‖w(t) − ŵ‖ by ε*. ``inf`` when ‖w(0)‖ ≥ ‖ŵ‖ (then (11) fails for every ε).
    """
    r0 = V.nonnegative("w0_norm", w0_norm)
    W = V.positive("w_hat_norm", w_hat_norm)
    V.count("N", N)
    if r0 >= W:
        return math.inf
    return deep_distance_bound(r0, W, N)


def deep_norm_bound(w0_norm, w_hat_norm, N) -> float:
    """eq. (73): limsup ‖w(t)‖ ≤ ‖ŵ‖(1 − (‖w(0)‖/‖ŵ‖)^{2/N})^{−N/(2(N−1))} (N ≥ 2, ‖w(0)‖ < ‖ŵ‖)."""
    r0 = V.positive("w0_norm", w0_norm)
    W = V.positive("w_hat_norm", w_hat_norm)
    N = V.scalar("N", N, lo=2, integer=True)
    if r0 >= W:
        raise ValueError("w0_norm must be < w_hat_norm (condition 11)")
    return W * (1.0 - (r0 / W) ** (2.0 / N)) ** (-N / (2.0 * (N - 1)))


def deep_distance_bound(w0_norm, w_hat_norm, N) -> float:
    """eq. (75)–(76): limsup ‖w(t) − ŵ‖ ≤ √(‖ŵ‖^{2+2/N}/(‖ŵ‖^{2/N} − ‖w(0)‖^{2/N}) − ‖ŵ‖²) (returns the norm).

    Written as ‖ŵ‖·√(b/(a − b)) with a = ‖ŵ‖^{2/N}, b = ‖w(0)‖^{2/N} (no cancellation). It is < ε exactly
    when ‖w(0)‖ satisfies the second part of (11).
    """
    r0 = V.nonnegative("w0_norm", w0_norm)
    W = V.positive("w_hat_norm", w_hat_norm)
    N = V.scalar("N", N, lo=1, integer=True)
    if r0 >= W:
        raise ValueError("w0_norm must be < w_hat_norm (condition 11)")
    rho = (r0 / W) ** (2.0 / N)
    return float(W * math.sqrt(rho / (1.0 - rho)))


def end_to_end_flow(w, X, y, N) -> np.ndarray:
    """Lemma C.1 (eq. 56): dw/dτ = −‖w‖^{2(N−1)/N}(∇L¹(w) + (N − 1) P_w ∇L¹(w)), P_w = wwᵀ/‖w‖²."""
    w = V.as_array("w", w, ndim=1)
    N = V.scalar("N", N, lo=1, integer=True)
    g = cross_entropy_gradient(w, X, y)
    nw = float(np.linalg.norm(w))
    if nw == 0:
        return np.zeros_like(w)
    proj = w * (w @ g) / nw**2
    return V.finite_result(-(nw ** (2.0 * (N - 1) / N)) * (g + (N - 1) * proj), inputs=("w", "X", "y"))


def factor_gradients(Ws: Sequence[np.ndarray], X, y) -> list[np.ndarray]:
    """∂L/∂W_i of L(W_1, …, W_N) = L¹((W_N⋯W_1)ᵀ) (eq. 2): (W_N⋯W_{i+1})ᵀ ∇L¹ᵀ (W_{i−1}⋯W_1)ᵀ."""
    Ws = _layers(Ws)
    g = cross_entropy_gradient(end_to_end(Ws), X, y)[None, :]  # 1×d
    N = len(Ws)
    left = [None] * N  # left[i] = W_N ⋯ W_{i+1}
    acc = np.eye(1)
    for i in range(N - 1, -1, -1):
        left[i] = acc
        acc = acc @ Ws[i]
    out = []
    right = np.eye(Ws[0].shape[1])  # W_{i−1}⋯W_1
    for i in range(N):
        out.append(left[i].T @ g @ right.T)
        right = Ws[i] @ right
    return out


# ---------------------------------------------------------------------------------------------------------
# learners: reduced optimisation bias (Sec. 5.2), hard targets, strong monotonicity (Lemma 1, eq. 34)


def reduced_bias_solution(X, w_star, delta, g) -> np.ndarray:
    """w_δ = ŵ + δ(‖ŵ‖/‖q‖) q with q = (I − P_X) g, the component of a Gaussian g orthogonal to span(X) (Sec. 5.2).

    Every w_δ minimises L¹ (XᵀQ-part unchanged). ``g`` is the Gaussian vector (pass the same g for nested
    datasets to couple the learners, as the monotonicity index compares w_δ(X) and w_δ([X, x])).
    """
    X = _data_matrix(X)
    w_hat = student_solution(X, w_star)
    delta = V.scalar("delta", delta)
    g = V.as_array("g", g, ndim=1)
    if g.size != X.shape[0]:
        raise ValueError(f"g must have length d = {X.shape[0]}")
    if X.shape[1] >= X.shape[0] or delta == 0:
        return w_hat
    Q = _full_rank_q(X)
    q = g - Q @ (Q.T @ g)
    nq = np.linalg.norm(q)
    if nq == 0:
        raise ValueError("g lies in span(X); draw another Gaussian vector")
    sw = float(np.max(np.abs(w_hat))) or 1.0  # ‖ŵ‖ at unit scale: no overflow for huge w*
    return V.finite_result(w_hat + delta * (sw * np.linalg.norm(w_hat / sw)) / nq * q, inputs=("X", "w_star", "delta", "g"))


def hard_target_solution(X, w_star) -> np.ndarray:
    """Hard-target learner: the max-margin separator through the origin of (x_i, sign(w*ᵀx_i)).

    This is the direction gradient descent on the logistic loss with hard labels converges to (Soudry et al.,
    2018). Solved exactly from the dual QP min ½αᵀHα − 1ᵀα, α ≥ 0 (H = YXᵀXY) as a non-negative least-squares
    problem via H = LLᵀ. X must have full column rank (n ≤ d); points on the teacher's boundary raise.
    """
    X = _data_matrix(X)
    w = _teacher(w_star, X.shape[0])
    s = w @ X
    if np.any(s == 0):
        raise ValueError("X has a point on the teacher's decision boundary (hard label undefined)")
    yl = np.sign(s)
    Z = X * yl
    H = Z.T @ Z
    try:
        V.finite_result(H, inputs="X", what="Gram matrix of the signed points")
        L = np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        raise ValueError("X must have full column rank for the hard-target learner (n <= d, no duplicates)") from None
    b = np.linalg.solve(L, np.ones(X.shape[1]))
    alpha, _ = optimize.nnls(L.T, b)
    return Z @ alpha


def monotonicity_index(learner: Callable, sets, extra, w_star) -> float:
    """Monotonicity index (eq. 34): fraction of trials with ᾱ(w*, w([X, x])) < ᾱ(w*, w(X)).

    ``learner(X, k) -> w`` maps a training set X (d×n) to a student weight vector; k is the trial index so
    that a randomised learner can couple its two calls (same Gaussian draw for X and [X, x]).
    ``sets``: (m, d, n) transfer sets; ``extra``: (m, d) additional points x. A zero student counts as
    angle π/2. Generic (one call per set); see :func:`monotonicity_index_distillation` for the fast route.
    """
    sets = V.as_array("sets", sets, ndim=3, min_size=1)
    extra = V.as_array("extra", extra, ndim=2)
    if extra.shape != (sets.shape[0], sets.shape[1]):
        raise ValueError(f"extra must have shape (m, d) = {sets.shape[:2]}, got {extra.shape}")
    if not callable(learner):
        raise TypeError("learner must be callable: learner(X, k) -> w")
    w_star = _teacher(w_star, sets.shape[1])
    hits = 0
    for k in range(sets.shape[0]):
        d = sets.shape[1]
        try:
            w0, w1 = learner(sets[k], k), learner(np.column_stack([sets[k], extra[k]]), k)
        except (ValueError, TypeError) as exc:  # the learner's own complaint about the data it was given
            raise type(exc)(f"learner failed on sets[{k}] (with extra[{k}]): {exc}") from exc
        w0 = V.callable_output("learner", w0, shape=(d,))
        w1 = V.callable_output("learner", w1, shape=(d,))
        a0 = _safe_unsigned(w_star, w0)
        a1 = _safe_unsigned(w_star, w1)
        hits += bool(a1 < a0)
    return hits / sets.shape[0]


def _safe_unsigned(w_star, w) -> float:
    nw = np.linalg.norm(w)
    if nw == 0:
        return HALF_PI
    return float(unsigned_angle(w_star, w))


def monotonicity_index_distillation(sets, extra, w_star, *, return_angles=False):
    """eq. (34) for the distillation learner, batched, with a rank-one update when the point is added.

    cos²ᾱ(w*, ŵ(X)) = ‖Qᵀw̄*‖² (eq. 26) and adding x adds (rᵀw̄*)²/‖r‖² with r = (I − QQᵀ)x — no second
    factorisation. Q is never formed: with the Cholesky factor R of XᵀX (one batched Gram product), Qᵀv =
    R^{−T}Xᵀv, so everything is O(dn) per set after the Gram matrix. Sets whose Gram matrix is ill-conditioned
    (cond > 1e6) or whose residual ‖r‖² is below 1e-8‖x‖² (where the subtraction ‖x‖² − ‖Qᵀx‖² would cancel)
    are recomputed with Householder QR; a point within 1e-12‖x‖ of span(X) leaves the angle unchanged. A
    rank-deficient set X (duplicate points) raises ValueError. Returns the index (and the angles
    before/after when asked).
    """
    sets = V.as_array("sets", sets, ndim=3, min_size=1)
    extra = V.as_array("extra", extra, ndim=2)
    return_angles = V.flag("return_angles", return_angles)
    m, d, n = sets.shape
    if extra.shape != (m, d):
        raise ValueError(f"extra must have shape (m, d) = {(m, d)}, got {extra.shape}")
    w = _teacher(w_star, d)
    wbar = _unit(w)
    if n >= d:
        return (0.0, np.zeros(m), np.zeros(m)) if return_angles else 0.0
    Xt = np.swapaxes(sets, 1, 2)
    G = Xt @ sets  # (m, n, n) Gram matrices
    # (m, n, 2): Xᵀw̄, Xᵀx — two single passes over the sets (no m-fold copy of w̄)
    B = np.stack([wbar @ sets, np.einsum("mdn,md->mn", sets, extra)], axis=2)
    cos2_0 = np.empty(m)
    gain = np.empty(m)
    xx = np.einsum("md,md->m", extra, extra)
    xw = extra @ wbar
    ok = np.ones(m, dtype=bool)
    ev = np.linalg.eigvalsh(G)
    ok &= ev[:, 0] > 1e-12 * ev[:, -1]
    if np.any(ok):
        L = np.linalg.cholesky(G[ok])
        P = np.linalg.solve(L, B[ok])  # R^{−T}Xᵀ[w̄, x] = Qᵀ[w̄, x]
        qw, qx = P[:, :, 0], P[:, :, 1]
        c0 = np.sum(qw**2, axis=1)
        r2 = xx[ok] - np.sum(qx**2, axis=1)
        rw = xw[ok] - np.sum(qx * qw, axis=1)
        good = r2 > 1e-8 * xx[ok]
        cos2_0[ok] = c0
        gain[ok] = np.divide(rw**2, r2, out=np.zeros_like(r2), where=good)
        bad_idx = np.flatnonzero(ok)[~good]
        ok[bad_idx] = False
    for k in np.flatnonzero(~ok):  # rare: fall back to Householder QR (raises if X itself is rank-deficient)
        Q = _full_rank_q(sets[k], name=f"sets[{k}]")
        cos2_0[k] = np.sum((Q.T @ wbar) ** 2)
        r = extra[k] - Q @ (Q.T @ extra[k])
        rn2 = float(r @ r)
        # ‖r‖ < 1e-12‖x‖: x lies in span(X) up to round-off, [X, x] is rank-deficient and the angle is unchanged
        gain[k] = (r @ wbar) ** 2 / rn2 if rn2 > 1e-24 * xx[k] else 0.0
    cos2_0 = np.clip(cos2_0, 0.0, 1.0)
    cos2_1 = np.minimum(cos2_0 + gain, 1.0)
    a0 = np.arccos(np.sqrt(cos2_0))
    a1 = np.arccos(np.sqrt(cos2_1))
    idx = float(np.mean(a1 < a0))
    return (idx, a0, a1) if return_angles else idx
