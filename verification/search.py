"""Worst-case search for bound claims: find the instance where a bound is tightest.

A bound checked only on easy instances holds for wrong constants too. A bound claim names an instance
family — a box of continuous (or integer) parameters and a function building the instance and returning
the ratio measured/predicted — and :func:`worst_case` maximises that ratio with
:func:`scipy.optimize.differential_evolution` seeded from the claim's generator, then refines the best
point locally (Nelder–Mead inside the box). The verdict is checked at the worst instance found, and
``WorstCase.to_dict()`` goes into ``details["worst_case"]`` so the instance can be re-run.

For discrete or hypothesis-drawn families, :func:`worst_of` takes the maximum over given instances.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import optimize

from .claims import _jsonable

#: Evaluation budgets per claim size (a claim may pass its own).
BUDGETS = {"quick": 120, "full": 1500}


@dataclasses.dataclass(frozen=True)
class WorstCase:
    """The instance with the largest ratio measured/predicted that the search found."""

    params: dict
    ratio: float
    evaluations: int
    failed: int = 0  # instances whose ratio was NaN/inf (not admissible, skipped)
    method: str = "differential_evolution"

    def to_dict(self) -> dict:
        return {"params": _jsonable(self.params), "ratio": _jsonable(self.ratio), "evaluations": self.evaluations,
                "failed": self.failed, "method": self.method}


def _check_bounds(bounds: Mapping[str, Sequence[float]], integer: Iterable[str]) -> tuple[list[str], np.ndarray, set]:
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("bounds must be a non-empty mapping name -> (lo, hi)")
    names, box = [], []
    for name, b in bounds.items():
        if not isinstance(name, str):
            raise TypeError(f"bounds keys must be parameter names (str), got {name!r}")
        try:
            lo, hi = (float(v) for v in b)
        except (TypeError, ValueError):
            raise TypeError(f"bounds[{name!r}] must be a pair (lo, hi) of numbers, got {b!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds[{name!r}] must satisfy finite lo < hi, got ({lo}, {hi})")
        names.append(name)
        box.append((lo, hi))
    ints = set(integer)
    unknown = ints - set(names)
    if unknown:
        raise ValueError(f"integer names {sorted(unknown)} are not in bounds")
    return names, np.array(box, dtype=float), ints


def worst_case(
    ratio: Callable[[dict], float],
    bounds: Mapping[str, Sequence[float]],
    *,
    rng: np.random.Generator,
    budget: int = 200,
    integer: Iterable[str] = (),
    local: bool = True,
    start: Mapping[str, float] | None = None,
) -> WorstCase:
    """Maximise ``ratio(params)`` (measured/predicted of one instance) over the box ``bounds``.

    ``budget`` caps the number of evaluations (about 15 % go to the local refinement when ``local``);
    ``integer`` names parameters rounded to integers; ``start`` is an instance to include in the initial
    population (e.g. the paper's own example). A NaN or infinite ratio marks an inadmissible instance and
    is skipped (counted in ``failed``); exceptions propagate (a wrong formula must not hide).
    """
    if not callable(ratio):
        raise TypeError("ratio must be callable: params dict -> float")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 10:
        raise ValueError(f"budget must be an integer >= 10, got {budget!r}")
    if not isinstance(local, bool):
        raise TypeError(f"local must be a bool, got {type(local).__name__}")
    names, box, ints = _check_bounds(bounds, integer)
    state = {"n": 0, "failed": 0, "best": -math.inf, "x": None}

    def params_of(x: np.ndarray) -> dict:
        x = np.clip(x, box[:, 0], box[:, 1])
        return {n: (int(round(v)) if n in ints else float(v)) for n, v in zip(names, x)}

    def neg(x: np.ndarray) -> float:
        state["n"] += 1
        p = params_of(np.asarray(x, dtype=float))
        r = float(ratio(p))
        if not math.isfinite(r):
            state["failed"] += 1
            return 1e30  # a large finite penalty (1e300 overflowed inside the DE population arithmetic)
        if r > state["best"]:
            state["best"], state["x"] = r, p
        return -r

    dim = len(names)
    popsize = max(5, min(15, budget // (10 * dim) or 5))
    n_global = int(budget * (0.85 if local else 1.0))
    maxiter = max(1, n_global // (popsize * dim) - 1)
    init = "latinhypercube"
    if start is not None:
        missing = set(names) - set(start)
        if missing:
            raise ValueError(f"start lacks parameters {sorted(missing)}")
        sampler = rng.uniform(box[:, 0], box[:, 1], size=(popsize * dim, dim))
        sampler[0] = np.clip([float(start[n]) for n in names], box[:, 0], box[:, 1])
        init = sampler
    seed = int(rng.integers(2**31 - 1))
    optimize.differential_evolution(neg, box, maxiter=maxiter, popsize=popsize, seed=seed, polish=False,
                                    init=init, tol=0, atol=0, updating="immediate")
    if local and state["x"] is not None and state["n"] < budget:
        x0 = np.array([state["x"][n] for n in names], dtype=float)
        optimize.minimize(neg, x0, method="Nelder-Mead", bounds=list(map(tuple, box)),
                          options={"maxfev": max(1, budget - state["n"]), "xatol": 1e-6, "fatol": 1e-12})
    if state["x"] is None:
        raise ValueError(f"every one of the {state['n']} searched instances gave a NaN/inf ratio")
    return WorstCase(state["x"], state["best"], state["n"], state["failed"])


def worst_of(instances: Iterable[Any], ratio: Callable[[Any], float], *, describe: Callable[[Any], Any] | None = None
             ) -> WorstCase:
    """The instance of ``instances`` with the largest ``ratio(instance)``; ``describe(instance)`` (default:
    the instance itself, made JSON-clean) is stored as its parameters."""
    if not callable(ratio):
        raise TypeError("ratio must be callable")
    best, best_r, n, failed = None, -math.inf, 0, 0
    for inst in instances:
        n += 1
        r = float(ratio(inst))
        if not math.isfinite(r):
            failed += 1
            continue
        if r > best_r:
            best, best_r = inst, r
    if n == 0:
        raise ValueError("instances is empty")
    if best is None:
        raise ValueError(f"every one of the {n} instances gave a NaN/inf ratio")
    params = describe(best) if describe is not None else best
    if not isinstance(params, dict):
        params = {"instance": params}
    return WorstCase(params, best_r, n, failed, method="enumeration")
