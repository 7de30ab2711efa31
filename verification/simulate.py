"""Shared simulators: stochastic iterations vectorised over seeds × a parameter grid.

This module is the project's shared simulator module (not a claim module). Other papers' checks may
add simulators here; the SGD-with-distillation engine below is written for any per-sample gradient.

Distillation SGD (paper 000, Safaryan et al.)
---------------------------------------------
:func:`simulate_distillation` runs, for S seeds and a grid of Λ distillation weights at once,

* iteration (7):  ``x ← x − γ(∇f_ξ(x) − λ∇f_ξ(θ))``,
* iteration (16): ``x ← x − γ(∇f_ξ(x) − λ∇f_ξ(θ) + λ∇f(θ))``  (``unbiased=True``),
* iteration (18): ``x ← C(x − γ(∇f_ξ(x) − λ∇f_ξ(θ)))`` with a compressor C (:func:`rand_k`,
  :func:`fixed_mask`),

with the iterate held as one array ``(S, Λ, *xshape)`` — no Python loop over seeds or λ. All λ of one
seed share the same samples ξ and compression masks (common random numbers), so differences
between λ values are not drowned in sampling noise.

The problem is given by a gradient *oracle* ``oracle(X, idx) -> G`` returning the mini-batch
gradient ``(1/B)Σ_{n∈idx}∇f_n`` at every iterate (``X``: ``(S, M, *xshape)``, ``idx``: ``(S, B)``)
and the teacher's per-sample gradients ``(N, *xshape)``. :func:`glm_oracle` builds it for the
linear models of :mod:`kdtheory.variance_reduction`.

Exact affine fast path. When the oracle is affine in x (least squares: ``oracle.affine = True``)
and x^0 is the same for every λ, the iterates of (7), (16) and (18) (samples and masks shared
across λ, C linear for a fixed mask) are exactly affine in λ — by induction,
``x_λ^t = (1 − λ) x_0^t + λ x_1^t``. So only the λ = 0 and λ = 1 trajectories are run (two per seed
instead of Λ) and the (S, Λ, d) iterate is formed only when observed and at the end.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

import numpy as np

from kdtheory import validation as V
from kdtheory import variance_reduction as vr

SAMPLING_MODES = ("with_replacement", "without_replacement", "epoch")


@dataclasses.dataclass(frozen=True)
class GLMOracle:
    """Mini-batch gradient oracle of a linear model of :mod:`kdtheory.variance_reduction`."""

    model: str
    A: np.ndarray
    b: np.ndarray
    xshape: tuple

    @property
    def affine(self) -> bool:
        """True when ∇f_n is affine in x (least squares), enabling the exact affine-in-λ path."""
        return self.model == "least_squares"

    @property
    def n_samples(self) -> int:
        return int(self.A.shape[0])

    def __call__(self, X, idx):
        return vr.minibatch_gradient(self.model, X, self.A, self.b, idx, check=False)

    def loss(self, X, idx):
        """Mini-batch losses ``(S, M)`` at iterates ``(S, M, *xshape)``."""
        return vr.minibatch_loss(self.model, X, self.A, self.b, idx)


def glm_oracle(model: str, A, b, *, K: int | None = None) -> GLMOracle:
    """Oracle for least squares / logistic / soft-max on lifted data ``A`` (see :func:`kdtheory.variance_reduction.lift`).

    Soft-max integer labels are one-hot encoded with ``K`` classes (default ``max(b) + 1``).
    """
    V.one_of("model", model, vr.MODELS)
    A = V.as_array("A", A, ndim=2)
    if model == "softmax":
        bb = np.asarray(b)
        if bb.ndim == 1:
            K = int(bb.max()) + 1 if K is None else int(K)
        else:
            K = bb.shape[1]
        x = np.zeros((A.shape[1], K))
        _, _, bb = vr._check_data(model, x, A, b)
        return GLMOracle(model, A, bb, (A.shape[1], K))
    _, _, bb = vr._check_data(model, np.zeros(A.shape[1]), A, b)
    return GLMOracle(model, A, bb, (A.shape[1],))


# ---------------------------------------------------------------------------------------------
# compressors (Assumption 4 and the fixed mask of Fig. 6)


@dataclasses.dataclass(frozen=True)
class RandK:
    """rand-k sparsification ``C(x) = (d/k)·x⊙m``, m a uniform random k-subset: unbiased, ω = d/k − 1.

    One mask per seed per step, shared by every λ of that seed (and by both components of the
    affine path), applied to the flattened parameter.
    """

    k: int

    def omega(self, d: int) -> float:
        return vr.rand_k_omega(d, self.k)

    def __call__(self, rng: np.random.Generator, Ys):
        S = Ys[0].shape[0]
        D = int(np.prod(Ys[0].shape[2:]))
        if self.k > D:
            raise ValueError(f"k must be <= the parameter dimension {D}, got {self.k}")
        if self.k == D:
            return Ys
        keys = rng.random((S, D))
        keep = np.argpartition(keys, self.k - 1, axis=1)[:, : self.k]
        m = np.zeros((S, D))
        np.put_along_axis(m, keep, D / self.k, axis=1)
        m = m.reshape((S, 1) + Ys[0].shape[2:])
        return tuple(Y * m for Y in Ys)


@dataclasses.dataclass(frozen=True)
class FixedMask:
    """A fixed 0/1 mask applied after every update (Fig. 6: random mask at initialisation, kept fixed).
    Biased (not Assumption 4): it projects onto a coordinate subspace."""

    mask: np.ndarray

    def __call__(self, rng, Ys):
        return tuple(Y * self.mask for Y in Ys)


def rand_k(k: int) -> RandK:
    """rand-k compressor with k kept coordinates (ω = d/k − 1)."""
    return RandK(int(V.scalar("k", k, lo=1, integer=True)))


def fixed_mask(mask) -> FixedMask:
    """Fixed 0/1 mask of the parameter's shape."""
    m = V.as_array("mask", mask)
    if np.any((m != 0) & (m != 1)):
        raise ValueError("mask must contain only 0 and 1")
    return FixedMask(m)


