"""Hypothesis strategies for the objects of paper 003 (Phuong & Lampert): angular transfer tasks, data
matrices (d×n, full rank) and teacher_vectors.

Every strategy takes keyword-only arguments and raises ``ValueError``/``TypeError`` at construction time
for invalid arguments (before hypothesis draws anything), in the style of ``xarray.testing.strategies``.
Arrays are built from a drawn seed (numpy Generator), so shrinking works on the sizes and the seed.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from kdtheory import validation as V

from kdtheory.linear_transfer import HALF_PI, PolynomialAngleTask

__all__ = ["angular_tasks", "data_matrices", "teacher_vectors", "nested_datasets"]


def _int_arg(name: str, v, lo: int) -> int:
    return V.count(name, v, lo=lo, hi=100_000, strict=True)  # sizes beyond 1e5 are absurd for a strategy


def _range(lo_name, lo, hi_name, hi, floor):
    lo = _int_arg(lo_name, lo, floor)
    hi = _int_arg(hi_name, hi, floor)
    if hi < lo:
        raise ValueError(f"{hi_name} ({hi}) must be >= {lo_name} ({lo})")
    return lo, hi


def _real_arg(name, v, lo=None, hi=None):
    return V.scalar(name, v, lo=lo, hi=hi)


def teacher_vectors(*, d: int, min_norm: float = 0.1, max_norm: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    """Teacher weight vectors w* ∈ R^d \\ {0} (1-D arrays) with ‖w*‖ ∈ [min_norm, max_norm], random direction."""
    d = _int_arg("d", d, 1)
    lo = _real_arg("min_norm", min_norm, lo=0.0)
    hi = _real_arg("max_norm", max_norm)
    if lo <= 0 or hi < lo:
        raise ValueError(f"need 0 < min_norm <= max_norm, got {min_norm}, {max_norm}")

    @st.composite
    def build(draw):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        u = rng.standard_normal(d)
        while not np.any(u):
            u = rng.standard_normal(d)
        return draw(st.floats(lo, hi)) * u / np.linalg.norm(u)

    return build()


def data_matrices(*, min_d: int = 1, max_d: int = 20, min_n: int = 1, max_n: int = 20, max_cond: float = 1e6,
                  regime: str = "any") -> st.SearchStrategy[np.ndarray]:
    """Full-rank data matrices X ∈ R^{d×n} (columns = points) with condition number ≤ ``max_cond``.

    ``regime``: ``"any"``, ``"n<d"`` (under-determined, Thm 1's projection case) or ``"n>=d"``. Columns have
    random scales (exponential) so that the matrices are not merely isotropic Gaussian.
    """
    dlo, dhi = _range("min_d", min_d, "max_d", max_d, 1)
    nlo, nhi = _range("min_n", min_n, "max_n", max_n, 1)
    max_cond = _real_arg("max_cond", max_cond, lo=1.0)
    if regime not in ("any", "n<d", "n>=d"):
        raise ValueError(f"regime must be 'any', 'n<d' or 'n>=d', got {regime!r}")
    if regime == "n<d" and nlo >= dhi:
        raise ValueError(f"regime 'n<d' is impossible with min_n={nlo} >= max_d={dhi}")
    if regime == "n>=d" and nhi < dlo:
        raise ValueError(f"regime 'n>=d' is impossible with max_n={nhi} < min_d={dlo}")

    @st.composite
    def build(draw):
        if regime == "n<d":
            d = draw(st.integers(max(dlo, nlo + 1), dhi))
        elif regime == "n>=d":
            d = draw(st.integers(dlo, min(dhi, nhi)))
        else:
            d = draw(st.integers(dlo, dhi))
        if regime == "n<d":
            n = draw(st.integers(nlo, min(nhi, d - 1)))
        elif regime == "n>=d":
            n = draw(st.integers(max(nlo, d), nhi))
        else:
            n = draw(st.integers(nlo, nhi))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        for _ in range(50):
            X = rng.standard_normal((d, n)) * (0.1 + rng.exponential(size=n))
            s = np.linalg.svd(X, compute_uv=False)
            if s[-1] > 0 and s[0] / s[-1] <= max_cond:
                return X
        return np.eye(d, n) + 0.0  # a perfectly conditioned fallback (keeps the strategy total)

    return build()


def angular_tasks(*, min_d: int = 2, max_d: int = 50, min_kappa: float = 0.25, max_kappa: float = 8.0,
                  margin: bool | None = False, max_c: float = 1.0) -> st.SearchStrategy[PolynomialAngleTask]:
    """Angular transfer tasks (Sec. 5.1 / Cor. 1): :class:`~kdtheory.linear_transfer.PolynomialAngleTask`.

    ``p(θ) = min(1, c(1 − θ/θ_max)^κ)`` with d ∈ [min_d, max_d] (min_d ≥ 2), κ ∈ [min_kappa, max_kappa],
    c ∈ [1, max_c], a random teacher,
    and θ_max = π/2 (``margin=False``), θ_max < π/2 (``margin=True``: a large-margin task) or either (None).
    """
    dlo, dhi = _range("min_d", min_d, "max_d", max_d, 2)  # an angular law needs d >= 2
    klo = _real_arg("min_kappa", min_kappa, lo=0.0)
    khi = _real_arg("max_kappa", max_kappa, lo=0.0)
    if khi < klo:
        raise ValueError(f"max_kappa ({khi}) must be >= min_kappa ({klo})")
    chi = _real_arg("max_c", max_c, lo=1.0)
    if margin is not None and not isinstance(margin, (bool, np.bool_)):
        raise TypeError(f"margin must be True, False or None, got {margin!r}")

    @st.composite
    def build(draw):
        d = draw(st.integers(dlo, dhi))
        kappa = draw(st.floats(klo, khi))
        c = draw(st.floats(1.0, chi)) if chi > 1 else 1.0
        use_margin = draw(st.booleans()) if margin is None else margin
        theta_max = draw(st.floats(0.2, HALF_PI - 0.05)) if use_margin else HALF_PI
        w = draw(teacher_vectors(d=d))
        return PolynomialAngleTask(d=d, kappa=kappa, c=c, theta_max=theta_max, w_star=w)

    return build()


def nested_datasets(*, min_d: int = 2, max_d: int = 15, max_extra: int = 6
                    ) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(X_plus, idx, w_star)``: a full-rank X₊ (d×n₊), the column indices of a non-empty subset X₋ = X₊[:, idx]
    (any positions, sorted) and a teacher — the input of Lemma 1 (strong monotonicity)."""
    dlo, dhi = _range("min_d", min_d, "max_d", max_d, 1)
    ex = _int_arg("max_extra", max_extra, 1)

    @st.composite
    def build(draw):
        X = draw(data_matrices(min_d=dlo, max_d=dhi, min_n=2, max_n=dhi + ex, max_cond=1e5))
        n = X.shape[1]
        k = draw(st.integers(1, n - 1))
        idx = np.array(sorted(draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k, unique=True))))
        return X, idx, draw(teacher_vectors(d=X.shape[0]))

    return build()
