"""Knowledge distillation in the kernel regime (paper 001: Rahbar, Panahi, Bhattacharyya, Dubhashi,
Haghir Chehreghani, "On the unreasonable effectiveness of knowledge distillation: analysis in the kernel
regime", long version, 2020).

Model (eq. 1): ``f(x) = Σ_k a_k/√m · σ(w_kᵀx)`` with fixed output weights ``a`` and trained hidden weights
``W`` (m×d, rows ``w_k``); data ``X`` is d×n (one column per sample, ``‖x_i‖ = 1`` in the paper's
experiments). Objective (eq. 2): ``Σ_i (y_i − f(x_i))² + λ Σ_i Σ_k (φ^(k)(x_i) − f^(k)(x_i))²`` where
``f^(k) = σ(w_kᵀx)`` is the k-th hidden feature and ``φ^(k)`` the privileged knowledge (teacher features).

Notation used throughout (c_k = a_k/√m, ``a`` below is the paper's scalar ``a = Σ_k a_k²/m = ‖c‖²``):

* ``H_k = D_k XᵀX D_k`` with ``D_k = diag(σ'(Xᵀw_k))`` (Sec. 2.3), ``𝓗 = blockdiag(H_k)``;
* ``M = (c cᵀ + λ I_m) ⊗ I_n`` so that ``H̄ = 𝓗 M`` has blocks ``H_k (a_k a_l/m + λ δ_kl)`` (eq. 13);
* stacked unit outputs ``F`` (m×n, row k = ``f^(k)``), network output ``f = cᵀF``; the linearised
  dynamics (eq. 10–11 with H_k frozen) is ``dF/dt = 𝓗 (b − M F)`` with ``b_k = c_k y + λ φ_k``.

Symmetric form of the pole problem (used by :func:`poles`, :func:`smallest_pole`, the trajectories):

  **Proposition.** ``H̄ = 𝓗M`` has real, non-negative eigenvalues equal (with multiplicity) to those of
  the symmetric PSD matrix ``S = M^{1/2} 𝓗 M^{1/2}``, where ``M^{1/2} = √λ I + (√(λ+a) − √λ) ĉĉᵀ ⊗ I``
  (ĉ = c/‖c‖).

  *Proof.* ``M`` is symmetric PSD with eigenvalues ``λ + a`` (on ĉ⊗ℝⁿ) and ``λ``; the displayed
  ``M^{1/2}`` is its PSD square root. If λ > 0, ``M^{1/2}`` is invertible and
  ``M^{1/2} H̄ M^{-1/2} = M^{1/2} 𝓗 M^{1/2} = S`` is a similarity. For λ = 0 the same conclusion holds
  for the spectrum because ``AB`` and ``BA`` have the same characteristic polynomial for square A, B
  (take ``A = 𝓗M^{1/2}``, ``B = M^{1/2}``). ``S = (𝓗^{1/2}M^{1/2})ᵀ(𝓗^{1/2}M^{1/2})`` is symmetric PSD, so
  its eigenvalues are real and ≥ 0. ∎

  Consequences: (i) λ = 0: ``S = (ĉĉᵀ⊗I) 𝓗 (ĉĉᵀ⊗I)·a``, whose non-zero spectrum is that of
  ``(cᵀ⊗I)𝓗(c⊗I) = Σ_k a_k² H_k/m = H`` (Sec. 2.7). (ii) ``S ≃ 𝓗^{1/2} M 𝓗^{1/2}`` and ``M`` grows with λ in
  the Loewner order, so every sorted pole is non-decreasing in λ (Weyl). (iii) ``S ≃ λ𝓗 + UUᵀ`` with
  rank(U) ≤ n, so the smallest pole lies in ``[λ μ_(1), λ μ_(n+1)]`` (μ: all eigenvalues of all H_k).

Inputs: X need not have unit-norm columns for the Gram blocks, poles and dynamics (the formulas hold for
any X); the paper's experiments normalise them (:func:`normalize_columns`), and the one place that needs
it — the closed-form arc-cosine kernel H^∞ — raises a ``ValueError`` otherwise. Singular H̄ (n > d, ReLU
units inactive on a sample, λ = 0) is not an error: its zero eigenvalues are returned as 0 and the
dynamics' limit is :func:`linearised_limit` (documented result, never NaN).

The dynamics are solved exactly through a factorisation ``H_k = L_kᵀ L_k`` (``L_k = X D_k`` when d < n,
``H_k^{1/2}`` otherwise): with ``𝓛 = blockdiag(L_k)`` and ``K = 𝓛 M 𝓛ᵀ`` (symmetric PSD, same non-zero
spectrum as H̄), ``F(t) = F(0) + 𝓛ᵀ (I − e^{−Kt}) K⁺ 𝓛 (b − M F(0))``. This is valid for every λ ≥ 0 and every
data set (singular H_k included): the component of ``𝓛(b − MF(0))`` in ``null(K)`` is zero (proof in
:func:`linearised_solution`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt
import scipy.sparse.linalg as sspla
import scipy.special as ssp

from kdtheory import validation as V

__all__ = [
    "Activation", "ACTIVATIONS", "get_activation",
    "gram_blocks", "unit_outputs", "network_output", "symmetric_form", "hbar", "poles",
    "secular_poles", "secular_determinant", "smallest_pole", "smallest_pole_bracket", "final_value", "unit_final_values",
    "LinearisedSolution", "linearised_solution", "predicted_trajectory", "linearised_limit",
    "thm3_coefficients", "thm3_printed_coefficients", "final_error", "final_error_printed",
    "teacher_labels", "lottery_ticket_expected_error", "lottery_ticket_bound",
    "lottery_ticket_bound_printed", "lottery_ticket_tail_bound", "two_stage_factors", "two_stage_expected_error", "arccos_kernel", "overlap_parameters",
    "center_kernel", "centered_alignment", "alignf", "gaussian_kernel", "nystrom_embedding",
    "normalize_columns", "unit_coefficients", "kernel_matrix", "output_from_features", "lipschitz_constant",
    "delta_hbar", "lemma1_bound", "lemma1_bound_printed", "hbar_eigvec_condition_bound", "lemma2_bound", "lemma2_bound_sharp",
    "lemma3_bound", "lemma3_bound_printed", "lemma4_bound", "lemma4_bound_printed", "pole_count_below",
    "thm2_proof_square_printed",
]


# --------------------------------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Activation:
    """An activation σ with its derivative σ' (Sec. 2.3; σ' may be a distributional derivative).

    ``lipschitz_derivative``: whether σ' is Lipschitz (Assumption 3); ``positive_derivative``: whether
    σ' > 0 everywhere (then every H_k is nonsingular as soon as XᵀX is).
    """

    name: str
    sigma: Callable[[np.ndarray], np.ndarray]
    dsigma: Callable[[np.ndarray], np.ndarray]
    lipschitz_derivative: bool = True
    positive_derivative: bool = True
    lipschitz_sigma: float | None = None   # Lipschitz constant of σ (= sup|σ'|)
    lipschitz_dsigma: float | None = None  # Lipschitz constant of σ' (= sup|σ''|); None: σ' not Lipschitz

    def __call__(self, z):
        return self.sigma(z)


def _softplus(z):
    return np.logaddexp(0.0, z)


def _dsoftplus(z):
    return ssp.expit(z)


# Lipschitz constants (Assumption 3): tanh: sup|σ'| = 1, sup|σ''| = sup 2|tanh|sech² = 4/(3√3) at tanh² = 1/3;
# erf: sup|σ'| = 2/√π, sup|σ''| = sup (4|z|/√π)e^{−z²} = 2√2/√(πe) at z = 1/√2; softplus: 1 and 1/4 (at 0).
ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2,
                       lipschitz_sigma=1.0, lipschitz_dsigma=4.0 / (3.0 * math.sqrt(3.0))),
    "erf": Activation("erf", ssp.erf, lambda z: (2.0 / math.sqrt(math.pi)) * np.exp(-np.square(z)),
                      lipschitz_sigma=2.0 / math.sqrt(math.pi), lipschitz_dsigma=2.0 * math.sqrt(2.0 / (math.pi * math.e))),
    "softplus": Activation("softplus", _softplus, _dsoftplus, lipschitz_sigma=1.0, lipschitz_dsigma=0.25),
    "relu": Activation("relu", lambda z: np.maximum(z, 0.0), lambda z: (np.asarray(z) > 0).astype(float),
                       lipschitz_derivative=False, positive_derivative=False, lipschitz_sigma=1.0),
}


def lipschitz_constant(activation) -> float:
    """Lemma 3's L: the largest of the Lipschitz constants of σ and σ' (Assumption 3).

    Raises ValueError for an activation whose derivative is not Lipschitz (ReLU: Assumption 3 fails).
    """
    act = get_activation(activation)
    if act.lipschitz_sigma is None or act.lipschitz_dsigma is None:
        raise ValueError(f"activation {act.name!r} has no Lipschitz derivative (Assumption 3 fails)")
    return max(act.lipschitz_sigma, act.lipschitz_dsigma)


def get_activation(activation) -> Activation:
    """An :class:`Activation` from a name (``"tanh" | "erf" | "softplus" | "relu"``) or an Activation."""
    if isinstance(activation, Activation):
        V.function("activation.sigma", activation.sigma)
        V.function("activation.dsigma", activation.dsigma)
        return activation
    if isinstance(activation, str):
        return ACTIVATIONS[V.one_of("activation", activation, ACTIVATIONS)]
    raise TypeError(f"activation must be a name or an Activation, got {type(activation).__name__}")


def _apply(act: Activation, which: str, Z: np.ndarray) -> np.ndarray:
    """σ(Z) or σ'(Z) of a (possibly user-supplied) activation, checked: real, finite, of Z's shape."""
    return V.callable_output(f"activation.{which}", getattr(act, which)(Z), shape=Z.shape)


# --------------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------------
def normalize_columns(X) -> np.ndarray:
    """Columns of X scaled to unit Euclidean norm (the paper's ‖x_i‖ = 1, Sec. 4); zero columns are an error."""
    X = V.as_array("X", X, ndim=2)
    nrm = np.linalg.norm(X, axis=0)
    if np.any(nrm == 0):
        raise ValueError("X has a zero column; it cannot be normalised to unit norm")
    return X / nrm


def _W_X(W, X, *, unit_norm: str = "allow"):
    W = V.as_array("W", W, ndim=2)
    X = V.as_array("X", X, ndim=2)
    if W.shape[1] != X.shape[0]:
        raise ValueError(f"W must be m×d and X d×n with the same d, got W {W.shape} and X {X.shape}")
    if W.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"W and X must be non-empty, got W {W.shape} and X {X.shape}")
    if unit_norm != "allow":
        nrm = np.linalg.norm(X, axis=0)
        if not np.allclose(nrm, 1.0, rtol=1e-6, atol=1e-9):
            if unit_norm == "raise":
                raise ValueError(f"X must have unit-norm columns (norms in [{nrm.min():.3g}, {nrm.max():.3g}])")
            warnings.warn("X columns are not unit-norm; normalising them (the theory assumes ‖x_i‖ = 1)",
                          stacklevel=3)
            X = X / nrm
    return W, X


