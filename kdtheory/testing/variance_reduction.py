"""Hypothesis strategies for paper 000 (:mod:`kdtheory.variance_reduction`).

Every strategy takes keyword-only arguments and raises ``ValueError``/``TypeError`` naming the bad
argument. Problem instances come with their minimiser x*, so tests can build per-sample gradients at
x* (Lemma 1's ``grads_opt``) and at a teacher θ at a chosen distance (:func:`teachers`).

* :func:`least_squares_problems`, :func:`logistic_problems`, :func:`softmax_problems` — data on lifted
  inputs ``ā_n = [a_n, 1]`` at a chosen input scale (tiny to huge) and, for least squares, optionally
  rank-deficient designs (a duplicated feature column).
* :func:`teachers` — θ = x* + r·u with ‖u‖ = 1 and r drawn from a given range.
* :func:`gradient_pairs` — raw ``(grads_opt, grads_teacher)`` arrays, including extreme scales and
  exactly centred ``grads_opt`` (so that ∇f(x*) = 0 holds exactly, as Lemma 1 assumes).

Logistic and soft-max problems use soft labels strictly inside (0, 1) (allowed by the paper,
``b_n ∈ [0, 1]``): then f is coercive on full-rank data and x* exists — hard labels can be separable.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import strategies as st

from kdtheory import validation as V

from kdtheory import variance_reduction as vr

from ._core import _real

__all__ = ["Problem", "least_squares_problems", "logistic_problems", "softmax_problems", "glm_problems",
           "teachers", "gradient_pairs"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """A problem instance: model, lifted design ``A`` (N, d), labels ``b``, minimiser ``x_star``."""

    model: str
    A: np.ndarray
    b: np.ndarray
    x_star: np.ndarray
    rank_deficient: bool = False

    @property
    def n_samples(self) -> int:
        return int(self.A.shape[0])

    def grads(self, x) -> np.ndarray:
        """Per-sample gradients at x, shape (N, *x.shape)."""
        return vr.per_sample_gradients(self.model, x, self.A, self.b)


#: Largest size a strategy draws (sizes beyond are absurd for a property test and would hang)
MAX_SIZE = 100_000


def _int_range(name, r, lo):
    if not (isinstance(r, tuple) and len(r) == 2):
        raise TypeError(f"{name} must be a tuple (min, max) of ints, got {r!r}")
    a, b = (V.count(f"{name}[{i}]", v, lo=-V.MAX_COUNT, hi=MAX_SIZE, strict=True) for i, v in enumerate(r))
    if a < lo or b < a:
        raise ValueError(f"{name} must satisfy {lo} <= min <= max, got {r}")
    return a, b


def _scales(name, scales):
    if isinstance(scales, (str, bytes)) or not isinstance(scales, (tuple, list, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of positive numbers, got {scales!r}")
    if not all(isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, (bool, np.bool_))
               for s in scales):
        raise TypeError(f"{name} must contain real numbers only, got {scales!r}")
    vals = tuple(float(s) for s in V.as_array(name, scales, ndim=1))
    if not vals or any(not np.isfinite(s) or s <= 0 for s in vals):
        raise ValueError(f"{name} must be a non-empty sequence of finite positive numbers, got {scales!r}")
    return vals


def _flag(name, v, *, allow_none=False):
    if v is None and allow_none:
        return None
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be {'True, False or None' if allow_none else 'a bool'}, got {v!r}")
    return V.flag(name, v)


def least_squares_problems(*, n_samples: tuple = (4, 30), n_features: tuple = (1, 4),
                           scales=(1e-3, 1.0, 1e3), noise: float = 1.0, rank_deficient: bool | None = None):
    """Least-squares problems ``f_n(x) = (xᵀā_n − b_n)²`` with their minimum-norm minimiser.

    ``scales``: input scales to pick from (tiny/huge values exercise conditioning); ``noise``: label
    noise level (0 gives interpolation, σ*² = 0); ``rank_deficient``: True forces a duplicated feature
    column (singular Hessian: PL but not strongly convex), False forbids it, None draws either.
    """
    ns = _int_range("n_samples", n_samples, 1)
    nf = _int_range("n_features", n_features, 1)
    sc = _scales("scales", scales)
    noise = _real("noise", noise, lo=0.0)
    rank_deficient = _flag("rank_deficient", rank_deficient, allow_none=True)

    @st.composite
    def strat(draw):
        seed = draw(st.integers(0, 2**32 - 1))
        p = draw(st.integers(*nf))
        deficient = draw(st.booleans()) if rank_deficient is None else rank_deficient
        N = draw(st.integers(max(ns[0], p + 2), max(ns[1], p + 2)))
        s = draw(st.sampled_from(sc))
        rng = np.random.default_rng(seed)
        a = rng.normal(size=(N, p))
        if deficient:
            a = np.hstack([a, a[:, :1]])
        A = vr.lift(a * s)
        b = A @ rng.normal(size=A.shape[1]) / s + noise * rng.normal(size=N)
        return Problem("least_squares", A, b, vr.minimizer("least_squares", A, b), bool(deficient))

    return strat()


def logistic_problems(*, n_samples: tuple = (8, 30), n_features: tuple = (1, 3), scales=(0.1, 1.0, 3.0)):
    """Binary logistic problems with soft labels in (0.05, 0.95) and their (unique) minimiser."""
    ns = _int_range("n_samples", n_samples, 2)
    nf = _int_range("n_features", n_features, 1)
    sc = _scales("scales", scales)

    @st.composite
    def strat(draw):
        seed = draw(st.integers(0, 2**32 - 1))
        p = draw(st.integers(*nf))
        N = draw(st.integers(max(ns[0], 2 * (p + 1)), max(ns[1], 2 * (p + 1))))
        s = draw(st.sampled_from(sc))
        rng = np.random.default_rng(seed)
        A = vr.lift(rng.normal(size=(N, p)) * s)
        b = rng.uniform(0.05, 0.95, size=N)
        return Problem("logistic", A, b, vr.minimizer("logistic", A, b))

    return strat()


def softmax_problems(*, n_samples: tuple = (8, 24), n_features: tuple = (1, 3), n_classes: tuple = (2, 4),
                     scales=(0.1, 1.0, 3.0)):
    """Soft-max regression problems with soft label rows (entries > 0) and a minimiser (columns summing to 0)."""
    ns = _int_range("n_samples", n_samples, 2)
    nf = _int_range("n_features", n_features, 1)
    nc = _int_range("n_classes", n_classes, 2)
    sc = _scales("scales", scales)

    @st.composite
    def strat(draw):
        seed = draw(st.integers(0, 2**32 - 1))
        p = draw(st.integers(*nf))
        K = draw(st.integers(*nc))
        N = draw(st.integers(max(ns[0], 2 * (p + 1)), max(ns[1], 2 * (p + 1))))
        s = draw(st.sampled_from(sc))
        rng = np.random.default_rng(seed)
        A = vr.lift(rng.normal(size=(N, p)) * s)
        b = rng.dirichlet(np.ones(K) * 2.0, size=N) * 0.9 + 0.1 / K
        return Problem("softmax", A, b, vr.minimizer("softmax", A, b))

    return strat()


def glm_problems(*, models=vr.MODELS):
    """One of the three models' problem strategies (default settings)."""
    if isinstance(models, str) or not isinstance(models, (tuple, list)):
        raise TypeError(f"models must be a tuple or list of model names from {vr.MODELS}, got {models!r}")
    models = tuple(models)
    if not models or any(m not in vr.MODELS for m in models):
        raise ValueError(f"models must be a non-empty subset of {vr.MODELS}, got {models!r}")
    table = {"least_squares": least_squares_problems(scales=(0.1, 1.0, 10.0)), "logistic": logistic_problems(),
             "softmax": softmax_problems()}
    return st.one_of(*(table[m] for m in models))


