"""Knowledge distillation as partial variance reduction (paper 000: Safaryan, Peste, Alistarh).

Statement
---------
For linear models (least squares, binary logistic, soft-max regression) the gradient of the
self-distillation loss (4) is exactly ``∇f_n(x) − λ ∇f_n(θ)`` (Prop. 1, eq. 5), so SGD with
self-distillation is the iteration (7) ``x ← x − γ(∇f_ξ(x) − λ∇f_ξ(θ))``. Its neighbourhood term
``N(λ) = λ²‖∇f(θ)‖² + cγ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²`` is minimised by λ* (eq. 14/33) and the
reduction ``N(λ*)/N(0)`` obeys the identity (15). Theorems 1–4 bound the iterates of (7), the
bias-corrected iteration (16) and the compressed iteration (18).

Source
------
M. Safaryan, A. Peste, D. Alistarh, "Knowledge Distillation Performs Partial Variance Reduction"
(NeurIPS 2023), seed ``000_e7b664afac902525.txt``. Equation numbers below are the paper's.

Conventions (as in the paper)
-----------------------------
* Data ``(a_n, b_n)``, ``n = 1..N``; inputs are *lifted* ``ā_n = [a_n, 1]`` to carry the bias
  (:func:`lift`). Every function here takes the lifted design matrix ``A`` (rows ``ā_n``).
* Least squares: ``f_n(x) = (xᵀā_n − b_n)²`` (no ½, as printed in Sec. 3.3).
  Logistic: ``f_n(x) = −b_n log σ(xᵀā_n) − (1 − b_n) log(1 − σ(xᵀā_n))``, ``b_n ∈ [0, 1]``.
  Soft-max: ``f_n(X) = −Σ_k b_{n,k} log softmax(Xᵀā_n)_k``, ``X ∈ R^{d×K}``, ``b_n`` a probability
  row (integer labels are one-hot encoded).
* ``f = (1/N) Σ f_n``; per-sample gradients are returned as an array ``(N, *x.shape)``.
* Distillation weight λ multiplies the teacher term: loss (4) is
  ``(1 − λ) ℓ(φ_x(a_n), b_n) + λ ℓ(φ_x(a_n), φ_θ(a_n))`` (see docs/errata.md for the swapped
  convention printed in Sec. 3.2 and Algorithm 1).

References
----------
Gower et al. (2019), "SGD: general analysis and improved rates" (expected smoothness of mini-batch
sampling); Khaled & Richtárik (2019), "Gradient descent with compressed iterates" (Thm 4).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import optimize, special

from kdtheory import validation as V

MODELS = ("least_squares", "logistic", "softmax")
SAMPLINGS = ("with_replacement", "without_replacement")

__all__ = [
    "MODELS", "SAMPLINGS", "lift", "predictions", "per_sample_losses", "per_sample_gradients", "loss",
    "full_gradient", "distillation_gradient", "distillation_losses", "distillation_loss_gradient",
    "minimizer", "SmoothnessConstants", "smoothness_constants", "expected_smoothness",
    "optimal_lambda", "neighborhood", "reduction_ratio", "reduction_ratio_formula", "beta", "rho",
    "rho_printed", "sigma_sq", "noise_at_lambda", "reduction_ratio_bound", "direction_variance",
    "descent_step_bound", "theorem1_one_step_bound", "theorem1_bound", "theorem1_rate_bound",
    "theorem2_one_step_bound", "theorem2_bound", "theorem3_descent_step", "theorem3_one_step_bound",
    "theorem3_bound", "theorem4_omega_max", "theorem4_one_step_bound", "theorem4_bound", "lemma6_rhs", "rand_k_omega",
    "minibatch_gradient", "minibatch_loss", "batch_equivalent_gradients", "quadratic_gap",
    "THEOREMS", "theorem1_step_max", "theorem2_step_max", "theorem3_step_max", "theorem4_step_max", "step_max",
    "lemma1_c", "least_squares_hessian", "quadratic_growth_bound", "restart_step_max", "restart_factor",
    "restart_phase_length", "lemma2_rhs", "lemma3_rhs41", "lemma3_rhs42", "lemma4_rhs", "lemma5_rhs", "eq38_rhs",
    "logit_loss_gradient", "jacobian_distillation_gradient",
    "sin_pl_losses", "sin_pl_gradients", "SinPLConstants", "sin_pl_constants",
]


# ---------------------------------------------------------------------------------------------
# data and models


def lift(a) -> np.ndarray:
    """Lifted inputs ``ā_n = [a_n, 1]`` (Sec. 3.3 and App. B.1: the bias is the last coordinate).

    ``a``: ``(N, p)`` raw inputs → ``(N, p + 1)``.
    """
    a = V.as_array("a", a, ndim=2, min_size=1)
    return np.hstack([a, np.ones((a.shape[0], 1))])


def _check_model(model: str) -> str:
    return V.one_of("model", model, MODELS)


def _no_nan(what: str, out):
    """Return ``out`` unless float64 overflow made it non-finite (inf, or NaN from inf − inf, 0·inf): then a
    ValueError naming the inputs (the value is not representable; a NaN/inf must not travel on)."""
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what} overflows float64 at this scale of the inputs (A, b, x, theta, X: inf, "
                         "inf - inf or 0 * inf); rescale the data or the parameters")
    return out


def _check_data(model: str, x, A, b):
    """Validate (x, A, b) for a model; return float arrays with b one-hot for soft-max int labels."""
    _check_model(model)
    A = V.as_array("A", A, ndim=2)
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"A must have at least one row (sample) and one column, got shape {A.shape}")
    if model == "softmax":
        x = V.as_array("x", x, ndim=2)
        if x.shape[0] != A.shape[1]:
            raise ValueError(f"x must have shape (d, K) with d = A.shape[1] = {A.shape[1]}, got {x.shape}")
        b = _softmax_labels(b, A.shape[0], x.shape[1])
    else:
        x = V.as_array("x", x, ndim=1)
        if x.shape[0] != A.shape[1]:
            raise ValueError(f"x must have length d = A.shape[1] = {A.shape[1]}, got {x.shape[0]}")
        b = V.as_array("b", b, ndim=1)
        if b.shape[0] != A.shape[0]:
            raise ValueError(f"b must have length N = A.shape[0] = {A.shape[0]}, got {b.shape[0]}")
        if model == "logistic" and (np.any(b < 0) or np.any(b > 1)):
            raise ValueError("b must lie in [0, 1] for the logistic model (labels or soft labels)")
    return x, A, b


def _softmax_classes(b) -> int:
    """Number of classes implied by soft-max labels b (rows (N, K), or integer labels 0..K-1)."""
    bb = V.as_array("b", b, ndim=(1, 2), dtype=None, min_size=1)
    return int(bb.shape[1]) if bb.ndim == 2 else int(np.max(bb)) + 1 if np.max(bb) >= 1 else 2


def _softmax_labels(b, N: int, K: int) -> np.ndarray:
    b_arr = np.asarray(b)
    if b_arr.ndim == 1:
        if b_arr.shape[0] != N:
            raise ValueError(f"b must have length N = {N}, got {b_arr.shape[0]}")
        if not np.issubdtype(b_arr.dtype, np.integer):
            bf = V.as_array("b", b_arr, ndim=1)
            if np.any(bf != np.round(bf)):
                raise ValueError("b must be integer class labels (N,) or probability rows (N, K)")
            b_arr = bf.astype(int)
        if np.any(b_arr < 0) or np.any(b_arr >= K):
            raise ValueError(f"b labels must lie in 0..K-1 = 0..{K - 1}")
        out = np.zeros((N, K))
        out[np.arange(N), b_arr] = 1.0
        return out
    b_arr = V.as_array("b", b_arr, ndim=2)
    if b_arr.shape != (N, K):
        raise ValueError(f"b must have shape (N, K) = {(N, K)}, got {b_arr.shape}")
    return V.probability_vector("b", b_arr, axis=1, atol=1e-6)


def predictions(model: str, x, A) -> np.ndarray:
    """Model outputs φ_x(a_n): ``xᵀā_n`` (least squares), ``σ(xᵀā_n)`` (logistic), soft-max rows (N, K)."""
    _check_model(model)
    A = V.as_array("A", A, ndim=2, min_size=1)
    x = V.as_array("x", x, ndim=2 if model == "softmax" else 1)
    if x.shape[0] != A.shape[1]:
        raise ValueError(f"x must have leading dimension d = A.shape[1] = {A.shape[1]}, got {x.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        z = A @ x  # huge A and x: the sum can be inf − inf; inf logits also give NaN inside soft-max
        if model == "least_squares":
            out = z
        elif model == "logistic":
            out = special.expit(z)
        else:
            out = special.softmax(z, axis=1)
    return _no_nan("predictions", out)


def per_sample_losses(model: str, x, A, b) -> np.ndarray:
    """``f_n(x) = ℓ(φ_x(a_n), b_n)`` for every sample (eq. 1 summands), shape ``(N,)``.

    Computed in a numerically stable form (``log(1+e^z)`` via ``logaddexp``, log-sum-exp), so large
    logits give large finite losses, never NaN.
    """
    x, A, b = _check_data(model, x, A, b)
    z = A @ x
    with np.errstate(over="ignore", invalid="ignore"):
        if model == "least_squares":
            out = (z - b) ** 2
        elif model == "logistic":
            out = np.logaddexp(0.0, z) - b * z
        else:
            out = special.logsumexp(z, axis=1) - np.sum(b * z, axis=1)
    return _no_nan("per_sample_losses", out)


def per_sample_gradients(model: str, x, A, b) -> np.ndarray:
    """``∇f_n(x)`` for every sample, shape ``(N, *x.shape)`` (Sec. 3.3, App. B.1, B.2).

    Least squares ``2(xᵀā_n − b_n) ā_n``; logistic ``(σ(xᵀā_n) − b_n) ā_n``;
    soft-max ``ā_n (softmax(Xᵀā_n) − b_n)ᵀ``.
    """
    x, A, b = _check_data(model, x, A, b)
    with np.errstate(over="ignore", invalid="ignore"):
        z = A @ x
        if model == "least_squares":
            out = (2.0 * (z - b))[:, None] * A
        elif model == "logistic":
            out = (special.expit(z) - b)[:, None] * A
        else:
            out = A[:, :, None] * (special.softmax(z, axis=1) - b)[:, None, :]
    return _no_nan("per_sample_gradients", out)


def loss(model: str, x, A, b) -> float:
    """``f(x) = (1/N) Σ_n f_n(x)`` (eq. 1)."""
    return float(_no_nan("loss", np.mean(per_sample_losses(model, x, A, b))))


def full_gradient(model: str, x, A, b) -> np.ndarray:
    """``∇f(x) = (1/N) Σ_n ∇f_n(x)``, shape ``x.shape``."""
    g = per_sample_gradients(model, x, A, b)
    s = float(np.max(np.abs(g))) if g.size else 0.0
    return _no_nan("full_gradient", (g / s).mean(axis=0) * s if s > 0 else g.mean(axis=0))  # mean at unit scale


def distillation_gradient(grad_student, grad_teacher, lam) -> np.ndarray:
    """Distillation gradient of Prop. 1, eq. (5): ``∇f_n(x) − λ ∇f_n(θ)``.

    Array-in/array-out (usable from torch code through ``.numpy()``): ``grad_student`` and
    ``grad_teacher`` are the student's and the teacher's ordinary (label) gradients on the same
    samples, any equal shapes; ``lam`` ∈ [0, 1] is the distillation weight of eq. (2)–(4).
    Exact for the three linear models (see :func:`distillation_loss_gradient`).
    """
    gs = V.as_array("grad_student", grad_student)
    gt = V.as_array("grad_teacher", grad_teacher)
    V.same_shape(("grad_student", "grad_teacher"), gs, gt)
    lam = V.probability("lam", lam)
    with np.errstate(over="ignore", invalid="ignore"):
        return _no_nan("distillation_gradient", gs - lam * gt)


def _check_teacher(model, x, theta):
    theta = V.as_array("theta", theta, ndim=np.ndim(x))
    V.same_shape(("x", "theta"), np.asarray(x, float), theta)
    return theta


def _teacher_outputs(what: str, model: str, theta, A) -> np.ndarray:
    """φ_θ(a_n), the soft labels of (3)–(4); an overflow to ±inf is an error here (they are labels)."""
    out = predictions(model, theta, A)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what} overflows float64 at this scale of A and theta: the teacher's outputs "
                         "phi_theta(a_n) are not finite; rescale the data or the parameters")
    return out


def distillation_losses(model: str, x, theta, lam, A, b) -> np.ndarray:
    """Per-sample self-distillation loss, eq. (4): ``(1−λ) ℓ(φ_x(a_n), b_n) + λ ℓ(φ_x(a_n), φ_θ(a_n))``.

    ``lam`` ∈ [0, 1] (a convex combination of the two losses, as eq. (2) requires).
    For cross-entropy this equals ``ℓ(φ_x(a_n), s_n)`` with soft labels ``s_n`` (eq. 3).
    """
    x, A, b = _check_data(model, x, A, b)
    theta = _check_teacher(model, x, theta)
    lam = V.probability("lam", lam)
    teacher_out = _teacher_outputs("distillation_losses", model, theta, A)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (1.0 - lam) * per_sample_losses(model, x, A, b) + lam * per_sample_losses(model, x, A, teacher_out)
    return _no_nan("distillation_losses", out)


def distillation_loss_gradient(model: str, x, theta, lam, A, b) -> np.ndarray:
    """True per-sample gradient of the distillation loss (4) w.r.t. the student, shape ``(N, *x.shape)``.

    Computed by differentiating (4) in ``x`` with the teacher's outputs φ_θ(a_n) held fixed as labels:
    ``(1−λ)∇_x ℓ(φ_x(a_n), b_n) + λ ∇_x ℓ(φ_x(a_n), φ_θ(a_n))`` — a different route from eq. (5),
    which evaluates the label gradient at θ. Prop. 1 says the two coincide for these models.
    """
    x, A, b = _check_data(model, x, A, b)
    theta = _check_teacher(model, x, theta)
    lam = V.probability("lam", lam)
    teacher_out = _teacher_outputs("distillation_loss_gradient", model, theta, A)
    with np.errstate(over="ignore", invalid="ignore"):
        out = (1.0 - lam) * per_sample_gradients(model, x, A, b) + lam * per_sample_gradients(model, x, A, teacher_out)
    return _no_nan("distillation_loss_gradient", out)


def _hessian(model: str, x, A) -> np.ndarray:
    """Hessian of f at x, flattened to (D, D) (soft-max: row-major over (d, K))."""
    N = A.shape[0]
    z = A @ x
    if model == "least_squares":
        return least_squares_hessian(A)
    if model == "logistic":
        s = special.expit(z)
        return (A * (s * (1 - s))[:, None]).T @ A / N
    p = special.softmax(z, axis=1)
    d, K = x.shape
    H = np.zeros((d * K, d * K))
    for n in range(N):  # only used by minimizer polishing on small problems
        S = np.diag(p[n]) - np.outer(p[n], p[n])
        H += np.kron(np.outer(A[n], A[n]), S)
    return H / N


def _logistic_recedes(A, b) -> bool:
    """True when f has a direction of recession w along which it strictly decreases (no minimiser):
    y_n wᵀā_n >= 0 for hard labels (y = ±1), wᵀā_n = 0 for soft labels, some hard margin > 0 (an LP)."""
    hard = (b == 0) | (b == 1)
    if not np.any(hard):
        return False
    y = np.where(b[hard] == 1, 1.0, -1.0)
    Ah = A[hard] * y[:, None]
    scale = float(np.max(np.abs(A))) or 1.0
    Ah = Ah / scale
    A_eq = A[~hard] / scale if np.any(~hard) else None
    res = optimize.linprog(-Ah.sum(axis=0), A_ub=-Ah, b_ub=np.zeros(Ah.shape[0]),
                           A_eq=A_eq, b_eq=np.zeros(A_eq.shape[0]) if A_eq is not None else None,
                           bounds=[(-1, 1)] * A.shape[1], method="highs")
    return bool(res.status == 0 and -res.fun > 1e-9)


def minimizer(model: str, A, b, *, x0=None, K: int | None = None, tol: float = 1e-12, max_newton: int = 30) -> np.ndarray:
    """A minimiser x* of ``f`` (eq. 1), via scipy (least squares: ``lstsq``, minimum norm;
    logistic/soft-max: L-BFGS followed by Newton polishing with a least-squares solve).

    Soft-max needs ``K`` (number of classes) when ``b`` holds integer labels; x* is then returned
    with columns summing to zero (f is invariant to adding one vector to every column).
    Raises ``ValueError`` when no finite minimiser is found (e.g. linearly separable logistic data).
    """
    _check_model(model)
    A = V.as_array("A", A, ndim=2, min_size=1)
    tol = V.tolerance("tol", tol)
    max_newton = V.count("max_newton", max_newton, lo=0)
    if K is not None:
        K = V.count("K", K, lo=2)
    N, d = A.shape
    if model == "least_squares":
        b = V.as_array("b", b, ndim=1)
        if b.shape[0] != N:
            raise ValueError(f"b must have length N = {N}, got {b.shape[0]}")
        scale = max(float(np.max(np.abs(A))), 1e-300)
        x, *_ = np.linalg.lstsq(A / scale, b, rcond=None)
        return x / scale
    if model == "softmax":
        if K is None:
            bb = np.asarray(b)
            if bb.ndim == 2:
                K = bb.shape[1]
            else:
                raise ValueError("K must be given for soft-max with integer labels b")
        shape = (d, int(K))
    else:
        shape = (d,)
    D = int(np.prod(shape))
    xs = np.zeros(D) if x0 is None else V.as_array("x0", x0).ravel().copy()
    _, _, bchk = _check_data(model, xs.reshape(shape), A, b)
    if model == "logistic" and _logistic_recedes(A, bchk):
        raise ValueError("no finite minimiser found for the logistic problem: the data are separable "
                         "(a direction decreases every hard-labelled loss and leaves soft-labelled ones unchanged)")

    # solve in y = Dx on the column-scaled design A D⁻¹ (f(x; A) = f(Dx; AD⁻¹), D = diag of column
    # max-abs): tiny or huge feature scales neither stall L-BFGS nor overflow its line search
    col = np.max(np.abs(A), axis=0)
    col[col == 0] = 1.0
    As = A / col
    colx = col.reshape((d,) + (1,) * (len(shape) - 1))

    def fg(v):
        Y = v.reshape(shape)
        G = per_sample_gradients(model, Y, As, bchk)
        return loss(model, Y, As, bchk), G.mean(axis=0).ravel()

    ys = (xs.reshape(shape) * colx).ravel()
    if not np.all(np.isfinite(ys)):
        raise ValueError("x0 times the column scales of A overflows; give a smaller x0")
    res = optimize.minimize(fg, ys, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15})
    v = res.x
    for _ in range(max_newton):
        _, g = fg(v)
        if np.linalg.norm(g) <= tol:
            break
        H = _hessian(model, v.reshape(shape), As)
        step, *_ = np.linalg.lstsq(H, g, rcond=1e-12)
        v = v - step
    Y = v.reshape(shape)
    if model == "softmax":
        Y = Y - Y.mean(axis=1, keepdims=True)
    g = full_gradient(model, Y, As, bchk)  # ∇_y f = D⁻¹∇_x f: stationarity judged at unit column scale
    with np.errstate(over="ignore"):
        X = Y / colx
    if not np.all(np.isfinite(X)) or np.linalg.norm(g) > 1e-6:
        raise ValueError(f"no finite minimiser found for the {model} problem (‖∇f‖ = {np.linalg.norm(g):.3g}); "
                         "the data may be separable")
    return X


# ---------------------------------------------------------------------------------------------
# smoothness constants


@dataclasses.dataclass(frozen=True)
class SmoothnessConstants:
    """Constants of Assumptions 1–3 and (39) for a model, data and sampling.

    ``mu``: strong (quasi-)convexity / PL constant (least squares: λ_min of the Hessian, or the
    smallest *positive* eigenvalue — the PL constant — when ``pl=True``; logistic: λ_min of the
    Hessian at x*, a local constant — logistic loss is not globally strongly convex; soft-max: 0, since
    f is invariant to shifting every column). ``L``: smoothness of f. ``L_max``: max per-sample
    smoothness. ``calL``: expected smoothness 𝓛 of (10) for the given sampling. ``calL_ms``: the
    mean-square Lipschitz constant of (39) (least squares only, else an upper bound). ``exact`` says
    whether ``calL`` is the tight constant (least squares) or an upper bound (Gower et al. 2019).
    """

    mu: float
    L: float
    L_max: float
    calL: float
    calL_ms: float
    batch_size: int
    sampling: str
    exact: bool


def _minibatch_factor(N: int, batch_size: int, sampling: str) -> float:
    """Weight of the per-sample variance in E‖mean over a batch‖²: 1/b (with replacement) or
    (N−b)/(b(N−1)) (without replacement)."""
    if sampling == "with_replacement":
        return 1.0 / batch_size
    if N == 1:
        return 0.0
    return (N - batch_size) / (batch_size * (N - 1))


def expected_smoothness(model: str, A, b=None, *, batch_size: int = 1, sampling: str = "with_replacement",
                        x_star=None, pl: bool = False) -> SmoothnessConstants:
    """μ, L and the expected smoothness 𝓛 (Assumption 3, eq. 10) for uniform mini-batch sampling.

    Least squares (quadratic): exact. With H = (2/N)ĀᵀĀ (the Hessian), H_n = 2ā_nā_nᵀ and
    M = (1/N)ΣH_n², the batch-gradient difference satisfies
    E‖∇f_B(x) − ∇f_B(x*)‖² = vᵀ[H² + c_b(M − H²)]v, v = x − x*, and f(x) − f* = ½vᵀHv, so
    𝓛 = λ_max(H^{+½}[H² + c_b(M − H²)]H^{+½}) on range(H); c_b = 1/b with replacement,
    (N−b)/(b(N−1)) without. The (39) constant is ``calL_ms = sqrt(λ_max(H² + c_b(M − H²)))``.

    Logistic/soft-max: the bound 𝓛 = (1 − c_b')L + c_b' L_max of Gower et al. (2019, Prop. 3.8)
    with per-sample L_n = ‖ā_n‖²/4 (logistic) or ‖ā_n‖²/2 (soft-max) and L = λ_max(ĀᵀĀ/N)/4 (/2).
    ``x_star`` is needed only for the logistic local μ (computed by :func:`minimizer` if omitted).
    """
    _check_model(model)
    A = V.as_array("A", A, ndim=2)
    N, d = A.shape
    if N == 0:
        raise ValueError("A must have at least one row (sample)")
    pl = V.flag("pl", pl)
    if b is not None:
        _check_data(model, np.zeros((d, _softmax_classes(b)) if model == "softmax" else d), A, b)
    if x_star is not None:
        x_star = V.as_array("x_star", x_star, ndim=2 if model == "softmax" else 1)
        if x_star.shape[0] != d:
            raise ValueError(f"x_star must have leading dimension d = A.shape[1] = {d}, got {x_star.shape}")
    bs = V.count("batch_size", batch_size)
    V.one_of("sampling", sampling, SAMPLINGS)
    if sampling == "without_replacement" and bs > N:
        raise ValueError(f"batch_size must be <= N = {N} for sampling without replacement, got {bs}")
    cb = _minibatch_factor(N, bs, sampling)
    scale = float(np.max(np.abs(A))) or 1.0
    As = A / scale  # work at unit scale; constants scale like scale² (Hessians are quadratic in A)
    row_sq = np.sum(As**2, axis=1)
    if model == "least_squares":
        H = least_squares_hessian(As)
        M = (4.0 / N) * (As * row_sq[:, None]).T @ As
        Q = H @ H + cb * (M - H @ H)
        w, U = np.linalg.eigh(H)
        tol = 1e-10 * max(float(w[-1]), 1e-300)
        keep = w > tol
        if not np.any(keep):  # A == 0: f is constant
            return SmoothnessConstants(0.0, 0.0, 0.0, 0.0, 0.0, bs, sampling, True)
        Uk = U[:, keep] / np.sqrt(w[keep])
        Qk = Uk.T @ Q @ Uk
        calL = float(np.linalg.eigvalsh(0.5 * (Qk + Qk.T))[-1]) * scale * scale
        calL_ms = math.sqrt(max(float(np.linalg.eigvalsh(0.5 * (Q + Q.T))[-1]), 0.0)) * scale * scale
        L = float(w[-1]) * scale * scale
        mu = float(w[keep][0] if pl else max(w[0], 0.0)) * scale * scale
        if not pl and w[0] <= tol:
            mu = 0.0
        L_max = 2.0 * float(row_sq.max()) * scale * scale
        return SmoothnessConstants(mu, L, L_max, max(calL, L), calL_ms, bs, sampling, True)
    k = 0.25 if model == "logistic" else 0.5
    # combine at unit scale, then rescale once: (1 − 1/b)·L with L = inf would give 0·inf = NaN
    Lu = k * float(np.linalg.eigvalsh(As.T @ As / N)[-1])
    Lu_max = k * float(row_sq.max())
    if sampling == "with_replacement":
        calLu = (1 - 1.0 / bs) * Lu + Lu_max / bs
    else:
        calLu = (N * (bs - 1)) / (bs * (N - 1)) * Lu + cb * Lu_max if N > 1 else Lu
    L, L_max, calL = (v * scale * scale for v in (Lu, Lu_max, calLu))
    calL_ms = math.sqrt(Lu_max * calLu) * scale * scale
    mu = 0.0
    if model == "logistic":
        if x_star is None:
            if b is None:
                raise ValueError("b (or x_star) is needed for the logistic local μ")
            x_star = minimizer(model, A, b)
        # Hessian at x* from the unit-scale rows: As·(scale x*) = A x*, and H scales like scale²
        Hu = _hessian(model, scale * V.as_array("x_star", x_star, ndim=1), As)
        mu = max(float(np.linalg.eigvalsh(0.5 * (Hu + Hu.T))[0]), 0.0) * scale * scale
    return SmoothnessConstants(mu, L, L_max, calL, calL_ms, bs, sampling, False)


def smoothness_constants(model: str, A, b=None, **kw) -> SmoothnessConstants:
    """Alias of :func:`expected_smoothness` (single-sample sampling by default)."""
    return expected_smoothness(model, A, b, **kw)


# ---------------------------------------------------------------------------------------------
# Lemma 1: the neighbourhood N(λ), λ*, the reduction ratio (14), (15), (31)–(33)


def _grads_pair(grads_opt, grads_teacher, names=("grads_opt", "grads_teacher")):
    g0 = V.as_array(names[0], grads_opt)
    g1 = V.as_array(names[1], grads_teacher)
    for nm, g in zip(names, (g0, g1)):
        if g.ndim < 2 or g.shape[0] == 0 or g.size == 0:
            raise ValueError(f"{nm} must have shape (N, d) with N, d >= 1, got {g.shape}")
    V.same_shape(names, g0, g1)
    g0 = g0.reshape(g0.shape[0], -1)
    g1 = g1.reshape(g1.shape[0], -1)
    return g0, g1


@dataclasses.dataclass(frozen=True)
class _Moments:
    scale: float       # common scale s: every moment below is of the gradients divided by s
    cross: float       # E<∇f_ξ(x*), ∇f_ξ(θ)>
    m_theta: float     # E‖∇f_ξ(θ)‖²
    m_opt: float       # E‖∇f_ξ(x*)‖² = σ*²
    g_theta: float     # ‖∇f(θ)‖²
    g_opt: float       # ‖∇f(x*)‖² (0 at an exact minimiser)


def _moments(g0, g1) -> _Moments:
    s = float(max(np.max(np.abs(g0)), np.max(np.abs(g1)))) or 1.0
    a, t = g0 / s, g1 / s
    return _Moments(s, float(np.mean(np.sum(a * t, axis=1))), float(np.mean(np.sum(t * t, axis=1))),
                    float(np.mean(np.sum(a * a, axis=1))), float(np.sum(t.mean(axis=0) ** 2)),
                    float(np.sum(a.mean(axis=0) ** 2)))


def _gamma_c(gamma, c):
    gamma = V.positive("gamma", gamma)
    c = V.positive("c", c)
    return gamma, c


def optimal_lambda(grads_opt, grads_teacher, gamma, c=1.0, *, clip: bool = False) -> float:
    """λ* minimising N(λ) (Lemma 1, eq. 33; eq. 14 is the case c = 1):

        λ* = E⟨∇f_ξ(x*), ∇f_ξ(θ)⟩ / (E‖∇f_ξ(θ)‖² + ‖∇f(θ)‖²/(cγ)).

    ``grads_opt``, ``grads_teacher``: ``(N, d)`` per-sample gradients at x* and at θ (higher-rank
    per-sample gradients are flattened); ξ is uniform over the N rows. ``gamma`` > 0 step size,
    ``c`` > 0 the constant of Lemma 1 (μ/4 in Thm 1, L in Thm 2, 2μ in Thm 4).

    This is the *unconstrained* minimiser (it may leave [0, 1]); ``clip=True`` returns the minimiser
    over [0, 1], which for the convex quadratic N is ``clip(λ*, 0, 1)``. Degenerate case: when every
    teacher gradient vanishes (E‖∇f_ξ(θ)‖² = 0, θ interpolates the data) N is constant and every λ
    minimises it; 1 is returned, the value the paper assigns to an optimal teacher.
    """
    g0, g1 = _grads_pair(grads_opt, grads_teacher)
    gamma, c = _gamma_c(gamma, c)
    clip = V.flag("clip", clip)
    m = _moments(g0, g1)
    den = m.m_theta + m.g_theta / (c * gamma)
    lam = 1.0 if den == 0.0 else m.cross / den
    return float(min(max(lam, 0.0), 1.0)) if clip else float(lam)


def noise_at_lambda(lam, grads_opt, grads_teacher) -> float:
    """``E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²`` — the stochastic term of N(λ) (any real λ), computed at unit scale."""
    g0, g1 = _grads_pair(grads_opt, grads_teacher)
    lam = V.scalar("lam", lam)
    s = (float(max(np.max(np.abs(g0)), np.max(np.abs(g1)))) or 1.0) * max(abs(lam), 1.0)
    r = g0 / s - (lam / s) * g1
    return float(np.mean(np.sum(r * r, axis=1))) * s * s


def neighborhood(lam, grads_opt, grads_teacher, gamma, c=1.0) -> float:
    """N(λ) = λ²‖∇f(θ)‖² + cγ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖² (Lemma 1; eq. 13 with c = 1).

    Defined for every real λ (Lemma 1 minimises over ℝ). Computed on gradients rescaled to unit
    size, so tiny and huge gradient scales neither underflow nor overflow in the intermediate sums
    (the result itself can still overflow to ``inf`` when N(λ) exceeds the float range).
    """
    g0, g1 = _grads_pair(grads_opt, grads_teacher)
    gamma, c = _gamma_c(gamma, c)
    lam = V.scalar("lam", lam)
    m = _moments(g0, g1)
    w = max(abs(lam), 1.0)
    r = g0 / (m.scale * w) - (lam / w) * g1 / m.scale
    noise = float(np.mean(np.sum(r * r, axis=1)))
    val = ((lam / w) ** 2 * m.g_theta + c * gamma * noise)
    sw = m.scale * w
    return float(val * sw * sw)  # may overflow to inf (never an exception or NaN)


def reduction_ratio(grads_opt, grads_teacher, gamma, c=1.0) -> float:
    """N(λ*)/N(0) (Lemma 1, eq. 15), in [0, 1].

    Evaluated directly as a ratio of two sums of non-negative terms (no cancellation, so a teacher
    near x* gives an accurate small ratio); :func:`reduction_ratio_formula` is the closed form
    ``1 − ρ²(1−β)/(1 + β/(cγ))`` of (15). A teacher at x* gives λ* = 1 and ratio 0; when
    N(0) = cγσ*² = 0 there is no noise to reduce and 0 is returned (N(λ*) = 0 too).
    """
    g0, g1 = _grads_pair(grads_opt, grads_teacher)
    gamma, c = _gamma_c(gamma, c)
    m = _moments(g0, g1)
    if m.m_opt == 0.0:
        return 0.0
    lam = optimal_lambda(g0, g1, gamma, c)
    a, t = g0 / m.scale, g1 / m.scale
    r = a - lam * t
    n_star = lam * lam * m.g_theta + c * gamma * float(np.mean(np.sum(r * r, axis=1)))
    return float(min(max(n_star / (c * gamma * m.m_opt), 0.0), 1.0))


def sigma_sq(grads) -> float:
    """σ²(x) = E‖∇f_ξ(x)‖², the second moment of the stochastic gradients (σ*² at x*)."""
    g = V.as_array("grads", grads)
    if g.ndim < 2 or g.size == 0:
        raise ValueError(f"grads must have shape (N, d) with N, d >= 1, got {g.shape}")
    g = g.reshape(g.shape[0], -1)
    s = float(np.max(np.abs(g))) if g.size else 0.0
    if s == 0.0:
        return 0.0
    return float(np.mean(np.sum((g / s) ** 2, axis=1))) * s * s


def beta(grads_teacher) -> float:
    """Signal-to-noise ratio β(θ) = ‖∇f(θ)‖² / E‖∇f_ξ(θ)‖² ∈ [0, 1] (eq. 31). 0 when all gradients vanish."""
    g = V.as_array("grads_teacher", grads_teacher)
    if g.ndim < 2 or g.size == 0:
        raise ValueError(f"grads_teacher must have shape (N, d) with N, d >= 1, got {g.shape}")
    g = g.reshape(g.shape[0], -1)
    s = float(np.max(np.abs(g))) if g.size else 0.0
    if s == 0.0:
        return 0.0
    t = g / s
    return float(min(np.sum(t.mean(axis=0) ** 2) / np.mean(np.sum(t * t, axis=1)), 1.0))


def rho(grads_opt, grads_teacher) -> float:
    """Correlation ρ(x*, θ) = Cov/√(Var(x*)Var(θ)) ∈ [−1, 1] of the stochastic gradients (eq. 32, corrected).

    Cov(x, y) = E⟨∇f_ξ(x) − ∇f(x), ∇f_ξ(y) − ∇f(y)⟩ and Var(x) = Cov(x, x) (the printed (32)
    additionally takes a square root in Var, which breaks ρ ∈ [−1, 1]: see :func:`rho_printed`).
    Returns 0 when either variance vanishes (no correlation to speak of).
    """
    g0, g1 = _grads_pair(grads_opt, grads_teacher)
    m = _moments(g0, g1)
    a, t = g0 / m.scale, g1 / m.scale
    a = a - a.mean(axis=0)
    t = t - t.mean(axis=0)
    va, vt = float(np.mean(np.sum(a * a, axis=1))), float(np.mean(np.sum(t * t, axis=1)))
    if va <= 0.0 or vt <= 0.0:
        return 0.0
    return float(np.clip(np.mean(np.sum(a * t, axis=1)) / (math.sqrt(va) * math.sqrt(vt)), -1.0, 1.0))


def rho_printed(grads_opt, grads_teacher) -> float:
    """ρ exactly as printed in (32): Cov(x, y)/√(Var(x)Var(y)) with Var(x) := √Cov(x, x).

    Kept only to document the erratum (it equals Cov/(Cov_xx Cov_yy)^{1/4}, not scale invariant
    and not confined to [−1, 1]); use :func:`rho`.
    """
    g0, g1 = _grads_pair(grads_opt, grads_teacher)
    a = g0 - g0.mean(axis=0)
    t = g1 - g1.mean(axis=0)
    cov = float(np.mean(np.sum(a * t, axis=1)))
    va, vt = math.sqrt(float(np.mean(np.sum(a * a, axis=1)))), math.sqrt(float(np.mean(np.sum(t * t, axis=1))))
    if va <= 0.0 or vt <= 0.0:
        return 0.0
    return cov / math.sqrt(va * vt)


def reduction_ratio_formula(rho_value, beta_value, gamma, c=1.0) -> float:
    """Right-hand side of (15): ``1 − ρ² (1 − β)/(1 + β/(cγ))`` for given ρ ∈ [−1, 1], β ∈ [0, 1]."""
    r = V.scalar("rho_value", rho_value, lo=-1.0, hi=1.0)
    bt = V.probability("beta_value", beta_value)
    gamma, c = _gamma_c(gamma, c)
    return float(1.0 - r * r * (1.0 - bt) / (1.0 + bt / (c * gamma)))


def reduction_ratio_bound(f_theta_gap, sigma_opt, sigma_theta, L, calL, gamma, c=1.0) -> float:
    """Explicit form of Lemma 1's ``N(λ*)/N(0) ≤ min(1, O((f(θ) − f*)/γ))`` from its proof (App. C.1):

        min(1, (2𝓛/(σ(x*)σ(θ)) + 2L/(cγσ²(θ))) · (f(θ) − f*)),

    σ(x) = √E‖∇f_ξ(x)‖². Holds for every teacher (the proof's condition (34) is only needed when
    the bracket is below 1, and otherwise min(…) = 1 ≥ the ratio).
    """
    gap = V.nonnegative("f_theta_gap", f_theta_gap)
    so = V.positive("sigma_opt", sigma_opt)
    st = V.positive("sigma_theta", sigma_theta)
    L = V.nonnegative("L", L)
    calL = V.nonnegative("calL", calL)
    gamma, c = _gamma_c(gamma, c)
    k = 2.0 * calL / (so * st) + 2.0 * L / (c * gamma * st) / st  # no ZeroDivisionError when st² underflows
    return float(min(1.0, k * gap))


def direction_variance(grads_x, grads_teacher, lam, batch_size: int = 1) -> float:
    """Variance E‖g_ξ − E g_ξ‖² of the distillation direction ``∇f_ξ(x) − λ∇f_ξ(θ)`` of (7)/(16)
    for a uniform batch of size b drawn with replacement (per-sample variance / b). The bias
    correction ``+λ∇f(θ)`` of (16) is a constant and does not change it. (Fig. 3, right.)"""
    gx, gt = _grads_pair(grads_x, grads_teacher, ("grads_x", "grads_teacher"))
    lam = V.scalar("lam", lam)
    bs = V.count("batch_size", batch_size)
    s = float(max(np.max(np.abs(gx)), np.max(np.abs(gt)))) or 1.0
    w = (gx - lam * gt) / (s * max(1.0, abs(lam)))
    w = w - w.mean(axis=0)
    sl = s * max(1.0, abs(lam))
    return float(np.mean(np.sum(w * w, axis=1))) * sl * sl / bs


# ---------------------------------------------------------------------------------------------
# step-size limits and Lemma-1 constants of the theorems (the one home of these numbers)

THEOREMS = (1, 2, 3, 4)


def _theorem_number(theorem, allowed) -> int:
    t = V.count("theorem", theorem, lo=1, hi=4, strict=True)
    if t not in allowed:
        raise ValueError(f"theorem must be one of {list(allowed)}, got {t}")
    return t


def _no_nan_scalar(value: float, names: str) -> float:
    """A scalar right side; inf − inf at extreme inputs is an error naming the arguments, never a NaN."""
    if math.isnan(value):
        raise ValueError(f"the arguments ({names}) overflow float64 here (inf - inf); rescale them")
    return float(value)


def _check_step(what: str, gamma: float, gmax: float, where: str) -> None:
    if gamma > gmax * (1 + 1e-12):
        raise ValueError(f"gamma must be <= {what} = {gmax:.6g} ({where}), got {gamma}")


def theorem1_step_max(calL, *, printed: bool = False) -> float:
    """Largest step of Theorem 1: ``1/(4𝓛)``, what its proof (App. C.2, last step) uses;
    ``printed=True`` gives the statement's stricter ``1/(8𝓛)``."""
    calL = V.positive("calL", calL)
    return 1.0 / ((8.0 if V.flag("printed", printed) else 4.0) * calL)


def theorem2_step_max(mu, L, calL) -> float:
    """Largest step of Theorem 2 (statement and App. C.3): ``γ ≤ μ/(4L𝓛)``."""
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    return mu / (4.0 * L * calL)


def theorem3_step_max(mu, L, calL) -> float:
    """Largest step of Theorem 3 (statement and App. D.1): ``γ ≤ μ/(3L𝓛)``."""
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    return mu / (3.0 * L * calL)


def theorem4_step_max(calL) -> float:
    """Largest step of Theorem 4 (statement, App. E.2): ``γ ≤ 1/(16𝓛)``."""
    calL = V.positive("calL", calL)
    return 1.0 / (16.0 * calL)


def step_max(theorem: int, *, mu=None, L=None, calL) -> float:
    """The step-size limit of Theorem 1, 2, 3 or 4 (see the ``theoremN_step_max`` functions)."""
    theorem = _theorem_number(theorem, THEOREMS)
    if theorem == 1:
        return theorem1_step_max(calL)
    if theorem == 4:
        return theorem4_step_max(calL)
    if mu is None or L is None:
        raise ValueError(f"mu and L are required for Theorem {theorem}'s step-size limit")
    return (theorem2_step_max if theorem == 2 else theorem3_step_max)(mu, L, calL)


def lemma1_c(theorem: int, *, mu, L=None) -> float:
    """The constant c with which each proof applies Lemma 1: μ/4 (Thm 1, App. C.2), L (Thm 2, App. C.3),
    2μ (Thm 4, App. E.2). Theorem 3 fixes λ = 1 and does not use Lemma 1 (ValueError)."""
    theorem = _theorem_number(theorem, (1, 2, 4))
    mu = V.positive("mu", mu)
    if theorem == 1:
        return mu / 4.0
    if theorem == 4:
        return 2.0 * mu
    if L is None:
        raise ValueError("L is required for Theorem 2's Lemma-1 constant c = L")
    return V.positive("L", L)


def least_squares_hessian(A) -> np.ndarray:
    """Hessian ``(2/N) ĀᵀĀ`` of the least-squares loss ``f = (1/N) Σ (xᵀā_n − b_n)²`` (constant in x)."""
    A = V.as_array("A", A, ndim=2)
    if A.shape[0] == 0:
        raise ValueError("A must have at least one row (sample)")
    return 2.0 * A.T @ A / A.shape[0]


# ---------------------------------------------------------------------------------------------
# App. A fact (28) and the Sec. 5 restart scheme


def quadratic_growth_bound(mu, dist_sq) -> float:
    """Quadratic growth (28), App. A: ``f(x) − f* ≥ (μ/8)·dist²`` — the right side ``(μ/8)·dist_sq``.

    ``dist_sq`` must be the squared distance to the *solution set* (Karimi et al. 2016); with a fixed
    minimiser x*, as printed, (28) fails for PL functions with several minimisers (docs/errata.md 000-10).
    """
    mu = V.positive("mu", mu)
    return mu / 8.0 * V.nonnegative("dist_sq", dist_sq)


def restart_step_max(mu, L, calL, *, printed: bool = False) -> float:
    """Step of the Sec. 5 restart scheme (θ^m = x^{mτ}) that makes each phase halve f − f*:
    ``μ/(24L𝓛)`` (then ``3γL(L+𝓛)/μ ≤ ¼`` as L ≤ 𝓛). ``printed=True``: the printed ``μ/(12L𝓛)``, for
    which the neighbourhood factor alone reaches ½ when L = 𝓛 (docs/errata.md 000-8)."""
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    return mu / ((12.0 if V.flag("printed", printed) else 24.0) * L * calL)


def restart_factor(t, gamma, mu, L, calL) -> float:
    """Per-phase factor of Sec. 5 with θ = x^0: ``(1−γμ)^t + γ·3L(L + 𝓛)/μ`` (Thm 3's (17) divided by
    f(x^0) − f*)."""
    t = _t(t)
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    _contraction(gamma, mu)
    return float((1 - gamma * mu) ** t + gamma * 3 * L * (L + calL) / mu)


def restart_phase_length(gamma, mu) -> int:
    """Phase length τ = ⌈ln 4 / (−ln(1 − γμ))⌉ ≤ ⌈ln 4/(γμ)⌉: the least τ with (1−γμ)^τ ≤ ¼ (Sec. 5, τ = O(1/(γμ)))."""
    gamma, mu = V.positive("gamma", gamma), V.positive("mu", mu)
    if gamma * mu >= 1:
        return 1
    return int(math.ceil(math.log(4.0) / -math.log1p(-gamma * mu)))


# ---------------------------------------------------------------------------------------------
# Lemmas 2–5 (App. E.1): right-hand sides, as scalars (the checks compute the left sides exactly)


def lemma2_rhs(f_gap, mu, omega, xstar_norm_sq) -> float:
    """Lemma 2, eq. (40): ``E_δ‖δ(x)‖² ≤ 2α(f(x) − f*) + ν``, α = 2ω/μ, ν = 2ω‖x*‖² (f μ-strongly convex)."""
    fg = V.nonnegative("f_gap", f_gap)
    mu = V.positive("mu", mu)
    omega = V.nonnegative("omega", omega)
    xs = V.nonnegative("xstar_norm_sq", xstar_norm_sq)
    return float(2 * (2 * omega / mu) * fg + 2 * omega * xs)


def lemma3_rhs41(calL, dist_sq, delta_sq) -> float:
    """Lemma 3, eq. (41): ``E‖∇f_ξ(x + δ(x)) − ∇f_ξ(y)‖² ≤ 𝓛²(‖x − y‖² + E‖δ(x)‖²)`` (𝓛 of (39))."""
    calL = V.nonnegative("calL", calL)
    return float(calL * calL * (V.nonnegative("dist_sq", dist_sq) + V.nonnegative("delta_sq", delta_sq)))


def lemma3_rhs42(f_y, inner, L, dist_sq, delta_sq) -> float:
    """Lemma 3, eq. (42), upper side: ``E f(x + δ) ≤ f(y) + ⟨∇f(y), x − y⟩ + (L/2)‖x − y‖² + (L/2)E‖δ‖²``
    (``inner`` = ⟨∇f(y), x − y⟩; the lower side is f(x) ≤ E f(x + δ), Jensen)."""
    L = V.nonnegative("L", L)
    return _no_nan_scalar(V.scalar("f_y", f_y) + V.scalar("inner", inner)
                 + L / 2 * (V.nonnegative("dist_sq", dist_sq) + V.nonnegative("delta_sq", delta_sq)), "f_y, inner, L, dist_sq, delta_sq")


def lemma4_rhs(noise_y, calL, dist_sq, gamma, delta_sq) -> float:
    """Lemma 4, eq. (43), with E over ξ *and* δ on both sides (the corrected reading, docs/errata.md 000-5):

        E‖δ/γ − ∇f_ξ(x + δ) + λ∇f_ξ(θ)‖² ≤ 2E‖∇f_ξ(y) − λ∇f_ξ(θ)‖² + 2𝓛²‖x − y‖² + 2(𝓛² + 1/γ²)E‖δ‖².

    ``noise_y`` = E_ξ‖∇f_ξ(y) − λ∇f_ξ(θ)‖² (for one fixed ξ, as printed, the inequality can fail).
    """
    calL = V.nonnegative("calL", calL)
    gamma = V.positive("gamma", gamma)
    return float(2 * V.nonnegative("noise_y", noise_y) + 2 * calL * calL * V.nonnegative("dist_sq", dist_sq)
                 + 2 * (calL * calL + 1 / gamma / gamma) * V.nonnegative("delta_sq", delta_sq))


def lemma5_rhs(f_x, inner, mu, L, dist_sq, delta_sq) -> float:
    """Lemma 5, eq. (44), the lower bound on f(y):
    ``f(x) + ⟨E∇f(x + δ), y − x⟩ + (μ/2)‖y − x‖² − ((L − μ)/2)E‖δ(x)‖²`` (``inner`` = ⟨E∇f(x+δ), y − x⟩)."""
    mu, L = V.positive("mu", mu), V.positive("L", L)
    return _no_nan_scalar(V.scalar("f_x", f_x) + V.scalar("inner", inner) + mu / 2 * V.nonnegative("dist_sq", dist_sq)
                 - (L - mu) / 2 * V.nonnegative("delta_sq", delta_sq), "f_x, inner, mu, L, dist_sq, delta_sq")


def eq38_rhs(omega, y_dist_sq, xstar_norm_sq) -> float:
    """Eq. (38): ``E‖x^t − x*‖² ≤ (2ω + 1)E‖y^t − x*‖² + 2ω‖x*‖²`` for x^t = C(y^t) — the right side."""
    omega = V.nonnegative("omega", omega)
    return float((2 * omega + 1) * V.nonnegative("y_dist_sq", y_dist_sq) + 2 * omega * V.nonnegative("xstar_norm_sq", xstar_norm_sq))


# ---------------------------------------------------------------------------------------------
# Theorems 1–4: per-step inequalities and unrolled bounds


def descent_step_bound(e_t, f_gap_t, gamma, mu, calL, lam, grad_theta_sq, noise_lam, *,
                       setting: str = "strongly_quasi_convex", L: float | None = None) -> float:
    """Right-hand side of the descent inequality (13) for one step of (7), as the proofs instantiate it.

    ``setting="strongly_quasi_convex"`` (proof of Thm 1, App. C.2; e = ‖x^t − x*‖²):
        E_t e^{t+1} ≤ (1−γμ)e^t − γ(1 − 4γ𝓛)(f(x^t) − f*) + (8γ/μ)λ²‖∇f(θ)‖² + 2γ² E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖².
    ``setting="pl"`` (proof of Thm 2, App. C.3; e = f(x^t) − f*, needs ``L``):
        E_t e^{t+1} ≤ (1−γμ)e^t − (γμ/2)(1 − 4γL𝓛/μ)e^t + γλ²‖∇f(θ)‖² + Lγ² E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖².
    Scalars in (for comparison with worst cases, e.g. PEPit): ``grad_theta_sq`` = ‖∇f(θ)‖²,
    ``noise_lam`` = E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²; ``f_gap_t`` is ignored in the PL setting (e = f-gap).
    Valid for every γ > 0 and real λ (the step-size conditions only serve to drop the middle term).
    """
    V.one_of("setting", setting, ("strongly_quasi_convex", "pl"))
    L = None if L is None else V.positive("L", L)
    e = V.nonnegative("e_t", e_t)
    gamma = V.positive("gamma", gamma)
    mu = V.positive("mu", mu)
    calL = V.nonnegative("calL", calL)
    lam = V.scalar("lam", lam)
    g2 = V.nonnegative("grad_theta_sq", grad_theta_sq)
    nz = V.nonnegative("noise_lam", noise_lam)
    if setting == "strongly_quasi_convex":
        fg = V.nonnegative("f_gap_t", f_gap_t)
        return float((1 - gamma * mu) * e - gamma * (1 - 4 * gamma * calL) * fg
                     + 8 * gamma / mu * lam * lam * g2 + 2 * gamma * gamma * nz)
    if L is None:
        raise ValueError("L (smoothness of f) is required for setting='pl'")
    L = V.positive("L", L)
    return float((1 - gamma * mu) * e - gamma * mu / 2 * (1 - 4 * gamma * L * calL / mu) * e
                 + gamma * lam * lam * g2 + L * gamma * gamma * nz)


def theorem1_one_step_bound(e_t, gamma, mu, calL, lam, grad_theta_sq, noise_lam) -> float:
    """One-step contraction inside the proof of Thm 1 (App. C.2), for γ ≤ 1/(4𝓛):

        E_t‖x^{t+1} − x*‖² ≤ (1−γμ)‖x^t − x*‖² + (8γ/μ)λ²‖∇f(θ)‖² + 2γ² E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖².
    """
    gamma = V.positive("gamma", gamma)
    calL = V.positive("calL", calL)
    _check_step("1/(4 calL)", gamma, theorem1_step_max(calL), "proof of Thm 1")
    return descent_step_bound(e_t, 0.0, gamma, mu, calL, lam, grad_theta_sq, noise_lam)


def _t(t):
    return V.count("t", t, lo=0)


def _contraction(gamma: float, mu: float) -> None:
    """The unrolled bounds' factor (1 − γμ)^t needs 0 ≤ 1 − γμ ≤ 1 (else it alternates and overflows)."""
    if gamma * mu > 1:
        raise ValueError(f"gamma*mu must be <= 1 (contraction factor 1 - gamma*mu in [0, 1]), "
                         f"got gamma={gamma}, mu={mu}")


def theorem1_bound(t, gamma, mu, calL, dist0_sq, grads_opt, grads_teacher, lam=None) -> float:
    """Right-hand side of Theorem 1 in the explicit form (35) of its proof (App. C.2):

        E‖x^t − x*‖² ≤ (1−γμ)^t ‖x^0 − x*‖² + (8/μ²) N₁(λ),
        N₁(λ) = λ²‖∇f(θ)‖² + (γμ/4) E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²   (Lemma 1 with c = μ/4).

    ``lam=None`` uses λ* of N₁ (the "properly chosen" weight). Requires γ ≤ 1/(4𝓛), which is what
    the proof uses (the statement's γ ≤ 1/(8𝓛) is stricter). Assumptions 1 and 3.
    """
    t = _t(t)
    gamma = V.positive("gamma", gamma)
    mu = V.positive("mu", mu)
    calL = V.positive("calL", calL)
    d0 = V.nonnegative("dist0_sq", dist0_sq)
    _check_step("1/(4 calL)", gamma, theorem1_step_max(calL), "Thm 1")
    if gamma * mu > 1:
        raise ValueError(f"gamma*mu must be <= 1, got {gamma * mu}")
    c = lemma1_c(1, mu=mu)
    lam = optimal_lambda(grads_opt, grads_teacher, gamma, c) if lam is None else V.scalar("lam", lam)
    return float((1 - gamma * mu) ** t * d0 + 8.0 / mu / mu * neighborhood(lam, grads_opt, grads_teacher, gamma, c))


def theorem1_rate_bound(t, gamma, mu, L, calL, dist0_sq, sigma_opt_sq, sigma_theta_sq, f_theta_gap) -> float:
    """Theorem 1, eq. (11), with the O(·) made explicit by Lemma 1's proof (c = μ/4):

        (1−γμ)^t‖x^0 − x*‖² + (2σ*²/μ)·min(γ, γ(2𝓛/(σ*σ(θ)) + 8L/(μγσ²(θ)))(f(θ) − f*)).
    """
    t = _t(t)
    gamma = V.positive("gamma", gamma)
    mu = V.positive("mu", mu)
    d0 = V.nonnegative("dist0_sq", dist0_sq)
    s2 = V.nonnegative("sigma_opt_sq", sigma_opt_sq)
    st2 = V.positive("sigma_theta_sq", sigma_theta_sq)
    _contraction(gamma, mu)
    if s2 == 0:
        return float((1 - gamma * mu) ** t * d0)
    r = reduction_ratio_bound(f_theta_gap, math.sqrt(s2), math.sqrt(st2), L, calL, gamma, lemma1_c(1, mu=mu))
    return float((1 - gamma * mu) ** t * d0 + 2 * s2 / mu * gamma * r)


def theorem2_one_step_bound(e_t, gamma, mu, L, calL, lam, grad_theta_sq, noise_lam) -> float:
    """One-step contraction inside the proof of Thm 2 (App. C.3), for γ ≤ μ/(4L𝓛), e = f(x^t) − f*:

        E_t[f(x^{t+1}) − f*] ≤ (1−γμ)e^t + γλ²‖∇f(θ)‖² + Lγ² E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖².
    """
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    _check_step("mu/(4 L calL)", gamma, theorem2_step_max(mu, L, calL), "Thm 2")
    e = V.nonnegative("e_t", e_t)
    lam = V.scalar("lam", lam)
    return float((1 - gamma * mu) * e + gamma * lam * lam * V.nonnegative("grad_theta_sq", grad_theta_sq)
                 + L * gamma * gamma * V.nonnegative("noise_lam", noise_lam))


def theorem2_bound(t, gamma, mu, L, calL, f0_gap, grads_opt, grads_teacher, lam=None) -> float:
    """Right-hand side of Theorem 2 in the explicit form (36) (App. C.3), Assumptions 2 and 3:

        E[f(x^t) − f*] ≤ (1−γμ)^t (f(x^0) − f*) + N₂(λ)/μ,
        N₂(λ) = λ²‖∇f(θ)‖² + Lγ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²   (Lemma 1 with c = L),

    for γ ≤ μ/(4L𝓛); ``lam=None`` uses λ* of N₂.
    """
    t = _t(t)
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    f0 = V.nonnegative("f0_gap", f0_gap)
    _check_step("mu/(4 L calL)", gamma, theorem2_step_max(mu, L, calL), "Thm 2")
    c = lemma1_c(2, mu=mu, L=L)
    lam = optimal_lambda(grads_opt, grads_teacher, gamma, c) if lam is None else V.scalar("lam", lam)
    _contraction(gamma, mu)
    return float((1 - gamma * mu) ** t * f0 + neighborhood(lam, grads_opt, grads_teacher, gamma, c) / mu)


def theorem3_descent_step(f_gap_t, gamma, mu, L, calL, f_theta_gap) -> float:
    """Per-step inequality in the proof of Thm 3 (App. D.1) for the unbiased iteration (16), λ = 1,
    before the step-size condition is used:

        E_t[f(x^{t+1}) − f*] ≤ (1−γμ)e − γμe + 3L𝓛γ²e + 3L(L + 𝓛)γ²(f(θ) − f*),  e = f(x^t) − f*.
    """
    e = V.nonnegative("f_gap_t", f_gap_t)
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    ft = V.nonnegative("f_theta_gap", f_theta_gap)
    return float((1 - gamma * mu) * e - gamma * mu * e + 3 * L * calL * gamma * gamma * e + 3 * L * (L + calL) * gamma * gamma * ft)


def theorem3_one_step_bound(f_gap_t, gamma, mu, L, calL, f_theta_gap) -> float:
    """One-step contraction of Thm 3's proof, for γ ≤ μ/(3L𝓛):
    ``E_t[f(x^{t+1}) − f*] ≤ (1−γμ)(f(x^t) − f*) + 3L(L + 𝓛)γ²(f(θ) − f*)``."""
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    _check_step("mu/(3 L calL)", gamma, theorem3_step_max(mu, L, calL), "Thm 3")
    e = V.nonnegative("f_gap_t", f_gap_t)
    return float((1 - gamma * mu) * e + 3 * L * (L + calL) * gamma * gamma * V.nonnegative("f_theta_gap", f_theta_gap))


def theorem3_bound(t, gamma, mu, L, calL, f0_gap, f_theta_gap) -> float:
    """Right-hand side of Theorem 3, eq. (17), iteration (16) with λ = 1, γ ≤ μ/(3L𝓛):

        E[f(x^t) − f*] ≤ (1−γμ)^t (f(x^0) − f*) + (3L(L + 𝓛)/μ) · γ(f(θ) − f*).
    """
    t = _t(t)
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    _check_step("mu/(3 L calL)", gamma, theorem3_step_max(mu, L, calL), "Thm 3")
    f0 = V.nonnegative("f0_gap", f0_gap)
    ft = V.nonnegative("f_theta_gap", f_theta_gap)
    _contraction(gamma, mu)
    return float((1 - gamma * mu) ** t * f0 + 3 * L * (L + calL) / mu * gamma * ft)


def rand_k_omega(d: int, k: int) -> float:
    """Variance parameter ω = d/k − 1 of rand-k sparsification ``C(x) = (d/k)·x⊙mask`` (Assumption 4)."""
    d = V.scalar("d", d, lo=1, integer=True)
    k = V.scalar("k", k, lo=1, hi=d, integer=True)
    return d / k - 1.0


def theorem4_omega_max(gamma, mu, L, calL) -> float:
    """Largest ω allowed by the proof of Thm 4 (App. E.2): 2γA + α(L − μ) ≤ ½ with α = 2ω/μ, i.e.

        ω ≤ (μ/2) · (½ − 4γ𝓛) / (2γ𝓛² + 2/γ + L − μ)      (≤ 0 when γ ≥ 1/(8𝓛): no ω allowed).
    """
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    return float(mu / 2 * (0.5 - 4 * gamma * calL) / (2 * gamma * calL * calL + 2 / gamma + L - mu))


def lemma6_rhs(f_gap, gamma, mu, calL, omega, xstar_norm_sq, noise_lam, *, printed: bool = False) -> float:
    """Right-hand side of Lemma 6, eq. (45): ``4A(f(x) − f*) + 2B + 4E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²`` with
    A = 2𝓛 + (𝓛² + 1/γ²)α, α = 2ω/μ, ν = 2ω‖x*‖² and B = (𝓛² + 1/γ²)ν (what the proof derives).

    ``printed=True`` uses the printed B = (𝓛 + 1/γ²)ν (an erratum, see docs/errata.md).
    """
    fg = V.nonnegative("f_gap", f_gap)
    gamma = V.positive("gamma", gamma)
    mu, calL = V.positive("mu", mu), V.nonnegative("calL", calL)
    omega = V.nonnegative("omega", omega)
    xs = V.nonnegative("xstar_norm_sq", xstar_norm_sq)
    nz = V.nonnegative("noise_lam", noise_lam)
    printed = V.flag("printed", printed)
    alpha, nu = 2 * omega / mu, 2 * omega * xs
    # (x + 1/γ²)·α written as x·α + (α/γ)/γ: no ZeroDivisionError when γ² underflows, no 0·inf when α = 0
    A = 2 * calL + calL * calL * alpha + (alpha / gamma) / gamma
    B = (calL if printed else calL * calL) * nu + (nu / gamma) / gamma
    return float(4 * A * fg + 2 * B + 4 * nz)


def theorem4_one_step_bound(y_dist_sq, gamma, mu, L, calL, omega, xstar_norm_sq, lam, grad_theta_sq, noise_lam) -> float:
    """One-step recursion of the proof of Thm 4 (App. E.2) for the auxiliary iterates (37), valid when
    2γA + α(L − μ) ≤ ½ (ω ≤ :func:`theorem4_omega_max`):

        E_t‖y^{t+1} − x*‖² ≤ (1 − γμ)‖y^t − x*‖² + D,
        D = 2γ²B + γ(L − μ)ν + (2γ/μ)N₃(λ),  B = (𝓛² + 1/γ²)ν,  ν = 2ω‖x*‖²,
        N₃(λ) = λ²‖∇f(θ)‖² + 2γμ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖².
    """
    e = V.nonnegative("y_dist_sq", y_dist_sq)
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    _check_step("1/(16 calL)", gamma, theorem4_step_max(calL), "Thm 4")
    omega = V.nonnegative("omega", omega)
    wmax = theorem4_omega_max(gamma, mu, L, calL)
    if omega > wmax * (1 + 1e-12):
        raise ValueError(f"omega must be <= theorem4_omega_max(gamma, mu, L, calL) = {wmax:.6g} (condition "
                         f"2γA + α(L−μ) <= 1/2 of Thm 4), got omega = {omega}")
    nu = 2 * omega * V.nonnegative("xstar_norm_sq", xstar_norm_sq)
    lam = V.scalar("lam", lam)
    n3 = lam * lam * V.nonnegative("grad_theta_sq", grad_theta_sq) + 2 * gamma * mu * V.nonnegative("noise_lam", noise_lam)
    D = 2 * ((gamma * calL) ** 2 + 1) * nu + gamma * (L - mu) * nu + 2 * gamma / mu * n3   # 2γ²B, B = (𝓛² + 1/γ²)ν
    return float((1 - gamma * mu) * e + D)


def theorem4_bound(t, gamma, mu, L, calL, omega, dist0_sq, xstar_norm_sq, grads_opt, grads_teacher, lam=None) -> float:
    """Right-hand side of Theorem 4 (compressed iterates (18)) with the constants of its proof (App. E):

        E‖x^t − x*‖² ≤ (2ω+1)[(1−γμ)^t‖x^0 − x*‖² + (ν/μ)(2γ𝓛² + 2/γ + L − μ) + (2/μ²)N₃(λ)] + 2ω‖x*‖²,
        ν = 2ω‖x*‖²,  N₃(λ) = λ²‖∇f(θ)‖² + 2γμ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖²  (Lemma 1 with c = 2μ),

    (eq. 38 combined with the unrolled recursion for y^t; x^0 = y^0 = C(y^0), e.g. x^0 = 0).
    Requires f μ-strongly convex and L-smooth, 𝓛 satisfying both (10) and (39), and
    ω ≤ :func:`theorem4_omega_max` (the statement's ω = O(μ/𝓛)), γ ≤ 1/(16𝓛). ``lam=None`` → λ* of N₃.
    """
    t = _t(t)
    gamma = V.positive("gamma", gamma)
    mu, L, calL = V.positive("mu", mu), V.positive("L", L), V.positive("calL", calL)
    omega = V.nonnegative("omega", omega)
    _check_step("1/(16 calL)", gamma, theorem4_step_max(calL), "Thm 4")
    wmax = theorem4_omega_max(gamma, mu, L, calL)
    if omega > wmax * (1 + 1e-12):
        raise ValueError(f"omega must be <= theorem4_omega_max(gamma, mu, L, calL) = {wmax:.6g} "
                         f"(condition 2γA + α(L−μ) <= 1/2 of Thm 4), got {omega}")
    d0 = V.nonnegative("dist0_sq", dist0_sq)
    xs = V.nonnegative("xstar_norm_sq", xstar_norm_sq)
    c = lemma1_c(4, mu=mu)
    lam = optimal_lambda(grads_opt, grads_teacher, gamma, c) if lam is None else V.scalar("lam", lam)
    nu = 2 * omega * xs
    _contraction(gamma, mu)
    inner = (1 - gamma * mu) ** t * d0 + nu / mu * (2 * gamma * calL * calL + 2 / gamma + L - mu) \
        + 2 / mu / mu * neighborhood(lam, grads_opt, grads_teacher, gamma, c)
    return float((2 * omega + 1) * inner + 2 * omega * xs)


# ---------------------------------------------------------------------------------------------
# vectorised mini-batch gradients (used by the simulator in verification.simulate)


def _minibatch_args(model, X, A, b, idx):
    """Validate the mini-batch functions' arguments: X (S, Λ, d) or (S, Λ, d, K), b (N,) or (N, K) rows,
    idx integer (S, B) in [0, N)."""
    _check_model(model)
    A = V.as_array("A", A, ndim=2)
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"A must have at least one row (sample) and one column, got shape {A.shape}")
    X = V.as_array("X", X, ndim=4 if model == "softmax" else 3)
    if X.shape[2] != A.shape[1] or X.size == 0:
        raise ValueError(f"X must have shape (S, Λ, d{', K' if model == 'softmax' else ''}) with "
                         f"d = A.shape[1] = {A.shape[1]}, got {X.shape}")
    if model == "softmax":
        b = V.as_array("b", b, ndim=2)
        if b.shape != (A.shape[0], X.shape[3]):
            raise ValueError(f"b must be one-hot/soft rows of shape (N, K) = {(A.shape[0], X.shape[3])}, got {b.shape}")
        V.probability_vector("b", b, axis=1, atol=1e-6)
    else:
        _, _, b = _check_data(model, np.zeros(A.shape[1]), A, b)
    idx = V.indices("idx", idx, A.shape[0], ndim=2)
    if idx.shape[0] != X.shape[0]:
        raise ValueError(f"idx must have shape (S, B) with S = X.shape[0] = {X.shape[0]}, got {idx.shape}")
    return X, A, b, idx