def _coeffs(a, m: int, *, large_ok: bool = False) -> np.ndarray:
    a = V.as_array("a", a, ndim=1)
    if a.shape[0] != m:
        raise ValueError(f"a must have length m = {m} (one output weight per hidden unit), got {a.shape[0]}")
    if not np.any(a):
        raise ValueError("a must not be all zero (the network output would be identically 0)")
    c = a / math.sqrt(m)
    if not large_ok:
        with np.errstate(over="ignore", under="ignore"):
            A = float(c @ c)
        if not 0.0 < A < math.inf:
            raise ValueError(f"a is too {'large' if A else 'small'}: a = Σ a_k²/m {'over' if A else 'under'}flows "
                             f"float64 (max |a_k| = {np.max(np.abs(a)):.3g}); rescale a")
    return c


def _scaled(c: np.ndarray) -> tuple[np.ndarray, float]:
    """``(ĉ, s)`` with ``c = s·ĉ``, ``max|ĉ| = 1``: products like ``c·c`` formed at unit scale (no overflow)."""
    s = max(float(np.max(np.abs(c))), 1.0)  # only scale down (tiny a: the plain form is accurate)
    return c / s, s


def _blocks(H_blocks) -> np.ndarray:
    """H_blocks as a stack (m, n, n) of symmetric PSD blocks (Gram matrices ``H_k = D_k XᵀX D_k``)."""
    return V.psd("H_blocks", H_blocks, batch=True)


def _lam(lam) -> float:
    return V.nonnegative("lam", lam)


# --------------------------------------------------------------------------------------------------
# gram blocks, network outputs
# --------------------------------------------------------------------------------------------------
def gram_blocks(W, X, activation) -> np.ndarray:
    """The "associated Gram matrices" ``H_k = D_k XᵀX D_k``, ``D_k = diag(σ'(Xᵀw_k))`` (Sec. 2.3).

    Source: Rahbar et al., Sec. 2.3 / eq. (10) (``H_k = L_kᵀL_k``, L_k has columns σ'(w_kᵀx_i)x_i).
    W: m×d hidden weights, X: d×n data (columns are samples), activation: name or :class:`Activation`.
    Returns an array of shape (m, n, n).
    """
    W, X = _W_X(W, X)
    act = get_activation(activation)
    Dp = _apply(act, "dsigma", W @ X)
    G = X.T @ X
    return V.finite_result(Dp[:, :, None] * G[None, :, :] * Dp[:, None, :], inputs=("W", "X"), what="Gram blocks")


def unit_outputs(W, X, activation) -> np.ndarray:
    """Hidden features ``f^(k)(x_i) = σ(w_kᵀx_i)`` as an (m, n) array (Sec. 2.3, the vectors f^k(0))."""
    W, X = _W_X(W, X)
    return _apply(get_activation(activation), "sigma", W @ X)


def kernel_matrix(W, X, a, activation) -> np.ndarray:
    """``H = Σ_k a_k²/m H_k = G ∘ (Dᵀ diag(c²) D)`` (eq. 8's H(0), Sec. 2.7), n×n, O(m n²), no blocks formed.

    ``G = XᵀX``, ``D`` = (m×n) σ'(w_kᵀx_i). For ReLU, a_k = ±1 and w ~ N(0, k²I) it concentrates on the
    arc-cosine H^∞ (:func:`arccos_kernel`).
    """
    W, X = _W_X(W, X)
    c = _coeffs(a, W.shape[0])
    Dp = get_activation(activation).dsigma(W @ X)
    H = (X.T @ X) * ((Dp * (c ** 2)[:, None]).T @ Dp)
    return V.finite_result(0.5 * (H + H.T), inputs=("W", "X", "a"), what="kernel matrix")


def output_from_features(a, F) -> np.ndarray:
    """eq. (1)/(11): ``f = Σ_k a_k/√m f^(k)`` from hidden features ``F`` (…, m, n), batched: ``a`` is (m,) or
    (S, m) with F (S, m, n) — S independent networks at once. Returns (…, n)."""
    c = unit_coefficients(a)
    F = V.as_array("F", F, ndim=(2, 3))
    if F.shape[-2] != c.shape[-1] or (c.ndim == 2 and (F.ndim != 3 or F.shape[0] != c.shape[0])):
        raise ValueError(f"a (shape {c.shape}) and F (shape {F.shape}) do not match: F must be (m, n) or (S, m, n) "
                         "with m = the last axis of a and S its first")
    if c.ndim == 1:
        return np.einsum("k,...kn->...n", c, F)
    return np.einsum("sk,skn->sn", c, F)


def unit_coefficients(a) -> np.ndarray:
    """The output coefficients ``c_k = a_k/√m`` of eq. (1) (m = len(a)); ``‖c‖² = a`` (Sec. 2.3).

    Accepts a batch ``a`` of shape (S, m) too (one row per independent network); a row of zeros is an error.
    """
    a = V.as_array("a", a, ndim=(1, 2))
    if a.shape[-1] == 0:
        raise ValueError("a must have at least one hidden unit")
    if np.any(~np.any(a, axis=-1)):
        raise ValueError("a must not be all zero (the network output would be identically 0)")
    return a / math.sqrt(a.shape[-1])


def network_output(W, a, X, activation) -> np.ndarray:
    """``f(x_i) = Σ_k a_k/√m σ(w_kᵀx_i)`` (eq. 1) for every column of X; shape (n,)."""
    W, X = _W_X(W, X)
    c = _coeffs(a, W.shape[0])
    return c @ _apply(get_activation(activation), "sigma", W @ X)


def _msqrt_apply(U: np.ndarray, c: np.ndarray, lam: float, power: float = 0.5) -> np.ndarray:
    """``M^power U`` for U of shape (m, n) (or (m, n·r)); M = (ccᵀ + λI) ⊗ I, power ∈ {±1/2, 1}."""
    A = float(c @ c)
    ch = c / math.sqrt(A)
    top, rest = (lam + A) ** power, (lam ** power if lam > 0 else 0.0)
    U_par = ch[:, None] * (ch @ U)[None, :]  # component along ĉ ⊗ ℝⁿ (no cancellation between top and rest)
    return top * U_par + rest * (U - U_par)


