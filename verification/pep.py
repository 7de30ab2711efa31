"""Paper 000 against exact worst cases: PEP (performance estimation) claims ``safaryan.pep.*``.

The per-step inequalities inside the proofs of Theorems 1–3 (and the descent step (13) with the
constants of those proofs) are linear in a few instance quantities (‖x⁰ − x*‖², f(x⁰) − f*,
‖∇f(θ)‖², E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖², f(θ) − f*). Their coefficients are read off the kdtheory
functions (by evaluating them at unit quantities), and the PEP oracle of
:mod:`verification.oracles` (PEPit, kdtheory-independent) returns the sharpest constant ρ such that
"measure ≤ ρ · bound" on the function class of the theorems (finite sums of L-smooth μ-strongly
convex f_i, so 𝓛 = L) together with the worst instance itself. The claim evaluates the kdtheory
bound on that worst instance and compares it with the measure there: it holds iff ρ ≤ 1, and
``1 − ρ`` is the tightness gap (0: the paper's step is exact on some instance).

Every PEP verdict records solver, status and duality gap. An inaccurate solve gives ``skipped``,
never ``holds``; so does a missing ``oracles`` extra. ``safaryan.pep.golden`` needs no extra: it
evaluates the kdtheory bounds on the worst instances committed in
``verification/oracles/golden/paper000_pep.json`` (regenerate with ``python -m verification.pep``).

What the oracle found (seed 0, size full, PEPit 0.5.1 / Clarabel 0.11.1 / SCS 3.3.1, n = 3 functions)
------------------------------------------------------------------------------------------------------
Only solves with solver status "optimal" and an error bar ≤ 1e-4 are used (all 52 ratio solves; 1 of 8
class-level solves was "optimal_inaccurate" and is left out).

* Every per-step inequality holds on the class (ρ ≤ 1) and is tight to first order in γμ: the
  relative gaps 1 − ρ are 5.3e-3…7.6e-2 (Thm 1 step, 8 draws), 2.0e-5…3.3e-2 (descent (13), 16),
  3.7e-5…4.5e-3 (Thm 2 step, 8), 1.5e-4…3.5e-2 (Thm 3 and its descent step, 16), 2.0e-2…0.15 (eq. (35)
  after 3 steps, n = 2, 4). Measured against the claimed contraction 1 − c ("contraction slack"), the
  exact worst case contracts ≈1.88× as fast as Thm 1's (1 − γμ) (slack 0.875…0.878: the GD factor is
  (1 − γμ)²), ≈1.5× as fast as Thm 2's (0.50…0.52), 1.2…2× for Thm 3.
* The class-level Thm 1 bound (suprema of the instance quantities plugged in) is 2 %…76 % above
  the exact worst case (relative gap 0.021…0.76, 7 draws).
* Worst-case-optimal λ (one step of (7), σ, R fixed, teacher distance D growing): 0.997, 0.986, 0.970,
  0.940, 0.824, 0.467, 0, 0 for D/R = 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5 — about 1 − 0.3·D/R for a close
  teacher, decreasing with D as the paper says of λ*. λ* of eq. (14) (c = 1) on the worst instance
  tracks it closely (1.000, 1.000, 0.998, 0.993, 0.821, 0.474, 0.163, 0.055); Thm 1's λ* (c = μ/4)
  (1.000, 0.997, 0.987, 0.948, 0.354, 0.097, 0.022, 0.007) and the λ minimising the class-level bound
  (1, 0.95, 0.77, 0.41, 0.078, 0.012, 0, 0) fall off much faster: the bound's tuning is conservative.
* That λ_wc ≈ 1 for a near teacher holds only in the noise-dominated neighbourhood of x*. With the start
  radius drawn independently of σ (the first version of ``safaryan.pep.lambda_wc``), seeds 2 and 4 drew
  L·R ≈ 24σ and 12σ: there W(λ) is flat (W(1)/W(0) − 1 ≈ 2e-4 at D = R/100) and minimised at λ = 0 for
  every D, because the worst instance spends its per-sample gradient spread on x − x*, which no teacher
  cancels. The claim now draws R in 0.1–0.3 noise radii σ/L (λ_wc at D = R/100: 0.98…1 over seeds 0–9)
  and re-solves the near-degenerate D = R/100 SDPs at another length scale when "optimal_inaccurate".
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from kdtheory import variance_reduction as vr
from verification import oracles as O
from verification.claims import Verdict, _jsonable, claim, combine, compare, skipped

PAPER = "000"
EXTRA_REASON = ("extra not installed: the PEP oracle needs PEPit + cvxpy "
                "(pip install -c constraints/oracles.txt -e '.[oracles]')")
GOLDEN_NAME = "paper000_pep"
#: Agreement required between the kdtheory bound and the PEP measure on the worst instance
#: (the solves are accurate to ~1e-8 relative; the worst instance is normalised to bound ≈ 1).
ATOL = 1e-6

#: kdtheory argument names that carry per-sample gradients of the worst instance.
_GRAD_ARGS = {"grads_opt": "@grads_opt", "grads_teacher": "@grads_teacher"}


@dataclasses.dataclass(frozen=True)
class Case:
    """One per-step inequality of the paper, as a kdtheory function, on one parameter draw.

    ``args`` maps the function's instance arguments to oracle quantities (or ``"@grads_opt"`` /
    ``"@grads_teacher"`` for per-sample gradient arrays); ``fixed`` are its other keyword arguments.
    """

    label: str
    fn: str
    args: dict
    fixed: dict
    lam: float
    L: float
    mu: float
    gamma: float
    steps: int = 1
    unbiased: bool = False
    metric: str = "distance"
    n: int = 2

    def function(self) -> Callable[..., float]:
        return getattr(vr, self.fn)

    def bound_at(self, instance: Mapping, grads_opt=None, grads_teacher=None) -> float:
        """The kdtheory bound evaluated on an instance (round-off negatives clipped to 0)."""
        kw = dict(self.fixed)
        for a, q in self.args.items():
            if q == "@grads_opt":
                kw[a] = np.asarray(grads_opt, dtype=float)
            elif q == "@grads_teacher":
                kw[a] = np.asarray(grads_teacher, dtype=float)
            else:
                kw[a] = max(0.0, float(instance[q]))
        return float(self.function()(**kw))

    def coefficients(self) -> dict[str, float]:
        """Coefficients of the (linear) bound in the oracle quantities, read off the kdtheory function."""
        scalar_args = {a: q for a, q in self.args.items() if not q.startswith("@")}
        grad_args = {a: q for a, q in self.args.items() if q.startswith("@")}
        zero = {q: 0.0 for q in scalar_args.values()}
        g0 = np.zeros((2, 2))

        def at(inst, go=g0, gt=g0):
            return self.bound_at(inst, go, gt)

        base = at(zero)
        coef = {}
        for q in scalar_args.values():
            coef[q] = at({**zero, q: 1.0}) - base
        if grad_args:
            # ‖∇f(θ)‖² = 1 with zero noise (∇f_i(x*) = λ∇f_i(θ)), then noise 1 with a zero teacher gradient
            gt = np.array([[1.0, 0.0], [1.0, 0.0]])
            coef["grad_theta_sq"] = at(zero, self.lam * gt, gt) - base
            coef["noise_lam"] = at(zero, np.array([[1.0, 0.0], [-1.0, 0.0]]), g0) - base
        if abs(base) > 1e-12:
            raise ValueError(f"{self.fn} is not homogeneous in its instance quantities (value {base} at 0)")
        return coef

    def params(self) -> dict:
        return dataclasses.asdict(self)


def _pep_ratio(case: Case) -> dict:
    """Solve the ratio PEP of one case and evaluate the kdtheory bound on its worst instance."""
    coef = case.coefficients()
    r = O.kd_sgd_bound_ratio(case.L, case.mu, case.gamma, case.lam, coefficients=coef, n=case.n,
                             steps=case.steps, unbiased=case.unbiased, metric=case.metric)
    out = dict(case=case.params(), coefficients=coef, rho=r.value, primal=r.primal, solver=r.solver,
               status=r.status, duality_gap=r.duality_gap, error=r.error, accurate=r.accurate, reason=r.reason,
               attempts=r.params.get("attempts", []), instance=r.instance,
               grads_opt=r.grads_opt.tolist(), grads_teacher=r.grads_teacher.tolist())
    if r.accurate:
        out["bound_at_instance"] = case.bound_at(r.instance, r.grads_opt, r.grads_teacher)
        out["measure"] = r.instance["measure"]
        out["tightness_gap"] = 1.0 - r.value
        # the gap in units of the claimed contraction 1 − c (c: coefficient of the potential): the exact
        # worst case contracts like 1 − (1 − c)(1 + slack) to first order; 0 = the paper's rate is exact
        c_pot = coef.get("dist0" if case.metric == "distance" else "fgap0", math.nan)
        out["contraction_slack"] = (1.0 - r.value) / (1.0 - c_pot) if 0.0 < 1.0 - c_pot else math.nan
    return out


def _verdict(claim_id: str, results: list[dict], *, extra: Mapping | None = None) -> Verdict:
    """Worst case over the accurately solved cases.

    A case whose solve is inaccurate is left out of the verdict (and listed); if more than half of the
    cases are, or a case is closer to equality than its error bar without a clear violation elsewhere,
    the verdict is ``skipped``. A verdict never rests on an inaccurate solve.
    """
    summary = [
        {k: res.get(k) for k in ("rho", "tightness_gap", "contraction_slack", "solver", "status", "duality_gap",
                                 "error", "accurate")}
        | {"label": res["case"]["label"], "lam": res["case"]["lam"], "gamma": res["case"]["gamma"],
           "L": res["case"]["L"], "mu": res["case"]["mu"], "steps": res["case"]["steps"]}
        for res in results
    ]
    bad = [res for res in results if not res["accurate"]]
    dropped = [{"label": res["case"]["label"], "reason": res["reason"]} for res in bad]
    if 2 * len(bad) > len(results):
        return skipped(claim_id, f"inaccurate PEP solve ({bad[0]['reason']})", cases=summary, dropped=dropped,
                       **dict(extra or {}))
    results = [res for res in results if res["accurate"]]
    worst = max(results, key=lambda res: res["measure"] - res["bound_at_instance"])
    close = [res for res in results if abs(res["bound_at_instance"] - res["measure"]) <= res["error"]]
    clear_violation = [res for res in results if res["bound_at_instance"] - res["measure"]
                       < -(ATOL * max(1.0, abs(res["bound_at_instance"])) + res["error"])]
    if close and not clear_violation:
        # no case is violated beyond tolerance, but some are decided by less than their solve's error bar
        return skipped(claim_id, "a case is closer to equality than its solve's error bar (too close to call)",
                       cases=summary, **dict(extra or {}))
    details = {
        "cases": summary,
        "worst_case": {k: worst[k] for k in ("rho", "tightness_gap", "solver", "status", "duality_gap",
                                             "coefficients", "instance")} | {"params": worst["case"]},
        "inaccurate_solves_left_out": dropped,
        "min_tightness_gap": min(res["tightness_gap"] for res in results),
        "max_tightness_gap": max(res["tightness_gap"] for res in results),
        "contraction_slack_range": [min(res["contraction_slack"] for res in results),
                                    max(res["contraction_slack"] for res in results)],
        "oracle": O.oracle_versions(),
        **dict(extra or {}),
    }
    return compare(claim_id, worst["bound_at_instance"], worst["measure"], "<=",
                   atol=ATOL * max(1.0, abs(worst["bound_at_instance"])), details=details)


# ---------------------------------------------------------------------------------------------
# parameter draws (class constants are scale-free; L is drawn anyway so the encoding is exercised)


def _draw(rng: np.random.Generator, gamma_max: Callable[[float, float], float], *, lam=None) -> dict:
    L = float(10 ** rng.uniform(-0.5, 0.5))
    kappa = float(10 ** rng.uniform(0.3, 1.5))
    mu = L / kappa
    gamma = float(rng.uniform(0.1, 1.0) * gamma_max(L, mu))
    lam = float(rng.uniform(0.0, 1.0)) if lam is None else float(lam)
    return dict(L=L, mu=mu, gamma=gamma, lam=lam)


def _n_draws(size: str) -> tuple[int, int]:
    """(number of parameter draws, functions in the finite sum)."""
    return (2, 2) if size == "quick" else (8, 3)


def _gmax_thm1(L, mu):  # γ ≤ 1/(4𝓛), 𝓛 = L for sums of L-smooth convex f_i
    return vr.theorem1_step_max(L)


def _gmax_thm2(L, mu):  # γ ≤ μ/(4L𝓛)
    return vr.theorem2_step_max(mu, L, L)


def _gmax_thm3(L, mu):  # γ ≤ μ/(3L𝓛)
    return vr.theorem3_step_max(mu, L, L)


def _thm1_case(p, n) -> Case:
    return Case("thm1 one step (7)", "theorem1_one_step_bound",
                {"e_t": "dist0", "grad_theta_sq": "grad_theta_sq", "noise_lam": "noise_lam"},
                {"gamma": p["gamma"], "mu": p["mu"], "calL": p["L"], "lam": p["lam"]}, n=n, **p)


def _descent_cases(p1, p2, n) -> list[Case]:
    sqc = Case("descent (13), strongly quasi-convex (proof of Thm 1)", "descent_step_bound",
               {"e_t": "dist0", "f_gap_t": "fgap0", "grad_theta_sq": "grad_theta_sq", "noise_lam": "noise_lam"},
               {"gamma": p1["gamma"], "mu": p1["mu"], "calL": p1["L"], "lam": p1["lam"],
                "setting": "strongly_quasi_convex"}, n=n, **p1)
    pl = Case("descent (13), PL (proof of Thm 2)", "descent_step_bound",
              {"e_t": "fgap0", "grad_theta_sq": "grad_theta_sq", "noise_lam": "noise_lam"},
              {"f_gap_t": 0.0, "gamma": p2["gamma"], "mu": p2["mu"], "calL": p2["L"], "lam": p2["lam"],
               "setting": "pl", "L": p2["L"]}, metric="function", n=n, **p2)
    return [sqc, pl]


def _thm2_case(p, n) -> Case:
    return Case("thm2 one step (7)", "theorem2_one_step_bound",
                {"e_t": "fgap0", "grad_theta_sq": "grad_theta_sq", "noise_lam": "noise_lam"},
                {"gamma": p["gamma"], "mu": p["mu"], "L": p["L"], "calL": p["L"], "lam": p["lam"]},
                metric="function", n=n, **p)


def _thm3_cases(p, n) -> list[Case]:
    fixed = {"gamma": p["gamma"], "mu": p["mu"], "L": p["L"], "calL": p["L"]}
    args = {"f_gap_t": "fgap0", "f_theta_gap": "teacher_gap"}
    return [Case("thm3 descent step (16)", "theorem3_descent_step", args, fixed, unbiased=True,
                 metric="function", n=n, **p),
            Case("thm3 one step (16)", "theorem3_one_step_bound", args, fixed, unbiased=True,
                 metric="function", n=n, **p)]


def _thm1_steps_case(p, n, steps) -> Case:
    return Case(f"thm1 (35) after {steps} steps of (7)", "theorem1_bound",
                {"dist0_sq": "dist0", **_GRAD_ARGS},
                {"t": steps, "gamma": p["gamma"], "mu": p["mu"], "calL": p["L"], "lam": p["lam"]},
                steps=steps, n=n, **p)


def _cases_for(claim_name: str, rng: np.random.Generator, size: str) -> list[Case]:
    draws, n = _n_draws(size)
    if claim_name == "thm1_step":
        return [_thm1_case(_draw(rng, _gmax_thm1), n) for _ in range(draws)]
    if claim_name == "thm2_step":
        return [_thm2_case(_draw(rng, _gmax_thm2), n) for _ in range(draws)]
    if claim_name == "descent13":
        out = []
        for _ in range(max(1, draws // 2) if size == "quick" else draws):
            out += _descent_cases(_draw(rng, _gmax_thm1), _draw(rng, _gmax_thm2), n)
        return out
    if claim_name == "thm3_step":
        out = []
        for _ in range(max(1, draws // 2) if size == "quick" else draws):
            out += _thm3_cases(_draw(rng, _gmax_thm3, lam=1.0), n)
        return out
    if claim_name == "thm1_steps":
        steps = 2 if size == "quick" else 3
        return [_thm1_steps_case(_draw(rng, _gmax_thm1), 2, steps) for _ in range(1 if size == "quick" else 4)]
    raise ValueError(f"unknown PEP claim {claim_name!r}")


def _ratio_claim(claim_id: str, name: str, rng, size) -> Verdict:
    if not O.available():
        return skipped(claim_id, EXTRA_REASON)
    results = [_pep_ratio(c) for c in _cases_for(name, rng, size)]
    return _verdict(claim_id, results)


@claim("safaryan.pep.thm1_step", paper=PAPER, where="App. C.2, proof of Thm 1 (last line of the one-step chain)",
       statement="E_t||x+ - x*||^2 <= (1-γμ)||x-x*||^2 + (8γ/μ)λ²||∇f(θ)||² + 2γ² E||∇f_ξ(x*) - λ∇f_ξ(θ)||² "
                 "for one step of (7), γ <= 1/(4L): at or above the exact PEP worst case (ratio <= 1)",
       tags=("pep", "oracles"))
def _check_thm1_step(rng, size):
    return _ratio_claim("safaryan.pep.thm1_step", "thm1_step", rng, size)


@claim("safaryan.pep.descent13", paper=PAPER, where="eq. (13) with the constants of App. C.2 and C.3",
       statement="the descent step (13), in the explicit forms of the proofs of Thms 1 and 2 (including the "
                 "-γ(1-4γ𝓛)(f(x)-f*) term), is at or above the exact PEP worst case of one step of (7)",
       tags=("pep", "oracles"))
def _check_descent13(rng, size):
    return _ratio_claim("safaryan.pep.descent13", "descent13", rng, size)


@claim("safaryan.pep.thm2_step", paper=PAPER, where="App. C.3, proof of Thm 2 (one-step contraction)",
       statement="E_t[f(x+) - f*] <= (1-γμ)(f(x)-f*) + γλ²||∇f(θ)||² + Lγ² E||∇f_ξ(x*) - λ∇f_ξ(θ)||², "
                 "γ <= μ/(4L𝓛): at or above the exact PEP worst case of one step of (7)",
       tags=("pep", "oracles"))
def _check_thm2_step(rng, size):
    return _ratio_claim("safaryan.pep.thm2_step", "thm2_step", rng, size)


@claim("safaryan.pep.thm3_step", paper=PAPER, where="App. D.1, proof of Thm 3",
       statement="for one step of the unbiased iteration (16) with λ = 1 and γ <= μ/(3L𝓛), "
                 "E_t[f(x+) - f*] <= (1-γμ)(f(x)-f*) + 3L(L+𝓛)γ²(f(θ)-f*) (and the descent step before it) "
                 "is at or above the exact PEP worst case",
       tags=("pep", "oracles"))
def _check_thm3_step(rng, size):
    return _ratio_claim("safaryan.pep.thm3_step", "thm3_step", rng, size)


@claim("safaryan.pep.thm1_steps", paper=PAPER, where="eq. (35), App. C.2",
       statement="after k = 2 (quick) or 3 (full) steps of (7), E||x^k - x*||^2 <= (1-γμ)^k||x0-x*||^2 + (8/μ²)N₁(λ) "
                 "is at or above the exact PEP worst case over all index paths",
       tags=("pep", "oracles"))
def _check_thm1_steps(rng, size):
    return _ratio_claim("safaryan.pep.thm1_steps", "thm1_steps", rng, size)


# ---------------------------------------------------------------------------------------------
# parameter-level worst cases: (L, μ, γ, λ, σ, D, R) and the worst-case-optimal λ


def _class_bounds(sigma, D, R) -> dict:
    return {"dist0": R * R, "sigma_sq": sigma * sigma, "teacher_dist": D * D}


def param_level_thm1_bound(L, mu, gamma, lam, sigma, D, R) -> float:
    """Thm 1's one-step inequality with each instance quantity replaced by its supremum on the class:
    ‖x⁰ − x*‖² ≤ R², ‖∇f(θ)‖² ≤ L²D² (smoothness, ∇f(x*) = 0), and, for λ ∈ [0, 1],
    E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖² = E‖(1−λ)∇f_ξ(x*) − λ(∇f_ξ(θ) − ∇f_ξ(x*))‖² ≤ ((1−λ)σ + λLD)²
    (Minkowski in L²(ξ) and L-smoothness of each f_ξ). Monotone in each quantity, so it bounds the
    worst case over the class (the suprema need not be attained together: it is an upper bound)."""
    noise = ((1.0 - lam) * sigma + lam * L * D) ** 2
    return vr.theorem1_one_step_bound(R * R, gamma, mu, L, lam, L * L * D * D, noise)


def _draw_class(rng) -> dict:
    p = _draw(rng, _gmax_thm1)
    p.update(sigma=float(10 ** rng.uniform(-1, 0.5)), D=float(10 ** rng.uniform(-1.5, 0.3)),
             R=float(10 ** rng.uniform(-1, 0.5)))
    return p


@claim("safaryan.pep.thm1_params", paper=PAPER, where="App. C.2 (Thm 1 one-step), class parameters σ, D, R",
       statement="for one step of (7) on the class (start within R, E||∇f_ξ(x*)||² <= σ², teacher within D), "
                 "the Thm 1 one-step inequality with the class suprema plugged in bounds the exact worst case",
       tags=("pep", "oracles"))
def _check_thm1_params(rng, size):
    cid = "safaryan.pep.thm1_params"
    if not O.available():
        return skipped(cid, EXTRA_REASON)
    draws, n = _n_draws(size)
    rows = []
    for _ in range(draws):
        p = _draw_class(rng)
        r = O.kd_sgd_worst_case(p["L"], p["mu"], p["gamma"], p["lam"], n=n,
                                bounds=_class_bounds(p["sigma"], p["D"], p["R"]))
        row = dict(params=p, worst_case=r.value, solver=r.solver, status=r.status, duality_gap=r.duality_gap,
                   error=r.error, accurate=r.accurate, reason=r.reason)
        if r.accurate:
            row["bound"] = param_level_thm1_bound(**p)
            row["relative_gap"] = (row["bound"] - r.value) / row["bound"]
        rows.append(row)
    bad = [r for r in rows if not r["accurate"]]
    if 2 * len(bad) > len(rows):  # as in _verdict: a verdict never rests on an inaccurate solve
        return skipped(cid, f"inaccurate PEP solve ({bad[0]['reason']})", cases=rows)
    dropped = [{"params": r["params"], "reason": r["reason"]} for r in bad]
    rows_ok = [r for r in rows if r["accurate"]]
    worst = min(rows_ok, key=lambda r: (r["bound"] - r["worst_case"]) / r["bound"])
    if abs(worst["bound"] - worst["worst_case"]) <= worst["error"]:
        return skipped(cid, "closer to equality than the solve's error bar (too close to call)", cases=rows)
    return compare(cid, worst["bound"], worst["worst_case"], "<=", atol=ATOL * max(1.0, worst["bound"]),
                   details={"cases": rows, "worst": worst, "inaccurate_solves_left_out": dropped,
                            "relative_gap_range": [min(r["relative_gap"] for r in rows_ok),
                                                   max(r["relative_gap"] for r in rows_ok)],
                            "oracle": O.oracle_versions()})


#: Lower limit of the worst-case-optimal λ for the near-optimal teacher of ``safaryan.pep.lambda_wc``
#: (measured minimum over the drawn regime below: 0.979, at γ = γ_max/10 and L·R = 0.3σ, D = R/100).
NEAR_ONE = 0.95
#: Start radius of ``safaryan.pep.lambda_wc`` in units of the noise radius σ/L (log-uniform draw): the
#: statement is about the noise-dominated neighbourhood of x*. Outside it (L·R ≫ σ, e.g. 24 and 12 at
#: seeds 2 and 4 of the earlier draw) the one-step worst case is flat in λ (W(1)/W(0) − 1 ≈ 2e-4) and
#: minimised at λ = 0 for every D: the worst instance puts its per-sample gradient spread into x − x*,
#: which no teacher cancels. That regime gave "violated" at seeds 2 and 4; it is not the paper's.
START_IN_NOISE_RADII = (0.1, 0.3)
#: W's relative range over λ ∈ [0, 1] below which the argmin is not identified (verdict inconclusive).
FLAT_REL = 1e-3


#: Length scales tried, in order, for a one-step class solve that is inaccurate at scale 1.
_RESCALES = ("1", "1/sigma", "1/R", "2", "1/2")


def _scaled_worst_case(L, mu, gamma, lam, n, sigma, D, R) -> O.PEPResult:
    """The one-step class worst case, re-solved at another length scale s when inaccurate.

    The class is invariant under x ↦ s·x, f ↦ s²·f(·/s) (L and μ unchanged): σ, D, R and the gradients scale
    by s, the worst case E‖x⁺ − x*‖² by s². The SDP's conditioning is not invariant (near-degenerate solves at
    D = R/100 come out "optimal_inaccurate" at one scale and "optimal" at another), so the first accurate
    scale is used and mapped back; when none is accurate, the scale-1 solve is returned (the claim skips).
    """
    first = None
    for name in _RESCALES:
        sc = {"1": 1.0, "1/sigma": 1.0 / sigma, "1/R": 1.0 / R, "2": 2.0, "1/2": 0.5}[name]
        r = O.kd_sgd_worst_case(L, mu, gamma, lam, n=n, bounds=_class_bounds(sc * sigma, sc * D, sc * R))
        if sc != 1.0:
            s2 = sc * sc
            r = dataclasses.replace(r, value=r.value / s2, primal=r.primal / s2, duality_gap=r.duality_gap / s2,
                                    error=r.error / s2, grads_opt=r.grads_opt / sc, grads_teacher=r.grads_teacher / sc,
                                    instance={k: v / s2 for k, v in r.instance.items()},
                                    params={**r.params, "length_scale": sc})
        if r.accurate:
            return r
        first = first or r
    return first


def worst_case_optimal_lambda(L, mu, gamma, sigma, D, R, *, n=2, xatol=1e-3) -> dict:
    """argmin over λ ∈ [0, 1] of the exact one-step worst case W(λ) of (7) on the class (σ, D, R).

    W is convex in λ (a supremum over a λ-independent set of instances of E‖x⁺ − x*‖², which is a
    convex quadratic in λ for each instance), so a bounded scalar search finds the minimiser.
    Returns λ_wc, W(λ_wc), W(0), W(1), the solves' statuses, and λ* of Lemma 1 evaluated on the
    worst instance at λ_wc (c = 1 as in (14), c = μ/4 as in Thm 1).
    """
    solves: dict[float, O.PEPResult] = {}

    def W(lam):
        lam = float(min(max(lam, 0.0), 1.0))
        if lam not in solves:
            solves[lam] = _scaled_worst_case(L, mu, gamma, lam, n, sigma, D, R)
        return solves[lam].value

    res = minimize_scalar(W, bounds=(0.0, 1.0), method="bounded", options={"xatol": xatol})
    for edge in (0.0, 1.0):
        W(edge)
    lam_wc = min(solves, key=lambda k: solves[k].value)
    best = solves[lam_wc]
    out = dict(lam_wc=lam_wc, W_wc=best.value, W0=solves[0.0].value, W1=solves[1.0].value,
               evaluations=len(solves), converged=bool(res.success),
               accurate=all(s.accurate for s in solves.values()),
               statuses=sorted({s.status for s in solves.values()}),
               max_abs_duality_gap=max(abs(s.duality_gap) for s in solves.values()),
               solver=best.solver, curve=sorted((k, s.value) for k, s in solves.items()))
    if best.accurate and best.grads_opt.size:
        out["lam_star_eq14_at_worst"] = vr.optimal_lambda(best.grads_opt, best.grads_teacher, gamma, 1.0)
        out["lam_star_thm1_at_worst"] = vr.optimal_lambda(best.grads_opt, best.grads_teacher, gamma, vr.lemma1_c(1, mu=mu))
    return out


def bound_optimal_lambda(L, mu, gamma, sigma, D, R) -> float:
    """argmin over λ ∈ [0, 1] of :func:`param_level_thm1_bound` (the paper's tuning at the class level)."""
    r = minimize_scalar(lambda lam: param_level_thm1_bound(L, mu, gamma, lam, sigma, D, R),
                        bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-6})
    return float(r.x)