def minibatch_gradient(model: str, X, A, b, idx, *, check: bool = True) -> np.ndarray:
    """Mini-batch gradient ``(1/B) Σ_{n∈batch} ∇f_n(x)`` for many iterates at once.

    ``X``: iterates of shape ``(S, Λ, *xshape)`` (seeds × λ grid × parameter); ``idx``: ``(S, B)``
    sample indices, shared by every λ of a seed (common random numbers). Returns ``X.shape``.
    Same formulas as :func:`per_sample_gradients`, batched. ``b`` for soft-max must be one-hot/soft
    rows ``(N, K)``. ``check=False`` skips validation (for the simulator's inner loop).
    """
    if V.flag("check", check):
        X, A, b, idx = _minibatch_args(model, X, A, b, idx)
    B = idx.shape[1]
    N = A.shape[0]
    if model != "softmax" and 4 * B >= N:
        # large batches: weight all N residuals instead of gathering (S, B, d) rows — two shared BLAS
        # products; duplicates (sampling with replacement) add up in the weights
        S, L = X.shape[0], X.shape[1]
        W = np.zeros((S, N))
        np.add.at(W, (np.repeat(np.arange(S), B), idx.ravel()), 1.0 / B)
        with np.errstate(over="ignore", invalid="ignore"):
            z = (X.reshape(S * L, -1) @ A.T).reshape(S, L, N)
            r = 2.0 * (z - np.asarray(b)) if model == "least_squares" else special.expit(z) - np.asarray(b)
            # unsampled rows weigh exactly 0 (never 0·inf when their residual overflows)
            rw = np.where(W[:, None, :] > 0, r, 0.0) * W[:, None, :]
            out = (rw.reshape(S * L, N) @ A).reshape(X.shape)
        return _no_nan("minibatch_gradient", out) if check else out
    Ab = A[idx]                    # (S, B, d)
    bb = np.asarray(b)[idx]        # (S, B) or (S, B, K)
    if model == "softmax":
        z = np.einsum("sbd,sldk->slbk", Ab, X)
        r = special.softmax(z, axis=-1) - bb[:, None]
        out = np.einsum("slbk,sbd->sldk", r, Ab) / B
    else:
        z = np.matmul(X, Ab.transpose(0, 2, 1))            # (S, Λ, B), batched BLAS (einsum here was 5x slower)
        r = 2.0 * (z - bb[:, None, :]) if model == "least_squares" else special.expit(z) - bb[:, None, :]
        out = np.matmul(r, Ab) / B
    return _no_nan("minibatch_gradient", out) if check else out