def symmetric_form(H_blocks, a, lam) -> np.ndarray:
    """The symmetric PSD matrix ``S = M^{1/2} 𝓗 M^{1/2}`` similar to H̄ (see the module docstring).

    Shape (mn, mn), index ``k·n + i`` (unit k, sample i), same ordering as :func:`hbar`.
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = _lam(lam)
    # M^{1/2} = √λ I + γ P with P = ĉĉᵀ ⊗ I, γ = √(λ+a) − √λ, so block (k, l) of S is
    # λ δ_kl H_k + √λ γ ĉ_kĉ_l (H_k + H_l) + γ² ĉ_kĉ_l Σ_r ĉ_r² H_r — O(m²n²), no m³ contraction
    A = float(c @ c)
    ch = c / math.sqrt(A)
    sl = math.sqrt(lam)
    g = math.sqrt(lam + A) - sl
    Ht = np.einsum("r,rij->ij", ch ** 2, H)
    cc = np.outer(ch, ch)
    # T = 𝓗P: block (k, l) = ĉ_kĉ_l H_k; then S = λ𝓗 + √λγ (T + Tᵀ) + γ² (ĉĉᵀ ⊗ H̃)
    T = ((sl * g) * cc[:, None, :, None] * H[:, :, None, :]).reshape(m * n, m * n)
    S = np.add(T, T.T)
    del T
    S += np.kron((g * g) * cc, Ht)
    S4 = S.reshape(m, n, m, n)
    idx = np.arange(m)
    S4[idx, :, idx, :] += lam * H
    V.finite_result(S, inputs=("H_blocks", "a", "lam"), what="symmetric form S")
    return S  # exactly symmetric: T + Tᵀ, ĉĉᵀ ⊗ H̃ and the symmetric diagonal blocks


def hbar(H_blocks, a, lam) -> np.ndarray:
    """The (non-symmetric) block matrix H̄ with blocks ``H_k (a_k a_l/m + λ δ_kl)`` (eq. 13), shape (mn, mn).

    Only for small sizes, tests and the naive baseline of the benchmark.
    """
    return _block_times_M(_blocks(H_blocks), a, lam)


def delta_hbar(dH_blocks, a, lam) -> np.ndarray:
    """``ΔH̄ = blockdiag(ΔH_k)·M`` (Lemma 2, Sec. 7.3): blocks ``ΔH_k (a_ka_l/m + λδ_kl)`` for *symmetric* ΔH_k of
    any sign (changes of Gram matrices, ``H_k(t) − H_k(0)``), shape (mn, mn); same layout as :func:`hbar`."""
    dH = V.as_array("dH_blocks", dH_blocks, ndim=3)
    if dH.shape[1] != dH.shape[2] or dH.shape[0] == 0 or dH.shape[1] == 0:
        raise ValueError(f"dH_blocks must have shape (m, n, n) with m, n >= 1, got {dH.shape}")
    big = float(np.max(np.abs(dH)))
    if not math.isfinite(2.0 * big):
        raise ValueError(f"dH_blocks is too large for double precision (max |entry| {big:.3g})")
    if float(np.max(np.abs(dH - np.swapaxes(dH, 1, 2)))) > 1e-8 * big:
        raise ValueError("dH_blocks must be symmetric blocks (differences of Gram matrices)")
    return _block_times_M(0.5 * (dH + np.swapaxes(dH, 1, 2)), a, lam)


def _block_times_M(H, a, lam):
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = _lam(lam)
    B = np.outer(c, c) + lam * np.eye(m)
    return np.einsum("kij,kl->kilj", H, B).reshape(m * n, m * n)


def poles(H_blocks, a, lam) -> np.ndarray:
    """All eigenvalues ``p_j`` of H̄ (eq. 13), ascending and real, from the symmetric form.

    Source: Rahbar et al., eq. (13), Assumption 2, Sec. 7.3 (poles = eigenvalues of H̄). H̄ is
    similar to the symmetric PSD ``S = M^{1/2}𝓗M^{1/2}`` (proof in the module docstring), so the
    spectrum is computed with a symmetric eigensolver; round-off negatives are clipped to 0. Zero
    eigenvalues (singular H_k: n > d, ReLU units inactive on a sample, λ = 0) are returned as 0: they are
    not poles of the dynamics in the paper's sense (p_j ≠ 0) but the directions that never move.
    Works on the side ``min(n, d_eff)``: the non-zero spectrum is that of ``K = 𝓛M𝓛ᵀ``.
    """
    H = _blocks(H_blocks)
    S = symmetric_form(H, a, lam)
    # eigenvalues only, LAPACK syevr (MRRR): markedly faster than the divide-and-conquer default here
    w = sla.eigh(S, eigvals_only=True, driver="evr", overwrite_a=True, check_finite=False)
    tol = 1e-12 * max(1.0, float(w[-1]))
    w[np.abs(w) < tol] = 0.0
    return np.clip(w, 0.0, None)


def _factors(H: np.ndarray):
    """Square-root factors ``L_k`` with ``L_kᵀ L_k = H_k`` (rank-revealing, from eigh)."""
    mu, Q = np.linalg.eigh(H)
    mu = np.clip(mu, 0.0, None)
    return np.sqrt(mu)[:, :, None] * np.swapaxes(Q, 1, 2), mu  # L_k = diag(√μ) Vᵀ


def secular_determinant(s, H_blocks, a, lam) -> tuple[float, float]:
    """``(sign, log|·|)`` of ``det(I + Γ(s))·Π_{k,i}(s + λμ_{k,i})`` with Γ of Assumption 2.

    ``Γ(s) = Σ_k a_k²/m (sI + λH_k)^{-1} H_k`` (Assumption 2, sign convention as printed). The product
    equals ``det(sI + H̄)`` (Schur complement), a polynomial in s whose roots are ``s = −p_j``; it is
    finite at the poles of Γ, so roots can be bracketed by sign changes. Independent of the symmetric form.
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = _lam(lam)
    mu, Q = np.linalg.eigh(H)
    s = V.scalar("s", s)
    den = s + lam * mu  # (m, n)
    if np.any(den == 0):
        return 0.0, -math.inf
    # Γ(s) = Σ_k c_k² V_k diag(μ/(s+λμ)) V_kᵀ
    Gam = np.einsum("k,kia,ka,kja->ij", c ** 2, Q, mu / den, Q, optimize=True)
    sg, ld = np.linalg.slogdet(np.eye(n) + Gam)
    return float(sg * np.prod(np.sign(den))), float(ld + np.sum(np.log(np.abs(den))))