# ---------------------------------------------------------------------------------------------
# the engine


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """Output of :func:`simulate_distillation`.

    ``x``: final iterates ``(S, Λ, *xshape)``. ``windows``: for each observer name, the window
    averages ``(W, S, Λ)`` (window w averages the observations made in steps
    ``[w·window, (w+1)·window)``; with ``window`` = steps per epoch these are the paper's per-epoch
    running averages). ``window_ends``: the step at which each window closes. ``lams``: the grid.
    """

    x: np.ndarray
    lams: np.ndarray
    windows: dict
    window_ends: np.ndarray
    steps: int
    n_seeds: int

    def tail_mean(self, name: str, n_windows: int) -> np.ndarray:
        """Mean over seeds and the last ``n_windows`` windows: ``(Λ,)``."""
        return self.windows[name][-n_windows:].mean(axis=(0, 1))

    def tail_per_seed(self, name: str, n_windows: int) -> np.ndarray:
        """Per-seed mean over the last ``n_windows`` windows: ``(S, Λ)`` (for standard errors)."""
        return self.windows[name][-n_windows:].mean(axis=0)

    def tail_sem(self, name: str, n_windows: int) -> np.ndarray:
        """Standard error over seeds of :meth:`tail_mean`: ``(Λ,)`` (seeds are independent)."""
        v = self.tail_per_seed(name, n_windows)
        return v.std(axis=0, ddof=1) / np.sqrt(v.shape[0]) if v.shape[0] > 1 else np.zeros(v.shape[1])


def _sample(rng, mode, S, N, B, step, state):
    if mode == "with_replacement":
        return rng.integers(0, N, size=(S, B))
    if mode == "without_replacement":
        return np.argpartition(rng.random((S, N)), B - 1, axis=1)[:, :B]
    per_epoch = N // B
    j = step % per_epoch
    if j == 0:
        state["perm"] = rng.permuted(np.broadcast_to(np.arange(N), (S, N)), axis=1)
    return state["perm"][:, j * B:(j + 1) * B]