def minibatch_loss(model: str, X, A, b, idx) -> np.ndarray:
    """Mini-batch loss ``(1/B) Σ_{n∈batch} f_n(x)`` for iterates ``(S, Λ, *xshape)`` → ``(S, Λ)``."""
    X, A, b, idx = _minibatch_args(model, X, A, b, idx)
    Ab = A[idx]
    bb = np.asarray(b)[idx]
    with np.errstate(over="ignore", invalid="ignore"):
        if model == "softmax":
            z = np.einsum("sbd,sldk->slbk", Ab, X)
            out = np.mean(special.logsumexp(z, axis=-1) - np.sum(bb[:, None] * z, axis=-1), axis=-1)
        else:
            z = np.einsum("sbd,sld->slb", Ab, X)
            if model == "least_squares":
                out = np.mean((z - bb[:, None, :]) ** 2, axis=-1)
            else:
                out = np.mean(np.logaddexp(0.0, z) - bb[:, None, :] * z, axis=-1)
    return _no_nan("minibatch_loss", out)


def batch_equivalent_gradients(grads, batch_size: int, sampling: str = "with_replacement") -> np.ndarray:
    """Per-sample gradients rescaled so that their uniform single-sample moments equal those of the
    mini-batch mean gradient: ``ḡ + √c_b (g_n − ḡ)``, with c_b = 1/b (with replacement) or
    (N − b)/(b(N − 1)) (without). Feeding them to Lemma 1's functions gives N(λ), λ* for mini-batch ξ
    (first and second moments — all Lemma 1 uses — of ∇f_B(x*), ∇f_B(θ) jointly, if both arrays are
    transformed with the same b)."""
    g = V.as_array("grads", grads)
    if g.ndim < 2 or g.shape[0] == 0:
        raise ValueError(f"grads must have shape (N, ...) with N >= 1, got {g.shape}")
    bs = V.count("batch_size", batch_size)
    V.one_of("sampling", sampling, SAMPLINGS)
    if sampling == "without_replacement" and bs > g.shape[0]:
        raise ValueError(f"batch_size must be <= N = {g.shape[0]}, got {bs}")
    mean = g.mean(axis=0)
    return mean + math.sqrt(_minibatch_factor(g.shape[0], bs, sampling)) * (g - mean)