def secular_poles(H_blocks, a, lam) -> np.ndarray:
    """Poles as the roots ``s = −p`` of ``det(I + Γ(s)) = 0`` (Assumption 2), ascending in p (with multiplicity).

    Independent route for small sizes (λ > 0), not using H̄'s eigensolver or the symmetric form. With p = −s,
    ``I + Γ(−p) = Φ(p) = I + Σ_k a_k²/m · H_k(λH_k − pI)^{-1}`` is symmetric, and the number of poles below p is
    the inertia count :func:`pole_count_below` (Haynsworth: the negative eigenvalues of ``𝓗 − (p/λ)I`` and of an
    n×n Schur complement built from the same (λH_k − pI)^{-1}). Each pole is isolated by bisection on that count
    (a step function of p that jumps exactly at the roots of det Φ) down to a relative width of 1e-15. This
    replaces Brent's method on the sorted eigenvalue branches of Φ, whose signs next to the singular points
    ``λμ_{k,i}`` (where one branch diverges) were misread and lost a root inside a narrow interval.
    (Below λμ_min, Φ ⪰ I: no poles there.) Poles below 1e-10·(λ + a)·max μ — the structural zeros of singular
    H_k — are not returned.
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = _lam(lam)
    if lam == 0:
        raise ValueError("lam must be > 0 for the secular route (at λ = 0 the poles are eig(H), Sec. 2.7)")
    mu = np.linalg.eigvalsh(H)
    A = float(c @ c)
    hi0 = (lam + A) * float(np.max(mu)) * 1.01 + 1e-300  # ‖H̄‖ ≤ ‖𝓗‖‖M‖ = (λ + a) max μ

    def count(p):
        for k in range(60):  # p/λ on an eigenvalue of some H_k: the count is not defined there; step aside
            try:
                return pole_count_below(H, a, lam, p * (1 + 1e-13 * k * (-1) ** k))
            except ValueError:
                continue
        raise ValueError("H_blocks, lam: secular_poles could not step off the singular points λμ_{k,i} (degenerate "
                         "or extreme blocks)")

    roots: list[float] = []

    def isolate(lo, hi, c_lo, c_hi):
        if c_hi == c_lo:
            return
        if hi - lo <= 1e-15 * hi or hi - lo <= 1e-18 * hi0:  # relative width 1e-15 (absolute near p = 0)
            roots.extend([0.5 * (lo + hi)] * (c_hi - c_lo))  # a multiple root (or a cluster below resolution)
            return
        mid = 0.5 * (lo + hi)
        c_mid = count(mid)
        isolate(lo, mid, c_lo, c_mid)
        isolate(mid, hi, c_mid, c_hi)

    lo0 = 1e-10 * hi0  # below: the structural zero poles (singular H_k), which the secular equation has no root for
    isolate(lo0, hi0, count(lo0), count(hi0))
    return np.sort(np.asarray(roots, float))


# --------------------------------------------------------------------------------------------------
# smallest pole, matrix-free
# --------------------------------------------------------------------------------------------------
def smallest_pole(W, X, a, lam, activation, *, tol: float = 1e-8, maxiter: int | None = None) -> float:
    """Smallest eigenvalue of H̄ (eq. 13) without forming ``H_blocks`` or H̄ (matrix-free).

    Source: Rahbar et al., Sec. 2.2/2.6 (the smallest pole sets the asymptotic rate), eq. (13).

    * The answer is exactly 0 when H̄ is structurally singular: some ``σ'(w_kᵀx_i) = 0`` (ReLU), rank(X) < n
      (e.g. n > d), or m > 1 with λ = 0 (then rank H̄ ≤ n); these zero modes never move.
      For λ = 0 the smallest *non-zero* pole (the rate of convergence then) is ``λ_min(H)``,
      ``H = Σ_k a_k²H_k/m = G ∘ (Dᵀ diag(c²) D)`` (Sec. 2.7, n×n, O(m n²) to form); this function returns it
      only when m = 1 (for m > 1 the smallest eigenvalue of H̄ is the structural 0).
    * Otherwise S is positive definite and its exact inverse is matrix-free:
      ``S⁻¹ = M^{-1/2} 𝓓⁻¹ (I ⊗ G⁻¹) 𝓓⁻¹ M^{-1/2}`` with ``G = XᵀX`` (one n×n Cholesky factorisation) and
      ``M^{-1/2}`` in closed form; each product costs O(m n²). ARPACK's Lanczos (``scipy.sparse.linalg.eigsh``
      on a ``LinearOperator``) finds the largest eigenvalue θ of ``λS⁻¹`` (bounded for tiny λ), so p = λ/θ;
      the relative gap at the bottom of the spectrum is far larger for S⁻¹ than for S, where the m·n eigenvalues
      cluster near ``λμ_min``. ``tol``: ARPACK's relative accuracy (Ritz residual ≤ tol·θ), so an eigenvalue of
      H̄ lies within ≈ tol·p of p, and p ≥ p_min (θ is a Rayleigh quotient). :func:`smallest_pole_bracket`
      certifies ``p_min`` from below too (Sylvester inertia). When the m blocks are nearly equal (tiny initial
      weights) the bottom of the spectrum is a tight cluster of ~m eigenvalues; ARPACK starts from the vector of
      :func:`_block_start` (per-unit bottom eigenvectors, O(m n²) per sweep). The hand-written restarted
      Lanczos this replaced is the baseline of ``benchmarks/bench_poles.py``.
    """
    tol = V.tolerance("tol", tol)
    maxiter = None if maxiter is None else V.count("maxiter", maxiter)
    op = _inverse_operator(W, X, a, lam, activation)
    if not isinstance(op, tuple):
        return op
    matvec, v0, N, lam = op
    if N <= 16:  # too small for ARPACK: apply the same operator to the unit vectors
        Sinv = np.stack([matvec(e) for e in np.eye(N)], axis=1)
        return float(lam / np.linalg.eigvalsh(0.5 * (Sinv + Sinv.T))[-1])
    A = sspla.LinearOperator((N, N), matvec=matvec, dtype=float)
    try:
        theta = sspla.eigsh(A, k=1, which="LA", v0=v0, tol=tol, maxiter=maxiter or 20 * N,
                            return_eigenvectors=False)[0]
    except sspla.ArpackNoConvergence as exc:
        raise RuntimeError(f"smallest_pole: ARPACK did not converge within maxiter ({exc})") from None
    return float(lam / theta)


def smallest_pole_bracket(W, X, a, lam, activation, *, tol: float = 1e-8) -> tuple[float, float]:
    """Certified ``(lo, hi)`` with ``lo ≤ p_min(H̄) ≤ hi``: hi = :func:`smallest_pole` (a Rayleigh quotient of
    λS⁻¹ bounds λ/p_min from below), lo = ``hi·(1 − 10·tol)`` once :func:`pole_count_below` (Sylvester's law of
    inertia, independent of the eigensolver, O(m n³)) finds no eigenvalue below it. λ > 0 and S nonsingular."""
    hi = smallest_pole(W, X, a, lam, activation, tol=tol)
    if hi <= 0:
        raise ValueError("W, X, a, lam: H̄ is singular here (smallest pole 0): no bracket to certify")
    lo = hi * (1.0 - 10.0 * V.positive("tol", tol))
    if pole_count_below(gram_blocks(W, X, activation), a, lam, lo) != 0:
        raise RuntimeError(f"smallest_pole_bracket: an eigenvalue of H̄ lies below {lo:.10g}; ARPACK converged to "
                           "an interior eigenvalue")
    return lo, hi


def _inverse_operator(W, X, a, lam, activation):
    """``(matvec of λS⁻¹, start vector, size, λ)`` for :func:`smallest_pole`, or the exact answer (a float)
    where H̄ is structurally singular or λ = 0."""
    W, X = _W_X(W, X)
    m, d = W.shape
    n = X.shape[1]
    c = _coeffs(a, m)
    lam = _lam(lam)
    act = get_activation(activation)
    Dp = _apply(act, "dsigma", W @ X)
    G = X.T @ X
    if lam == 0:
        if m > 1:
            return 0.0
        return float(max(np.linalg.eigvalsh(kernel_matrix(W, X, a, act))[0], 0.0))
    dmin = float(np.min(np.abs(Dp)))
    if n > d or dmin <= 1e-300:
        return 0.0
    try:
        cf = sla.cho_factor(G, lower=False, check_finite=False)
        ok = np.all(np.diag(cf[0]) > 1e-10 * math.sqrt(float(np.max(np.diag(G)))))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        return 0.0
    R = cf[0]  # G = RᵀR, R upper triangular

    Rinv = sla.solve_triangular(R, np.eye(n), check_finite=False)
    if np.linalg.cond(R) < 1e6:  # well conditioned: one GEMM with G⁻¹ = R⁻¹R⁻ᵀ (≈4× faster than two solves)
        Ginv = Rinv @ Rinv.T
        Ginv = 0.5 * (Ginv + Ginv.T)

        def ginv_rows(U):
            return U @ Ginv
    else:
        def ginv_rows(U):  # U (m×n) ↦ U G⁻¹ (G symmetric): solve on the transposed system
            Y = sla.solve_triangular(R, U.T, trans="T", check_finite=False)
            return sla.solve_triangular(R, Y, check_finite=False).T

    # work with T = λ·S⁻¹ = N 𝓓⁻¹(I⊗G⁻¹)𝓓⁻¹ N, N = √λ M^{-1/2} = (I − P) + √(λ/(λ+a)) P (bounded for tiny λ)
    A = float(c @ c)
    ch = c / math.sqrt(A)
    shrink = math.sqrt(lam / (lam + A))

    inv_Dp = 1.0 / Dp

    def Napply(U):  # (I − P) U + shrink·P U, the two parts kept apart (1 − shrink rounds to 1 for tiny λ)
        U_par = ch[:, None] * (ch @ U)[None, :]  # (broadcast: faster than np.outer)
        out = U - U_par
        out += shrink * U_par
        return out

    def matvec(x):
        U = Napply(np.asarray(x, float).reshape(m, n))
        U *= inv_Dp
        U = ginv_rows(U)
        U *= inv_Dp
        return Napply(U).ravel()

    v0 = _block_start(Dp, ginv_rows, G, c, lam) if m * n > 16 else None
    return matvec, v0, m * n, lam


def _block_start(Dp, ginv_rows, G, c, lam, *, iters: int = 30, keep: int = 50) -> np.ndarray:
    """Start vector for :func:`smallest_pole`: the bottom eigenvectors u_k of every block H_k = D_kGD_k
    (one batched inverse iteration over all units at once, O(m n²) per sweep), weighted towards the
    units with the smallest Rayleigh quotients μ_k, mapped to the symmetric form (x = M^{1/2}η).

    Why: λH̄ ≈ λ𝓗 + a rank-n coupling of weight a_k²/m, so the bottom eigenvector of H̄ is concentrated
    on the few units whose own smallest eigenvalue is lowest; Lanczos started there need not resolve the
    tight cluster of ~m near-equal eigenvalues from scratch (tiny initial weights make all H_k ≈ G/…).
    """
    m, n = Dp.shape
    inv_D = 1.0 / Dp
    U = np.random.default_rng(0).standard_normal((m, n))
    for _ in range(iters):
        U = ginv_rows(U * inv_D) * inv_D
        U /= np.linalg.norm(U, axis=1, keepdims=True)
    UD = U * Dp
    mu = np.einsum("ki,ki->k", UD @ G, UD)
    best = np.argsort(mu)[: min(m, keep)]
    spread = float(mu[best].max() - mu[best].min())
    E = np.zeros((m, n))
    E[best] = U[best] * np.exp(-(mu[best] - mu[best].min()) / (spread + 1e-300))[:, None]
    v0 = _msqrt_apply(E, c, lam, 0.5).ravel()
    # a little of every direction, so nothing the Krylov space needs is exactly missing
    v0 /= np.linalg.norm(v0)
    return v0 + 1e-3 * np.random.default_rng(1).standard_normal(m * n) / math.sqrt(m * n)


# --------------------------------------------------------------------------------------------------
# final values (Thm 1, Thm 3) and the exact linearised dynamics
# --------------------------------------------------------------------------------------------------
def _y_phi(y, phi, m: int | None = None):
    y = V.as_array("y", y, ndim=1, min_size=1)
    phi = V.as_array("phi", phi, ndim=2, min_size=1)
    if phi.shape[1] != y.shape[0]:
        raise ValueError(f"phi must be (m, n) with n = len(y) = {y.shape[0]}, got {phi.shape}")
    if m is not None and phi.shape[0] != m:
        raise ValueError(f"phi must have one row per hidden unit (m = {m}), got {phi.shape[0]}")
    return y, phi


def final_value(y, phi, a, lam) -> np.ndarray:
    """Thm 1: ``f_∞ = (a y + λ Σ_k a_kφ_k/√m)/(a + λ)``, ``a = Σ_k a_k²/m``.

    Source: Rahbar et al., Theorem 1, eq. (5). y: labels (n,), phi: privileged features (m, n) (row k =
    φ_k evaluated on the n samples), a: output weights (m,), λ ≥ 0. This is the fixed point of the
    linearised dynamics that satisfies ``M F = b``; it is the limit of the dynamics when
    ``F* − F(0) ∈ range(𝓗)`` — e.g. every H_k nonsingular (n ≤ d, rank X = n, σ' ≠ 0: tanh, erf, softplus,
    not ReLU) — see :func:`linearised_limit` for the limit in general. λ = 0 gives ``f_∞ = y``.
    """
    y, phi = _y_phi(y, phi)
    c = _coeffs(a, phi.shape[0], large_ok=True)
    lam = _lam(lam)
    ch, s = _scaled(c)  # divide numerator and denominator by s²: no overflow of c·c for huge a
    A = float(ch @ ch)
    return V.finite_result((A * y + (lam / s) * (ch @ phi)) / (A + lam / s / s), inputs=("y", "phi", "a", "lam"))


def unit_final_values(y, phi, a, lam) -> np.ndarray:
    """Thm 3: ``f_∞^(k) = a_k/(λ√m) (y − f_∞) + φ_k`` (m, n); the unique solution of ``M F = b`` (λ > 0).

    Computed as ``a_k/√m (y − Σ_l a_lφ_l/√m)/(a + λ) + φ_k`` (equal, since y − f_∞ = λ(y − Σ c φ)/(a+λ)),
    which stays accurate for tiny λ; at λ = 0 it is the λ → 0 limit (one solution of MF = b).
    """
    y, phi = _y_phi(y, phi)
    c = _coeffs(a, phi.shape[0], large_ok=True)
    lam = _lam(lam)
    # y − f_∞ = λ(y − Σ_k c_kφ_k)/(a + λ): divide analytically (no cancellation for tiny λ);
    # c = s·ĉ: c(y − cφ)/(a + λ) = ĉ(y/s − ĉφ)/(â + λ/s²), no overflow of c·c for huge a
    ch, s = _scaled(c)
    return V.finite_result(np.outer(ch, y / s - ch @ phi) / (float(ch @ ch) + lam / s / s) + phi,
                           inputs=("y", "phi", "a", "lam"))


@dataclasses.dataclass(frozen=True)
class LinearisedSolution:
    """Exact solution of the linearised dynamics (eq. 10–13 with H_k frozen) in modal form.

    ``f(t) = f_inf + Σ_j exp(−poles[j] t) · modes[j]`` and ``F(t) = F_inf + Σ_j exp(−poles[j] t) · unit_modes[j]``.
    Only excited, non-zero poles are kept. ``f_thm1`` is Thm 1's value (None if λ = 0 gives y trivially).
    """

    poles: np.ndarray        # (J,) ascending
    modes: np.ndarray        # (J, n)  = α_j v^j of Thm 3 (corrected)
    unit_modes: np.ndarray   # (J, m, n)
    f_inf: np.ndarray        # (n,) the limit of the dynamics
    F_inf: np.ndarray        # (m, n)
    f0: np.ndarray           # (n,)

    def f(self, t) -> np.ndarray:
        """Network output at times t (array (T, n))."""
        t = np.atleast_1d(np.asarray(t, float))
        return self.f_inf[None, :] + np.exp(-np.outer(t, self.poles)) @ self.modes


def linearised_solution(H_blocks, a, lam, y, phi, F0, *, rtol: float = 1e-10) -> LinearisedSolution:
    """Exact solution of ``dF/dt = 𝓗(b − MF)``, F(0) = F0 (eq. 10–13 with ``H_k(t) = H_k(0)``).

    Source: Rahbar et al., eq. (10)–(14), Thm 1 and Thm 3 (corrected: see docs/errata.md, 001).
    With ``H_k = L_kᵀL_k`` and ``K = 𝓛M𝓛ᵀ = QΛQᵀ``: ``F(t) − F0 ∈ range(𝓛ᵀ)``, write it ``𝓛ᵀz``; then
    ``dz/dt = r − Kz`` with ``r = 𝓛(b − MF0)``. ``r ⊥ null(K)``: if ``Kz = 0`` then ``M^{1/2}𝓛ᵀz = 0``,
    so ``𝓛ᵀz ∈ null(M)``, which is orthogonal to ``range(M) ∋ b, MF0`` (``b = c⊗y + λφ``: for λ = 0,
    b = c⊗y = M(c⊗y)/a). Hence ``z(t) = Q (I − e^{−Λt}) Λ⁺ Qᵀ r`` with no secular growth and
    ``F(t) = F_∞ − Σ_{Λ_j>0} e^{−Λ_j t} (q_jᵀr/Λ_j) 𝓛ᵀq_j``: poles Λ_j, right eigenvectors 𝓛ᵀq_j of H̄.
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = _lam(lam)
    y, phi = _y_phi(y, phi, m)
    F0 = V.as_array("F0", F0, ndim=2)
    V.same_shape(("F0", "phi"), F0, phi)
    rtol = V.tolerance("rtol", rtol)
    L, mu = _factors(H)  # (m, n, n): L_k = diag(√μ) V_kᵀ
    b = np.outer(c, y) + lam * phi
    MF0 = _msqrt_apply(F0, c, lam, 1.0)
    resid = b - MF0
    r = np.einsum("kij,kj->ki", L, resid).ravel()
    B = np.outer(c, c) + lam * np.eye(m)
    K = np.einsum("kia,kl,lja->kilj", L, B, L, optimize=True).reshape(m * n, m * n)
    K = 0.5 * (K + K.T)
    Lam, Q = np.linalg.eigh(K)
    keep = Lam > rtol * max(1.0, float(Lam[-1]))
    Lam, Q = Lam[keep], Q[:, keep]
    coef = -(Q.T @ r) / Lam  # (J,)
    LtQ = np.einsum("kaj,kaJ->Jkj", L, Q.reshape(m, n, -1))  # 𝓛ᵀq_j, shape (J, m, n)
    unit_modes = coef[:, None, None] * LtQ
    F_inf = F0 - unit_modes.sum(axis=0)
    modes = np.einsum("k,Jkn->Jn", c, unit_modes)
    return LinearisedSolution(Lam, modes, unit_modes, c @ F_inf, F_inf, c @ F0)