def simulate_distillation(
    oracle: Callable,
    x0,
    teacher_grads,
    lams,
    gamma: float,
    steps: int,
    *,
    n_seeds: int,
    rng: np.random.Generator,
    batch_size: int = 1,
    sampling: str = "with_replacement",
    unbiased: bool = False,
    compressor: Callable | None = None,
    observers: Mapping[str, Callable] | None = None,
    observe_every: int = 1,
    window: int | None = None,
    affine: bool | None = None,
    seed_block: int | None = None,
) -> SimulationResult:
    """Run iteration (7) / (16) / (18) for ``n_seeds`` seeds × every λ in ``lams`` at once.

    Parameters
    ----------
    oracle : callable ``(X, idx) -> G``, the mini-batch gradient (see module doc); optional
        attributes ``affine`` (bool) and ``n_samples`` (int; else ``len(teacher_grads)``).
    x0 : initial iterate ``xshape`` (shared by all seeds and λ).
    teacher_grads : ``(N, *xshape)`` per-sample gradients ∇f_n(θ) at the teacher θ.
    lams : 1-D grid of distillation weights (any real values; Algorithm 1 uses [0, 1]).
    gamma : step size γ > 0. steps : number of iterations.
    sampling : ``with_replacement`` (i.i.d. uniform batches), ``without_replacement``, or ``epoch``
        (a fresh permutation per seed each epoch, N//B batches per epoch).
    unbiased : add ``λ∇f(θ)`` (iteration 16). compressor : C of iteration (18), e.g. :func:`rand_k`.
    observers : ``name -> f(X, idx) -> (S, Λ)``, evaluated every ``observe_every`` steps on the
        iterate *before* the step (``idx`` is the batch of that step), averaged over windows of
        ``window`` steps (default ``steps`` → one window).
    affine : use the exact affine-in-λ path (default: ``oracle.affine``).
    seed_block : seeds updated per vectorised block (default: about 256 kB of iterates per block; the
        blocks share the step's samples and give the same iterates as one block).
    """
    gamma = V.positive("gamma", gamma)
    steps = int(V.scalar("steps", steps, lo=1, integer=True))
    S = int(V.scalar("n_seeds", n_seeds, lo=1, integer=True))
    B = int(V.scalar("batch_size", batch_size, lo=1, integer=True))
    V.one_of("sampling", sampling, SAMPLING_MODES)
    lams = V.as_array("lams", lams, ndim=1)
    if lams.size == 0:
        raise ValueError("lams must not be empty")
    x0 = V.as_array("x0", x0)
    tg = V.as_array("teacher_grads", teacher_grads)
    if tg.shape[1:] != x0.shape:
        raise ValueError(f"teacher_grads must have shape (N, *x0.shape) = (N, {x0.shape}), got {tg.shape}")
    N = int(getattr(oracle, "n_samples", tg.shape[0]))
    if tg.shape[0] != N:
        raise ValueError(f"teacher_grads must have N = {N} rows, got {tg.shape[0]}")
    if sampling != "with_replacement" and B > N:
        raise ValueError(f"batch_size must be <= N = {N} for sampling={sampling!r}, got {B}")
    if sampling == "epoch" and N // B == 0:
        raise ValueError("an epoch must contain at least one batch")
    observers = dict(observers or {})
    every = int(V.scalar("observe_every", observe_every, lo=1, integer=True))
    window = steps if window is None else int(V.scalar("window", window, lo=1, integer=True))
    if affine is None:
        affine = bool(getattr(oracle, "affine", False))

    tbar = tg.mean(axis=0)
    Lam = lams.reshape((1, -1) + (1,) * x0.ndim)
    # affine path: run only λ = 0 and λ = 1; every other λ is (1 − λ)·x_0 + λ·x_1 exactly
    run = np.array([0.0, 1.0]) if affine else lams
    Run = run.reshape((1, -1) + (1,) * x0.ndim)
    n_win = -(-steps // window)
    sums = {k: np.zeros((n_win, S, lams.size)) for k in observers}
    counts = np.zeros(n_win)
    state: dict = {}

    def full(X):
        if not affine:
            return X
        out = np.multiply(Lam, X[:, 1:2] - X[:, :1])  # one (S, Λ, d) allocation, then in place
        out += X[:, :1]
        return out

    X = np.broadcast_to(x0, (S, run.size) + x0.shape).copy()
    # the update is memory-bound: process seeds in blocks of about 256 kB of iterates so that the
    # several passes of one step stay in cache (measured ~2x faster for (1000, 50, 50) iterates)
    block = S if seed_block is None else int(V.scalar("seed_block", seed_block, lo=1, integer=True))
    if seed_block is None:
        per_seed = run.size * max(1, int(np.prod(x0.shape))) * 8 * max(1, B)
        if S * per_seed > (4 << 20):  # small problems (e.g. the affine path) run as one block
            block = min(S, max(64, (1 << 18) // per_seed))  # never fewer than 64 seeds per vectorised block
    for t in range(steps):
        idx = _sample(rng, sampling, S, N, B, t, state)
        if observers and t % every == 0:
            Xo = full(X)
            w = t // window
            for name, fn in observers.items():
                sums[name][w] += fn(Xo, idx)
            counts[w] += 1
        if B == 1:
            txi = tg[idx[:, 0]][:, None]                                          # ∇f_ξ(θ): (S, 1, *xshape)
        elif 4 * B >= N:  # large batches: a weighted sum of all rows (no (S, B, d) gather)
            W = np.zeros((S, N))
            np.add.at(W, (np.repeat(np.arange(S), B), idx.ravel()), 1.0 / B)
            txi = (W @ tg.reshape(N, -1)).reshape((S, 1) + tg.shape[1:])
        else:
            txi = tg[idx].mean(axis=1)[:, None]
        for s0 in range(0, S, block):  # seed blocks sized to stay in cache (same arithmetic, same draws)
            s1 = min(S, s0 + block)
            Xb = X[s0:s1]
            d = oracle(Xb, idx[s0:s1])
            d -= Run * txi[s0:s1]
            if unbiased:
                d += Run * tbar
            d *= gamma
            Xb -= d
        if compressor is not None:
            (X,) = compressor(rng, (X,))
    Xf = full(X)
    # a non-finite iterate stays non-finite (inf − inf, 0·inf give NaN), so one check at the end suffices
    if not np.all(np.isfinite(Xf)):
        raise ValueError(f"the iteration diverged: non-finite iterates after {steps} steps with gamma = {gamma:.6g} "
                         "(too large a step size for this problem, e.g. gamma > 1/L_max)")
    ends = np.minimum((np.arange(n_win) + 1) * window, steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        windows = {k: v / np.maximum(counts, 1)[:, None, None] for k, v in sums.items()}
    return SimulationResult(Xf, lams, windows, ends, steps, S)


def dist_sq_observer(x_star) -> Callable:
    """Observer ``‖x − x*‖²`` → ``(S, Λ)``."""
    xs = np.asarray(x_star, float)
    axes = tuple(range(2, 2 + xs.ndim))

    def f(X, idx):
        return np.sum((X - xs) ** 2, axis=axes)

    return f


def quadratic_gap_observer(A, x_star) -> Callable:
    """Observer ``f(x) − f*`` for least squares (:func:`kdtheory.variance_reduction.quadratic_gap`) → ``(S, Λ)``."""
    A = np.asarray(A, float)
    xs = np.asarray(x_star, float)

    def f(X, idx):
        return vr.quadratic_gap(X, A, xs)

    return f


def _check_least_squares_run(A, b, teacher_grads, gamma, lam):
    """Validated (A, b, teacher gradients, γ, λ) of the exact least-squares routes."""
    A = V.as_array("A", A, ndim=2)
    b = V.as_array("b", b, ndim=1)
    tg = V.as_array("teacher_grads", teacher_grads, ndim=2)
    if tg.shape != A.shape or b.shape[0] != A.shape[0]:
        raise ValueError(f"teacher_grads must have shape {A.shape} and b length {A.shape[0]}")
    return A, b, tg, V.positive("gamma", gamma), V.scalar("lam", lam)


def least_squares_stationary(A, b, teacher_grads, lam: float, gamma: float, *, x_star=None, unbiased: bool = False):
    """Exact stationary moments of iteration (7) (or (16) with ``unbiased``) for least squares with
    single-sample uniform sampling — an independent, Monte-Carlo-free route to what
    :func:`simulate_distillation` estimates.

    With H_n = 2ā_nā_nᵀ, M_n = I − γH_n and c_n = 2b_nā_n + λ∇f_n(θ) (− λ∇f(θ) when unbiased), the
    iterate obeys x' = M_n x + γc_n. The stationary mean solves H m = c̄ and the stationary second
    moment solves the Lyapunov-type equation S = E[M_n S M_nᵀ] + γE[M_n m c_nᵀ + c_n mᵀ M_nᵀ] + γ²E[c_n c_nᵀ],
    i.e. (I − E[M_n ⊗ M_n]) vec S = vec R. Returns ``(E‖x − x*‖², E f(x) − f*, spectral radius of
    E[M_n ⊗ M_n])``; the first two are ``inf`` when that radius is >= 1 (no stationary second moment).
    """
    A, b, tg, gamma, lam = _check_least_squares_run(A, b, teacher_grads, gamma, lam)
    N, d = A.shape
    xs = vr.minimizer("least_squares", A, b) if x_star is None else V.as_array("x_star", x_star, ndim=1)
    I = np.eye(d)
    Ms = I[None] - gamma * 2.0 * A[:, :, None] * A[:, None, :]          # (N, d, d)
    C = 2.0 * b[:, None] * A + lam * tg - (lam * tg.mean(axis=0) if unbiased else 0.0)
    H = vr.least_squares_hessian(A)
    m = np.linalg.lstsq(H, C.mean(axis=0), rcond=None)[0]
    T = np.einsum("nij,nkl->ikjl", Ms, Ms).reshape(d * d, d * d) / N    # E[M ⊗ M] acting on vec (row-major)
    radius = float(np.max(np.abs(np.linalg.eigvals(T))))
    if radius >= 1.0:
        return math.inf, math.inf, radius
    Mm = Ms @ m                                                          # (N, d)
    R = gamma * (np.einsum("ni,nj->ij", Mm, C) + np.einsum("ni,nj->ij", C, Mm)) / N + gamma**2 * C.T @ C / N
    S = np.linalg.solve(np.eye(d * d) - T, R.reshape(-1)).reshape(d, d)
    S = 0.5 * (S + S.T)
    E = S - np.outer(m, xs) - np.outer(xs, m) + np.outer(xs, xs)        # E[(x − x*)(x − x*)ᵀ]
    return float(np.trace(E)), float(np.sum(E * (A.T @ A / N))), radius


def rand_k_outcomes(x, k: int) -> np.ndarray:
    """Every equally likely outcome of rand-k, ``C(x) = (d/k)·x⊙mask`` over all k-subsets: shape
    ``(C(d, k), d)``. Averages over its rows are *exact* expectations over the compressor (App. E)."""
    from itertools import combinations
    x = V.as_array("x", x, ndim=1)
    d = x.shape[0]
    k = int(V.scalar("k", k, lo=1, hi=d, integer=True))
    subsets = list(combinations(range(d), k))
    out = np.zeros((len(subsets), d))
    for i, S in enumerate(subsets):
        out[i, list(S)] = x[list(S)] * d / k
    return out


def least_squares_moments(A, b, teacher_grads, lam: float, gamma: float, x0, steps: int, *, x_star=None,
                          unbiased: bool = False, batch_size: int = 1):
    """Exact first and second moments of iteration (7) (or (16)) for least squares over t = 0..steps,
    started at a deterministic x^0 — the transient that :func:`least_squares_stationary` leaves out.

    x' = M_ξ x + γc_ξ with M_ξ = I − γH_ξ (H_ξ the mini-batch Hessian) and c_ξ as in
    :func:`least_squares_stationary`, batches of ``batch_size`` drawn uniformly with replacement; then
    m' = E[M]m + γE[c] and S' = E[M S Mᵀ] + γE[M m cᵀ + c mᵀ Mᵀ] + γ²E[c cᵀ] (ξ independent of x).
    For a batch of b with-replacement samples the moments of (M_ξ, c_ξ) are those of a single sample with
    the centred parts scaled by 1/b. Returns ``(E‖x^t − x*‖², E f(x^t) − f*)`` as two arrays of length
    ``steps + 1``.
    """
    A, b, tg, gamma, lam = _check_least_squares_run(A, b, teacher_grads, gamma, lam)
    steps = int(V.scalar("steps", steps, lo=0, integer=True))
    bs = int(V.scalar("batch_size", batch_size, lo=1, integer=True))
    N, d = A.shape
    xs = vr.minimizer("least_squares", A, b) if x_star is None else V.as_array("x_star", x_star, ndim=1)
    x0 = V.as_array("x0", x0, ndim=1)
    Hn = 2.0 * A[:, :, None] * A[:, None, :]
    Cn = 2.0 * b[:, None] * A + lam * tg - (lam * tg.mean(axis=0) if unbiased else 0.0)
    Hm, Cm = Hn.mean(axis=0), Cn.mean(axis=0)
    Hc, Cc = Hn - Hm, Cn - Cm
    I = np.eye(d)
    EM = I - gamma * Hm
    # second-order moments of (M, c) for a batch: E[M S Mᵀ] = EM S EMᵀ + γ²/b E[Hc S Hc], etc.
    EccT = np.outer(Cm, Cm) + Cc.T @ Cc / (N * bs)
    Sx = np.outer(x0, x0)
    m = x0.copy()
    dist, gap = np.empty(steps + 1), np.empty(steps + 1)
    G = A.T @ A / N
    for t in range(steps + 1):
        E = Sx - np.outer(m, xs) - np.outer(xs, m) + np.outer(xs, xs)
        dist[t], gap[t] = float(np.trace(E)), float(np.sum(E * G))
        if t == steps:
            break
        MSM = EM @ Sx @ EM.T + gamma**2 * np.einsum("nij,jk,nlk->il", Hc, Sx, Hc) / (N * bs)
        # E[M m cᵀ] = EM m Cmᵀ − γ E[Hc m Ccᵀ]/b
        McT = np.outer(EM @ m, Cm) - gamma * np.einsum("nij,j,nk->ik", Hc, m, Cc) / (N * bs)
        Sx = MSM + gamma * (McT + McT.T) + gamma**2 * EccT
        Sx = 0.5 * (Sx + Sx.T)
        m = EM @ m + gamma * Cm
    return dist, gap