def quadratic_gap(X, A, x_star) -> np.ndarray:
    """Least-squares suboptimality ``f(x) − f* = (x − x*)ᵀ(ĀᵀĀ/N)(x − x*)`` for many iterates at once
    (exact: f is quadratic with ∇f(x*) = 0 and Hessian 2ĀᵀĀ/N; no cancellation between f(x) and f*).

    ``X``: ``(..., d)`` iterates; returns ``X.shape[:-1]``.
    """
    A = V.as_array("A", A, ndim=2, min_size=1)
    X = V.as_array("X", X, ndim=(1, 2, 3, 4), min_size=1)
    x_star = V.as_array("x_star", x_star, ndim=1)
    if x_star.shape != (A.shape[1],) or X.shape[-1] != A.shape[1]:
        raise ValueError(f"x_star must have shape (d,) and X (..., d) with d = A.shape[1] = {A.shape[1]}, "
                         f"got x_star {x_star.shape} and X {X.shape}")
    D = X - x_star
    AD = D @ A.T
    return np.sum(AD * AD, axis=-1) / A.shape[0]


# ---------------------------------------------------------------------------------------------
# App. B.3: distillation gradient of a generic classifier through its logits


def logit_loss_gradient(logits, labels) -> np.ndarray:
    """∇_z ℓ(σ(z), b) = σ(z) − b for soft-max cross-entropy on logits z (App. B.3: ∇φ_n(z)).

    ``logits``: ``(N, K)``; ``labels``: probability rows ``(N, K)`` (soft labels allowed)."""
    z = V.as_array("logits", logits, ndim=2)
    b = V.probability_vector("labels", V.as_array("labels", labels, ndim=2), axis=1, atol=1e-6)
    V.same_shape(("logits", "labels"), z, b)
    return special.softmax(z, axis=1) - b


