"""Argument validation for kdtheory: the one public layer every public function checks its input with.

Import it under one alias everywhere::

    from kdtheory import validation as V

    def my_bound(G, t, *, tol=1e-9, rng):
        w, Q = V.psd_eigh("G", G)          # symmetric PSD, tolerance relative to the largest eigenvalue
        t = V.positive("t", t)
        tol = V.tolerance("tol", tol)
        rng = V.generator("rng", rng)
        ...

Rules (the scipy pattern: validate once at the edge, private kernels assume valid input):

* every check raises ``TypeError`` (wrong kind of object: ``None``, a string, complex, object or bool
  where a number is meant, a truthy string where a flag is meant) or ``ValueError`` (right kind, bad value:
  NaN/inf, out of range, wrong shape, not PSD, off the simplex), and the message starts with the
  argument's name and states the condition;
* nothing is silently converted: complex input is never truncated to its real part, ``True`` is not the
  number 1, ``2.5`` is not the count 2, ``1e300`` is not a count (counts are capped at ``MAX_COUNT``);
* results of user callables are checked with :func:`callable_output` (shape and finiteness), and a
  computed result that is not finite is reported by :func:`finite_result` naming the inputs instead of
  travelling on as NaN.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

__all__ = [
    "MAX_COUNT", "as_array", "callable_output", "count", "finite_result", "flag", "generator", "indices", "nonnegative",
    "one_of", "positive", "probability", "probability_vector", "psd", "psd_eigh", "same_shape", "scalar",
    "shape", "square_symmetric", "tolerance",
]

#: Largest integer accepted where a count (size, number of iterations, samples, classes, …) is meant.
MAX_COUNT = 2 ** 31


def _kind(x) -> str:
    return type(x).__name__


def _check_dtype(name: str, a: np.ndarray, *, allow_bool: bool = False) -> None:
    k = a.dtype.kind
    if k == "c":
        raise TypeError(f"{name} must be real, got a complex array (its imaginary part would be dropped)")
    if k == "b" and not allow_bool:
        raise TypeError(f"{name} must be numeric, got a boolean array (True is not the number 1)")
    if k not in "biuf":
        raise TypeError(f"{name} must be array-like of real numbers, got dtype {a.dtype}")


def as_array(name: str, x, *, ndim: int | tuple[int, ...] | None = None, dtype=float,
             min_size: int | None = None, allow_bool: bool = False, allow_neg_inf: bool = False) -> np.ndarray:
    """``x`` as a finite real array (a copy-free ``float`` view when possible).

    Rejects ``None``, strings, complex, object and boolean dtypes (TypeError), and NaN/inf entries, a
    number of dimensions outside ``ndim`` or fewer than ``min_size`` entries (ValueError).
    ``allow_neg_inf``: −inf entries are values (a log of exact zeros), NaN and +inf still are errors.
    """
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be array-like of real numbers, got {_kind(x)}")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of real numbers: {exc}") from None
    if raw.dtype.kind == "O":
        try:  # a list mixing numpy scalars and floats is fine; anything else is not a number
            raw = np.asarray(x, dtype=float) if all(isinstance(e, numbers.Real) and not isinstance(e, bool)
                                                   for e in raw.ravel()) else raw
        except (TypeError, ValueError):
            pass
    _check_dtype(name, raw, allow_bool=allow_bool or dtype is bool)
    a = raw.astype(dtype, copy=False) if dtype is not None else raw
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {a.shape}")
    if min_size is not None and a.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} entr{'y' if min_size == 1 else 'ies'}, "
                         f"got shape {a.shape}")
    if a.size and a.dtype.kind == "f" and not np.all(np.isfinite(a) | (allow_neg_inf & np.isneginf(a))):
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a) | (allow_neg_inf & np.isneginf(a))))
        raise ValueError(f"{name} contains {bad} NaN/inf value(s)")
    return a


def shape(name: str, a: np.ndarray, expected: tuple) -> np.ndarray:
    """Raise unless ``a.shape`` matches ``expected`` (``None`` entries match any length)."""
    if a.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, a.shape)):
        want = "(" + ", ".join("·" if e is None else str(e) for e in expected) + (",)" if len(expected) == 1 else ")")
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    return a


def scalar(name: str, x, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, integer: bool = False,
           max_int: int = MAX_COUNT) -> float:
    """A finite real scalar in [lo, hi] (ends open when asked); returns float (or int when ``integer``).

    ``integer=True`` also requires an integral value of magnitude at most ``max_int`` (``2.5`` and
    ``1e300`` are not counts). Python/numpy bools and complex numbers are rejected (TypeError).
    """
    if isinstance(x, np.ndarray) and x.ndim == 0:
        _check_dtype(name, x)
        x = x[()]
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {_kind(x)}")
    if integer and isinstance(x, (numbers.Integral, np.integer)):
        v = int(x)
    else:
        v = float(x)
        if not math.isfinite(v):
            raise ValueError(f"{name} must be finite, got {v}")
    if integer:
        if v != int(v):
            raise ValueError(f"{name} must be an integer, got {x}")
        if abs(v) > max_int:
            raise ValueError(f"{name} must be an integer of magnitude <= {max_int}, got {x}")
        v = int(v)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {x}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {x}")
    return v


def count(name: str, x, *, lo: int = 1, hi: int = MAX_COUNT, strict: bool = False) -> int:
    """An integer count in [lo, hi] (default: at least 1, at most ``MAX_COUNT``).

    ``strict``: the value must be of an integer type (``3.0`` is a TypeError, as for hypothesis strategies'
    size arguments); otherwise an integral float is accepted.
    """
    if strict and (isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Integral, np.integer))):
        raise TypeError(f"{name} must be an integer, got {_kind(x)} {x!r}")
    return scalar(name, x, lo=lo, hi=hi, integer=True, max_int=max(abs(hi), MAX_COUNT))


def positive(name: str, x) -> float:
    """A finite scalar > 0."""
    return scalar(name, x, lo=0.0, lo_open=True)


def nonnegative(name: str, x) -> float:
    """A finite scalar >= 0."""
    return scalar(name, x, lo=0.0)


def tolerance(name: str, x, *, allow_zero: bool = False) -> float:
    """A finite tolerance > 0 (or >= 0 with ``allow_zero``): a NaN tolerance would change answers silently."""
    return scalar(name, x, lo=0.0, lo_open=not allow_zero)


def probability(name: str, x, *, open_ends: bool = False) -> float:
    """A scalar in [0, 1] (or (0, 1) when ``open_ends``)."""
    return scalar(name, x, lo=0.0, hi=1.0, lo_open=open_ends, hi_open=open_ends)


def flag(name: str, x) -> bool:
    """A real bool (``True``/``False``/``numpy.bool_``); a truthy string like ``'no'`` is a TypeError."""
    if not isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {_kind(x)} {x!r}")
    return bool(x)


def generator(name: str, rng, *, seed_ok: bool = False) -> np.random.Generator:
    """A ``numpy.random.Generator`` (with ``seed_ok``, also an integer seed, turned into ``default_rng(seed)``)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if seed_ok and isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{name} as a seed must be >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    what = "a numpy.random.Generator or an integer seed" if seed_ok else "a numpy.random.Generator"
    raise TypeError(f"{name} must be {what} (np.random.default_rng(seed)), got {_kind(rng)}")