def predicted_trajectory(H_blocks, a, lam, y, phi, F0, t) -> np.ndarray:
    """Predicted network output ``f(t)`` (shape (T, n)) of the linearised dynamics (Thm 3, corrected)."""
    t = V.as_array("t", t, ndim=(0, 1), min_size=1)
    if np.any(t < 0):
        raise ValueError(f"t must be >= 0 (times of the dynamics), got min {t.min()}")
    return linearised_solution(H_blocks, a, lam, y, phi, F0).f(t)


def linearised_limit(H_blocks, a, lam, y, phi, F0) -> np.ndarray:
    """``lim_{t→∞} f(t)`` of the linearised dynamics for any data and activation (λ ≥ 0).

    Equal to Thm 1's :func:`final_value` iff ``F* − F0 ∈ range(𝓗)`` (λ > 0, F* = M⁻¹b); in general it is
    the minimiser of the linearised objective over the affine set ``F0 + range(𝓗)`` (for λ = 0: f_∞ = y
    iff ``y − f(0) ∈ range(H)``).
    """
    return linearised_solution(H_blocks, a, lam, y, phi, F0).f_inf


def _thm3_poles(H, lam, pole_values) -> np.ndarray:
    """Poles for Thm 3's formulas: finite, > 0 and away from every λμ_{k,i} (where pI − λH_k is singular)."""
    P = V.as_array("pole_values", pole_values, ndim=1, min_size=1)
    mu = np.linalg.eigvalsh(H).ravel()
    scale = max(1.0, float(np.max(np.abs(P))) if P.size else 1.0)
    if np.any(P <= 0) or (P.size and np.min(np.abs(P[:, None] - lam * mu[None, :])) <= 1e-12 * scale):
        raise ValueError("pole_values must be > 0 and differ from λ·(eigenvalues of the H_k) "
                         "(Assumption 2; there pI − λH_k is singular)")
    return P


def _thm3_vectors(H, c, lam, p_list):
    vs = []
    for p in p_list:
        Phi = np.eye(H.shape[1]) - np.einsum("k,kij->ij", c ** 2,
                                              np.linalg.solve(p * np.eye(H.shape[1]) - lam * H, H))
        w, Q = np.linalg.eigh(0.5 * (Phi + Phi.T))
        vs.append(Q[:, np.argmin(np.abs(w))])
    return np.array(vs)


def thm3_coefficients(H_blocks, a, lam, y, phi, F0, pole_values) -> tuple[np.ndarray, np.ndarray]:
    """Thm 3's modal expansion through the secular equation (corrected form), returns ``(alpha, v)``.

    ``v^j``: unit null vector of ``I + Γ(−p_j)`` (Assumption 2; Γ is symmetric so ``u^j = v^j``).
    Corrected coefficient (Lemma 5 with the left/right normalisation the paper omits, and the sign of η(0)):
    ``α_j = Σ_k a_k/√m ⟨v^j, (p_jI − λH_k)^{-1}(f^(k)(0) − f_∞^(k))⟩ / Σ_k a_k²/m ⟨v^j, H_k(p_jI − λH_k)^{-2}v^j⟩``
    so that ``f(t) = f_∞ + Σ_j e^{−p_j t} α_j v^j`` exactly for the linearised dynamics (λ > 0, H_k
    nonsingular, Assumption 2: p_j distinct and not equal to any λμ_{k,i}).
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = V.positive("lam", lam)
    y, phi = _y_phi(y, phi, m)
    F0 = V.as_array("F0", F0, ndim=2)
    V.same_shape(("F0", "phi"), F0, phi)
    Finf = unit_final_values(y, phi, a, lam)
    P = _thm3_poles(H, lam, pole_values)
    U = _thm3_vectors(H, c, lam, P)
    alpha = np.empty(len(P))
    for j, p in enumerate(P):
        R = np.linalg.inv(p * np.eye(n) - lam * H)  # (m, n, n)
        num = np.einsum("k,i,kij,kj->", c, U[j], R, F0 - Finf)
        RHR = np.einsum("kij,kjl,klr->kir", R, H, R)
        den = np.einsum("k,i,kij,j->", c ** 2, U[j], RHR, U[j])
        alpha[j] = num / den
    V.finite_result(alpha, inputs=("H_blocks", "a", "lam", "pole_values"), what="coefficients alpha")
    return alpha, U


def thm3_printed_coefficients(H_blocks, a, lam, y, phi, F0, pole_values) -> tuple[np.ndarray, np.ndarray]:
    """Thm 3's α_j as printed: ``Σ_k a_k²/m ⟨v^j, H_k(p_jI − λH_k)^{-1}(f_∞^(k) − f^(k)(0))⟩`` (unit v^j).

    Printed claim: ``f(t) = Σ_j e^{−p_j t} α_j u^j`` (+O(1/√m)), u^j = v^j. Kept for the erratum claim.
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = V.positive("lam", lam)
    y, phi = _y_phi(y, phi, m)
    F0 = V.as_array("F0", F0, ndim=2)
    V.same_shape(("F0", "phi"), F0, phi)
    Finf = unit_final_values(y, phi, a, lam)
    P = _thm3_poles(H, lam, pole_values)
    U = _thm3_vectors(H, c, lam, P)
    alpha = np.array([np.einsum("k,i,kij,kj->", c ** 2, U[j],
                                np.einsum("kij,kjl->kil", H, np.linalg.inv(p * np.eye(n) - lam * H)), Finf - F0)
                      for j, p in enumerate(P)])
    V.finite_result(alpha, inputs=("H_blocks", "a", "lam", "pole_values"), what="coefficients alpha")
    return alpha, U


