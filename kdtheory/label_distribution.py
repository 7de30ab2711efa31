"""Learning the true label distribution of the training data (paper 004: SoTeacher).

Statement
---------
A teacher trained by empirical risk minimisation (ERM, eq. 1) with a *proper scoring rule*
(Def. 3.2) approximates the true label distribution ``p*(x)`` of its own training inputs:

* Prop. 3.3 (eq. 3): on the ``n`` siblings of ``x`` (inputs sharing ``p*(x)``) the ERM prediction is
  the sample mean of one-hot labels, and w.p. ``≥ 1 − δ``
  ``‖f*(x) − p*(x)‖ ≤ sqrt(2K/n · log(2/δ))`` (:func:`sibling_bound`).
* Thm 3.6 (eq. 4): with an ``r``-external covering of ``N^r`` cells, ``L``-locally-Lipschitz
  hypotheses and ``L*``-locally-Lipschitz ``p*``, on the inputs whose cell holds at least
  ``N/(κN^r)`` points (a fraction ``≥ 1 − 1/κ + 1/(κN^r)`` of them, Lemma A.4),
  ``‖f*(x) − p*(x)‖ ≤ sqrt(2κN^rK/N · log(2/δ)) + L r ξ_K + 2L* r`` (:func:`erm_bound`),
  ``ξ_K = 1 + K‖1_(·) − K⁻¹1‖`` (:func:`xi`).
* Thm 3.8 (eq. 6): with data augmentation two more terms ``L_f^A ξ_K + L_p^A``
  (:func:`augmented_erm_bound`).

The practical method (Sec. 4, App. C/D) adds a Lipschitz regulariser ``ℓ_LR = Σ Lip(f)`` (1-norm
Lipschitz constants of the layers, :func:`lipschitz_linear_l1`, :func:`lipschitz_conv2d_l1`,
:func:`network_lipschitz_l1`) and a consistency regulariser against the running average of past
predictions (:func:`consistency_loss`, :func:`running_average_update`) weighted by a schedule
``λ_CR(t)`` (:func:`lambda_cr`). The uncertainty of a teacher is measured by ECE, NLL, temperature
scaling and top-1 agreement (:func:`expected_calibration_error`, :func:`nll`,
:func:`fit_temperature`, :func:`top1_agreement`).

Source
------
"SoTeacher: toward student-oriented teacher network training for knowledge distillation"
(anonymous ICLR submission), seed ``004_dcb61b7e5e0daf64.txt``. Equation numbers are the paper's.

Errata (see ``docs/errata.md``, section 004)
--------------------------------------------
* Lemma A.3 / eq. (22): the printed minimiser ``ȳ(1 + Kε) − ε`` is negative (infeasible) when a class
  is absent from a cell (``ȳ_k < ε/(1 + Kε)``); the minimiser of (22) is the water-filling
  :func:`smoothed_minimiser` (equal to the printed form when it is feasible).
* Thm 3.6: "any subset ``D̃`` with cardinality at least ``(1 − 1/κ + 1/(κN^r))N``" must be the subset
  of inputs whose partition cell holds at least ``N/(κN^r)`` points (:func:`large_cell_mask`).
* Lemma A.3 / eq. (25): the Case II minimiser is negative when a class is nearly absent; (27) itself is
  fine (claim ``soteacher.eq27``).
* Thm 3.8 / eq. (6): ``L_p^A = max ‖p*(x') − p*(A(x))‖`` misses the invariance gap
  ``‖p*(A(x)) − p*(x)‖``; the corrected constant compares with ``p*(x)`` (:func:`augmentation_constant`).

References
----------
Gneiting & Raftery (2007), strictly proper scoring rules; Weissman et al. (2003), ℓ1 deviation of the
empirical distribution; Gouk et al. (2021), "Regularisation of neural networks by enforcing Lipschitz
continuity" (operator norms of convolutions); Laine & Aila (2017), temporal ensembling; Guo et al.
(2017), calibration and temperature scaling; Naeini et al. (2015), ECE.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special

from kdtheory import validation as V

__all__ = [
    "NORMS", "LOSSES", "SCHEDULES",
    "lp_norm", "sibling_bound", "sibling_bound_l2", "xi", "lemma_a1_bound", "erm_bound", "augmented_erm_bound", "augmented_neighbourhoods",
    "augmentation_constant",
    "covering_fraction", "large_cell_mask", "Covering", "greedy_covering", "softmax_affine_lipschitz",
    "loss_values", "expected_score", "score_divergence", "ProperReport", "check_proper",
    "symbolic_divergence", "symbolic_properness",
    "printed_smoothed_minimiser", "smoothed_minimiser", "lipschitz_cell_erm", "centre_risk", "case2_minimiser", "condition_27",
    "lipschitz_linear_l1", "lipschitz_conv2d_l1", "lipschitz_batchnorm_l1", "network_lipschitz_l1",
    "running_average_update", "consistency_loss", "lambda_cr",
    "softmax", "expected_calibration_error", "nll", "fit_temperature", "top1_agreement",
]

#: Loss names understood by :func:`loss_values` (Def. 3.2 examples and two improper rules).
LOSSES = ("nll", "brier", "absolute", "zero_one")
#: λ_CR schedules of App. D (linear is the main text's, Sec. 4).
SCHEDULES = ("linear", "cosine", "cyclic", "piecewise")
#: Output norms with a name; any real p >= 1 is accepted too.
NORMS = (1, 2, math.inf)


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------

def _K(K, hi: int = V.MAX_COUNT) -> int:
    K = V.count("K", K, lo=-V.MAX_COUNT, hi=hi)
    if K < 2:
        raise ValueError(f"K (number of classes) must be >= 2, got {K}")
    return K


def _delta(delta) -> float:
    return V.probability("delta", delta, open_ends=True)


def _norm(norm, name: str = "norm") -> float:
    if isinstance(norm, str):
        if norm.lower() in ("inf", "infinity", "max"):
            return math.inf
        raise ValueError(f"{name} must be a real p >= 1 or 'inf', got {norm!r}")
    if isinstance(norm, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real p >= 1 or 'inf', got a bool")
    if isinstance(norm, (complex, np.complexfloating)) or norm is None:
        raise TypeError(f"{name} must be a real p >= 1 or 'inf', got {norm!r}")
    try:
        p = float(norm)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real p >= 1 or 'inf', got {norm!r}") from None
    if math.isnan(p) or p < 1:
        raise ValueError(f"{name} must be a p-norm with p >= 1 (or inf), got {norm!r}")
    return p


def lp_norm(v, norm=2, axis: int = -1) -> np.ndarray:
    """The p-norm ``‖v‖_p`` along ``axis`` (``norm`` = p >= 1 or ``inf``), vectorised."""
    p = _norm(norm)
    a = np.abs(V.as_array("v", v, min_size=1))
    if p == math.inf:
        return np.max(a, axis=axis)
    if p == 1:
        return np.sum(a, axis=axis)
    m = np.max(a, axis=axis, keepdims=True)  # scale first: no overflow for large p (or large entries)
    if p == 2:
        m = np.where(m > 0, m, 1.0)
        return np.squeeze(m, axis=axis) * np.sqrt(np.sum((a / m) ** 2, axis=axis))
    m = np.where(m > 0, m, 1.0)
    return np.squeeze(m, axis=axis) * np.sum((a / m) ** p, axis=axis) ** (1.0 / p)


# ---------------------------------------------------------------------------------------------
# the bounds: Prop. 3.3, Thm 3.6, Thm 3.8, Lemma A.4
# ---------------------------------------------------------------------------------------------

def sibling_bound(K, n_siblings, delta) -> float:
    """Prop. 3.3, eq. (3): ``sqrt(2K/|S| · log(2/δ))``.

    Statement
        The ERM ``f*`` on the ``|S| = n_siblings`` siblings of ``x`` (inputs with the same true label
        distribution ``p*(x)``) with a proper scoring rule predicts the sample mean ``ȳ`` of their
        one-hot labels; w.p. ``≥ 1 − δ``, ``‖f*(x) − p*(x)‖ ≤ sibling_bound``.
    Source
        SoTeacher, Prop. 3.3, eq. (3); its proof is Lemma A.2 (eq. 12–13), the ℓ1 concentration of a
        multinomial mean. ``K`` is the number of classes.
    Notes
        It holds for every p-norm (``‖·‖_p ≤ ‖·‖_1``, and the ℓ1 form follows from Weissman et al.'s
        ``(2^K − 2)exp(−|S|ε²/2)``). Its ``sqrt(K)`` is the right order only for the 1-norm; for the
        2-norm a K-free bound holds (:func:`sibling_bound_l2`).
    """
    K = _K(K)
    n = V.scalar("n_siblings", n_siblings, lo=1, integer=True)
    d = _delta(delta)
    return math.sqrt(2.0 * K / n * math.log(2.0 / d))


def sibling_bound_l2(n_siblings, delta) -> float:
    """A K-free 2-norm version of eq. (3): ``(1 + sqrt(log(1/δ)))/sqrt(|S|)``.

    Statement
        ``‖ȳ − p‖_2 ≤ (1 + sqrt(log(1/δ)))/sqrt(n)`` w.p. ``≥ 1 − δ`` for the mean ``ȳ`` of ``n`` one-hot
        labels drawn independently (not necessarily identically) from categorical distributions with
        mean ``p``.
    Source
        Not in the paper (it shows how loose eq. 3 is for the 2-norm). Derivation:
        ``E‖ȳ − p‖_2 ≤ sqrt(E‖ȳ − p‖²) = sqrt((1 − Σ_k p_k²)/n) ≤ 1/sqrt(n)``; replacing one label moves
        ``‖ȳ − p‖_2`` by at most ``sqrt(2)/n``, so McDiarmid gives
        ``P(‖ȳ − p‖_2 ≥ 1/sqrt(n) + t) ≤ exp(−n t²)``.
    """
    n = V.scalar("n_siblings", n_siblings, lo=1, integer=True)
    d = _delta(delta)
    return (1.0 + math.sqrt(math.log(1.0 / d))) / math.sqrt(n)


def xi(K, norm=2) -> float:
    """``ξ_K = 1 + K‖1_(·) − K⁻¹1‖_p`` of Thm 3.6 (below eq. 4), for any p-norm.

    ``1_(·)`` is a one-hot vector of ``R^K`` and ``1`` the all-ones vector, so
    ``‖1_(·) − K⁻¹1‖_p = ((1 − 1/K)^p + (K − 1)K^{−p})^{1/p}``: ``2(1 − 1/K)`` for p = 1,
    ``sqrt(1 − 1/K)`` for p = 2, ``1 − 1/K`` for p = ∞. (Source: SoTeacher, Thm 3.6 and eq. 28.)
    """
    K = _K(K)
    e = np.full(K, -1.0 / K)
    e[0] += 1.0
    return 1.0 + K * float(lp_norm(e, norm))


def lemma_a1_bound(L_star, r, n_cell=None) -> float:
    """Lemma A.1, eq. (9)-(10): ``‖p*(x) − E[ȳ_j]‖ ≤ 2(N_S − 1)/N_S · L* r ≤ 2L* r``.

    Statement
        For an input ``x`` of a partition cell ``S_j^r`` (all of its inputs within ``r`` of the centre
        ``x̄_j``) and an ``L*``-locally-Lipschitz ``p*``, the mean true label distribution of the cell,
        ``E[ȳ_j] = N_S⁻¹ Σ_{x'∈S_j} p*(x')``, is within ``2L*r`` of ``p*(x)``; with ``n_cell = N_S`` given,
        the sharper ``2(N_S − 1)/N_S · L*r`` of eq. (10) (the term ``x' = x`` contributes 0).
    Source
        SoTeacher, App. A, Lemma A.1, eq. (9)-(11). Norms: any p-norm, ``L*`` measured in it.
    """
    L_star = V.nonnegative("L_star", L_star)
    r = V.nonnegative("r", r)
    if n_cell is None:
        return 2.0 * L_star * r
    n = V.count("n_cell", n_cell)
    return 2.0 * (n - 1) / n * L_star * r


def erm_bound(N, K, covering_number, kappa, delta, L, r, L_star, norm=2) -> float:
    """Thm 3.6, eq. (4): ``sqrt(2κN^rK/N · log(2/δ)) + L r ξ_K + 2L* r``.

    Statement
        ``N`` training inputs, ``K`` classes, an ``r``-external covering with ``N^r =
        covering_number`` cells, ``κ ≥ 1``, hypotheses ``L``-locally-Lipschitz and the true label
        distribution ``L*``-locally-Lipschitz in balls of radius ``r``. For every input ``x`` whose
        partition cell holds at least ``N/(κN^r)`` inputs (:func:`large_cell_mask`; at least a fraction
        :func:`covering_fraction` of the inputs), w.p. ``≥ 1 − δ``
        ``‖f*(x) − p*(x)‖_norm ≤ erm_bound``.
    Source
        SoTeacher, Thm 3.6, eq. (4); proof in App. A (eq. 8, 28, 29, Lemma A.4). ``norm`` is the output
        p-norm of ``ξ_K`` (:func:`xi`).
    """
    N = V.scalar("N", N, lo=1, integer=True)
    K = _K(K)
    m = V.scalar("covering_number", covering_number, lo=1, integer=True)
    if m > N:
        raise ValueError(f"covering_number must be <= N (a minimal covering of N points has at most N cells), "
                         f"got {m} > {N}")
    kappa = V.scalar("kappa", kappa, lo=1.0)
    d = _delta(delta)
    L = V.nonnegative("L", L)
    r = V.nonnegative("r", r)
    L_star = V.nonnegative("L_star", L_star)
    return math.sqrt(2.0 * kappa * m * K / N * math.log(2.0 / d)) + L * r * xi(K, norm) + 2.0 * L_star * r


def augmented_erm_bound(N, K, covering_number, kappa, delta, L, r, L_star, L_f_A, L_p_A, norm=2) -> float:
    """Thm 3.8, eq. (6): the bound of eq. (4) plus ``L_f^A ξ_K + L_p^A``.

    ``L_f_A = max ‖f*(x') − f*(A(x))‖`` and ``L_p_A = max ‖p*(x') − p*(A(x))‖`` over covering centres
    ``x``, augmentations ``A`` and augmented neighbours ``x'`` (Def. 3.7); both can be measured with
    :func:`augmentation_constant`. With both zero it is :func:`erm_bound`. (Source: SoTeacher, Thm 3.8, eq. 6.)

    Erratum (docs/errata.md, 004): with ``L_p^A`` as printed the bound fails when ``p*`` is not invariant
    under the augmentations (the assumption ``‖p*(A(x)) − p*(x)‖ ≤ L′`` of Sec. 3.3 is not in eq. 6);
    pass the corrected ``L_p_A = max ‖p*(x') − p*(x)‖`` (``augmentation_constant`` with ``F_ref = p*(x̄)``),
    (at most the printed one plus the gap ``max ‖p*(A(x̄)) − p*(x̄)‖``, by the triangle inequality); the
    bound with it held in the simulations of claim ``soteacher.thm38`` (the paper gives no proof of Thm 3.8).
    """
    base = erm_bound(N, K, covering_number, kappa, delta, L, r, L_star, norm)
    L_f_A = V.nonnegative("L_f_A", L_f_A)
    L_p_A = V.nonnegative("L_p_A", L_p_A)
    return base + L_f_A * xi(K, norm) + L_p_A


def augmented_neighbourhoods(X, images, r, norm=2) -> list:
    """Index arrays of the training inputs within ``r`` of each augmented centre ``z_i = A(x̄)`` (Def. 3.7).

    ``X`` (N, d) are the inputs ``D_X``, ``images`` (M, d) the points ``A(x̄)``; entry ``i`` lists the
    ``x' ∈ D_X`` with ``‖x' − z_i‖_norm ≤ r`` (the augmented neighbourhood ``N_𝒜(x̄)`` read as: close to
    *some* augmented ``x̄``, one ``A`` at a time). (Source: SoTeacher, Def. 3.7.)
    """
    X = V.as_array("X", X, ndim=2, min_size=1)
    Z = V.as_array("images", images, ndim=2, min_size=1)
    if Z.shape[1] != X.shape[1]:
        raise ValueError(f"images must have the dimension of X ({X.shape[1]}), got {Z.shape[1]}")
    r = V.nonnegative("r", r)
    p = _norm(norm)
    return [np.flatnonzero(lp_norm(X - z, p, axis=1) <= r) for z in Z]


def augmentation_constant(X, F_X, images, F_ref, r, *, norm=2, out_norm=2, neighbours=None) -> float:
    """``max_i max_{x' ∈ D_X, ‖x' − z_i‖ ≤ r} ‖F(x') − F_ref[i]‖``: the constants ``L_f^A``, ``L_p^A`` of Thm 3.8.

    ``X`` (N, d) are the training inputs ``D_X`` with values ``F_X`` (N, K); ``images`` (M, d) are the
    augmented covering centres ``z = A(x̄)`` (every centre ``x̄ ∈ C`` under every ``A ∈ 𝒜``) and
    ``F_ref`` (M, K) the reference value of each; ``neighbours`` may pass
    :func:`augmented_neighbourhoods` ``(X, images, r, norm)`` computed once (it does not depend on ``F``).

    As printed (Thm 3.8, below eq. 6) ``F_ref[i] = F(A(x̄))`` with ``F = f*`` for ``L_f^A`` and
    ``F = p*`` for ``L_p^A``. The corrected ``L_p^A`` of the errata takes ``F_ref[i] = p*(x̄)``, the
    label distribution of the centre itself, so that it also measures how far ``p*`` is from invariant
    under ``A`` (the assumption ``‖p*(A(x)) − p*(x)‖ ≤ L′`` of Sec. 3.3 that eq. (6) leaves out).
    ``0`` when no input lies in any augmented neighbourhood. (Source: SoTeacher, Def. 3.7, Thm 3.8.)
    """
    F_X = V.as_array("F_X", F_X, ndim=2)
    F_ref = V.as_array("F_ref", F_ref, ndim=2)
    if neighbours is None:
        neighbours = augmented_neighbourhoods(X, images, r, norm)
        n_x = V.as_array("X", X, ndim=2).shape[0]
    else:
        n_x = F_X.shape[0]
    if F_X.shape[0] != n_x:
        raise ValueError(f"F_X must have one row per input of X ({n_x}), got {F_X.shape[0]}")
    if F_ref.shape[0] != len(neighbours):
        raise ValueError(f"F_ref must have one row per row of images ({len(neighbours)}), got {F_ref.shape[0]}")
    if F_ref.shape[1] != F_X.shape[1]:
        raise ValueError(f"F_X and F_ref must have the same number of columns, got {F_X.shape[1]} and {F_ref.shape[1]}")
    q = _norm(out_norm, "out_norm")
    idx = [np.asarray(n, dtype=np.int64) for n in neighbours]
    sizes = np.array([len(n) for n in idx])
    if sizes.sum() == 0:
        return 0.0
    rows = np.concatenate(idx)
    ref = np.repeat(np.arange(len(idx)), sizes)
    return float(np.max(lp_norm(F_X[rows] - F_ref[ref], q, axis=1)))


def covering_fraction(kappa, covering_number) -> float:
    """Lemma A.4, eq. (30): ``1 − 1/κ + 1/(κN^r)``.

    Of ``N`` inputs split into ``N^r`` disjoint cells, at least this fraction lie in a cell of at least
    ``N/(κN^r)`` inputs, for every ``κ ≥ 1``. (Source: SoTeacher, Lemma A.4, eq. 30.)
    """
    kappa = V.scalar("kappa", kappa, lo=1.0)
    m = V.scalar("covering_number", covering_number, lo=1, integer=True)
    return 1.0 - 1.0 / kappa + 1.0 / (kappa * m)


def large_cell_mask(assignment, kappa, covering_number=None) -> np.ndarray:
    """The subset ``D̃`` of Thm 3.6 (corrected): inputs whose cell holds ``≥ N/(κN^r)`` inputs.

    ``assignment[i]`` is the cell index of input ``i``; ``covering_number`` defaults to the number of
    distinct cells. Lemma A.4 guarantees ``mask.sum() ≥ covering_fraction(κ, N^r)·N``.
    (Source: SoTeacher, Lemma A.4 and Step III of App. A.)
    """
    a = np.asarray(assignment)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"assignment must be a non-empty 1-D array of cell indices, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"assignment must hold integer cell indices, got dtype {a.dtype}")
    if a.min() < 0:
        raise ValueError("assignment must hold non-negative cell indices")
    kappa = V.scalar("kappa", kappa, lo=1.0)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    m = len(counts) if covering_number is None else V.scalar("covering_number", covering_number, lo=1, integer=True)
    if m < len(counts):
        raise ValueError(f"covering_number must be >= the number of distinct cells ({len(counts)}), got {m}")
    return counts[inverse] * kappa * m >= a.size  # N(x) >= N/(κ m), exact in integers when κ is


@dataclasses.dataclass(frozen=True)
class Covering:
    """An r-external covering of a finite point set (Def. 3.5) with its partition (App. A, eq. 7).

    ``centers``: indices of the points used as centres; ``assignment[i]``: the cell of point ``i``
    (cells are ``S_j^r ⊆ {x' : ‖x' − x̄_j‖ ≤ r}``); ``size``: the number of cells, an upper bound of the
    covering number ``N^r``; ``radius``, ``norm``: the ball.
    """

    centers: np.ndarray
    assignment: np.ndarray
    radius: float
    norm: float

    @property
    def size(self) -> int:
        return int(len(self.centers))

    def cell_sizes(self) -> np.ndarray:
        return np.bincount(self.assignment, minlength=self.size)


def greedy_covering(points, r, norm=2) -> Covering:
    """Greedy r-external covering of a finite point set (Def. 3.5) and its disjoint partition.

    Scans the points in order; an uncovered point becomes a new centre and every still-unassigned
    point within distance ``r`` joins its cell. Every point ends in exactly one cell, within ``r`` of
    its centre, and the centres are ``r``-separated, so ``size`` is at most the ``r/2``-packing number;
    it bounds the minimal covering number ``N^r`` from above.
    """
    X = V.as_array("points", points, ndim=(1, 2))
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] == 0:
        raise ValueError("points must hold at least one point")
    r = V.nonnegative("r", r)
    p = _norm(norm)
    n = X.shape[0]
    assignment = np.full(n, -1, dtype=np.int64)
    centers = []
    for i in range(n):
        if assignment[i] >= 0:
            continue
        j = len(centers)
        centers.append(i)
        free = np.flatnonzero(assignment < 0)
        d = lp_norm(X[free] - X[i], p, axis=1)
        assignment[free[d <= r]] = j
    return Covering(np.asarray(centers, dtype=np.int64), assignment, float(r), p)


def softmax_affine_lipschitz(W) -> float:
    """A Lipschitz constant of ``x ↦ softmax(Wx + b)`` from the Euclidean input norm to every output p-norm.

    ``max_{k,l} ‖w_k − w_l‖_2`` (rows ``w_k`` of ``W``, shape ``(K, d)``). Derivation: the softmax
    Jacobian ``J = diag(s) − ssᵀ`` gives ``‖Jv‖_1 = Σ_k s_k|v_k − s·v| ≤ max v − min v``; with
    ``v = W(x − x')`` along the segment this is ``≤ max_{k,l}|(w_k − w_l)·(x − x')|``, and
    ``‖·‖_p ≤ ‖·‖_1``. Used as ``L*`` for the synthetic true label distributions of Thm 3.6's checks.
    """
    W = V.as_array("W", W, ndim=2, min_size=1)
    sc = float(np.max(np.abs(W))) or 1.0  # unit scale: no overflow of the squared differences
    diff = (W[:, None, :] - W[None, :, :]) / sc
    return V.finite_result(sc * float(np.sqrt(np.max(np.sum(diff * diff, axis=-1)))), inputs="W")


# ---------------------------------------------------------------------------------------------
# proper scoring rules (Def. 3.2)
# ---------------------------------------------------------------------------------------------

def _loss_name(loss) -> str:
    return V.one_of("loss", loss, LOSSES)


def loss_values(loss, P, y) -> np.ndarray:
    """Per-sample losses ``ℓ(p, y)`` of predictions ``P`` (rows on the simplex) and class labels ``y``.

    ``"nll"``: ``−log p_y`` (may be ``inf`` when ``p_y = 0``); ``"brier"``: ``‖p − 1_y‖_2²`` (the MSE of
    Def. 3.2); ``"absolute"``: ``‖p − 1_y‖_1``; ``"zero_one"``: ``1[argmax p ≠ y]``.
    (Source: SoTeacher, Def. 3.2 and its examples.)
    """
    name = _loss_name(loss)
    P = V.probability_vector("P", P, atol=1e-6)
    P2 = np.atleast_2d(P)
    K = P2.shape[1]
    yv = np.asarray(y)
    if not np.issubdtype(yv.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {yv.dtype}")
    yv = np.broadcast_to(yv, (P2.shape[0],)) if yv.ndim == 0 else yv
    if yv.shape != (P2.shape[0],):
        raise ValueError(f"y must have shape ({P2.shape[0]},), got {yv.shape}")
    if yv.size and (yv.min() < 0 or yv.max() >= K):
        raise ValueError(f"y must hold labels in [0, {K}), got range [{yv.min()}, {yv.max()}]")
    onehot = np.eye(K)[yv]
    py = P2[np.arange(len(yv)), yv]
    if name == "nll":
        with np.errstate(divide="ignore"):
            out = -np.log(py)
    elif name == "brier":
        out = np.sum((P2 - onehot) ** 2, axis=1)
    elif name == "absolute":
        out = np.sum(np.abs(P2 - onehot), axis=1)
    else:
        out = (np.argmax(P2, axis=1) != yv).astype(float)
    return out if P.ndim == 2 else out[0]


def expected_score(loss, p, q) -> np.ndarray:
    """``ℓ(p, q) = E_{y∼q} ℓ(p, y)``: the score of forecast ``p`` under truth ``q`` (Def. 3.2).

    ``p`` and ``q`` are probability vectors (or stacks of them, broadcast along the leading axis).
    ``"nll"``: cross-entropy ``−Σ q log p``; ``"brier"``: ``‖p − q‖² + 1 − ‖q‖²``; ``"absolute"``:
    ``2(1 − p·q)``; ``"zero_one"``: ``1 − q_{argmax p}``.
    """
    name = _loss_name(loss)
    p = V.probability_vector("p", p, atol=1e-6)
    q = V.probability_vector("q", q, atol=1e-6)
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(f"p and q must have the same number of classes, got {p.shape[-1]} and {q.shape[-1]}")
    p, q = np.broadcast_arrays(p, q)
    if name == "nll":
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(q > 0, -q * np.log(p), 0.0)
        return np.sum(t, axis=-1)
    if name == "brier":
        return np.sum((p - q) ** 2, axis=-1) + 1.0 - np.sum(q * q, axis=-1)
    if name == "absolute":
        return 2.0 * (1.0 - np.sum(p * q, axis=-1))
    idx = np.argmax(p, axis=-1)
    return 1.0 - np.take_along_axis(q, idx[..., None], axis=-1)[..., 0]


def score_divergence(loss, p, q) -> np.ndarray:
    """``ℓ(p, q) − ℓ(q, q)``: non-negative for all ``p, q`` iff the rule is proper (Def. 3.2)."""
    return expected_score(loss, p, q) - expected_score(loss, q, q)


@dataclasses.dataclass(frozen=True)
class ProperReport:
    """What :func:`check_proper` found.

    ``proper``: no ``p, q`` with ``ℓ(p, q) < ℓ(q, q)`` was found (within ``tol``); ``strict``: also no
    ``p`` with ``‖p − q‖_1 ≥ min_gap`` and ``ℓ(p, q) ≤ ℓ(q, q) + tol``; ``min_divergence``: the smallest
    ``ℓ(p, q) − ℓ(q, q)`` seen over such ``p``; ``counterexample``: ``{"p", "q", "score_p", "score_q", "kind"}`` (``kind`` is
    ``"improper"`` or ``"not strict"``) or ``None``; ``symbolic``: the sympy certificate when asked.
    """

    loss: str
    K: int
    proper: bool
    strict: bool
    min_divergence: float
    counterexample: dict | None
    n_checked: int
    symbolic: bool | None = None


def check_proper(loss, K, rng, *, n_q: int = 200, n_p: int = 200, tol: float = 1e-9, min_gap: float = 1e-3,
                 symbolic: bool = False) -> ProperReport:
    """Certify (numerically) that a loss is strictly proper on the K-simplex, or return a counterexample.

    For ``n_q`` truths ``q`` (random interior points, vertices and near-ties) the candidate forecasts
    are ``n_p`` random points, the simplex vertices, ``q`` moved towards each vertex, and the
    numerical minimiser of ``ℓ(·, q)`` (softmax parametrisation, L-BFGS). Any ``ℓ(p, q) < ℓ(q, q) −
    tol`` refutes properness; ``p`` with ``‖p − q‖_1 ≥ min_gap`` and ``ℓ(p, q) ≤ ℓ(q, q) + tol`` refutes
    strictness (Def. 3.2 asks for equality iff ``p = q``). With ``symbolic=True`` (NLL and Brier only) the sympy
    certificate :func:`symbolic_properness` is attached.
    """
    name = _loss_name(loss)
    K = _K(K)
    rng = V.generator("rng", rng)
    n_q = V.count("n_q", n_q, hi=10_000_000)  # one Dirichlet draw per q is kept in a list
    n_p = V.count("n_p", n_p, hi=10_000_000)
    tol = V.tolerance("tol", tol, allow_zero=True)
    symbolic = V.flag("symbolic", symbolic)
    min_gap = V.scalar("min_gap", min_gap, lo=0.0, lo_open=True, hi=2.0)  # ‖p − q‖₁ ≤ 2 on the simplex
    qs = [rng.dirichlet(np.ones(K)) for _ in range(n_q)]
    tie = np.zeros(K)
    tie[:2] = 0.5
    qs.append(tie)
    eye = np.eye(K)
    worst = math.inf
    cex = None
    strict_cex = None
    count = 0
    for q in qs:
        cands = [rng.dirichlet(np.ones(K) * 0.5, size=n_p), eye,
                 np.clip(q + 0.3 * (eye - q), 0, None)]
        if name in ("nll", "brier"):
            def obj(z, q=q):
                pz = special.softmax(z)
                return float(expected_score(name, pz, q))
            res = optimize.minimize(obj, rng.normal(size=K), method="L-BFGS-B")
            cands.append(special.softmax(res.x)[None, :])
        C = np.vstack(cands)
        C = C / C.sum(axis=1, keepdims=True)
        div = score_divergence(name, C, q)
        far = lp_norm(C - q, 1, axis=1) >= min_gap
        count += len(C)
        i = int(np.argmin(div))
        if div[i] < -tol and cex is None:
            cex = {"p": C[i].tolist(), "q": q.tolist(), "score_p": float(expected_score(name, C[i], q)),
                   "score_q": float(expected_score(name, q, q)), "kind": "improper"}
        if not np.any(far):
            continue
        j = int(np.flatnonzero(far)[np.argmin(div[far])])
        worst = min(worst, float(div[j]))
        if div[j] <= tol and strict_cex is None:
            strict_cex = {"p": C[j].tolist(), "q": q.tolist(), "score_p": float(expected_score(name, C[j], q)),
                          "score_q": float(expected_score(name, q, q)), "kind": "not strict"}
    proper = cex is None
    strict = proper and strict_cex is None
    sym = symbolic_properness(name, K) if symbolic else None
    return ProperReport(name, K, proper, strict, worst, cex if cex is not None else strict_cex, count, sym)


#: Largest K the sympy routines accept (the expressions have K² terms; determinants of K − 1 minors).
_SYMBOLIC_MAX_K = 64


def symbolic_divergence(loss, K):
    """The sympy expression of ``ℓ(p, q) − ℓ(q, q)`` for ``"nll"`` or ``"brier"``.

    Returns ``(expr, p_symbols, q_symbols)`` in all ``K`` coordinates (positive symbols; the simplex
    constraint ``Σ = 1`` is applied by the caller). On the simplex it equals ``KL(q‖p)`` for NLL and
    ``‖p − q‖²`` for Brier.
    """
    import sympy as sp

    name = V.one_of("loss", loss, ("nll", "brier"))
    K = _K(K, hi=_SYMBOLIC_MAX_K)
    p = sp.symbols(f"p0:{K}", positive=True)
    q = sp.symbols(f"q0:{K}", positive=True)
    if name == "nll":
        def S(a, b):
            return -sum(bk * sp.log(ak) for ak, bk in zip(a, b))
    else:
        def S(a, b):
            return sum(b[k] * sum((a[j] - (1 if j == k else 0)) ** 2 for j in range(K)) for k in range(K))
    return sp.expand(S(p, q) - S(q, q)), p, q


def symbolic_properness(loss, K) -> bool:
    """A sympy certificate of strict properness of NLL or Brier on the K-simplex.

    ``D(p) = ℓ(p, q) − ℓ(q, q)`` restricted to the simplex, differentiated along its tangent directions
    ``∂_i − ∂_{K−1}``: (i) ``D(q) = 0``; (ii) the tangent gradient vanishes at ``p = q`` when
    ``Σ q = 1``; (iii) every leading principal minor of the tangent Hessian is positive for all positive
    ``p, q`` (sympy decides the sign of the factored minors). Strict convexity on the simplex with a
    stationary point at ``q`` makes ``q`` the unique minimiser: ``ℓ(p, q) > ℓ(q, q)`` for ``p ≠ q``.
    """
    import sympy as sp

    D, p, q = symbolic_divergence(loss, K)
    K = len(p)
    at_q = dict(zip(p, q))
    on_simplex = {q[-1]: 1 - sum(q[:-1])}
    if sp.simplify(D.subs(at_q)) != 0:
        return False

    def tangent(expr, i):
        return sp.diff(expr, p[i]) - sp.diff(expr, p[-1])

    grad = [tangent(D, i) for i in range(K - 1)]
    if any(sp.simplify(g.subs(at_q).subs(on_simplex)) != 0 for g in grad):
        return False
    H = sp.Matrix(K - 1, K - 1, lambda i, j: tangent(grad[j], i))
    for k in range(1, K):
        m = sp.factor(sp.simplify(H[:k, :k].det()))
        if m.is_positive is not True:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# the smoothed minimiser of the proof of Lemma A.3 (eq. 22, 25, 27)
# ---------------------------------------------------------------------------------------------

def _ybar(ybar) -> np.ndarray:
    y = V.probability_vector("ybar", ybar)
    if y.ndim != 1 or y.size < 2:
        raise ValueError(f"ybar must be a probability vector of K >= 2 classes, got shape {y.shape}")
    return y


def printed_smoothed_minimiser(ybar, eps) -> np.ndarray:
    """Lemma A.3 / Case I of its proof, as printed: ``p = ȳ(1 + Kε) − ε``.

    The claimed minimiser of (22) ``min_p −Σ_k ȳ_k log(p_k + ε)`` on the simplex (``ε = Lr``). It is
    feasible (non-negative) only when ``min_k ȳ_k ≥ ε/(1 + Kε)``; see :func:`smoothed_minimiser`.
    """
    y = _ybar(ybar)
    eps = V.nonnegative("eps", eps)
    return y * (1.0 + y.size * eps) - eps


def smoothed_minimiser(ybar, eps) -> np.ndarray:
    """The minimiser of eq. (22), ``min_p −Σ_k ȳ_k log(p_k + ε)`` over the simplex (water-filling).

    KKT: ``p_k = max(0, ȳ_k/λ − ε)`` with ``λ`` fixed by ``Σ_k p_k = 1`` (``1 ≤ 1/λ ≤ 1 + Kε``). Equal
    to the printed ``ȳ(1 + Kε) − ε`` (:func:`printed_smoothed_minimiser`) exactly when that is
    non-negative; otherwise the classes with ``ȳ_k ≤ λε`` get ``p_k = 0``. ``ε = 0`` gives ``ȳ``
    (Gibbs' inequality, Prop. 3.3). (Source: SoTeacher, App. A, eq. 22; corrected, see the errata.)
    """
    y = _ybar(ybar)
    eps = V.nonnegative("eps", eps)
    if eps == 0:
        return y.copy()
    # p(c) = Σ max(0, c ȳ_k − ε) is increasing in c = 1/λ; solve p(c) = 1 exactly on sorted breakpoints
    order = np.sort(y)[::-1]
    csum = np.cumsum(order)
    for j in range(1, y.size + 1):  # j largest classes active
        # c ȳ_k − ε with c = (1 + jε)/S_j written as (ȳ_k + ε(jȳ_k − S_j))/S_j: no cancellation of two
        # ~ε terms for huge ε (j = 1 is always feasible: its largest class gets exactly 1)
        lo_ok = j == 1 or order[j - 1] + eps * (j * order[j - 1] - csum[j - 1]) > 0
        hi_ok = j == y.size or order[j] + eps * (j * order[j] - csum[j - 1]) <= 0
        if lo_ok and hi_ok:
            return np.maximum(0.0, (y + eps * (j * y - csum[j - 1])) / csum[j - 1])
    raise AssertionError("water-filling found no active set")  # unreachable for a probability vector


def case2_minimiser(ybar, eps, k_prime) -> np.ndarray:
    """Eq. (25), Case II of Lemma A.3: ``p̂_k = Kε ȳ_k/Σ_{j≠k'} ȳ_j − ε`` for ``k ≠ k'`` and
    ``p̂_{k'} = 1 − Σ_{k≠k'} p̂_k`` (the case ``p̂_{k'} + ε ≥ 1``), as printed."""
    y = _ybar(ybar)
    eps = V.positive("eps", eps)
    k = int(V.scalar("k_prime", k_prime, lo=0, hi=y.size - 1, integer=True))
    others = np.arange(y.size) != k
    s = float(y[others].sum())
    if s <= 0:
        raise ValueError("ybar must give positive mass to some class other than k_prime")
    p = np.empty_like(y)
    p[others] = y.size * eps * y[others] / s - eps
    p[k] = 1.0 - p[others].sum()
    return p


def condition_27(ybar, eps, k_prime) -> bool:
    """Condition (27): ``Σ_{k≠k'} ȳ_k < Kε/(1 + Kε)``, the reduced form of (26) (Case II beats Case I)."""
    y = _ybar(ybar)
    eps = V.positive("eps", eps)
    k = int(V.scalar("k_prime", k_prime, lo=0, hi=y.size - 1, integer=True))
    s = float(y.sum() - y[k])
    return s < y.size * eps / (1.0 + y.size * eps)


def centre_risk(ybar, eps, p) -> float:
    """The risk of problem (20) (∞-norm) when the centre prediction is ``p``, inner problem solved exactly.

    For label ``y`` the best admissible prediction raises ``p^y`` by
    ``s_y(p) = min(ε, Σ_{k≠y} min(ε, p^k))`` (each other class can give at most ``min(ε, p^k)``), so
    the risk is ``−Σ_y ȳ_y log(p^y + s_y(p))`` (``inf`` if some ``p^y + s_y = 0`` with ``ȳ_y > 0``).
    (Source: SoTeacher, App. A, eq. 20–21; Case I of the proof assumes ``s_y = ε``.)
    """
    y = _ybar(ybar)
    eps = V.nonnegative("eps", eps)
    p = V.as_array("p", p, ndim=1)
    if p.shape != y.shape:
        raise ValueError(f"p must have the shape of ybar {y.shape}, got {p.shape}")
    if p.min() < -1e-12 or abs(p.sum() - 1.0) > 1e-8:
        raise ValueError(f"p must be a probability vector (min {p.min():.3g}, sum off by {abs(p.sum() - 1):.3g})")
    give = np.minimum(eps, np.clip(p, 0.0, None))
    s = np.minimum(eps, give.sum() - give)
    val = p + s
    act = y > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(y[act] * np.log(val[act])))


def lipschitz_cell_erm(ybar, eps, *, restarts: int = 2, seed: int = 0):
    """Direct numerical solution of problem (20) in the ∞-norm (the NLL ERM on one cell, Lemma A.3).

    ``min_{p, p_1..p_n} −(1/n) Σ_i log p_i^{y_i}`` s.t. every ``p_i`` and the centre prediction ``p``
    lie on the simplex and ``‖p_i − p‖_∞ ≤ ε`` (``ε = Lr``). Inputs sharing a label share the optimal
    ``p_i``, so the variables are ``p`` and one ``q_y`` per class with ``ȳ_y > 0``; SLSQP on this smooth
    convex programme, best of ``restarts`` starts. Returns ``(p, Q, value)`` with ``Q[y]`` the prediction
    for label ``y`` (rows of absent classes are ``p``). For small ``K`` (tests and checks only).
    (Source: SoTeacher, App. A, eq. 19–20.)
    """
    y = _ybar(ybar)
    eps = V.nonnegative("eps", eps)
    restarts = V.count("restarts", restarts, hi=10_000)
    seed = V.count("seed", seed, lo=0)
    K = y.size
    act = np.flatnonzero(y > 0)
    m = len(act)
    nv = K * (1 + m)

    def split(v):
        return v[:K], v[K:].reshape(m, K)

    def f(v):
        _, Q = split(v)
        return -float(np.sum(y[act] * np.log(np.maximum(Q[np.arange(m), act], 1e-300))))

    def g(v):
        _, Q = split(v)
        out = np.zeros(nv)
        gq = np.zeros((m, K))
        gq[np.arange(m), act] = -y[act] / np.maximum(Q[np.arange(m), act], 1e-300)
        out[K:] = gq.ravel()
        return out

    A_eq = np.zeros((1 + m, nv))
    A_eq[0, :K] = 1.0
    for a in range(m):
        A_eq[1 + a, K * (1 + a):K * (2 + a)] = 1.0
    # |q_a - p| <= eps elementwise:  eps - (q - p) >= 0 and eps + (q - p) >= 0
    rows = []
    for a in range(m):
        for k in range(K):
            r = np.zeros(nv)
            r[K * (1 + a) + k] = 1.0
            r[k] = -1.0
            rows.append(r)
    D = np.array(rows) if rows else np.zeros((0, nv))
    cons = [{"type": "eq", "fun": lambda v: A_eq @ v - 1.0, "jac": lambda v: A_eq}]
    if len(D):
        cons.append({"type": "ineq", "fun": lambda v: np.concatenate([eps - D @ v, eps + D @ v]),
                     "jac": lambda v: np.vstack([-D, D])})
    rng = np.random.default_rng(seed)
    best = None
    starts = [np.tile(smoothed_minimiser(y, 0.0), 1 + m)]
    starts += [np.tile(rng.dirichlet(np.ones(K)), 1 + m) for _ in range(max(0, restarts - 1))]
    for v0 in starts:
        res = optimize.minimize(f, v0, jac=g, constraints=cons, bounds=[(0.0, 1.0)] * nv, method="SLSQP",
                                options={"ftol": 1e-13, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    p, Q = split(np.clip(best.x, 0.0, 1.0))
    full = np.tile(p, (K, 1))
    full[act] = Q
    return p, full, float(best.fun)


# ---------------------------------------------------------------------------------------------
# regularisers (App. C, App. D)
# ---------------------------------------------------------------------------------------------

def lipschitz_linear_l1(W) -> float:
    """1-norm Lipschitz constant of ``h ↦ Wh + b``: the max absolute column sum of ``W`` (shape (out, in)).

    Exact: ``‖W‖_{1→1} = max_j Σ_i |W_ij|``. (Source: SoTeacher App. C, ℓ_LR with the 1-norm; Gouk et
    al. 2021, Sec. 3.) Works on any array converted from a torch ``Linear.weight`` (same layout).
    """
    W = V.as_array("W", W, ndim=2)
    if W.size == 0:
        raise ValueError("W must not be empty")
    return float(np.max(np.sum(np.abs(W), axis=0)))


def lipschitz_conv2d_l1(weight) -> float:
    """1-norm Lipschitz bound of a 2-D convolution with kernel ``weight`` (shape (out, in, kh, kw)).

    Gouk et al. (2021): the 1-norm operator norm of a convolution is the max absolute column sum of
    its unrolled matrix; an input pixel of channel ``j`` meets every kernel tap once (stride 1), so the
    bound is ``max_j Σ_{i, u, v} |weight[i, j, u, v]|``. It is exact for stride 1 whenever the image has
    a pixel at distance ≥ kernel size − 1 from its border (every tap lands on an output), and an upper
    bound for any stride, padding or dilation. (Source: SoTeacher App. C, ℓ_LR; layout of torch ``Conv2d.weight``.)
    """
    w = V.as_array("weight", weight, ndim=4)
    if w.size == 0:
        raise ValueError("weight must not be empty")
    return float(np.max(np.sum(np.abs(w), axis=(0, 2, 3))))


def lipschitz_batchnorm_l1(gamma, running_var, eps=1e-5) -> float:
    """1-norm Lipschitz constant of an eval-mode batch normalisation: ``max_c |γ_c|/sqrt(running_var_c + ε)``.

    The eval-mode map ``h ↦ γ (h − μ)/sqrt(σ² + ε) + β`` scales channel ``c`` by ``γ_c/sqrt(σ²_c + ε)``
    (every pixel of it), a diagonal operator whose 1→1 norm is the largest absolute scale. (Source:
    SoTeacher App. C, "every trainable component"; Gouk et al. 2021, Sec. 3.)
    """
    g = V.as_array("gamma", gamma, ndim=1)
    v = V.as_array("running_var", running_var, ndim=1)
    V.same_shape(("gamma", "running_var"), g, v)
    eps = V.nonnegative("eps", eps)
    if g.size == 0:
        raise ValueError("gamma must not be empty")
    if np.any(v + eps <= 0):
        raise ValueError("running_var + eps must be > 0")
    return float(np.max(np.abs(g) / np.sqrt(v + eps)))


def network_lipschitz_l1(weights: Sequence) -> float:
    """``ℓ_LR = Σ_f Lip(f)`` over the trainable components (App. C): linear (2-D) and conv (4-D) weights.

    Each 2-D array is a linear map (:func:`lipschitz_linear_l1`), each 4-D array a 2-D convolution
    (:func:`lipschitz_conv2d_l1`). The paper regularises this *sum* (not the product, which would bound
    the network's Lipschitz constant).
    """
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise TypeError("weights must be a non-empty sequence of 2-D (linear) or 4-D (conv) arrays")
    total = 0.0
    for i, w in enumerate(weights):
        a = V.as_array(f"weights[{i}]", w)
        if a.ndim == 2:
            total += lipschitz_linear_l1(a)
        elif a.ndim == 4:
            total += lipschitz_conv2d_l1(a)
        else:
            raise ValueError(f"weights[{i}] must be 2-D (linear) or 4-D (conv), got shape {a.shape}")
    return total


def running_average_update(avg, t, pred) -> np.ndarray:
    """Online mean of past predictions (App. C): ``f̄_{t+1} = f̄_t + (f_t − f̄_t)/(t + 1)``.

    ``f̄_t = (1/t) Σ_{t'<t} f_{t'}`` (``avg`` is ignored at ``t = 0``); no past prediction is stored.
    (Source: SoTeacher App. C; Laine & Aila 2017, temporal ensembling.)
    """
    t = int(V.scalar("t", t, lo=0, integer=True))
    pred = V.as_array("pred", pred)
    if t == 0:
        return pred.copy()
    avg = V.as_array("avg", avg)
    V.same_shape(("avg", "pred"), avg, pred)
    return avg + (pred - avg) / (t + 1)


def consistency_loss(pred, avg, t) -> float:
    """``ℓ_CR = (1/N) Σ_i ‖f(x_i) − f̄(x_i)‖_2²`` against the average ``avg`` of past predictions (App. C).

    ``pred`` and ``avg`` have shape ``(N, K)``; at epoch ``t = 0`` there is no past prediction and the
    loss is 0 (App. C: "at epoch 0 we simply skip the consistency regularization").
    """
    t = int(V.scalar("t", t, lo=0, integer=True))
    pred = V.as_array("pred", pred, ndim=2)
    if t == 0:
        return 0.0
    avg = V.as_array("avg", avg, ndim=2)
    V.same_shape(("pred", "avg"), pred, avg)
    return V.finite_result(float(np.mean(np.sum((pred - avg) ** 2, axis=1))), inputs=("pred", "avg"))


def lambda_cr(t, T, lam_max, kind="linear"):
    """Consistency weight schedule ``λ_CR(t)`` (Sec. 4 and App. D), vectorised over epochs ``t ∈ [0, T]``.

    ``linear``: ``(t/T) λmax``; ``cosine``: ``cos((1 − t/T) π/2) λmax``; ``cyclic``:
    ``sqrt(1 − (1 − t/T)²) λmax``; ``piecewise``: ``0`` for ``t ≤ T/3``, ``λmax/2`` for ``T/3 < t ≤ 2T/3``,
    ``λmax`` above (App. D writes ``0 < t ≤ T/3``; ``t = 0`` gets 0 as well). All rise from 0 to λmax.
    """
    kind = V.one_of("kind", kind, SCHEDULES)
    T = V.positive("T", T)
    lam_max = V.nonnegative("lam_max", lam_max)
    tt = V.as_array("t", t, min_size=1)
    if tt.size and (tt.min() < 0 or tt.max() > T):
        raise ValueError(f"t must lie in [0, T] = [0, {T}], got range [{tt.min()}, {tt.max()}]")
    s = tt / T
    if kind == "linear":
        out = s * lam_max
    elif kind == "cosine":
        out = np.cos((1.0 - s) * np.pi / 2.0) * lam_max
    elif kind == "cyclic":
        out = np.sqrt(np.clip(1.0 - (1.0 - s) ** 2, 0.0, None)) * lam_max
    else:
        out = np.where(tt <= T / 3.0, 0.0, np.where(tt <= 2.0 * T / 3.0, lam_max / 2.0, lam_max))
    return float(out) if np.ndim(out) == 0 else out


# ---------------------------------------------------------------------------------------------
# calibration and fidelity (Sec. 5.2, Table 3)
# ---------------------------------------------------------------------------------------------

def _logits(logits) -> np.ndarray:
    if logits is None or isinstance(logits, str):
        raise TypeError(f"logits must be an (N, K) array of real numbers, got {type(logits).__name__}")
    z = np.asarray(logits)
    if z.dtype.kind not in "iuf":  # complex would lose its imaginary part, bool is not a number
        raise TypeError(f"logits must be an (N, K) array of real numbers, got dtype {z.dtype}")
    z = z.astype(float)
    if z.ndim != 2 or z.shape[1] < 2 or z.shape[0] == 0:
        raise ValueError(f"logits must have shape (N, K) with N >= 1, K >= 2, got {z.shape}")
    if np.isnan(z).any():
        raise ValueError(f"logits contain {int(np.isnan(z).sum())} NaN value(s)")
    if np.isinf(z).any():
        raise ValueError(f"logits contain {int(np.isinf(z).sum())} infinite value(s)")
    return z


def _labels(labels, n, K) -> np.ndarray:
    y = np.asarray(labels)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {y.shape}")
    if n and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"labels must lie in [0, {K}), got range [{y.min()}, {y.max()}]")
    return y


def softmax(logits, T=1.0) -> np.ndarray:
    """``softmax(z/T)`` row-wise (stable), the tempered prediction of temperature scaling."""
    z = _logits(logits)
    T = V.positive("T", T)
    return special.softmax(z / T, axis=1)


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
    """ECE with ``n_bins`` equal-width confidence bins (Naeini et al. 2015; Guo et al. 2017).

    ``Σ_b (|B_b|/N)·|acc(B_b) − conf(B_b)|`` with confidence ``max_k p_k`` and bins ``(b/B, (b+1)/B]``
    (the first bin also holds confidence 0). (Source: SoTeacher Sec. 5.2, Table 3.)
    """
    P = V.probability_vector("probs", probs, atol=1e-6)
    if P.ndim != 2:
        raise ValueError(f"probs must have shape (N, K), got {P.shape}")
    y = _labels(labels, P.shape[0], P.shape[1])
    B = int(V.scalar("n_bins", n_bins, lo=1, integer=True))
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == y).astype(float)
    b = np.clip(np.ceil(conf * B).astype(int) - 1, 0, B - 1)
    gap = np.abs(np.bincount(b, weights=correct, minlength=B) - np.bincount(b, weights=conf, minlength=B))
    return float(gap.sum() / len(y))


def nll(probs, labels, *, floor: float = 1e-12) -> float:
    """Mean negative log-likelihood ``−(1/N) Σ log p_{y_i}`` (probabilities floored at ``floor``)."""
    P = V.probability_vector("probs", probs, atol=1e-6)
    if P.ndim != 2:
        raise ValueError(f"probs must have shape (N, K), got {P.shape}")
    y = _labels(labels, P.shape[0], P.shape[1])
    floor = V.positive("floor", floor)
    return float(-np.mean(np.log(np.maximum(P[np.arange(len(y)), y], floor))))


def _nll_logits(z, y, beta) -> float:
    zb = beta * z
    return float(np.mean(special.logsumexp(zb, axis=1) - zb[np.arange(len(y)), y]))


def fit_temperature(logits, labels, *, bounds: tuple[float, float] = (0.05, 20.0), xatol: float = 1e-7) -> float:
    """Temperature scaling (Guo et al. 2017): ``T* = argmin_T NLL(softmax(z/T), y)`` on a held-out set.

    Bounded scalar minimisation over ``β = 1/T ∈ [1/T_max, 1/T_min]``: the NLL is convex in ``β``
    (log-sum-exp of linear functions minus a linear one), so the bounded Brent search (plus the two ends of
    the interval) finds the global minimum on it, and ``NLL(T*) ≤ NLL(1)`` whenever ``1 ∈ bounds``.
    (Source: SoTeacher Sec. 5.2, Table 3, "NLL (w/ TS)".)
    """
    z = _logits(logits)
    y = _labels(labels, z.shape[0], z.shape[1])
    xatol = V.tolerance("xatol", xatol)
    if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (T_min, T_max), got {bounds!r}")
    lo, hi = (V.positive("bounds[0]", bounds[0]), V.positive("bounds[1]", bounds[1]))
    if not lo < hi:
        raise ValueError(f"bounds must satisfy T_min < T_max, got {bounds}")
    f = lambda b: _nll_logits(z, y, b)  # noqa: E731
    res = optimize.minimize_scalar(f, bounds=(1.0 / hi, 1.0 / lo), method="bounded", options={"xatol": xatol})
    # Brent's bounded search never evaluates the ends exactly; a convex minimum may sit on one of them
    cands = [(f(res.x), res.x), (f(1.0 / hi), 1.0 / hi), (f(1.0 / lo), 1.0 / lo)]
    return float(1.0 / min(cands)[1])


def top1_agreement(p1, p2) -> float:
    """Fraction of inputs on which two predictors (probabilities or logits, shape (N, K)) agree on argmax."""
    a = V.as_array("p1", p1, ndim=2)
    b = V.as_array("p2", p2, ndim=2)
    V.same_shape(("p1", "p2"), a, b)
    if a.shape[0] == 0:
        raise ValueError("p1 and p2 must hold at least one row")
    return float(np.mean(a.argmax(axis=1) == b.argmax(axis=1)))