def jacobian_distillation_gradient(jacobian, grad_logits_student, grad_logits_teacher, lam) -> np.ndarray:
    """App. B.3: ``∇_x f_n(x | θ, λ) = Jψ_n(x)(∇φ_n(ψ_n(x)) − λ∇φ_n(ψ_n(θ)))`` for one sample.

    ``jacobian``: ``(D, K)`` = ∂ψ_n(x)/∂x of the *student* logits; ``grad_logits_*``: ``(K,)`` = ∇φ_n at
    the student's and the teacher's logits. The teacher term uses the student's Jacobian, which is
    why (5) is only approximate for non-linear models."""
    J = V.as_array("jacobian", jacobian, ndim=2)
    gs = V.as_array("grad_logits_student", grad_logits_student, ndim=1)
    gt = V.as_array("grad_logits_teacher", grad_logits_teacher, ndim=1)
    V.same_shape(("grad_logits_student", "grad_logits_teacher"), gs, gt)
    if gs.size == 0:
        raise ValueError("grad_logits_student must have at least one logit (K >= 1)")
    if J.shape[0] == 0:
        raise ValueError("jacobian must have at least one parameter row (D >= 1)")
    if J.shape[1] != gs.shape[0]:
        raise ValueError(f"jacobian must have shape (D, K) with K = {gs.shape[0]}, got {J.shape}")
    lam = V.scalar("lam", lam)
    return J @ (gs - lam * gt)