def same_shape(names: tuple[str, str], a: np.ndarray, b: np.ndarray) -> None:
    """Raise unless two arrays have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}")


def square_symmetric(name: str, G, *, rtol: float = 1e-8) -> np.ndarray:
    """A finite square matrix that is symmetric up to ``rtol·max|G|`` (returned symmetrised)."""
    G = as_array(name, G, ndim=2)
    if G.shape[0] != G.shape[1]:
        raise ValueError(f"{name} must be square, got shape {G.shape}")
    if G.size == 0:
        raise ValueError(f"{name} must not be empty")
    big = float(np.max(np.abs(G)))
    if not math.isfinite(big * 2.0):
        raise ValueError(f"{name} is too large to symmetrise in double precision (max |entry| {big:.3g})")
    asym = float(np.max(np.abs(G - G.T)))
    if asym > rtol * big:
        raise ValueError(f"{name} must be symmetric: max |{name} - {name}ᵀ| = {asym:.3g}")
    return 0.5 * (G + G.T)


def _psd_floor(w: np.ndarray, rtol: float) -> float:
    top = float(np.max(np.abs(w), axis=-1, initial=0.0).max()) if w.size else 0.0
    return -rtol * top


def psd_eigh(name: str, G, *, rtol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Eigendecomposition of a symmetric positive semi-definite matrix.

    Returns ``(eigenvalues ascending, eigenvectors)``, with round-off negatives (above
    ``-rtol·λ_max``, relative to the largest eigenvalue in magnitude) clipped to 0. A clearly negative
    eigenvalue (an indefinite or negative-definite matrix) is a ValueError that states it.
    """
    G = square_symmetric(name, G)
    w, Q = np.linalg.eigh(G)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name}: eigendecomposition not finite (entries too large: max |entry| {np.abs(G).max():.3g})")
    if w[0] < _psd_floor(w, rtol):
        raise ValueError(f"{name} must be positive semi-definite: smallest eigenvalue {w[0]:.6g} < 0 "
                         f"(largest {w[-1]:.6g})")
    return np.clip(w, 0.0, None), Q


