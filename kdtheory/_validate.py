"""Argument checks shared by every kdtheory module.

Each raises a ``ValueError`` (or ``TypeError``) whose message names the argument and the violated
condition, so that bad input never turns into a NaN that travels on or a bare ``LinAlgError``.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_array(name: str, x, *, ndim: int | tuple[int, ...] | None = None, dtype=float) -> np.ndarray:
    """``x`` as a finite float array, optionally of a given number of dimensions."""
    try:
        a = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {a.shape}")
    if a.size and not np.all(np.isfinite(a)):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(f"{name} contains {bad} NaN/inf value(s)")
    return a


def scalar(name: str, x, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, integer: bool = False) -> float:
    """A finite real scalar in [lo, hi] (ends open when asked); returns float (or int when ``integer``)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.number)):
        if not (isinstance(x, np.ndarray) and x.ndim == 0):
            raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if integer:
        if v != int(v):
            raise ValueError(f"{name} must be an integer, got {x}")
        v = int(v)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {x}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {x}")
    return v


def positive(name: str, x) -> float:
    """A finite scalar > 0."""
    return scalar(name, x, lo=0.0, lo_open=True)


def nonnegative(name: str, x) -> float:
    """A finite scalar >= 0."""
    return scalar(name, x, lo=0.0)


def probability(name: str, x, *, open_ends: bool = False) -> float:
    """A scalar in [0, 1] (or (0, 1) when ``open_ends``)."""
    return scalar(name, x, lo=0.0, hi=1.0, lo_open=open_ends, hi_open=open_ends)


def same_shape(names: tuple[str, str], a: np.ndarray, b: np.ndarray) -> None:
    """Raise unless two arrays have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}")


def square_symmetric(name: str, G, *, rtol: float = 1e-8) -> np.ndarray:
    """A finite square matrix that is symmetric up to ``rtol`` (returned symmetrised)."""
    G = as_array(name, G, ndim=2)
    if G.shape[0] != G.shape[1]:
        raise ValueError(f"{name} must be square, got shape {G.shape}")
    scale = max(1.0, float(np.max(np.abs(G)))) if G.size else 1.0
    asym = float(np.max(np.abs(G - G.T))) if G.size else 0.0
    if asym > rtol * scale:
        raise ValueError(f"{name} must be symmetric: max |{name} - {name}ᵀ| = {asym:.3g}")
    return 0.5 * (G + G.T)


def psd_eigh(name: str, G, *, rtol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Eigendecomposition of a symmetric positive semi-definite matrix.

    Returns ``(eigenvalues ascending, eigenvectors)``, with round-off negatives (above
    ``-rtol·λ_max``) clipped to 0. A clearly negative eigenvalue is an error that states it.
    """
    G = square_symmetric(name, G)
    w, V = np.linalg.eigh(G)
    floor = -rtol * max(1.0, float(np.max(np.abs(w)))) if w.size else 0.0
    if w.size and w[0] < floor:
        raise ValueError(f"{name} must be positive semi-definite: smallest eigenvalue {w[0]:.6g} < 0")
    return np.clip(w, 0.0, None), V


def probability_vector(name: str, p, *, axis: int = -1, atol: float = 1e-8) -> np.ndarray:
    """Entries in [0, 1] summing to 1 along ``axis`` (says by how much they miss)."""
    p = as_array(name, p)
    if p.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.any(p < -atol):
        raise ValueError(f"{name} has negative entries (min {p.min():.3g})")
    s = p.sum(axis=axis)
    worst = float(np.max(np.abs(s - 1.0)))
    if worst > atol:
        raise ValueError(f"{name} must sum to 1 along axis {axis}; off by up to {worst:.3g}")
    return np.clip(p, 0.0, None)


def one_of(name: str, x, options) -> str:
    """A string from a fixed set of options."""
    if x not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {x!r}")
    return x