@claim("safaryan.pep.lambda_wc", paper=PAPER, where="Sec. 4.2 (discussion of λ*, eq. 14), Lemma 1",
       statement="as the paper says of λ*, in the noise-dominated neighbourhood of x* (start within 0.1-0.3 noise radii "
                 "σ/L) the worst-case-optimal distillation weight of one step of (7) is near 1 (>= 0.95) for a "
                 "near-optimal teacher (D = R/100) and does not increase as the teacher moves away (D grows); "
                 "inconclusive where the worst case is flat in λ; reports it against λ* (eq. 14, Thm 1) and the "
                 "bound-optimal λ",
       tags=("pep", "oracles"))
def _check_lambda_wc(rng, size):
    if not O.available():
        return skipped(EXTRA_REASON)
    p = _draw_class(rng)
    del p["lam"], p["D"]
    # the start radius in noise radii σ/L (see START_IN_NOISE_RADII: outside, λ does not matter to the worst case)
    u = float(10 ** rng.uniform(*np.log10(START_IN_NOISE_RADII)))
    p["R"] = u * p["sigma"] / p["L"]
    xatol = 0.05 if size == "quick" else 2e-3
    scale = p["R"]  # teacher distances relative to the start distance
    # D = 0 exactly makes the SDP not strictly feasible (θ = x* forced); a near-optimal teacher stands in
    # (D = R/100: at R/1000 the solves at interior λ are too degenerate for a clean "optimal" status)
    grid = (1e-2, 0.5, 2.0) if size == "quick" else (1e-2, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
    rows = []
    for rel in grid:
        D = rel * scale
        wc = worst_case_optimal_lambda(**p, D=D, xatol=xatol)
        flat = (max(wc["W0"], wc["W1"]) - wc["W_wc"]) / wc["W_wc"]
        rows.append(dict(D=D, D_over_R=rel, lam_bound=bound_optimal_lambda(**p, D=D), relative_range_in_lambda=flat,
                         **{k: v for k, v in wc.items() if k != "curve"}))
    det = {"params": p, "start_in_noise_radii": u, "rows": rows, "near_one": NEAR_ONE, "search_xatol": xatol,
           "flat_rel": FLAT_REL, "oracle": O.oracle_versions()}
    if not all(r["accurate"] for r in rows):
        return skipped("inaccurate PEP solve in the λ search", **det)
    lam = [r["lam_wc"] for r in rows]
    # λ* = 1 exactly at θ = x* (Lemma 1); at D = R/100 the measured λ_wc is 0.98…1 in this regime
    parts = {"near_one": compare(predicted=NEAR_ONE, measured=lam[0], relation=">=", atol=2 * xatol),
             "non_increasing": compare(predicted=0.0, measured=max(b - a for a, b in zip(lam[:-1], lam[1:])),
                                       relation="<=", atol=2 * xatol)}
    v = combine(parts, details=det)
    flat_rows = [r["D_over_R"] for r in rows if r["relative_range_in_lambda"] < FLAT_REL]
    if flat_rows and v.status != "holds":
        # the argmin of a curve flat to < 0.1 % is not a property of the class worth a verdict
        v.details["reason"] = f"worst case flat in λ (relative range < {FLAT_REL}) at D/R = {flat_rows}"
        v = dataclasses.replace(v, status="inconclusive")
    return v


# ---------------------------------------------------------------------------------------------
# golden values: the same kdtheory bounds on committed worst instances (no extra needed)


def golden_cases() -> list[Case]:
    """The fixed grid the golden file is generated on (deterministic, no rng)."""
    out = []
    for (L, kappa, u, lam) in ((1.0, 10.0, 1.0, 0.5), (2.0, 4.0, 0.5, 0.0), (0.5, 30.0, 0.25, 1.0)):
        mu = L / kappa
        p1 = dict(L=L, mu=mu, gamma=u * _gmax_thm1(L, mu), lam=lam)
        p2 = dict(L=L, mu=mu, gamma=u * _gmax_thm2(L, mu), lam=lam)
        p3 = dict(L=L, mu=mu, gamma=u * _gmax_thm3(L, mu), lam=1.0)
        out += [_thm1_case(p1, 2), *_descent_cases(p1, p2, 2), _thm2_case(p2, 2), *_thm3_cases(p3, 2),
                _thm1_steps_case(p1, 2, 2)]
    return out


GOLDEN_CLASS = ((1.0, 0.1, 0.2, 0.5, 1.0, 0.1, 1.0), (1.0, 0.1, 0.2, 0.5, 1.0, 0.5, 1.0),
                (1.0, 0.1, 0.2, 0.5, 1.0, 1.0, 1.0))  # (L, μ, γ, λ, σ, D, R)


def write_golden(path: Path | None = None) -> Path:
    """Solve the golden grid with the oracle and write the JSON (needs the extra)."""
    if not O.available():
        raise O.OracleUnavailable(EXTRA_REASON)
    ratio = [_pep_ratio(c) for c in golden_cases()]
    params = []
    for (L, mu, gamma, lam, sigma, D, R) in GOLDEN_CLASS:
        r = O.kd_sgd_worst_case(L, mu, gamma, lam, bounds=_class_bounds(sigma, D, R))
        wc = worst_case_optimal_lambda(L, mu, gamma, sigma, D, R)
        params.append(dict(params=dict(L=L, mu=mu, gamma=gamma, lam=lam, sigma=sigma, D=D, R=R),
                           worst_case=r.value, primal=r.primal, solver=r.solver, status=r.status,
                           duality_gap=r.duality_gap, error=r.error, accurate=r.accurate,
                           bound=param_level_thm1_bound(L, mu, gamma, lam, sigma, D, R),
                           lam_bound=bound_optimal_lambda(L, mu, gamma, sigma, D, R),
                           **{k: wc[k] for k in ("lam_wc", "W_wc", "W0", "W1", "lam_star_eq14_at_worst",
                                                 "lam_star_thm1_at_worst") if k in wc}))
    doc = {"paper": PAPER, "generator": "python -m verification.pep", "oracle": O.oracle_versions(),
           "atol": ATOL, "ratio_cases": ratio, "class_cases": params}
    path = Path(path) if path is not None else O.GOLDEN_DIR / f"{GOLDEN_NAME}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(doc), indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return path


def check_golden(doc: Mapping) -> list[dict]:
    """Re-evaluate the kdtheory bounds on every golden worst instance; one row per record."""
    rows = []
    for rec in doc["ratio_cases"]:
        if not rec.get("accurate"):
            continue
        c = Case(**rec["case"])
        bound = c.bound_at(rec["instance"], rec["grads_opt"], rec["grads_teacher"])
        coef = c.coefficients()
        coef_drift = max(abs(coef.get(k, 0.0) - v) for k, v in rec["coefficients"].items())
        rows.append(dict(label=c.label, bound=bound, measure=rec["measure"], stored_bound=rec["bound_at_instance"],
                         rho=rec["rho"], coefficient_drift=coef_drift,
                         margin=bound - rec["measure"] + ATOL * max(1.0, abs(bound))))
    for rec in doc["class_cases"]:
        if not rec.get("accurate"):
            continue
        b = param_level_thm1_bound(**rec["params"])
        rows.append(dict(label="class-level thm1 one step", bound=b, measure=rec["worst_case"],
                         stored_bound=rec["bound"], margin=b - rec["worst_case"] + ATOL * max(1.0, b)))
    return rows


@claim("safaryan.pep.golden", paper=PAPER, where="App. C.2, C.3, D.1 (committed PEP worst instances)",
       statement="the kdtheory per-step bounds of Thms 1-3 and (13), evaluated on the committed exact PEP worst "
                 "instances, lie at or above the measure there (runs without the oracles extra)",
       tags=("pep", "golden"))
def _check_golden(rng, size):
    cid = "safaryan.pep.golden"
    try:
        doc = O.load_golden(GOLDEN_NAME)
    except FileNotFoundError as exc:
        return skipped(cid, str(exc))
    rows = check_golden(doc)
    if not rows:
        return skipped(cid, "no accurate records in the golden file")
    worst = min(rows, key=lambda r: r["margin"])
    drift = max([abs(r["bound"] - r["stored_bound"]) / max(1.0, abs(r["stored_bound"])) for r in rows])
    return compare(cid, worst["bound"], worst["measure"], "<=", atol=ATOL * max(1.0, abs(worst["bound"])),
                   details={"records": len(rows), "worst": worst, "max_relative_drift_vs_stored_bound": drift,
                            "rows": rows, "generated_with": doc.get("oracle", {})})


if __name__ == "__main__":  # regenerate the golden file
    print(write_golden())