# --------------------------------------------------------------------------------------------------
# the proof lemmas of Thm 1 and Thm 3 (Sec. 7.3)
# --------------------------------------------------------------------------------------------------
def _pos(name, x):
    return V.positive(name, x)


def lemma1_bound(q, p, eta0_norm, *, kappa=1.0) -> float:
    """Lemma 1 (corrected): ``∫_0^t ‖η(τ) − e^{−H̄τ}η(0)‖dτ ≤ κ² q ‖η(0)‖ / (p (1 − κq))`` for κq < 1.

    Statement: H̄ diagonalizable, ``H̄ = VΛV⁻¹`` with real eigenvalues ≥ p > 0, ``κ = ‖V‖‖V⁻¹‖`` (any
    eigenvector basis), ``q = sup_{τ≤t} σ_max(ΔH̄(τ))/p`` and η the solution of dη/dt = −(H̄ + ΔH̄(t))η.
    Source: Rahbar et al., Sec. 7.3, Lemma 1. The printed lemma (:func:`lemma1_bound_printed`) is this
    with κ = 1: its proof uses ``‖e^{−H̄t}‖ ≤ e^{−pt}``, true for symmetric (normal) H̄ only; in general
    ``‖e^{−H̄t}‖ ≤ κe^{−pt}``, which enters the contraction factor (κq) and the first iterate (κ²q/p).
    For the model's H̄ = 𝓗M, κ ≤ √((λ+a)/λ) (:func:`hbar_eigvec_condition_bound`).
    Raises ValueError if κq ≥ 1 (the contraction argument gives no bound).
    """
    q = V.nonnegative("q", q)
    p = _pos("p", p)
    eta0_norm = V.nonnegative("eta0_norm", eta0_norm)
    kappa = V.scalar("kappa", kappa, lo=1.0)
    if kappa * q >= 1:
        raise ValueError(f"kappa·q must be < 1 for Lemma 1, got kappa·q = {kappa * q:.4g}")
    return kappa ** 2 * q * eta0_norm / (p * (1.0 - kappa * q))


def lemma1_bound_printed(q, p, eta0_norm) -> float:
    """Lemma 1 as printed: ``q‖η(0)‖/(p(1 − q))`` for any diagonalizable H̄ with eigenvalues ≥ p and q < 1."""
    q = V.scalar("q", q, lo=0.0)
    if q >= 1:
        raise ValueError(f"q must be < 1 for Lemma 1, got {q:.4g}")
    return q * V.nonnegative("eta0_norm", eta0_norm) / (_pos("p", p) * (1.0 - q))


def hbar_eigvec_condition_bound(a, lam) -> float:
    """``√((λ + a)/λ) = κ(M^{1/2})``, a bound on the eigenvector condition number of H̄ = 𝓗M (λ > 0).

    H̄ = M^{−1/2} S M^{1/2} with S symmetric (module docstring), so V = M^{−1/2}Q (Q orthogonal) is an
    eigenvector basis with ‖V‖‖V⁻¹‖ = κ(M^{1/2}); M has eigenvalues λ + a and λ (a = Σ_k a_k²/m).
    """
    c = unit_coefficients(V.as_array("a", a, ndim=1))
    lam = V.positive("lam", lam)
    return math.sqrt((lam + float(c @ c)) / lam)


def lemma2_bound(a, lam, max_dH_norm) -> float:
    """Lemma 2, eq. (23): ``σ_max(ΔH̄(t)) ≤ √2 √(λ² + a²) max_k σ_max(ΔH_k(t))``, a = Σ_k a_k²/m.

    ΔH̄ has blocks ΔH_k (a_ka_l/m + λδ_kl). Source: Rahbar et al., Sec. 7.3, Lemma 2; the printed left side
    reads σ_max(H̄(t)) (false: at t = 0 the right side is 0), the proof bounds ΔH̄.
    """
    c = unit_coefficients(V.as_array("a", a, ndim=1))
    lam = _lam(lam)
    A = float(c @ c)
    return math.sqrt(2.0) * math.hypot(lam, A) * V.nonnegative("max_dH_norm", max_dH_norm)


def lemma2_bound_sharp(a, lam, max_dH_norm) -> float:
    """``σ_max(ΔH̄) ≤ (λ + a) max_k σ_max(ΔH_k)``: ΔH̄ = blockdiag(ΔH_k)·M and ‖M‖ = λ + a.

    Sharp: equality when every ΔH_k is the same matrix (then ΔH̄ = (ccᵀ + λI) ⊗ ΔH_1). Never larger than
    :func:`lemma2_bound` ((λ + a)² ≤ 2(λ² + a²)), equal to it at λ = a.
    """
    c = unit_coefficients(V.as_array("a", a, ndim=1))
    lam = _lam(lam)
    return (lam + float(c @ c)) * V.nonnegative("max_dH_norm", max_dH_norm)


def lemma3_bound(dw_norm, *, L, sigma_x, B) -> float:
    """Lemma 3 (corrected): ``σ_max(H_k(t) − H_k(0)) ≤ L²σ_x² B ‖Δw‖ (B‖Δw‖ + 2)``, ``Δw = w_k(t) − w_k(0)``.

    L: the largest Lipschitz constant of σ and σ' (:func:`lipschitz_constant`; sup|σ'| ≤ L), σ_x: the
    largest singular value of X, B = max_i ‖x_i‖. Proof (Sec. 7.3): with e = Σ_i x_i(σ'(w_tᵀx_i) − σ'(w_0ᵀx_i))δ_i,
    ``|δᵀΔH_kδ| ≤ ‖e‖² + 2‖e‖‖L(w_0)δ‖``, ``‖e‖ ≤ σ_x L B‖Δw‖`` and ``‖L(w_0)δ‖ ≤ σ_x sup|σ'| ≤ σ_x L``.
    The printed bound (:func:`lemma3_bound_printed`) has ``B²`` and ``2‖w_k(0)‖`` in place of ``B`` and ``2``.
    """
    L, sx, B = _pos("L", L), _pos("sigma_x", sigma_x), _pos("B", B)
    dw = V.nonnegative("dw_norm", dw_norm)
    return L * L * sx * sx * B * dw * (B * dw + 2.0)


def lemma3_bound_printed(dw_norm, w0_norm, *, L, sigma_x, B) -> float:
    """Lemma 3 as printed: ``L²σ_x² max_i‖x_i‖² ‖Δw‖ (‖Δw‖ + 2‖w_k(0)‖)``."""
    L, sx, B = _pos("L", L), _pos("sigma_x", sigma_x), _pos("B", B)
    dw = V.nonnegative("dw_norm", dw_norm)
    return L * L * sx * sx * B * B * dw * (dw + 2.0 * V.nonnegative("w0_norm", w0_norm))


def lemma4_bound(residual_integral, *, L, sigma_x) -> float:
    """Lemma 4 (corrected): ``‖w_k(t) − w_k(0)‖ ≤ L σ_x ∫_0^t ‖(a_k/√m) δ(τ) + λ δ_k(τ)‖ dτ``.

    From eq. (9): dw_k/dt = −L_k(a_k/√m δ + λδ_k) (the residual of unit k, δ = f − f_∞, δ_k = f^(k) − f_∞^(k);
    Thm 3's f_∞^(k) makes c_k(y − f_∞) + λ(φ_k − f_∞^(k)) = 0), and ``‖L(w)u‖ = ‖X D(w) u‖ ≤ σ_x sup|σ'| ‖u‖``.
    ``residual_integral``: ∫‖c_kδ + λδ_k‖dτ (for GD with step μ the left sum μΣ_r‖·‖ bounds the steps exactly).
    The printed lemma (:func:`lemma4_bound_printed`) drops the coupling term and the λ: it writes
    dw_k/dt = −(a_k/√m) L_k δ_k.
    """
    return _pos("L", L) * _pos("sigma_x", sigma_x) * V.nonnegative("residual_integral", residual_integral)


def lemma4_bound_printed(a_k, m, delta_k_integral, *, L, sigma_x, B) -> float:
    """Lemma 4 as printed, eq. (24): ``|a_k|/√m · L σ_x max_i‖x_i‖ ∫_0^t ‖δ_k(τ)‖ dτ``."""
    m = V.scalar("m", m, lo=1, integer=True)
    a_k = V.scalar("a_k", a_k)
    return (abs(a_k) / math.sqrt(m) * _pos("L", L) * _pos("sigma_x", sigma_x) * _pos("B", B)
            * V.nonnegative("delta_k_integral", delta_k_integral))


def pole_count_below(H_blocks, a, lam, p) -> int:
    """Number of eigenvalues of H̄ (eq. 13) strictly below ``p`` — Sylvester's law of inertia, O(m n³).

    Independent of any eigensolver for H̄ (λ > 0, p > 0, p/λ not an eigenvalue of any H_k):
    ``S − pI = M^{1/2}(𝓗 − pM⁻¹)M^{1/2}`` is congruent to ``𝓗 − pM⁻¹ = D + βUUᵀ`` with the block-diagonal
    ``D = 𝓗 − (p/λ)I``, ``U = ĉ ⊗ I_n``, ``β = p a/(λ(λ + a)) > 0``. By Haynsworth's inertia additivity on
    ``[[D, U], [Uᵀ, −I/β]]``: ``neg(D + βUUᵀ) = neg(D) + neg(−I/β − UᵀD⁻¹U) − n``, where
    ``UᵀD⁻¹U = Σ_k ĉ_k² (H_k − (p/λ)I)⁻¹`` is n×n.
    """
    H = _blocks(H_blocks)
    m, n, _ = H.shape
    c = _coeffs(a, m)
    lam = V.positive("lam", lam)
    p = V.positive("p", p)
    A = float(c @ c)
    ch2 = c ** 2 / A
    mu, Q = np.linalg.eigh(H)
    shift = mu - p / lam  # eigenvalues of D, per block
    if np.min(np.abs(shift)) <= 1e-12 * max(float(np.max(np.abs(mu))), p / lam):
        raise ValueError("p/lam is an eigenvalue of some H_k: the inertia count is not defined there")
    neg_D = int(np.sum(shift < 0))
    beta = (p / lam) * (A / (lam + A))  # = p a/(λ(λ + a)), without overflow for huge λ
    Sch = np.einsum("k,kia,ka,kja->ij", ch2, Q, 1.0 / shift, Q, optimize=True)
    neg_S = int(np.sum(np.linalg.eigvalsh(-np.eye(n) / beta - 0.5 * (Sch + Sch.T)) < 0))
    return neg_D + neg_S - n


