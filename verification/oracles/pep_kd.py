"""PEPit encodings of the distillation-SGD iterations (7) and (16) of paper 000 (Safaryan et al.).

Statement
---------
Function class (the assumptions of Theorems 1–3, specialised to finite sums):
``f = (1/n) Σ_i f_i`` with every ``f_i`` L-smooth and μ-strongly convex, ``x*`` the minimiser of ``f``
(so f is μ-strongly quasi-convex and PL, and the expected smoothness (10) holds with 𝓛 = L).
A teacher ``θ`` and a start ``x⁰`` are free points of the same space. One step, with ``i`` uniform:

* biased (7):    ``x⁺ = x − γ(∇f_i(x) − λ∇f_i(θ))``
* unbiased (16): ``x⁺ = x − γ(∇f_i(x) − λ∇f_i(θ) + λ∇f(θ))``

``steps = k`` runs k independent steps (the expectation is the mean over the ``n^k`` index paths).
The performance measure is ``E‖x^k − x*‖²`` (``metric="distance"``) or ``E f(x^k) − f*``
(``metric="function"``).

Two questions, each one semidefinite program solved by PEPit (cvxpy; Clarabel first, SCS as fallback):

* :func:`kd_sgd_worst_case` — the exact worst case of the measure over the class with upper bounds
  on chosen instance quantities (``dist0 ≤ R²``, ``sigma_sq ≤ σ²``, ``teacher_dist ≤ D²`` …).
* :func:`kd_sgd_bound_ratio` — for an inequality ``measure ≤ Σ_q c_q · q`` that is linear in the
  instance quantities :data:`QUANTITIES` (the per-step inequalities of the paper's proofs are), the
  smallest constant ``ρ`` with ``measure + Σ_{c_q<0} |c_q| q ≤ ρ · Σ_{c_q>0} c_q q`` on the whole
  class. Everything is homogeneous of degree two, so ``ρ`` is one SDP (maximise the left side with
  the right side ≤ 1). The inequality holds on the class iff ``ρ ≤ 1``; ``1 − ρ`` is its relative slack
  on the worst instance (0: tight).

Every result records the solver, its status and the duality gap; :attr:`PEPResult.accurate` is
False for anything but a clean optimal solve — status ``"optimal"`` (never ``"optimal_inaccurate"``)
and an error bar within :data:`ACCURACY_TOL` — and the claims then return ``skipped``.

Source
------
Safaryan, Peste, Alistarh, "Knowledge distillation performs partial variance reduction":
iterations (7) and (16); Assumptions 1–3; proofs of Theorems 1–3 (App. C.2, C.3, D.1).
PEP method: Taylor, Hendrickx, Glineur (2017), interpolation of smooth strongly convex functions;
PEPit: Goujaud et al. (2024), Math. Prog. Comp. Written without :mod:`kdtheory` on purpose: the
claims compare its numbers with kdtheory's formulas.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Instance quantities a bound may be linear in (name -> meaning).
QUANTITIES: dict[str, str] = {
    "dist0": "‖x⁰ − x*‖²",
    "fgap0": "f(x⁰) − f*",
    "grad0_sq": "‖∇f(x⁰)‖²",
    "grad_theta_sq": "‖∇f(θ)‖²",
    "noise_lam": "E‖∇f_i(x*) − λ∇f_i(θ)‖²",
    "teacher_gap": "f(θ) − f*",
    "teacher_dist": "‖θ − x*‖²",
    "sigma_sq": "E‖∇f_i(x*)‖² (σ*²)",
}
METRICS = ("distance", "function")
DEFAULT_SOLVER = "CLARABEL"
#: A solve is ``accurate`` when its status is ``"optimal"`` and its error bar :attr:`PEPResult.error`
#: (|duality gap| + PEPit's proof-reconstruction residual + primal/dual infeasibilities) is at most
#: ``ACCURACY_TOL · max(1, |value|)``. A verdict built on it must still be decided by more than the
#: error bar (see verification.pep): a closer call is ``skipped``.
ACCURACY_TOL = 1e-4


class OracleUnavailable(RuntimeError):
    """The optional extra ``oracles`` (PEPit + cvxpy) is not installed."""


def available() -> bool:
    """True when PEPit and cvxpy can be imported (the ``oracles`` extra is installed)."""
    return importlib.util.find_spec("PEPit") is not None and importlib.util.find_spec("cvxpy") is not None


def oracle_versions() -> dict[str, str]:
    """Versions of the oracle stack (empty when the extra is absent)."""
    if not available():
        return {}
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("pepit", "cvxpy", "clarabel", "scs"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


@dataclasses.dataclass(frozen=True)
class PEPResult:
    """One PEP solve.

    ``value`` is PEPit's dual value (a certified upper bound on the worst case when the solve is
    accurate), ``primal`` the value attained by the primal worst-case instance, ``duality_gap`` their
    difference; ``error`` is the solve's error bar (|duality gap| + proof residual + infeasibilities,
    the accuracy proxies of PEPit's feasibility check, as numbers). ``instance`` holds, at the primal worst-case instance, the quantities of :data:`QUANTITIES`,
    ``measure`` (E‖x^k − x*‖² or E f(x^k) − f*) and ``lhs`` (the maximised objective); ``grads_opt`` / ``grads_teacher`` are its per-function gradients
    at x* and θ, shape ``(n, r)`` (a factor of the Gram matrix), so formulas written in terms of
    per-sample gradients can be evaluated on the worst instance.
    """

    value: float
    primal: float
    solver: str
    status: str
    duality_gap: float
    error: float
    accurate: bool
    reason: str
    instance: dict
    grads_opt: np.ndarray
    grads_teacher: np.ndarray
    params: dict
    seconds: float

    def summary(self) -> dict[str, Any]:
        """Plain-JSON summary (no gradient arrays)."""
        return {
            "value": self.value, "primal": self.primal, "solver": self.solver, "status": self.status,
            "duality_gap": self.duality_gap, "error": self.error, "accurate": self.accurate, "reason": self.reason,
            "instance": dict(self.instance), "params": dict(self.params),
        }


def _require():
    if not available():
        raise OracleUnavailable(
            "the PEP oracles need the optional extra 'oracles' (PEPit + cvxpy): "
            "pip install -c constraints/oracles.txt 'kdtheory[oracles]'"
        )


def _pos(name, x, *, allow_zero=False) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    v = float(x)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {x}")
    return v


def _check_common(L, mu, gamma, lam, n, steps, metric):
    L = _pos("L", L)
    mu = _pos("mu", mu)
    if mu > L:
        raise ValueError(f"mu must be <= L, got mu={mu}, L={L}")
    gamma = _pos("gamma", gamma)
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)) or not math.isfinite(lam):
        raise TypeError(f"lam must be a finite real number, got {lam!r}")
    for name, v, lo, hi in (("n", n, 1, 6), ("steps", steps, 1, 4)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}] (the SDP grows like n^steps), got {v!r}")
    if n ** steps > 27:
        raise ValueError(f"n**steps must be <= 27 (one branch per index path), got n={n}, steps={steps}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return L, mu, gamma, float(lam), int(n), int(steps)


def _mean(exprs):
    total = exprs[0]
    for e in exprs[1:]:
        total = total + e
    return (1.0 / len(exprs)) * total


def _build(L, mu, gamma, lam, n, steps, unbiased, metric):
    """The PEP with its points; returns (problem, lhs expression, quantities, gradient points)."""
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    problem = PEP()
    fs = [problem.declare_function(SmoothStronglyConvexFunction, L=L, mu=mu) for _ in range(n)]
    f = _mean(fs)
    xs = f.stationary_point()
    x0 = problem.set_initial_point()
    theta = problem.set_initial_point()
    g_opt = [fi.gradient(xs) for fi in fs]
    g_theta = [fi.gradient(theta) for fi in fs]
    g_theta_full = _mean(g_theta)
    fstar = _mean([fi.value(xs) for fi in fs])
    level = [x0]
    for _ in range(steps):
        nxt = []
        for x in level:
            for i, fi in enumerate(fs):
                d = fi.gradient(x) - lam * g_theta[i]
                if unbiased:
                    d = d + lam * g_theta_full
                nxt.append(x - gamma * d)
        level = nxt
    if metric == "distance":
        lhs = _mean([(x - xs) ** 2 for x in level])
    else:
        lhs = _mean([_mean([fi.value(x) for fi in fs]) for x in level]) - fstar
    g0_full = _mean([fi.gradient(x0) for fi in fs])
    q = {
        "dist0": (x0 - xs) ** 2,
        "fgap0": _mean([fi.value(x0) for fi in fs]) - fstar,
        "grad0_sq": g0_full ** 2,
        "grad_theta_sq": g_theta_full ** 2,
        "noise_lam": _mean([(g_opt[i] - lam * g_theta[i]) ** 2 for i in range(n)]),
        "teacher_gap": _mean([fi.value(theta) for fi in fs]) - fstar,
        "teacher_dist": (theta - xs) ** 2,
        "sigma_sq": _mean([g ** 2 for g in g_opt]),
        "measure": lhs,
    }
    return problem, lhs, q, g_opt, g_theta


#: Solver attempts, in order, until one is accurate: Clarabel as is, Clarabel without equilibration
#: (which clears the "almost solved" status on some multi-step problems), SCS at tight tolerances
#: (on these small SDPs it reaches a clean "optimal" with a ~1e-8 error bar in seconds where
#: Clarabel stops at "almost solved"), Clarabel at tight tolerances.
ATTEMPTS: tuple[tuple[str, dict], ...] = (
    ("CLARABEL", {}),
    ("CLARABEL", {"equilibrate_enable": False}),
    ("SCS", {"eps_abs": 1e-8, "eps_rel": 1e-8, "max_iters": 100_000}),
    ("CLARABEL", {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "tol_ktratio": 1e-8,
                  "max_iter": 500}),
)
#: The only solver status a verdict may rest on. cvxpy's "optimal_inaccurate" (Clarabel's AlmostSolved,
#: SCS's SOLVED_INACCURATE) is an inaccurate solve whatever its certificate says: reported, never used.
ACCURATE_STATUS = "optimal"


def _feasibility(problem, value: float) -> dict[str, float]:
    """Accuracy proxies of a solve, the ones PEPit prints in its feasibility check, as numbers.

    ``primal_psd``/``dual_psd``: most negative eigenvalue of the Gram matrix / of the dual residual
    matrix (0 when PSD); ``primal_violation``: largest violation of a scalar constraint;
    ``dual_sign``: most negative multiplier of an inequality; ``proof_residual``: size of the
    non-constant terms left when the dual multipliers are recombined (0 for an exact proof).
    """
    from PEPit.point import Point
    from PEPit.tools.dict_operations import prune_dict, symmetrize_dict

    cons = problem._list_of_prepared_constraints
    ineq = [c for c in cons if c.equality_or_inequality == "inequality"]
    eq = [c for c in cons if c.equality_or_inequality == "equality"]
    viol = [float(c.eval()) for c in ineq] + [abs(float(c.eval())) for c in eq]
    duals = [float(c.eval_dual()) for c in ineq]
    combo = -np.dot(Point.list_of_leaf_points, np.dot(problem.residual, Point.list_of_leaf_points))
    for c in cons:
        combo += c.eval_dual() * c.expression
    rest = prune_dict(symmetrize_dict((problem.objective - combo).decomposition_dict))
    proof_res = float(np.sum(np.abs([v for k, v in rest.items() if k != 1]))) if rest else 0.0
    return {
        "primal_psd": min(0.0, float(np.min(np.linalg.eigvalsh(problem.G_value)))),
        "primal_violation": max([0.0] + viol),
        "dual_psd": min(0.0, float(np.min(np.linalg.eigvalsh(problem.residual)))),
        "dual_sign": min([0.0] + duals),
        "proof_residual": proof_res,
    }


def _solve_once(build, solver, kwargs):
    problem, obj, q, g_opt, g_theta = build()
    problem.set_performance_metric(obj)
    status, solver_name, value, primal, gap, reason = "error", str(solver), math.nan, math.nan, math.nan, ""
    feas: dict[str, float] = {}
    try:
        dual = problem.solve(wrapper="cvxpy", solver=solver, verbose=0, **kwargs)
        wrapper = problem.wrapper
        status = str(getattr(getattr(wrapper, "prob", None), "status", "unknown"))
        solver_name = str(getattr(wrapper, "solver_name", solver))
        if dual is None and status == "unbounded":
            reason = "the SDP is unbounded: no finite worst case (the inequality fails on the class)"
            value = primal = math.inf
        elif dual is None:  # e.g. SCS's "unbounded_inaccurate": no value, and no conclusion either
            reason = f"the solver returned no value (status={status!r})"
        else:
            value = float(dual)
            primal = float(problem.objective.eval())
            gap = value - primal
            feas = _feasibility(problem, value)
    except Exception as exc:  # a solver failure is an inaccurate solve, reported, never 'holds'
        reason = f"solver failure: {type(exc).__name__}: {exc}"
    # the worst instance, read now: PEPit's point values depend on global state the next build resets
    instance: dict[str, float] = {}
    go = gt = np.zeros((0, 0))
    try:
        if math.isfinite(primal):
            instance = {k: float(v.eval()) for k, v in q.items()}
            instance["lhs"] = float(obj.eval())
            go = np.array([np.asarray(g.eval(), dtype=float) for g in g_opt])
            gt = np.array([np.asarray(g.eval(), dtype=float) for g in g_theta])
    except Exception as exc:  # without its worst instance a solve cannot be used by the claims
        instance = {}
        reason = (reason + "; " if reason else "") + f"worst instance unreadable: {type(exc).__name__}: {exc}"
    scale = max(1.0, abs(value)) if math.isfinite(value) else 1.0
    error = (abs(gap) + feas["proof_residual"] + feas["primal_violation"] - feas["primal_psd"]
             - feas["dual_psd"] - feas["dual_sign"]) if feas and math.isfinite(gap) else math.inf
    # both the solver's own status and the certificate checks must pass
    accurate = (
        status == ACCURATE_STATUS and math.isfinite(value) and math.isfinite(primal)
        and error <= ACCURACY_TOL * scale and bool(instance)
    )
    if not accurate and not reason:
        reason = f"inaccurate solve: status={status!r}, duality gap={gap:.3g}, checks={feas}"
    return dict(instance=instance, grads_opt=go, grads_teacher=gt, status=status,
                solver=solver_name, value=value, primal=primal, gap=gap, reason=reason, accurate=accurate,
                feasibility=feas, error=error)


def _solve(build, solver, params, t0) -> PEPResult:
    import warnings

    attempts = ATTEMPTS if solver == DEFAULT_SOLVER else ((solver, {}),)
    tried, results = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cvxpy's "may be inaccurate" warning: the status is recorded instead
        for name, kw in attempts:
            r = _solve_once(build, name, kw)
            tried.append(f"{r['solver']}{kw or ''}: {r['status']}")
            results.append(r)
            if r["accurate"] or r["value"] == math.inf:  # inf only for a clean "unbounded" status
                break
    if not r["accurate"] and r["value"] != math.inf:  # report the attempt with the smallest error bar
        r = min(results, key=lambda x: x["error"] if math.isfinite(x["error"]) else math.inf)
    reason = r["reason"]
    instance, go, gt = r["instance"], r["grads_opt"], r["grads_teacher"]
    params = dict(params, attempts=tried)
    params = dict(params, feasibility=r["feasibility"])
    return PEPResult(r["value"], r["primal"], r["solver"], r["status"], r["gap"], r["error"], bool(r["accurate"]), reason,
                     instance, go, gt, params, time.perf_counter() - t0)


def kd_sgd_worst_case(
    L: float, mu: float, gamma: float, lam: float, *, bounds: Mapping[str, float], n: int = 2,
    steps: int = 1, unbiased: bool = False, metric: str = "distance", solver: str = DEFAULT_SOLVER,
) -> PEPResult:
    """Exact worst case of ``E‖x^k − x*‖²`` (or ``E f(x^k) − f*``) for k steps of (7) or (16).

    ``bounds`` maps names of :data:`QUANTITIES` to upper bounds, e.g.
    ``{"dist0": R**2, "sigma_sq": sigma**2, "teacher_dist": D**2}`` — start within R, variance at the
    optimum at most σ², teacher within D of x*. Without a bound on the start the worst case is
    unbounded (reported as an inaccurate, infinite result).
    """
    _require()
    L, mu, gamma, lam, n, steps = _check_common(L, mu, gamma, lam, n, steps, metric)
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("bounds must be a non-empty mapping from quantity names to upper bounds")
    bnd = {}
    for k, v in bounds.items():
        if k not in QUANTITIES:
            raise ValueError(f"bounds: unknown quantity {k!r}; expected names from {sorted(QUANTITIES)}")
        bnd[k] = _pos(f"bounds[{k!r}]", v, allow_zero=True)
    t0 = time.perf_counter()

    def build():
        problem, lhs, q, g_opt, g_theta = _build(L, mu, gamma, lam, n, steps, unbiased, metric)
        for k, v in bnd.items():
            problem.add_constraint(q[k] <= v)
        return problem, lhs, q, g_opt, g_theta

    params = dict(L=L, mu=mu, gamma=gamma, lam=lam, n=n, steps=steps, unbiased=bool(unbiased),
                  metric=metric, bounds=bnd, problem="worst_case")
    return _solve(build, solver, params, t0)


def kd_sgd_bound_ratio(
    L: float, mu: float, gamma: float, lam: float, *, coefficients: Mapping[str, float], n: int = 2,
    steps: int = 1, unbiased: bool = False, metric: str = "distance", solver: str = DEFAULT_SOLVER,
) -> PEPResult:
    """Sharpest constant ρ in ``measure + Σ_{c<0}|c| q ≤ ρ Σ_{c>0} c q`` over the class.

    ``coefficients`` maps names of :data:`QUANTITIES` to the coefficients ``c_q`` of a bound
    ``measure ≤ Σ_q c_q q`` (e.g. the one-step inequality of Thm 1's proof:
    ``{"dist0": 1 − γμ, "grad_theta_sq": 8γλ²/μ, "noise_lam": 2γ²}``). ``value`` is ρ: the bound
    holds on the class iff ρ ≤ 1. At the worst instance the positive part equals 1, so
    ``instance["lhs"]`` and the quantities there can be fed back into the bound formula.
    """
    _require()
    L, mu, gamma, lam, n, steps = _check_common(L, mu, gamma, lam, n, steps, metric)
    if not isinstance(coefficients, Mapping) or not coefficients:
        raise ValueError("coefficients must be a non-empty mapping from quantity names to coefficients")
    coef = {}
    for k, v in coefficients.items():
        if k not in QUANTITIES:
            raise ValueError(f"coefficients: unknown quantity {k!r}; expected names from {sorted(QUANTITIES)}")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"coefficients[{k!r}] must be a finite real number, got {v!r}")
        coef[k] = float(v)
    if not any(v > 0 for v in coef.values()):
        raise ValueError("coefficients must contain at least one positive coefficient (the bound's right side)")
    t0 = time.perf_counter()

    def build():
        problem, lhs, q, g_opt, g_theta = _build(L, mu, gamma, lam, n, steps, unbiased, metric)
        pos = [c * q[k] for k, c in coef.items() if c > 0]
        neg = [(-c) * q[k] for k, c in coef.items() if c < 0]
        problem.add_constraint(sum(pos[1:], pos[0]) <= 1.0)
        obj = lhs if not neg else lhs + sum(neg[1:], neg[0])
        return problem, obj, q, g_opt, g_theta

    params = dict(L=L, mu=mu, gamma=gamma, lam=lam, n=n, steps=steps, unbiased=bool(unbiased),
                  metric=metric, coefficients=coef, problem="bound_ratio")
    return _solve(build, solver, params, t0)
