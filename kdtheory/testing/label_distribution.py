"""Hypothesis strategies for the objects of paper 004 (SoTeacher): label distributions, logits, point sets.

Every strategy takes keyword-only arguments and raises ``ValueError``/``TypeError`` at construction time
for invalid arguments (before hypothesis draws anything), in the style of ``xarray.testing.strategies``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from kdtheory import validation as V

__all__ = ["categorical_distributions", "label_counts", "logits", "point_sets"]


def _int_arg(name: str, v, lo: int) -> int:
    return V.count(name, v, lo=lo, hi=100_000, strict=True)  # sizes beyond 1e5 are absurd for a strategy


def _bool_arg(name: str, v) -> bool:
    return V.flag(name, v)


def _range(lo_name, lo, hi_name, hi, floor):
    lo = _int_arg(lo_name, lo, floor)
    hi = _int_arg(hi_name, hi, floor)
    if hi < lo:
        raise ValueError(f"{hi_name} ({hi}) must be >= {lo_name} ({lo})")
    return lo, hi


def categorical_distributions(*, classes: int | None = None, min_classes: int = 2, max_classes: int = 10,
                              min_prob: float = 0.0, allow_zeros: bool = True) -> st.SearchStrategy[np.ndarray]:
    """True label distributions ``p*`` on ``K ∈ [min_classes, max_classes]`` classes (1-D float arrays summing to 1).

    Mixes Dirichlet draws of several concentrations (uniform-like, peaked), one-hot vectors and vectors with
    exact zeros (absent classes, when ``allow_zeros``). Every entry is ``≥ min_prob``
    (``min_prob·K ≤ 1`` is required for the largest ``K``). ``classes`` fixes ``K`` (e.g. to draw a second
    distribution ``q`` on the classes of a drawn ``p``); then ``min_classes``/``max_classes`` are ignored.
    """
    lo, hi = _range("min_classes", min_classes, "max_classes", max_classes, 2)  # checked even when ignored
    if classes is not None:
        lo = hi = _int_arg("classes", classes, 2)
    if not isinstance(min_prob, (int, float)) or isinstance(min_prob, bool) or not math.isfinite(min_prob):
        raise TypeError(f"min_prob must be a finite real number, got {min_prob!r}")
    if min_prob < 0 or min_prob * hi > 1:
        raise ValueError(f"min_prob must lie in [0, 1/{'classes' if classes is not None else 'max_classes'}] "
                         f"= [0, {1 / hi:.4g}], got {min_prob}")
    zeros = _bool_arg("allow_zeros", allow_zeros) and min_prob == 0

    @st.composite
    def build(draw):
        K = draw(st.integers(lo, hi))
        seed = draw(st.integers(0, 2**32 - 1))
        kind = draw(st.sampled_from(("flat", "peaked", "onehot", "sparse") if zeros else ("flat", "peaked")))
        rng = np.random.default_rng(seed)
        if kind == "flat":
            p = rng.dirichlet(np.full(K, 2.0))
        elif kind == "peaked":
            p = rng.dirichlet(np.full(K, 0.2))
        elif kind == "onehot":
            p = np.zeros(K)
            p[rng.integers(K)] = 1.0
        else:
            p = rng.dirichlet(np.ones(K))
            p[rng.random(K) < 0.4] = 0.0
            if p.sum() == 0:
                p[0] = 1.0
        p = p / p.sum()
        if min_prob > 0:
            p = min_prob + (1 - K * min_prob) * p
        return p / p.sum()

    return build()


def label_counts(*, min_classes: int = 2, max_classes: int = 6, min_n: int = 1, max_n: int = 50
                 ) -> st.SearchStrategy[np.ndarray]:
    """Count vectors ``N_k`` of ``n ∈ [min_n, max_n]`` one-hot labels on ``K`` classes (int arrays, sum ≥ 1).

    ``counts / counts.sum()`` is the sample mean ``ȳ`` of Prop. 3.3 and of the cells of Thm 3.6.
    """
    klo, khi = _range("min_classes", min_classes, "max_classes", max_classes, 2)
    nlo, nhi = _range("min_n", min_n, "max_n", max_n, 1)

    @st.composite
    def build(draw):
        K = draw(st.integers(klo, khi))
        n = draw(st.integers(nlo, nhi))
        labels = draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n))
        return np.bincount(np.asarray(labels, dtype=int), minlength=K)

    return build()


def logits(*, n: int | None = None, min_n: int = 1, max_n: int = 50, min_classes: int = 2, max_classes: int = 10,
           max_abs: float = 50.0) -> st.SearchStrategy[np.ndarray]:
    """Finite logit matrices of shape ``(n, K)`` with entries in ``[-max_abs, max_abs]``.

    Includes constant rows, very large margins and near-ties (to probe softmax/NLL overflow). ``n`` fixes the
    number of rows; otherwise it is drawn from ``[min_n, max_n]``.
    """
    klo, khi = _range("min_classes", min_classes, "max_classes", max_classes, 2)
    nlo, nhi = _range("min_n", min_n, "max_n", max_n, 1)  # checked even when n overrides them
    if n is not None:
        nlo = nhi = _int_arg("n", n, 1)
    if isinstance(max_abs, (bool, np.bool_)) or not isinstance(max_abs, (int, float, np.integer, np.floating)):
        raise TypeError(f"max_abs must be a real number, got {type(max_abs).__name__}")
    if not math.isfinite(max_abs) or max_abs <= 0:
        raise ValueError(f"max_abs must be a finite positive number, got {max_abs!r}")
    max_abs = float(max_abs)

    @st.composite
    def build(draw):
        rows = draw(st.integers(nlo, nhi))
        K = draw(st.integers(klo, khi))
        seed = draw(st.integers(0, 2**32 - 1))
        scale = draw(st.sampled_from((0.0, 0.1, 1.0, 5.0, max_abs)))
        rng = np.random.default_rng(seed)
        Z = np.clip(rng.normal(size=(rows, K)) * scale, -max_abs, max_abs)
        if rows > 1 and draw(st.booleans()):
            Z[0] = Z[0, 0]  # a constant row: uniform prediction
        return Z

    return build()


def point_sets(*, min_points: int = 1, max_points: int = 60, dim: int = 2, clustered: bool = True
               ) -> st.SearchStrategy[np.ndarray]:
    """Finite point sets ``(n, dim)`` in ``[0, 1]^dim`` for coverings (Def. 3.5), optionally with clusters and duplicates."""
    lo, hi = _range("min_points", min_points, "max_points", max_points, 1)
    d = _int_arg("dim", dim, 1)
    clustered = _bool_arg("clustered", clustered)

    @st.composite
    def build(draw):
        n = draw(st.integers(lo, hi))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        X = rng.random((n, d))
        if clustered and n > 2 and draw(st.booleans()):
            centres = rng.random((max(1, n // 10), d))
            X = np.clip(centres[rng.integers(len(centres), size=n)] + 0.02 * rng.normal(size=(n, d)), 0, 1)
            X[-1] = X[0]  # a duplicate point
        return X

    return build()