# --------------------------------------------------------------------------------------------------
# final error (Sec. 2.7), lottery ticket (Thm 2), two-stage remark (Sec. 7.4.1)
# --------------------------------------------------------------------------------------------------
def final_error(y, phi, a, lam) -> float:
    """Sec. 2.7 (corrected): ``e = ‖f_∞ − y‖ = λ/(a+λ) ‖Σ_k a_kφ_k/√m − y‖``."""
    y, phi = _y_phi(y, phi)
    c = _coeffs(a, phi.shape[0], large_ok=True)
    lam = _lam(lam)
    ch, s = _scaled(c)  # λ/(a+λ)‖cφ − y‖ = (λ/s)‖ĉφ − y/s‖/(â + λ/s²): no overflow of c·c for huge a
    A = float(ch @ ch)
    return V.finite_result((lam / s) / (A + lam / s / s) * float(np.linalg.norm(ch @ phi - y / s)),
                           inputs=("y", "phi", "a", "lam"))


def final_error_printed(y, phi, a, lam) -> float:
    """Sec. 2.7 as printed: ``e = λ/(a+λ) ‖Σ_k a_kφ_k/m − y‖`` (/m instead of /√m; erratum)."""
    y, phi = _y_phi(y, phi)
    a = V.as_array("a", a, ndim=1)
    m = phi.shape[0]
    _coeffs(a, m)
    lam = _lam(lam)
    A = float(a @ a) / m
    return V.finite_result(lam / (A + lam) * float(np.linalg.norm(a @ phi / m - y)), inputs=("y", "phi", "a", "lam"))


def thm2_proof_square_printed(y, phi, a, lam) -> float:
    """First line of the proof of Thm 2 (Sec. 7.4) as printed: ``‖f_∞ − y‖ = (λ/(λ+a))²‖Σ_k a_kφ_k/√m − y‖``.

    Kept for the erratum claim; the square belongs on the left (:func:`final_error` squared).
    """
    y, phi = _y_phi(y, phi)
    c = _coeffs(a, phi.shape[0])
    lam = _lam(lam)
    A = float(c @ c)
    return (lam / (lam + A)) ** 2 * float(np.linalg.norm(c @ phi - y))


def teacher_labels(a_bar, phi_bar, m: int) -> np.ndarray:
    """Thm 2 set-up: labels = teacher output ``y = Σ_l q ā_l/√m̄ · φ̄_l`` with ``q = √(m/m̄)``."""
    a_bar = V.as_array("a_bar", a_bar, ndim=1)
    phi_bar = V.as_array("phi_bar", phi_bar, ndim=2, min_size=1)
    mb = phi_bar.shape[0]
    if a_bar.shape[0] != mb:
        raise ValueError(f"a_bar must have length m̄ = {mb}, got {a_bar.shape[0]}")
    m = int(V.scalar("m", m, lo=1, hi=mb, integer=True))
    q = math.sqrt(m / mb)
    return q * (a_bar @ phi_bar) / math.sqrt(mb)


def _lt_args(a_bar, phi_bar, m, lam):
    a_bar = V.as_array("a_bar", a_bar, ndim=1)
    phi_bar = V.as_array("phi_bar", phi_bar, ndim=2, min_size=1)
    mb = phi_bar.shape[0]
    if a_bar.shape[0] != mb:
        raise ValueError(f"a_bar must have length m̄ = {mb}, got {a_bar.shape[0]}")
    m = int(V.scalar("m", m, lo=1, hi=mb, integer=True))
    return a_bar, phi_bar, mb, m, _lam(lam)


def lottery_ticket_expected_error(a_bar, phi_bar, m: int, lam) -> float:
    """Exact ``E[e²]`` over a uniformly random m-subset of the m̄ teacher units (Thm 2 set-up, |ā_l| = 1).

    With ``z_l = ā_l φ̄_l``, ``Φ = Σ_{k} z_{l_k}/√m`` (sampling without replacement) has mean y and
    ``E‖Φ − y‖² = (1 − m/m̄)·m̄/(m̄−1)·s²``, ``s² = (1/m̄)Σ_l ‖z_l − z̄‖²``; ``e = λ/(1+λ)‖Φ − y‖`` (a = 1).
    """
    a_bar, phi_bar, mb, m, lam = _lt_args(a_bar, phi_bar, m, lam)
    if not np.allclose(np.abs(a_bar), 1.0):
        raise ValueError("a_bar must have entries ±1 for the exact expectation (then a = 1 for every subset)")
    if mb == 1:
        return 0.0
    Z = a_bar[:, None] * phi_bar
    s2 = float(np.mean(np.sum((Z - Z.mean(axis=0)) ** 2, axis=1)))
    return V.finite_result((lam / (1 + lam)) ** 2 * (1 - m / mb) * mb / (mb - 1) * s2, inputs=("a_bar", "phi_bar"))


def lottery_ticket_bound(a_bar, phi_bar, m: int, lam, *, C: float = 1.0) -> float:
    """Thm 2 (corrected): ``Σ_i (f(x_i) − y_i)² ≤ (1 − m/m̄) C (λ/(1+λ))² [Σ_{i,l} ā_l²/m̄ σ²(w̄_lᵀx_i)] log m̄``.

    The printed (6) carries an extra ``q² = m/m̄`` inside the bracket (see
    :func:`lottery_ticket_bound_printed`); the proof (Sec. 7.4) gives the expectation without it.
    ``phi_bar``: (m̄, n) teacher features σ(w̄_lᵀx_i).
    """
    a_bar, phi_bar, mb, m, lam = _lt_args(a_bar, phi_bar, m, lam)
    C = V.positive("C", C)
    S = float(np.sum((a_bar ** 2)[:, None] * phi_bar ** 2)) / mb
    return V.finite_result((1 - m / mb) * C * (lam / (1 + lam)) ** 2 * S * math.log(mb),
                           inputs=("a_bar", "phi_bar", "C"))


def lottery_ticket_tail_bound(a_bar, phi_bar, m: int, lam, delta) -> float:
    """Thm 2 (corrected, high-probability form): with probability ≥ 1 − δ over the random m-subset (|ā_l| = 1),

    ``Σ_i (f(x_i) − y_i)² ≤ (λ/(1+λ))² (√((1 − m/m̄)·m̄/(m̄−1)·s²) + R√(2 log(1/δ)))²``,

    ``z_l = ā_lφ̄_l``, ``s² = (1/m̄)Σ_l‖z_l − z̄‖²``, ``R = max_l ‖z_l − z̄‖``. Proof: the error is
    ``r²g(S)²`` with ``g(S) = √m‖z̄_S − z̄‖`` (Thm 1, a = 1, y = √m z̄); swapping one selected unit changes g by at
    most β = 2R/√m, so McDiarmid's inequality for sampling without replacement (El-Yaniv & Pechyony 2009,
    Lemma 2, in its weaker form exp(−2ε²/(mβ²))) gives ``g ≤ E g + R√(2 log(1/δ))`` w.p. ≥ 1 − δ, and
    ``E g ≤ √(E g²)`` (:func:`lottery_ticket_expected_error`). The printed (6) bounds the error by the
    *average* ``Σ_l ā_l²‖φ̄_l‖²/m̄`` times a universal C and log m̄; the deviation is governed by the largest
    ‖z_l − z̄‖ instead, and no universal C exists (erratum ``rahbar.thm2_universal_C``).
    Paper's level: δ = m^(−10).
    """
    a_bar, phi_bar, mb, m, lam = _lt_args(a_bar, phi_bar, m, lam)
    delta = V.probability("delta", delta, open_ends=True)
    if not np.allclose(np.abs(a_bar), 1.0):
        raise ValueError("a_bar must have entries ±1 (then a = 1 for every subset)")
    Z = a_bar[:, None] * phi_bar
    dev = np.linalg.norm(Z - Z.mean(axis=0), axis=1)
    R = float(np.max(dev))
    mean_sq = (1 - m / mb) * (mb / (mb - 1) if mb > 1 else 0.0) * float(np.mean(dev ** 2))  # E g² (exact)
    return (lam / (1 + lam)) ** 2 * (math.sqrt(mean_sq) + R * math.sqrt(2.0 * math.log(1.0 / delta))) ** 2


def lottery_ticket_bound_printed(a_bar, phi_bar, m: int, lam, *, C: float = 1.0) -> float:
    """Thm 2, eq. (6) as printed (with ``q² = m/m̄`` in the bracket)."""
    a_bar, phi_bar, mb, m, lam = _lt_args(a_bar, phi_bar, m, lam)
    return lottery_ticket_bound(a_bar, phi_bar, m, lam, C=C) * (m / mb)


