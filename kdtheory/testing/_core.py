"""Generic hypothesis strategies: Gram matrices with a chosen spectrum, orthogonal matrices, generators.

Statement
---------
``gram_matrices`` draws symmetric positive definite (or, with ``semidefinite=True``, positive
semi-definite, possibly singular) matrices ``G = Q diag(w) Qᵀ`` whose non-zero eigenvalues ``w``
span exactly the requested condition number ``κ = w_max / w_min`` (up to round-off: the relative
error of ``numpy.linalg.cond`` is ~1e-12·κ). ``Q`` is Haar-distributed (QR of a Gaussian matrix with
the sign fix of Mezzadri 2007). These are the kernel/covariance/Hessian matrices of the papers:
H̄ of paper 001, the Green's Gram matrix of paper 002 (for its generic properties), X Xᵀ of paper 003.

All strategies take keyword-only arguments and check them when the strategy is built (before any
example is drawn), raising ``TypeError``/``ValueError`` naming the argument — the style of
``xarray.testing.strategies``.

References
----------
F. Mezzadri (2007), How to generate random matrices from the classical compact groups,
Notices AMS 54(5).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from hypothesis import strategies as st

from kdtheory import validation as V

__all__ = ["generators", "gram_matrices", "orthogonal_matrices", "spectra"]

#: Largest condition number a strategy accepts: beyond ~1e12 the requested κ cannot be verified in
#: double precision (eigenvalues below ~1e-16·w_max are round-off).
MAX_CONDITION = 1e12


def _int(name: str, v, lo: int, hi: int | None = None) -> int:
    return V.count(name, v, lo=lo, hi=V.MAX_COUNT if hi is None else hi, strict=True)


def _real(name: str, v, *, lo: float, lo_open: bool = False, hi: float | None = None) -> float:
    v = V.scalar(name, v)  # a finite real (TypeError / ValueError naming the argument)
    if v < lo or (lo_open and v == lo) or (hi is not None and v > hi):
        rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else '∞'}]"
        raise ValueError(f"{name} must lie in {rng}, got {v}")
    return v


def _size_range(n, min_n, max_n, floor=1, cap=64) -> tuple[int, int]:
    lo = _int("min_n", min_n, floor, cap)  # checked even when n overrides them
    hi = _int("max_n", max_n, floor, cap)
    if n is not None:
        n = _int("n", n, floor, cap)
        return n, n
    if hi < lo:
        raise ValueError(f"max_n ({hi}) must be >= min_n ({lo})")
    return lo, hi


def _cond_range(condition_number, min_condition, max_condition) -> tuple[float, float]:
    lo = _real("min_condition", min_condition, lo=1.0, hi=MAX_CONDITION)  # checked even when overridden
    hi = _real("max_condition", max_condition, lo=1.0, hi=MAX_CONDITION)
    if condition_number is not None:
        k = _real("condition_number", condition_number, lo=1.0, hi=MAX_CONDITION)
        return k, k
    if hi < lo:
        raise ValueError(f"max_condition ({hi}) must be >= min_condition ({lo})")
    return lo, hi


def generators() -> st.SearchStrategy[np.random.Generator]:
    """``numpy.random.Generator`` objects seeded from a drawn 64-bit seed (shrinks towards seed 0).

    The argument every kdtheory/verification function that draws randomness takes; the seed is
    visible in hypothesis' falsifying example through the generator's ``bit_generator.seed_seq``.
    """
    return st.integers(0, 2**64 - 1).map(lambda s: np.random.default_rng(s))


def orthogonal_matrices(*, n: int) -> st.SearchStrategy[np.ndarray]:
    """Haar-distributed ``n × n`` orthogonal matrices (``QᵀQ = I`` to ~1e-15)."""
    n = _int("n", n, 1, 512)

    def build(seed):
        rng = np.random.default_rng(seed)
        Z = rng.standard_normal((n, n))
        Q, R = np.linalg.qr(Z)
        return Q * np.sign(np.where(np.diag(R) == 0, 1.0, np.diag(R)))

    return st.integers(0, 2**32 - 1).map(build)


def spectra(*, n: int | None = None, min_n: int = 1, max_n: int = 8, condition_number: float | None = None,
            min_condition: float = 1.0, max_condition: float = 1e3, scale: float = 1.0
            ) -> st.SearchStrategy[np.ndarray]:
    """Ascending positive eigenvalue vectors with ``max/min`` equal to a drawn (or given) condition number.

    The largest eigenvalue is ``scale``, the smallest ``scale/κ`` (both present when ``n ≥ 2``; for
    ``n = 1`` the only eigenvalue is ``scale`` and κ = 1 is required), the others log-uniform in between.
    """
    lo_n, hi_n = _size_range(n, min_n, max_n)
    k_lo, k_hi = _cond_range(condition_number, min_condition, max_condition)
    scale = _real("scale", scale, lo=0.0, lo_open=True)
    if hi_n == 1 and k_lo > 1.0:
        raise ValueError(f"a 1x1 matrix has condition number 1; got condition range [{k_lo}, {k_hi}] with max_n = 1")
    if scale / k_hi < np.finfo(float).tiny:  # subnormal smallest eigenvalue: κ would not be exact
        raise ValueError(f"scale/condition underflows: scale={scale}, condition up to {k_hi}")

    @st.composite
    def build(draw):
        size = draw(st.integers(max(lo_n, 2) if k_lo > 1 else lo_n, hi_n))
        if size == 1:
            return np.array([scale])
        kappa = k_lo if k_lo == k_hi else math.exp(draw(st.floats(math.log(k_lo), math.log(k_hi))))
        inner = draw(st.lists(st.floats(0.0, 1.0), min_size=size - 2, max_size=size - 2))
        logs = np.concatenate([[0.0], np.asarray(inner, dtype=float), [1.0]])
        lo_w = scale / kappa
        # in [scale/κ, scale]: clip the interior (round-off may cross an end), then set the ends exactly
        w = np.sort(np.clip(scale * kappa ** (logs - 1.0), lo_w, scale))
        w[0], w[-1] = lo_w, scale
        return w

    return build()


def gram_matrices(*, n: int | None = None, min_n: int = 1, max_n: int = 8, condition_number: float | None = None,
                  min_condition: float = 1.0, max_condition: float = 1e3, scale: float = 1.0,
                  semidefinite: bool = False, rank: int | None = None) -> st.SearchStrategy[np.ndarray]:
    """Symmetric positive definite ``n × n`` matrices with a chosen condition number.

    ``condition_number`` fixes κ = λ_max/λ_min exactly; otherwise κ is drawn log-uniformly from
    ``[min_condition, max_condition]``. ``scale`` is λ_max. With ``semidefinite=True`` the matrix is
    positive semi-definite of rank ``rank`` (drawn in ``[1, n]`` when ``None``; ``n − rank`` eigenvalues
    are exactly 0 before rotation) and κ refers to its non-zero eigenvalues. The result is exactly
    symmetric (``G == G.T``).
    """
    lo_n, hi_n = _size_range(n, min_n, max_n)
    k_lo, k_hi = _cond_range(condition_number, min_condition, max_condition)
    scale = _real("scale", scale, lo=0.0, lo_open=True)
    semidefinite = V.flag("semidefinite", semidefinite)
    if rank is not None:
        if not semidefinite:
            raise ValueError("rank is only meaningful with semidefinite=True (a definite matrix has full rank)")
        rank = _int("rank", rank, 1, hi_n)
        if rank < 2 and k_lo > 1.0:
            raise ValueError(f"rank 1 leaves one non-zero eigenvalue: condition number must be 1, got >= {k_lo}")
    elif hi_n == 1 and k_lo > 1.0:
        raise ValueError(f"a 1x1 matrix has condition number 1; got condition range [{k_lo}, {k_hi}] with max_n = 1")
    min_size = max(lo_n, rank or 1, 2 if (k_lo > 1.0 and rank is None) else 1)
    if min_size > hi_n:
        raise ValueError(f"no size in [{lo_n}, {hi_n}] fits rank={rank} and condition >= {k_lo}")

    @st.composite
    def build(draw):
        size = draw(st.integers(min_size, hi_n))
        if semidefinite:
            r_lo = 2 if k_lo > 1.0 else 1
            r = rank if rank is not None else draw(st.integers(min(r_lo, size), size))
        else:
            r = size
        w = draw(spectra(n=r, condition_number=None if k_lo != k_hi else k_lo,
                         min_condition=k_lo, max_condition=k_hi, scale=scale)) if r > 1 else np.array([scale])
        full = np.concatenate([np.zeros(size - r), w])
        Q = draw(orthogonal_matrices(n=size))
        G = (Q * full) @ Q.T
        return 0.5 * (G + G.T)

    return build()
