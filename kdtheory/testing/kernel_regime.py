"""Hypothesis strategies for paper 001 (:mod:`kdtheory.kernel_regime`).

Every strategy takes keyword-only arguments and raises ``ValueError``/``TypeError`` naming the bad
argument.

* :func:`networks` — two-layer network instances ``(W, a, X, activation)`` of eq. (1): W m×d hidden
  weights at a chosen initial scale (the paper's k = 1e-2 up to O(1)), a ∈ {±1}ᵐ (eq. 16) or Gaussian,
  X d×n with unit-norm columns (Sec. 4), activation from ``kdtheory.kernel_regime.ACTIVATIONS``.
  ``regime="nonsingular"`` forces n <= d (with a smooth activation every H_k is then nonsingular almost
  surely), ``"singular"`` forces n > d, ``"any"`` draws either.
* :func:`distillation_problems` — a network plus labels y, privileged features φ (teacher features at
  a chosen distance from the student's f^(k)(0)) and λ.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np
from hypothesis import strategies as st

from kdtheory import validation as V

from kdtheory import kernel_regime as kr

__all__ = ["Network", "networks", "DistillationProblem", "distillation_problems"]


@dataclasses.dataclass(frozen=True)
class Network:
    """A two-layer network instance of eq. (1): hidden weights W (m×d), output weights a, data X (d×n)."""

    W: np.ndarray
    a: np.ndarray
    X: np.ndarray
    activation: str | kr.Activation

    @property
    def shape(self) -> tuple[int, int, int]:
        """(m, n, d)."""
        return self.W.shape[0], self.X.shape[1], self.X.shape[0]

    def blocks(self) -> np.ndarray:
        return kr.gram_blocks(self.W, self.X, self.activation)

    def __iter__(self):  # allows ``W, a, X, act = net``
        return iter((self.W, self.a, self.X, self.activation))


@dataclasses.dataclass(frozen=True)
class DistillationProblem:
    """A network with labels y (n,), privileged features phi (m, n) and regularisation lam >= 0."""

    net: Network
    y: np.ndarray
    phi: np.ndarray
    lam: float

    @property
    def F0(self) -> np.ndarray:
        return kr.unit_outputs(self.net.W, self.net.X, self.net.activation)


def _int_range(name, r, lo):
    if not (isinstance(r, tuple) and len(r) == 2):
        raise TypeError(f"{name} must be a tuple (min, max) of ints, got {r!r}")
    a, b = (V.count(f"{name}[{i}]", v, lo=-V.MAX_COUNT, hi=10_000, strict=True) for i, v in enumerate(r))
    if a < lo or b < a:
        raise ValueError(f"{name} must satisfy {lo} <= min <= max, got {r}")
    return a, b


def _float_range(name, r, lo=0.0, lo_open=False):
    if not (isinstance(r, tuple) and len(r) == 2
            and all(isinstance(x, (numbers.Real, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_))
                    for x in r)):
        raise TypeError(f"{name} must be a tuple (min, max) of real numbers, got {r!r}")
    a, b = V.scalar(f"{name}[0]", r[0]), V.scalar(f"{name}[1]", r[1])
    if not (np.isfinite(a) and np.isfinite(b)) or b < a or a < lo or (lo_open and a == lo):
        raise ValueError(f"{name} must satisfy {lo} {'<' if lo_open else '<='} min <= max (finite), got {r}")
    return a, b


def _activations(activations) -> tuple:
    """``activations`` as a non-empty tuple of names/Activation objects; one name or Activation counts as one."""
    if isinstance(activations, (str, kr.Activation)):
        activations = (activations,)
    elif not isinstance(activations, (tuple, list)):
        raise TypeError(f"activations must be a name, an Activation or a tuple/list of them, "
                        f"got {type(activations).__name__}")
    acts = tuple(activations)
    if not acts:
        raise ValueError("activations must not be empty")
    for act in acts:
        if isinstance(act, kr.Activation):
            continue
        if not isinstance(act, str):
            raise TypeError(f"activations must contain names or Activation objects, got {type(act).__name__}")
        if act not in kr.ACTIVATIONS:
            raise ValueError(f"activations: unknown activation {act!r}; choose from {sorted(kr.ACTIVATIONS)}")
    return acts


def networks(*, units=(1, 5), samples=(1, 4), dims=(1, 6), activations=("tanh", "erf", "softplus", "relu"),
             weight_scale=(1e-2, 2.0), output_weights="signs", regime="any"):
    """Two-layer networks ``Network(W, a, X, activation)``.

    units/samples/dims: (min, max) ranges of m, n, d; activations: a name from ``ACTIVATIONS`` or an
    :class:`~kdtheory.kernel_regime.Activation` (one activation), or a tuple/list of them (one is drawn);
    weight_scale: (min, max) of k in w ~ N(0, k²I) (log-uniform); output_weights: ``"signs"`` (a ∈ {±1},
    eq. 16) or ``"gaussian"``; regime: ``"nonsingular"`` (n <= d), ``"singular"`` (n > d) or ``"any"``.
    """
    _int_range("units", units, 1)
    _int_range("samples", samples, 1)
    _int_range("dims", dims, 1)
    acts = _activations(activations)
    lo, hi = _float_range("weight_scale", weight_scale, 0.0, lo_open=True)
    if output_weights not in ("signs", "gaussian"):
        raise ValueError(f"output_weights must be 'signs' or 'gaussian', got {output_weights!r}")
    if regime not in ("any", "nonsingular", "singular"):
        raise ValueError(f"regime must be 'any', 'nonsingular' or 'singular', got {regime!r}")
    if regime == "singular" and dims[0] >= samples[1]:
        raise ValueError("regime='singular' needs dims min < samples max (n > d)")
    return _networks(units, samples, dims, acts, lo, hi, output_weights, regime)


@st.composite
def _networks(draw, units, samples, dims, acts, lo, hi, output_weights, regime):
    m = draw(st.integers(*units))
    n = draw(st.integers(*samples))
    if regime == "nonsingular":
        if dims[1] < n:
            n = dims[1]
        d = draw(st.integers(max(dims[0], n), dims[1]))
    elif regime == "singular":
        if dims[0] >= samples[1]:
            raise ValueError("regime='singular' needs dims min < samples max (n > d)")
        d = draw(st.integers(dims[0], min(dims[1], samples[1] - 1)))
        n = draw(st.integers(max(d + 1, samples[0]), samples[1]))
    else:
        d = draw(st.integers(*dims))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = float(np.exp(draw(st.floats(np.log(lo), np.log(hi))))) if hi > lo else lo
    X = kr.normalize_columns(rng.standard_normal((d, n)))
    W = k * rng.standard_normal((m, d))
    a = rng.choice([-1.0, 1.0], size=m) if output_weights == "signs" else rng.standard_normal(m) + 0.1
    act = draw(st.sampled_from(acts))
    return Network(W, a, X, act)


def distillation_problems(*, lam=(0.0, 5.0), teacher_distance=(0.0, 1.0), **network_kwargs):
    """A :class:`DistillationProblem`: ``networks(**network_kwargs)`` plus y ∈ {±1}ⁿ, φ = f^(k)(0) + r·noise.

    lam: (min, max) of λ (>= 0; the bounds themselves are drawn too); teacher_distance: (min, max) of the
    per-entry noise scale r between the teacher features φ and the student's initial features.
    """
    l0, l1 = _float_range("lam", lam, 0.0)
    r0, r1 = _float_range("teacher_distance", teacher_distance, 0.0)
    return _problems(networks(**network_kwargs), l0, l1, r0, r1)


@st.composite
def _problems(draw, nets, l0, l1, r0, r1):
    net = draw(nets)
    m, n, _ = net.shape
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lam_v = draw(st.sampled_from([l0, l1]) | st.floats(l0, l1)) if l1 > l0 else l0
    r = draw(st.floats(r0, r1)) if r1 > r0 else r0
    y = rng.choice([-1.0, 1.0], size=n)
    phi = kr.unit_outputs(net.W, net.X, net.activation) + r * rng.standard_normal((m, n))
    return DistillationProblem(net, y, phi, float(lam_v))