def two_stage_factors(m: int, m1: int, m_bar: int) -> tuple[float, float]:
    """Sec. 7.4.1: ``S1 = (1 − m/m1)(1 − m1/m̄)`` (two-stage) and ``S2 = 1 − m/m̄`` (direct); S1 ≤ S2."""
    m = V.scalar("m", m, lo=1, integer=True)
    m1 = V.scalar("m1", m1, lo=m, integer=True)
    m_bar = V.scalar("m_bar", m_bar, lo=m1, integer=True)
    al, be = m / m1, m1 / m_bar
    return (1 - al) * (1 - be), 1 - al * be


def two_stage_expected_error(a_bar, phi_bar, m: int, m1: int, lam) -> float:
    """Exact ``E[e²]`` of the two-stage scheme of Sec. 7.4.1 in the kernel-regime limit (|ā_l| = 1).

    Scheme: an intermediate network of m1 units selected uniformly (without replacement) from the m̄ teacher
    units, initialised at them and trained on eq. (2) with labels y (:func:`teacher_labels` with the final
    size m) and φ = teacher features; its trained unit outputs are Thm 3's f_∞^(k) (exact when its H_k are
    nonsingular, Thm 1's conditions). A student of m units selected uniformly from the intermediate's is
    trained the same way with φ = those outputs. With ``z_l = ā_lφ̄_l``, ``y = √m z̄``, α = m/m1, β = m1/m̄,
    κ = m̄/(m̄−1), s² = (1/m̄)Σ_l‖z_l − z̄‖² and r = λ/(1+λ) (Thm 1, eq. 5, and Thm 3):

    ``Φ₂ − y = √m(z̄_{S2} − z̄_{S1}) + r√m(z̄_{S1} − z̄) − (1 − √α)√m z̄/(1+λ)``, hence

    ``E[e²] = r²[(1 − α)κs² + r²α(1 − β)κs² + m(1 − √α)²‖z̄‖²/(1+λ)²]``

    against ``r²(1 − αβ)κs²`` for direct distillation (:func:`lottery_ticket_expected_error`). The remark's
    factors S1 = (1 − α)(1 − β), S2 = 1 − αβ (:func:`two_stage_factors`) do not give this ratio (erratum,
    docs/errata.md 001). The last term is the mismatch of Thm 2's label scaling q = √(m/m̄) for the
    intermediate network (O(m/m̄) for random-sign teachers).
    """
    a_bar, phi_bar, mb, _, lam = _lt_args(a_bar, phi_bar, 1, lam)
    m1 = int(V.scalar("m1", m1, lo=1, hi=mb, integer=True))
    m = int(V.scalar("m", m, lo=1, hi=m1, integer=True))
    if not np.allclose(np.abs(a_bar), 1.0):
        raise ValueError("a_bar must have entries ±1 for the exact expectation (then a = 1 for every subset)")
    Z = a_bar[:, None] * phi_bar
    zbar = Z.mean(axis=0)
    s2 = float(np.mean(np.sum((Z - zbar) ** 2, axis=1)))
    kap = mb / (mb - 1) if mb > 1 else 0.0
    al, be, r = m / m1, m1 / mb, lam / (1 + lam)
    bias = m * (1 - math.sqrt(al)) ** 2 * float(zbar @ zbar) / ((1 + lam) * (1 + lam))  # (1+λ)**2 would raise
    return V.finite_result(r ** 2 * ((1 - al) * kap * s2 + r ** 2 * al * (1 - be) * kap * s2 + bias),
                           inputs=("a_bar", "phi_bar"))


# --------------------------------------------------------------------------------------------------
# infinite-width kernel, overlaps (Sec. 4.4), alignf and Nyström (Sec. 4.3)
# --------------------------------------------------------------------------------------------------
def arccos_kernel(X) -> np.ndarray:
    """ReLU H^∞ for unit-norm inputs: ``H^∞_ij = x_iᵀx_j (π − arccos(x_iᵀx_j))/(2π)`` (Sec. 3, 4.4).

    ``H^∞ = E_w[H_k]`` for ``w ~ N(0, k²I)`` (any k > 0) and a_k² = 1 (Du et al. 2018, ref. [13]).
    X: d×n with unit-norm columns (checked).
    """
    X = V.as_array("X", X, ndim=2)
    nrm = np.linalg.norm(X, axis=0)
    if not np.allclose(nrm, 1.0, rtol=1e-6):
        raise ValueError("X must have unit-norm columns for the arc-cosine kernel H^∞")
    C = np.clip(X.T @ X, -1.0, 1.0)
    return C * (math.pi - np.arccos(C)) / (2 * math.pi)


def overlap_parameters(phi, H_inf, *, top: int = 5) -> np.ndarray:
    """Sec. 4.4's overlap per hidden unit: mean over the ``top`` eigenvectors u_j of H^∞ of |⟨φ_k/‖φ_k‖, u_j⟩|.

    phi: (m, n) unit outputs; returns (m,) values in [0, 1]. Units with φ_k = 0 get overlap 0.
    """
    phi = V.as_array("phi", phi, ndim=2, min_size=1)
    w, U = V.psd_eigh("H_inf", H_inf)
    if U.shape[0] != phi.shape[1]:
        raise ValueError(f"H_inf must be n×n with n = {phi.shape[1]}, got {U.shape}")
    top = int(V.scalar("top", top, lo=1, hi=U.shape[0], integer=True))
    nrm = np.linalg.norm(phi, axis=1, keepdims=True)
    P = np.divide(phi, nrm, out=np.zeros_like(phi), where=nrm > 0)
    return np.mean(np.abs(P @ U[:, ::-1][:, :top]), axis=1)


def center_kernel(K) -> np.ndarray:
    """Centered kernel ``K^c = C K C``, ``C = I − 11ᵀ/n`` (Cortes et al. 2012, ref. [15])."""
    return _center(V.square_symmetric("K", K))


def _center(K: np.ndarray) -> np.ndarray:
    return K - K.mean(axis=0, keepdims=True) - K.mean(axis=1, keepdims=True) + K.mean()


def centered_alignment(K1, K2) -> float:
    """``⟨K1^c, K2^c⟩_F / (‖K1^c‖_F ‖K2^c‖_F)`` (ref. [15]); 0 when a centred kernel vanishes."""
    A, B = _center(V.square_symmetric("K1", K1)), _center(V.square_symmetric("K2", K2))
    V.same_shape(("K1", "K2"), A, B)
    den = float(np.linalg.norm(A) * np.linalg.norm(B))
    return float(np.sum(A * B) / den) if den > 0 else 0.0


def alignf(kernels, y) -> np.ndarray:
    """alignf (Sec. 4.3, eq. 17–18): weights μ* = v*/‖v*‖, v* = argmin_{v ≥ 0} vᵀMv − 2vᵀa.

    ``M_kl = ⟨K_k^c, K_l^c⟩_F``, ``a_k = ⟨K_k^c, yyᵀ⟩_F``. Solved exactly as the non-negative least squares
    ``min_{v≥0} ‖Σ_k v_k vec(K_k^c) − vec(yyᵀ)‖²`` (its objective is vᵀMv − 2vᵀa + const).
    kernels: (P, n, n); y: (n,). If v* = 0 (no kernel aligns positively) the zero vector is returned.
    """
    Ks = V.as_array("kernels", kernels, ndim=3, min_size=1)
    y = V.as_array("y", y, ndim=1, min_size=1)
    V.finite_result(np.outer(y, y), inputs="y", what="target kernel y yᵀ")
    if Ks.shape[1:] != (y.shape[0], y.shape[0]):
        raise ValueError(f"kernels must be (P, n, n) with n = len(y) = {y.shape[0]}, got {Ks.shape}")
    R = np.stack([_center(V.square_symmetric(f"kernels[{i}]", K)).ravel() for i, K in enumerate(Ks)], axis=1)
    vstar, _ = sopt.nnls(R, np.outer(y, y).ravel())
    nrm = float(np.linalg.norm(vstar))
    return vstar / nrm if nrm > 0 else vstar


def gaussian_kernel(X1, X2, gamma: float) -> np.ndarray:
    """``exp(−γ‖x − x'‖²)`` between the columns of X1 (d×n1) and X2 (d×n2)."""
    X1 = V.as_array("X1", X1, ndim=2, min_size=1)
    X2 = V.as_array("X2", X2, ndim=2, min_size=1)
    if X1.shape[0] != X2.shape[0]:
        raise ValueError(f"X1 and X2 must be d×n1 and d×n2 with the same d, got {X1.shape} and {X2.shape}")
    gamma = V.positive("gamma", gamma)
    d2 = np.sum(X1 ** 2, 0)[:, None] + np.sum(X2 ** 2, 0)[None, :] - 2 * X1.T @ X2
    return np.exp(-gamma * np.clip(d2, 0.0, None))


def nystrom_embedding(K_cross, K_landmarks, *, rtol: float = 1e-10) -> np.ndarray:
    """Nyström features (Williams & Seeger, ref. [17]): ``Ψ = K_cross U Λ^{-1/2}`` from ``K_landmarks = UΛUᵀ``.

    K_cross: (n, r) kernel between points and r landmarks; K_landmarks: (r, r). Then ``ΨΨᵀ = K_nr K_rr⁺ K_rn``
    (eigenvalues below ``rtol·λ_max`` are dropped).
    """
    Kc = V.as_array("K_cross", K_cross, ndim=2, min_size=1)
    w, U = V.psd_eigh("K_landmarks", K_landmarks)
    rtol = V.tolerance("rtol", rtol)
    if Kc.shape[1] != U.shape[0]:
        raise ValueError(f"K_cross must have r = {U.shape[0]} columns, got {Kc.shape}")
    keep = w > rtol * max(float(w[-1]), 1e-300)
    return Kc @ (U[:, keep] / np.sqrt(w[keep]))