# ---------------------------------------------------------------------------------------------
# a non-convex PL family (Assumption 2 without convexity): f_n(x) = (x − c_n)² + 3 sin²(x − c_n)


def sin_pl_losses(x, c) -> np.ndarray:
    """Per-sample losses ``f_n(x) = (x − c_n)² + 3 sin²(x − c_n)`` (Karimi et al. 2016's PL example x² + 3 sin²x,
    shifted per sample), for scalar or array x: shape ``x.shape + (N,)``."""
    x = np.asarray(V.as_array("x", x), float)
    c = V.as_array("c", c, ndim=1)
    if c.size == 0:
        raise ValueError("c must hold at least one sample shift c_n")
    u = x[..., None] - c
    return u * u + 3.0 * np.sin(u) ** 2


def sin_pl_gradients(x, c) -> np.ndarray:
    """``f_n'(x) = 2(x − c_n) + 3 sin(2(x − c_n))``, shape ``x.shape + (N,)``."""
    x = np.asarray(V.as_array("x", x), float)
    c = V.as_array("c", c, ndim=1)
    if c.size == 0:
        raise ValueError("c must hold at least one sample shift c_n")
    u = x[..., None] - c
    return 2.0 * u + 3.0 * np.sin(2.0 * u)


@dataclasses.dataclass(frozen=True)
class SinPLConstants:
    """x*, f*, PL μ, smoothness L, expected smoothness 𝓛 (≥ L, as Assumption 3 is used) and min f'' of
    :func:`sin_pl_losses` on its data ``c``, computed numerically (grid + local refinement)."""

    x_star: float
    f_star: float
    mu: float
    L: float
    calL: float
    min_curvature: float


