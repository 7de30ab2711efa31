"""Argument kinds for the bad-input battery: each kind holds one valid value and knows its bad values.

A kind's ``bad()`` lists ``(label, value)`` pairs that every public function must reject with a
``ValueError``/``TypeError`` whose message names the argument; ``extreme()`` lists valid-but-extreme values
(1e±300 scales) for which the function must either return a finite result or raise such an error (never
NaN/inf travelling on, never a bare OverflowError).
"""

from __future__ import annotations

import copy

import numpy as np

_NAN_OUT = object()


class Kind:
    """Base kind: one valid value; ``None`` and a string are bad for every kind unless ``optional``."""

    def __init__(self, valid, *, skip=(), optional: bool = False, extra=(), extreme=True):
        self._valid = valid
        self.skip = set(skip)
        self.optional = optional
        self.extra = list(extra)
        self._extreme = extreme

    def valid(self):
        v = self._valid
        return v() if callable(v) and not isinstance(v, type) and getattr(v, "_factory", False) else copy.deepcopy(v)

    def _bad(self):
        out = [("str", "bogus")]
        if not self.optional:
            out.append(("None", None))
        return out

    def bad(self):
        return [(lbl, v) for lbl, v in self._bad() + self.extra if lbl not in self.skip]

    def _extremes(self):
        return []

    def extreme(self):
        return [(lbl, v) for lbl, v in self._extremes() if lbl not in self.skip] if self._extreme else []


def factory(f):
    """Mark a zero-argument function as a factory of the valid value (called for every case)."""
    f._factory = True
    return f


class Obj(Kind):
    """An object of a specific type (a dataclass, a task): None, a string and a number are bad."""

    def _bad(self):
        return super()._bad() + [("number", 3.0)]


class Arr(Kind):
    """A real array of the valid value's shape."""

    def _bad(self):
        v = np.asarray(self.valid(), dtype=float)
        out = super()._bad() + [
            ("nan", _with(v, np.nan)), ("inf", _with(v, np.inf)), ("-inf", _with(v, -np.inf)),
            ("complex", v * (1 + 1j) + 1j), ("object", np.array([object()] * max(v.size, 1), dtype=object)),
            ("list-of-str", [["a"] * max(v.shape[-1] if v.ndim else 1, 1)] * (v.shape[0] if v.ndim > 1 else 1)
             if v.ndim > 1 else ["a"] * (v.shape[0] if v.ndim else 1)),
            ("bool", np.ones(v.shape, dtype=bool)),
        ]
        if v.ndim >= 1:
            out += [("empty", np.empty((0,) + v.shape[1:])), ("0-d", np.float64(1.0)), ("extra-dim", v[..., None])]
        return out

    def _extremes(self):
        v = np.asarray(self.valid(), dtype=float)
        return [("1e300", v * 1e300), ("1e-300", v * 1e-300)]


def _with(v, x):
    w = np.array(v, dtype=float, copy=True)
    if w.ndim == 0:
        return np.float64(x)
    if w.size == 0:
        return w
    w.flat[0] = x
    return w


class Prob(Arr):
    """A probability vector (or rows of them along the last axis)."""

    def _bad(self):
        v = np.asarray(self.valid(), dtype=float)
        neg = v.copy()
        neg[..., 0] = -0.25
        neg[..., -1] += 0.25 + v[..., 0]
        return [b for b in super()._bad() if b[0] != "extra-dim"] + [("off-simplex", v * 2.0), ("negative", neg)]

    def _extremes(self):
        return []


class PSD(Arr):
    """A symmetric positive semi-definite matrix (or a stack of them, ``batch=True``)."""

    def _bad(self):
        v = np.asarray(self.valid(), dtype=float)
        asym = v.copy()
        asym[..., 0, -1] += 1.0
        w, Q = np.linalg.eigh(0.5 * (v + np.swapaxes(v, -1, -2)))
        w[..., 0] = -0.5 * np.abs(w[..., -1]) - 0.1  # one clearly negative eigenvalue, the others kept
        indef = np.einsum("...ik,...k,...jk->...ij", Q, w, Q)
        return [b for b in super()._bad() if b[0] not in ("extra-dim",)] + [
            ("negative-definite", -v - np.eye(v.shape[-1])), ("indefinite", 0.5 * (indef + np.swapaxes(indef, -1, -2))),
            ("non-symmetric", asym), ("non-square", v[..., :-1, :])]