def psd(name: str, G, *, rtol: float = 1e-9, batch: bool = False) -> np.ndarray:
    """A symmetric PSD matrix (or, with ``batch``, a stack ``(K, n, n)`` of them), returned symmetrised.

    The PSD test allows eigenvalues down to ``-rtol·λ_max`` of each matrix (round-off); a negative-definite
    or indefinite matrix is a ValueError naming the argument (and, for a stack, the block).
    """
    if not batch:
        psd_eigh(name, G, rtol=rtol)
        return square_symmetric(name, G)
    H = as_array(name, G, ndim=3)
    if H.shape[1] != H.shape[2] or H.shape[0] == 0 or H.shape[1] == 0:
        raise ValueError(f"{name} must have shape (K, n, n) with K, n >= 1 (a stack of square matrices), got shape {H.shape}")
    big = float(np.max(np.abs(H)))
    if not math.isfinite(big * 2.0):
        raise ValueError(f"{name} is too large to symmetrise in double precision (max |entry| {big:.3g})")
    asym = float(np.max(np.abs(H - np.swapaxes(H, 1, 2))))
    if asym > 1e-8 * big:
        raise ValueError(f"{name} must be symmetric blocks (a stack of symmetric matrices): max asymmetry {asym:.3g}")
    H = 0.5 * (H + np.swapaxes(H, 1, 2))
    w = np.linalg.eigvalsh(H)
    for k in range(H.shape[0]):
        if w[k, 0] < _psd_floor(w[k], rtol):
            raise ValueError(f"{name}[{k}] must be positive semi-definite: smallest eigenvalue {w[k, 0]:.6g} < 0")
    return H


def probability_vector(name: str, p, *, axis: int = -1, atol: float = 1e-8) -> np.ndarray:
    """Entries in [0, 1] summing to 1 along ``axis`` (says by how much they miss)."""
    p = as_array(name, p)
    if p.size == 0:
        raise ValueError(f"{name} must not be empty")
    if p.ndim == 0:
        raise ValueError(f"{name} must be a probability vector (at least 1-d), got a scalar")
    if np.any(p < -atol):
        raise ValueError(f"{name} has negative entries (min {p.min():.3g})")
    s = p.sum(axis=axis)
    worst = float(np.max(np.abs(s - 1.0)))
    if worst > atol:
        raise ValueError(f"{name} must sum to 1 along axis {axis}; off by up to {worst:.3g}")
    return np.clip(p, 0.0, None)


def one_of(name: str, x, options) -> str:
    """A string from a fixed set of options (a non-string is a TypeError)."""
    if not isinstance(x, str):
        raise TypeError(f"{name} must be a string, one of {sorted(options)}, got {_kind(x)}")
    if x not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {x!r}")
    return x


def indices(name: str, idx, n: int, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """An integer index array with every entry in ``[0, n)`` (negative indices would silently wrap around)."""
    if idx is None or isinstance(idx, (str, bytes)):
        raise TypeError(f"{name} must be an integer index array, got {_kind(idx)}")
    a = np.asarray(idx)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer index array, got dtype {a.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if a.min() < 0 or a.max() >= n:
        raise ValueError(f"{name} entries must lie in [0, {n}), got [{a.min()}, {a.max()}]")
    return a


def function(name: str, f) -> Callable:
    """A callable (user-supplied function); its outputs are checked later with :func:`callable_output`."""
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {_kind(f)}")
    return f


def callable_output(name: str, value, *, shape: tuple | None = None, allow_bool: bool = False) -> np.ndarray:
    """The output of the user callable ``name`` as a finite real array (of ``shape`` when given).

    The message says it is the callable's output that is wrong, so a bad kernel, activation or
    probability function is reported as such instead of turning into a NaN result.
    """
    a = as_array(f"{name} (its output)", value, allow_bool=allow_bool)
    if shape is not None:
        _shape(f"{name} (its output)", a, shape)
    return a


_shape = shape


def finite_result(value, *, inputs: Iterable[str] | str, what: str = "result"):
    """Return ``value`` when every entry is finite; otherwise a ValueError naming the inputs that produced it.

    For the rare result that overflows although every argument was valid on its own (use overflow-safe
    forms first: scale before squaring, log-space products).
    """
    a = np.asarray(value, dtype=float)
    if a.size and not np.all(np.isfinite(a)):
        names = inputs if isinstance(inputs, str) else ", ".join(inputs)
        raise ValueError(f"{names}: the {what} is not finite in double precision (overflow/underflow); "
                         f"rescale {names}")
    return value


__all__.append("function")
