"""Statistical verdicts: a random measurement decides its relation at a stated confidence.

A claim whose measured side is random (a simulation, a Monte Carlo estimate, a trained network) reports a
confidence interval and is

* ``holds`` when the whole interval satisfies the relation,
* ``violated`` when the whole interval violates it,
* ``inconclusive`` otherwise, with the interval and ``n_to_decide`` (the sample size at which the present
  half-width would shrink enough to decide, assuming it falls like 1/√n) in ``details``.

``effect`` states the size of effect the claim asserts: ``measured <= predicted`` with ``effect=e``
requires the interval below ``predicted - e`` to hold (and above it to be violated). The ``resolution``
of such a verdict is the interval's half-width relative to ``|predicted|`` (absolute when predicted is 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as _st

from .claims import Verdict

METHODS = ("t", "bootstrap")


def _samples(samples: Any) -> np.ndarray:
    x = np.asarray(samples)
    if x.dtype == object or np.iscomplexobj(x) or x.dtype == bool:
        raise TypeError(f"samples must be real numbers, got dtype {x.dtype}")
    x = np.asarray(x, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"samples must hold at least 2 values, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or inf")
    return x


def _confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    return float(confidence)


def interval(
    samples: Sequence[float],
    *,
    confidence: float = 0.95,
    method: str = "t",
    rng: np.random.Generator | None = None,
    n_resamples: int = 2000,
) -> tuple[float, float, float]:
    """``(mean, lo, hi)``: the sample mean and a two-sided confidence interval for the mean.

    ``method="t"`` is Student's t interval; ``"bootstrap"`` is scipy's BCa bootstrap (needs ``rng``
    for determinism). A constant sample has a zero-width interval.
    """
    x = _samples(samples)
    confidence = _confidence(confidence)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    mean = float(x.mean())
    if np.ptp(x) == 0:
        return mean, mean, mean
    if method == "t":
        half = float(_st.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return mean, mean - half, mean + half
    if not isinstance(rng, np.random.Generator):
        raise TypeError("method='bootstrap' needs rng, a numpy.random.Generator")
    res = _st.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=int(n_resamples),
                        method="BCa", random_state=rng, vectorized=True)
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # BCa degenerates on near-constant samples
        res = _st.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=int(n_resamples),
                            method="percentile", random_state=rng, vectorized=True)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return mean, lo, hi


def _decide(lo: float, hi: float, predicted: float, relation: str, effect: float) -> str:
    if relation == "<=":
        target = predicted - effect
        return "holds" if hi <= target else ("violated" if lo > target else "inconclusive")
    if relation == ">=":
        target = predicted + effect
        return "holds" if lo >= target else ("violated" if hi < target else "inconclusive")
    # "==": the interval lies within ±effect of predicted
    if lo >= predicted - effect and hi <= predicted + effect:
        return "holds"
    if hi < predicted - effect or lo > predicted + effect:
        return "violated"
    return "inconclusive"


def _n_to_decide(n: int, mean: float, half: float, predicted: float, relation: str, effect: float) -> int | None:
    """Samples needed for the present half-width, shrinking like 1/√n, to clear the relation's boundary."""
    if relation == "<=":
        gap = abs((predicted - effect) - mean)
    elif relation == ">=":
        gap = abs(mean - (predicted + effect))
    else:
        gap = effect - abs(mean - predicted) if abs(mean - predicted) < effect else abs(mean - predicted) - effect
    if half <= 0:
        return n
    if gap <= 0:
        return None  # the mean sits on the boundary: no sample size decides it
    return int(math.ceil(n * (half / gap) ** 2))


def _verdict(n: int, mean: float, lo: float, hi: float, predicted: float, relation: str, effect: float,
             confidence: float, method: str, details: Mapping | None) -> Verdict:
    if relation not in ("<=", ">=", "=="):
        raise ValueError(f"relation must be '<=', '>=' or '==', got {relation!r}")
    p = float(predicted)
    if not math.isfinite(p):
        raise ValueError(f"predicted must be finite, got {predicted!r}")
    if isinstance(effect, bool) or not isinstance(effect, (int, float)) or not effect >= 0:
        raise ValueError(f"effect must be a number >= 0, got {effect!r}")
    status = _decide(lo, hi, p, relation, float(effect))
    half = (hi - lo) / 2
    det = {**dict(details or {}), "interval": [lo, hi], "n": int(n), "confidence": confidence,
           "interval_method": method, "effect": float(effect)}
    if status == "inconclusive":
        det["n_to_decide"] = _n_to_decide(n, mean, half, p, relation, float(effect))
    if relation == "<=":
        margin = (p - effect) - hi if status != "violated" else (p - effect) - lo
    elif relation == ">=":
        margin = lo - (p + effect) if status != "violated" else hi - (p + effect)
    else:
        margin = effect - max(abs(lo - p), abs(hi - p))
    if status == "inconclusive":
        margin = min(margin, 0.0)
    resolution = half / abs(p) if p != 0 else half
    tightness = None
    if relation == "<=" and p > 0 and mean >= 0:
        tightness = hi / p
    elif relation == ">=" and p > 0 and lo > 0:
        tightness = p / lo
    return Verdict("", p, mean, relation, status, float(margin), det, tightness=tightness,
                   resolution=float(resolution))


def compare_samples(
    samples: Sequence[float],
    predicted: float,
    relation: str,
    *,
    confidence: float = 0.95,
    method: str = "t",
    rng: np.random.Generator | None = None,
    effect: float = 0.0,
    details: Mapping | None = None,
) -> Verdict:
    """Decide "mean(samples) <relation> predicted" at ``confidence`` (see the module docstring).

    ``measured`` is the sample mean; ``details`` gains ``interval``, ``n``, ``confidence`` and, when
    inconclusive, ``n_to_decide``.
    """
    x = _samples(samples)
    confidence = _confidence(confidence)
    mean, lo, hi = interval(x, confidence=confidence, method=method, rng=rng)
    return _verdict(x.size, mean, lo, hi, predicted, relation, effect, confidence, method, details)


def proportion_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(p̂, lo, hi)``: the Clopper-Pearson (exact binomial) interval of a proportion."""
    for name, v in (("successes", successes), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got successes={successes}, n={n}")
    confidence = _confidence(confidence)
    alpha = 1 - confidence
    k = int(successes)
    lo = 0.0 if k == 0 else float(_st.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(_st.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return k / n, lo, hi


def compare_proportion(
    successes: int,
    n: int,
    predicted: float,
    relation: str,
    *,
    confidence: float = 0.95,
    effect: float = 0.0,
    details: Mapping | None = None,
) -> Verdict:
    """Decide "P(success) <relation> predicted" from ``successes`` of ``n`` independent trials, with
    the Clopper-Pearson interval at ``confidence``; same statuses as :func:`compare_samples`."""
    p_hat, lo, hi = proportion_interval(successes, n, confidence=confidence)
    return _verdict(int(n), p_hat, lo, hi, predicted, relation, effect, confidence, "clopper-pearson",
                    {**dict(details or {}), "successes": int(successes)})