class Real(Kind):
    """A finite real scalar (any sign unless a subclass restricts it)."""

    def _bad(self):
        return super()._bad() + [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf), ("complex", 1 + 1j),
                                 ("bool", True), ("array", np.ones(2))]

    def _extremes(self):
        v = float(self.valid())
        return [("1e300", 1e300 if v >= 0 else -1e300), ("1e-300", 1e-300 if v >= 0 else -1e-300)]


class Pos(Real):
    """A finite scalar > 0."""

    def _bad(self):
        return super()._bad() + [("zero", 0.0), ("negative", -1.0)]


class NonNeg(Real):
    """A finite scalar >= 0."""

    def _bad(self):
        return super()._bad() + [("negative", -1.0)]


class Unit(Real):
    """A scalar probability in [0, 1] (or (0, 1))."""

    def _bad(self):
        return super()._bad() + [("above-1", 1.5), ("negative", -0.5)]

    def _extremes(self):
        return []


class Tol(Real):
    """A tolerance: finite and > 0."""

    def _bad(self):
        return super()._bad() + [("zero", 0.0), ("negative", -1e-9)]

    def _extremes(self):
        return []


class Count(Kind):
    """An integer count >= ``lo`` (default 1): non-integral, huge, bool and complex values are bad."""

    def __init__(self, valid, *, lo: int = 1, **kw):
        super().__init__(valid, **kw)
        self.lo = lo

    def _bad(self):
        return super()._bad() + [("non-integral", 2.5), ("below-min", self.lo - 1), ("negative", -3),
                                 ("1e300", 1e300), ("2**40", 2 ** 40), ("bool", True), ("nan", np.nan),
                                 ("inf", np.inf), ("complex", 2 + 0j)]


class Flag(Kind):
    """A real bool: truthy strings and numbers are bad."""

    def _bad(self):
        return super()._bad() + [("str-no", "no"), ("int", 1)]


class Gen(Kind):
    """A numpy Generator (a fresh ``default_rng(0)`` each case)."""

    def __init__(self, **kw):
        super().__init__(None, **kw)

    def valid(self):
        return np.random.default_rng(0)

    def _bad(self):
        return [("str", "bogus"), ("None", None), ("random-state", np.random.RandomState(0)), ("float", 0.5)]


class Seed(Kind):
    """An integer seed (not None: results must be reproducible)."""

    def _bad(self):
        return super()._bad() + [("negative", -1), ("non-integral", 1.5), ("bool", True)]


class Choice(Kind):
    """A string from a fixed set."""

    def _bad(self):
        return [("bogus", "bogus"), ("number", 3), ("list", ["a"])] + ([] if self.optional else [("None", None)])


class Fn(Kind):
    """A user callable: non-callables, and callables returning NaN or the wrong shape, are bad."""

    def _bad(self):
        f = self.valid()

        def nan_out(*a, **k):
            return np.asarray(f(*a, **k), dtype=float) * np.nan

        def shape_out(*a, **k):
            return np.append(np.ravel(f(*a, **k)), 0.0)

        return super()._bad() + [("number", 3.0), ("nan-output", nan_out), ("wrong-shape-output", shape_out)]


class Seq(Kind):
    """A non-empty sequence of arrays (weights of layers)."""

    def _bad(self):
        v = self.valid()
        first = np.asarray(v[0], dtype=float)
        return super()._bad() + [("empty", []), ("nan-item", [_with(first, np.nan)] + list(v[1:])),
                                 ("complex-item", [first * (1 + 1j)] + list(v[1:])), ("number", 3.0)]


class Any(Kind):
    """Anything goes (an argument the battery does not perturb)."""

    def bad(self):
        return []
