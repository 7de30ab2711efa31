"""Hypothesis strategies for paper 002 (Mobahi et al.): Green's-function Gram matrices and label vectors.

Keyword-only arguments; invalid arguments raise ``TypeError``/``ValueError`` when the strategy is built, before
hypothesis draws anything (the ``xarray.testing.strategies`` style).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from kdtheory import validation as V

from kdtheory import greens as gr

__all__ = ["green_gram_matrices", "label_vectors", "distillation_instances"]


def _int_arg(name: str, v, lo: int) -> int:
    return V.count(name, v, lo=lo, hi=100_000, strict=True)  # sizes beyond 1e5 are absurd for a strategy


def _real_arg(name, v, *, lo=None, hi=None, lo_open=False):
    return V.scalar(name, v, lo=lo, hi=hi, lo_open=lo_open)


def green_gram_matrices(*, min_points: int = 2, max_points: int = 12, min_gap: float = 0.02,
                        include_boundary: bool = False) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Pairs ``(x, G)``: sorted points of [0, 1] and ``G[j, k] = g(x_j, x_k)/K`` with g the spline kernel (57).

    Points are at least ``min_gap`` apart and, unless ``include_boundary``, at least ``min_gap`` from 0 and 1
    (then G is positive definite). With ``include_boundary`` the points 0 and 1 may be drawn (G is then PSD with
    zero rows: the boundary conditions pin f there).
    """
    lo = _int_arg("min_points", min_points, 1)
    hi = _int_arg("max_points", max_points, 1)
    if hi < lo:
        raise ValueError(f"max_points ({hi}) must be >= min_points ({lo})")
    gap = _real_arg("min_gap", min_gap, lo=0.0, lo_open=True, hi=0.5)
    if (hi + 1) * gap > 1:
        raise ValueError(f"max_points={hi} points cannot be {gap} apart inside [0, 1]")
    if not isinstance(include_boundary, bool):
        raise TypeError("include_boundary must be a bool")

    @st.composite
    def build(draw):
        K = draw(st.integers(lo, hi))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        # K points with spacing ≥ gap (and ≥ gap from the ends): stick-breaking on the slack
        slack = 1 - (K + 1) * gap
        cuts = np.sort(rng.uniform(0, slack, K))
        x = gap * np.arange(1, K + 1) + cuts
        if include_boundary and K >= 2:
            which = draw(st.sampled_from(("none", "left", "right", "both")))
            if which in ("left", "both"):
                x[0] = 0.0
            if which in ("right", "both"):
                x[-1] = 1.0
        return x, gr.gram(x)

    return build()


def label_vectors(*, size: int, scale: float = 1.0, min_norm: float = 0.0) -> st.SearchStrategy[np.ndarray]:
    """Label vectors of length ``size``: Gaussian, offset, smooth (sin) or sparse, entries of order ``scale``,
    Euclidean norm ≥ ``min_norm``."""
    K = _int_arg("size", size, 1)
    scale = _real_arg("scale", scale, lo=0.0, lo_open=True)
    min_norm = _real_arg("min_norm", min_norm, lo=0.0)

    @st.composite
    def build(draw):
        seed = draw(st.integers(0, 2**32 - 1))
        kind = draw(st.sampled_from(("gauss", "offset", "smooth", "sparse")))
        rng = np.random.default_rng(seed)
        if kind == "gauss":
            y = rng.standard_normal(K)
        elif kind == "offset":
            y = rng.standard_normal(K) * 0.2 + rng.choice([-1.0, 1.0])
        elif kind == "smooth":
            y = np.sin(2 * np.pi * (np.arange(K) + 0.5) / K * rng.uniform(0.5, 2)) + 0.1 * rng.standard_normal(K)
        else:
            y = np.zeros(K)
            y[rng.integers(K)] = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2)
        y = scale * y
        n = float(np.linalg.norm(y))
        if n < min_norm:
            y = y * (min_norm / n) if n > 0 else np.full(K, min_norm / math.sqrt(K))
        return y

    return build()


def distillation_instances(*, min_points: int = 2, max_points: int = 10, min_u0: float = 1.05,
                           max_u0: float = 30.0) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray, float]]:
    """Triples ``(G, y0, eps)`` on interior points (G positive definite) with ``u₀ = ‖y₀‖/√(K·eps)`` in
    ``[min_u0, max_u0]`` (no collapse at round 0)."""
    lo_u = _real_arg("min_u0", min_u0, lo=1.0, lo_open=True)
    hi_u = _real_arg("max_u0", max_u0, lo=1.0, lo_open=True)
    if hi_u < lo_u:
        raise ValueError(f"max_u0 ({hi_u}) must be >= min_u0 ({lo_u})")
    grams = green_gram_matrices(min_points=min_points, max_points=max_points)  # checks them now, when built

    @st.composite
    def build(draw):
        x, G = draw(grams)
        y = draw(label_vectors(size=len(x), min_norm=1e-3))
        u0 = draw(st.floats(lo_u, hi_u))
        eps = float(np.sum(y ** 2)) / len(y) / u0 ** 2
        return G, y, eps

    return build()