def sin_pl_constants(c, *, half_width: float = 12.0, n_grid: int = 200001) -> SinPLConstants:
    """Constants of the non-convex PL family. μ = inf_x f'(x)²/(2(f(x) − f*)) and
    𝓛 = max(L, sup_x E(f_ξ'(x) − f_ξ'(x*))²/(2(f(x) − f*))) on a grid of ``n_grid`` points over
    x* ± ``half_width`` refined by bounded scalar minimisation (outside it both ratios are within 1 % of
    their limits: 2 for μ's, and E(·)²/(2 gap) → 2 for 𝓛's); f'' = 2 + 6·mean cos(2(x − c_n)).
    Raises ValueError when μ ≈ 0 (a spurious stationary point: f is not PL)."""
    c = V.as_array("c", c, ndim=1)
    if c.size == 0:
        raise ValueError("c must have at least one entry")
    if np.max(np.abs(c)) > 1e6:
        raise ValueError(f"c must have |c_n| <= 1e6 (the constants come from a grid around x*), got max |c_n| = {np.max(np.abs(c)):.3g}")
    hw = V.scalar("half_width", half_width, lo=1.0, hi=1e4)
    n = int(V.scalar("n_grid", n_grid, lo=101, integer=True))
    f = lambda x: float(np.mean(sin_pl_losses(x, c)))  # noqa: E731
    grid = np.linspace(c.mean() - hw, c.mean() + hw, n)
    fg = np.mean(sin_pl_losses(grid, c), axis=-1)
    i = int(np.argmin(fg))
    res = optimize.minimize_scalar(f, bounds=(grid[max(i - 1, 0)], grid[min(i + 1, n - 1)]), method="bounded",
                                   options={"xatol": 1e-13})
    xs, fs = float(res.x), float(res.fun)
    g_star = sin_pl_gradients(xs, c)
    x = np.linspace(xs - hw, xs + hw, n)
    x = x[np.abs(x - xs) > 1e-3]
    gap = np.mean(sin_pl_losses(x, c), axis=-1) - fs
    G = sin_pl_gradients(x, c)
    pl = np.mean(G, axis=-1) ** 2 / (2 * gap)
    es = np.mean((G - g_star) ** 2, axis=-1) / (2 * gap)
    j = int(np.argmin(pl))
    lo, hi = x[max(j - 1, 0)], x[min(j + 1, x.size - 1)]

    def pl_at(z):
        gz = float(np.mean(sin_pl_gradients(z, c)))
        return gz * gz / (2 * (f(z) - fs))

    mu = min(float(pl[j]), float(optimize.minimize_scalar(pl_at, bounds=(lo, hi), method="bounded").fun))
    curv = 2.0 + 6.0 * np.mean(np.cos(2.0 * (np.linspace(-np.pi / 2, np.pi / 2, 20001)[:, None] - c)), axis=-1)
    L = float(np.max(np.abs(curv)))
    if mu <= 1e-8 * L:
        raise ValueError(f"f is not PL on these data (inf f'^2/(2(f - f*)) = {mu:.3g}): a spurious stationary point")
    return SinPLConstants(xs, fs, mu, L, max(L, float(np.max(es))), float(np.min(curv)))