def teachers(problem: Problem, *, distance: tuple = (0.0, 2.0), relative: bool = True):
    """Teacher parameters θ = x* + r·u (‖u‖ = 1) with r drawn from ``distance``; with ``relative`` the
    distance is in units of max(1, ‖x*‖). r = 0 gives the optimal teacher exactly."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a kdtheory.testing.variance_reduction.Problem, got {type(problem).__name__}")
    if not (isinstance(distance, tuple) and len(distance) == 2
            and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                    for v in distance)):
        raise TypeError(f"distance must be a tuple (min, max) of real numbers, got {distance!r}")
    if not 0 <= distance[0] <= distance[1] < np.inf:
        raise ValueError(f"distance must satisfy 0 <= min <= max < inf, got {distance!r}")
    relative = _flag("relative", relative)
    V.as_array("problem.x_star", problem.x_star, min_size=1)  # a NaN x* would draw NaN teachers
    V.as_array("problem.A", problem.A, ndim=2)
    unit = max(1.0, float(np.linalg.norm(problem.x_star))) if relative else 1.0

    @st.composite
    def strat(draw):
        r = draw(st.floats(distance[0], distance[1], allow_nan=False, allow_infinity=False))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        u = rng.normal(size=problem.x_star.shape)
        return problem.x_star + r * unit * u / np.linalg.norm(u)

    return strat()


def gradient_pairs(*, n_samples: tuple = (1, 20), dim: tuple = (1, 6), scales=(1e-150, 1e-5, 1.0, 1e5, 1e100),
                   centred: bool = True, allow_zero: bool = True):
    """``(grads_opt, grads_teacher)`` arrays of shape (N, d) for Lemma 1's functions.

    ``grads_opt`` is centred (mean exactly 0, as at an exact minimiser) when ``centred``; the teacher's
    gradients are a random mix of grads_opt, independent noise and a mean shift; with ``allow_zero``
    some draws are all-zero or teacher = optimum. ``scales``: common scales (tiny to huge).
    """
    ns = _int_range("n_samples", n_samples, 1)
    dm = _int_range("dim", dim, 1)
    sc = _scales("scales", scales)
    centred = _flag("centred", centred)
    allow_zero = _flag("allow_zero", allow_zero)

    @st.composite
    def strat(draw):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        N, d = draw(st.integers(*ns)), draw(st.integers(*dm))
        s = draw(st.sampled_from(sc))
        kind = draw(st.sampled_from(["mix", "opt", "zero", "rank1"] if allow_zero else ["mix", "rank1"]))
        g0 = rng.normal(size=(N, d))
        if kind == "rank1":
            g0 = np.outer(rng.normal(size=N), rng.normal(size=d))
        if centred:
            g0 = g0 - g0.mean(axis=0)
        if kind == "zero":
            return np.zeros((N, d)), np.zeros((N, d))
        if kind == "opt":
            return g0 * s, g0 * s
        w = rng.uniform(-1, 1.5)
        g1 = w * g0 + rng.uniform(0, 1) * rng.normal(size=(N, d)) + rng.uniform(0, 1) * rng.normal(size=d)
        return g0 * s, g1 * s

    return strat()
