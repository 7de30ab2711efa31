"""PEP oracles (verification/oracles) and the safaryan.pep.* claims.

The golden checks always run (no extra needed). Tests that solve SDPs are marked ``oracles`` and
skipped when PEPit/cvxpy are absent; they check the encoding against closed forms derived
independently of the paper (gradient descent on the class, PESTO's SGD worst case).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verification import oracles as O
from verification import pep as P
from verification.claims import claim_rng, get, load_all

load_all()
needs_extra = pytest.mark.skipif(not O.available(), reason="optional extra 'oracles' (PEPit + cvxpy) not installed")
PEP_IDS = ["safaryan.pep.thm1_step", "safaryan.pep.descent13", "safaryan.pep.thm2_step", "safaryan.pep.thm3_step",
           "safaryan.pep.thm1_steps", "safaryan.pep.thm1_params", "safaryan.pep.lambda_wc"]


# ------------------------------------------------------------------ golden (always run)

@pytest.fixture(scope="module")
def golden():
    return O.load_golden(P.GOLDEN_NAME)


def test_golden_records_carry_solver_info_and_parameters(golden):
    assert golden["paper"] == "000" and golden["oracle"].get("pepit")
    assert len(golden["ratio_cases"]) >= 15 and len(golden["class_cases"]) >= 3
    for rec in golden["ratio_cases"] + golden["class_cases"]:
        assert rec["solver"] and rec["status"]
        assert "duality_gap" in rec and isinstance(rec["accurate"], bool)
        if rec["accurate"]:
            assert 0 <= rec.get("error", 0.0) < 1e-4
    for rec in golden["ratio_cases"]:
        assert {"L", "mu", "gamma", "lam", "steps", "fn"} <= set(rec["case"])
        if rec["accurate"]:
            assert rec["status"] == "optimal" and abs(rec["duality_gap"]) < 1e-5  # never "optimal_inaccurate"
            assert 0.0 < rec["rho"] <= 1.0 + 1e-6  # the paper's step holds on the class ...
            assert rec["tightness_gap"] == pytest.approx(1.0 - rec["rho"])


def test_golden_worst_instances_are_consistent_with_their_gradients(golden):
    """Independent route (plain numpy on the stored Gram factor): the quantities recorded for each worst
    instance are the ones its per-function gradients give."""
    for rec in golden["ratio_cases"]:
        if not rec["accurate"]:
            continue
        go, gt = np.asarray(rec["grads_opt"]), np.asarray(rec["grads_teacher"])
        lam, inst = rec["case"]["lam"], rec["instance"]
        scale = max(1.0, abs(inst["dist0"]))
        assert np.sum(go.mean(axis=0) ** 2) < 1e-6 * scale  # x* is stationary: mean gradient 0
        assert np.mean(np.sum(go**2, axis=1)) == pytest.approx(inst["sigma_sq"], abs=1e-6 * scale)
        assert np.sum(gt.mean(axis=0) ** 2) == pytest.approx(inst["grad_theta_sq"], abs=1e-6 * scale)
        assert np.mean(np.sum((go - lam * gt) ** 2, axis=1)) == pytest.approx(inst["noise_lam"], abs=1e-6 * scale)


def test_golden_kdtheory_bounds_dominate_the_exact_worst_instances(golden):
    rows = P.check_golden(golden)
    assert len(rows) >= 18
    for r in rows:
        assert r["margin"] >= 0, r
        assert r["bound"] == pytest.approx(r["stored_bound"], rel=1e-9, abs=1e-12), r  # formula unchanged
        assert r.get("coefficient_drift", 0.0) < 1e-9, r


def test_golden_check_catches_a_wrong_bound(golden, monkeypatch):
    """The golden claim can fail: a Thm 1 step with a contraction factor (1 - 2γμ) instead of (1 - γμ)
    is below the exact worst case on the committed instance."""
    real = P.vr.theorem1_one_step_bound

    def too_strong(e_t, gamma, mu, calL, lam, grad_theta_sq, noise_lam):
        return real(e_t, gamma, mu, calL, lam, grad_theta_sq, noise_lam) - gamma * mu * e_t

    monkeypatch.setattr(P.vr, "theorem1_one_step_bound", too_strong)
    rows = [r for r in P.check_golden(golden) if r["label"].startswith("thm1 one step")]
    assert rows and min(r["margin"] for r in rows) < 0


def test_golden_claim_holds_and_is_deterministic():
    c = get("safaryan.pep.golden")
    v1 = c.run(claim_rng(0, c.id), "quick")
    v2 = c.run(claim_rng(0, c.id), "quick")
    assert v1.status == "holds" and v1.margin >= 0
    assert v1.details["records"] >= 18
    d1, d2 = v1.to_dict(), v2.to_dict()
    d1.pop("seconds"), d2.pop("seconds")
    assert d1 == d2


def test_without_the_extra_the_pep_claims_are_skipped(monkeypatch):
    monkeypatch.setattr(O, "available", lambda: False)
    for cid in PEP_IDS:
        v = get(cid).run(claim_rng(0, cid), "quick")
        assert v.status == "skipped" and "extra not installed" in v.details["reason"], cid
    with pytest.raises(O.OracleUnavailable, match="oracles"):
        from verification.oracles import pep_kd

        monkeypatch.setattr(pep_kd, "available", lambda: False)
        pep_kd.kd_sgd_worst_case(1.0, 0.1, 0.1, 0.5, bounds={"dist0": 1.0})


def _result(label, *, accurate=True, measure=0.9, bound=1.0, error=1e-8):
    """A solve record as verification.pep._pep_ratio returns it (no solver needed)."""
    rho = measure / bound
    return {"case": {"label": label, "lam": 0.5, "gamma": 0.1, "L": 1.0, "mu": 0.1, "steps": 1}, "rho": rho,
            "solver": "CLARABEL", "status": "optimal" if accurate else "optimal_inaccurate", "duality_gap": 1e-9,
            "error": error if accurate else 1.0, "accurate": accurate,
            "reason": "" if accurate else "inaccurate solve: status='optimal_inaccurate'",
            "measure": measure, "bound_at_instance": bound, "tightness_gap": 1.0 - rho, "contraction_slack": 0.5,
            "coefficients": {"dist0": 0.9}, "instance": {"measure": measure}}


def test_an_inaccurate_solve_is_skipped_never_holds():
    """All (or most) solves inaccurate: skipped, whatever numbers they carry; an inaccurate solve that
    would even 'violate' cannot make the verdict; one closer to equality than its error bar is skipped."""
    for results in ([_result("a", accurate=False)],
                    [_result("a", accurate=False), _result("b", accurate=False), _result("c")],
                    [_result("a", accurate=False, measure=0.5)]):
        v = P._verdict("safaryan.pep.test", results)
        assert v.status == "skipped" and "inaccurate" in v.details["reason"]
        assert all({"solver", "status", "duality_gap"} <= set(c) for c in v.details["cases"])
    v = P._verdict("safaryan.pep.test", [_result("a"), _result("b", accurate=False, measure=5.0), _result("c")])
    assert v.status == "holds" and v.details["inaccurate_solves_left_out"][0]["label"] == "b"
    assert [c["accurate"] for c in v.details["cases"]] == [True, False, True]
    v = P._verdict("safaryan.pep.test", [_result("a", measure=1.0 - 1e-9, error=1e-6)])
    assert v.status == "skipped" and "too close to call" in v.details["reason"]
    v = P._verdict("safaryan.pep.test", [_result("a", measure=1.1)])  # an accurate violation is reported
    assert v.status == "violated"


def test_load_golden_rejects_bad_names():
    with pytest.raises(FileNotFoundError, match="no golden file"):
        O.load_golden("nope")
    with pytest.raises(ValueError, match="name"):
        O.load_golden("../x")


# ------------------------------------------------------------------ with the extra


@pytest.mark.oracles
@needs_extra
@pytest.mark.parametrize("L,mu,gamma", [(1.0, 0.1, 0.5), (2.0, 0.5, 0.9), (1.0, 0.2, 1.5)])
def test_single_function_is_gradient_descent_with_the_known_rate(L, mu, gamma):
    """n = 1, λ = 0: one gradient step on an L-smooth μ-strongly convex f; the exact worst case of
    ‖x⁺ − x*‖² is max(|1 − γL|, |1 − γμ|)² R² (attained by a quadratic)."""
    R2 = 2.0
    r = O.kd_sgd_worst_case(L, mu, gamma, 0.0, n=1, bounds={"dist0": R2})
    assert r.accurate, r.reason
    assert r.value == pytest.approx(max(abs(1 - gamma * L), abs(1 - gamma * mu)) ** 2 * R2, rel=1e-6)


@pytest.mark.oracles
@needs_extra
@pytest.mark.parametrize("n", [2, 3])
def test_lambda_zero_matches_the_pesto_sgd_worst_case(n):
    """λ = 0 is plain SGD; its one-step worst case with E‖∇f_i(x*)‖² ≤ v² and ‖x⁰ − x*‖ ≤ R is the
    empirically tight PESTO expression (γ(L−μ)R/2 + √((1 − γ(L+μ)/2)²R² + γ²v²))²."""
    L, mu, gamma, v, R = 1.0, 0.1, 0.7, 1.0, 2.0
    r = O.kd_sgd_worst_case(L, mu, gamma, 0.0, n=n, bounds={"dist0": R * R, "sigma_sq": v * v})
    assert r.accurate, r.reason
    tau = (gamma * R * (L - mu) / 2 + math.sqrt((1 - gamma * (L + mu) / 2) ** 2 * R * R + gamma**2 * v * v)) ** 2
    assert r.value == pytest.approx(tau, rel=1e-5)


@pytest.mark.oracles
@needs_extra
def test_unbiased_step_with_an_optimal_teacher_has_no_noise():
    """(16) with λ = 1 and a teacher at x* (D → 0): the noise vanishes and the step is no worse than a
    gradient step, however large σ is; the biased (7) with λ = 0 does feel σ."""
    L, mu, gamma = 1.0, 0.1, 0.5
    b = {"dist0": 1.0, "sigma_sq": 100.0, "teacher_dist": 1e-10}
    r16 = O.kd_sgd_worst_case(L, mu, gamma, 1.0, unbiased=True, bounds=b)
    r7 = O.kd_sgd_worst_case(L, mu, gamma, 0.0, bounds={k: b[k] for k in ("dist0", "sigma_sq")})  # λ = 0: θ plays no role
    assert r16.accurate and r7.accurate
    gd = max(abs(1 - gamma * L), abs(1 - gamma * mu)) ** 2
    assert r16.value <= gd * (1 + 1e-4) + 1e-6
    assert r7.value > 10 * gd


@pytest.mark.oracles
@needs_extra
def test_bound_ratio_detects_a_false_inequality():
    """A bound with the GD contraction but no noise term is false for SGD: ρ > 1 (or unbounded)."""
    L, mu, gamma = 1.0, 0.1, 0.2
    r = O.kd_sgd_bound_ratio(L, mu, gamma, 0.0, coefficients={"dist0": (1 - gamma * mu) ** 2, "sigma_sq": 1e-3})
    assert r.value > 1.0


@pytest.mark.oracles
@needs_extra
@settings(max_examples=4, deadline=None)
@given(lam=st.floats(0.0, 1.0), u=st.floats(0.1, 1.0), sigma=st.floats(0.05, 3.0), D=st.floats(0.01, 2.0),
       R=st.floats(0.1, 3.0), kappa=st.floats(2.0, 30.0))
def test_class_level_thm1_bound_dominates_the_worst_case(lam, u, sigma, D, R, kappa):
    L = 1.0
    mu, gamma = L / kappa, u / (4 * L)
    r = O.kd_sgd_worst_case(L, mu, gamma, lam, bounds={"dist0": R * R, "sigma_sq": sigma**2, "teacher_dist": D * D})
    if not r.accurate:
        pytest.skip(f"inaccurate solve: {r.reason}")
    assert r.value <= P.param_level_thm1_bound(L, mu, gamma, lam, sigma, D, R) * (1 + 1e-6)


@pytest.mark.oracles
@needs_extra
def test_every_result_records_solver_status_and_gap():
    r = O.kd_sgd_bound_ratio(1.0, 0.1, 0.25, 0.5, coefficients={"dist0": 0.975, "grad_theta_sq": 5.0, "noise_lam": 0.125})
    s = r.summary()
    assert s["solver"] in ("CLARABEL", "SCS") and s["status"] == "optimal"
    assert abs(s["duality_gap"]) < 1e-6 and s["accurate"] and 0 <= s["error"] < 1e-4
    assert set(r.params["feasibility"]) == {"primal_psd", "primal_violation", "dual_psd", "dual_sign", "proof_residual"}
    assert r.grads_opt.shape[0] == 2 and r.grads_opt.shape == r.grads_teacher.shape


@pytest.mark.oracles
@needs_extra
@pytest.mark.parametrize("kw,match", [
    (dict(L=1.0, mu=2.0), "mu must be <= L"),
    (dict(n=0), "n must be"),
    (dict(steps=5), "steps must be"),
    (dict(n=4, steps=3), "n\\*\\*steps"),
    (dict(metric="loss"), "metric"),
    (dict(bounds={"radius": 1.0}), "unknown quantity"),
    (dict(bounds={"dist0": -1.0}), "bounds\\['dist0'\\]"),
    (dict(gamma=0.0), "gamma"),
])
def test_worst_case_rejects_bad_arguments(kw, match):
    args = dict(L=1.0, mu=0.1, gamma=0.1, lam=0.5, bounds={"dist0": 1.0}) | kw
    with pytest.raises(ValueError, match=match):
        O.kd_sgd_worst_case(args.pop("L"), args.pop("mu"), args.pop("gamma"), args.pop("lam"), **args)


@pytest.mark.oracles
@needs_extra
def test_bound_ratio_rejects_bad_coefficients():
    with pytest.raises(ValueError, match="positive coefficient"):
        O.kd_sgd_bound_ratio(1.0, 0.1, 0.1, 0.5, coefficients={"dist0": -1.0})
    with pytest.raises(ValueError, match="unknown quantity"):
        O.kd_sgd_bound_ratio(1.0, 0.1, 0.1, 0.5, coefficients={"x": 1.0})


@pytest.mark.oracles
@needs_extra
def test_a_claim_on_inaccurate_solves_is_skipped(monkeypatch):
    """Real solves judged against an unreachable accuracy (error bar 0) or by a solver that fails: the PEP
    claims say ``skipped`` with the solver's status recorded, never ``holds``."""
    from verification.oracles import pep_kd

    monkeypatch.setattr(pep_kd, "ACCURACY_TOL", 0.0)
    for cid in ("safaryan.pep.thm1_step", "safaryan.pep.thm1_params"):
        v = get(cid).run(claim_rng(0, cid), "quick")
        assert v.status == "skipped" and "inaccurate" in v.details["reason"], (cid, v.details.get("reason"))
        assert all(c["status"] and c["solver"] and not c["accurate"] for c in v.details["cases"])
    monkeypatch.undo()
    r = O.kd_sgd_worst_case(1.0, 0.1, 0.2, 0.5, bounds={"dist0": 1.0}, solver="NO_SUCH_SOLVER")
    assert not r.accurate and "solver failure" in r.reason


@pytest.mark.oracles
@needs_extra
def test_pep_claims_hold_with_the_extra_and_report_tightness():
    for cid in ("safaryan.pep.thm1_step", "safaryan.pep.thm3_step"):
        v = get(cid).run(claim_rng(0, cid), "quick")
        assert v.status == "holds", v.details
        assert 0 <= v.details["min_tightness_gap"] <= v.details["max_tightness_gap"] < 1
        assert v.details["worst_case"]["solver"] in ("CLARABEL", "SCS")
        assert v.details["worst_case"]["status"] == "optimal"


@pytest.mark.oracles
@needs_extra
@settings(max_examples=4, deadline=None)
@given(u=st.floats(0.05, 1.0), kappa=st.floats(1.5, 40.0), L=st.floats(0.3, 3.0))
def test_thm3_step_holds_on_hypothesis_drawn_parameters(u, kappa, L):
    """The unbiased step (16), λ = 1, γ = u·μ/(3L²): Thm 3's one-step inequality has ρ ≤ 1 on the class,
    and the kdtheory bound on the worst instance dominates the measure there."""
    mu = L / kappa
    case = P._thm3_cases(dict(L=L, mu=mu, gamma=u * mu / (3 * L * L), lam=1.0), 2)[1]
    res = P._pep_ratio(case)
    if not res["accurate"]:
        pytest.skip(f"inaccurate solve: {res['reason']}")
    assert res["rho"] <= 1 + 1e-6
    assert res["measure"] <= res["bound_at_instance"] + 1e-6 + res["error"]


@pytest.mark.oracles
@needs_extra
@settings(max_examples=4, deadline=None)
@given(which=st.sampled_from(["thm1", "descent13_sqc", "descent13_pl", "thm2"]), u=st.floats(0.05, 1.0),
       kappa=st.floats(1.5, 40.0), L=st.floats(0.3, 3.0), lam=st.floats(0.0, 1.0))
def test_biased_step_inequalities_hold_on_hypothesis_drawn_parameters(which, u, kappa, L, lam):
    """One step of (7): Thm 1's one-step inequality, the descent step (13) in the forms of the proofs of
    Thms 1 and 2, and Thm 2's one-step inequality have ρ ≤ 1 on the class for drawn (L, μ, γ, λ) in the
    theorems' step-size ranges, and the kdtheory bound on the worst instance dominates the measure there."""
    mu = L / kappa
    p1 = dict(L=L, mu=mu, gamma=u * P._gmax_thm1(L, mu), lam=lam)
    p2 = dict(L=L, mu=mu, gamma=u * P._gmax_thm2(L, mu), lam=lam)
    case = {"thm1": lambda: P._thm1_case(p1, 2), "descent13_sqc": lambda: P._descent_cases(p1, p2, 2)[0],
            "descent13_pl": lambda: P._descent_cases(p1, p2, 2)[1], "thm2": lambda: P._thm2_case(p2, 2)}[which]()
    res = P._pep_ratio(case)
    if not res["accurate"]:
        pytest.skip(f"inaccurate solve: {res['reason']}")
    assert res["status"] == "optimal" and res["rho"] <= 1 + 1e-6
    assert res["measure"] <= res["bound_at_instance"] + 1e-6 + res["error"]


@pytest.mark.oracles
@needs_extra
@settings(max_examples=4, deadline=None)
@given(data=st.data(), lam=st.floats(0.0, 1.0), u=st.floats(0.1, 1.0), unbiased=st.booleans(),
       metric=st.sampled_from(["distance", "function"]))
def test_worst_case_dominates_every_concrete_quadratic_instance(data, lam, u, unbiased, metric):
    """Independent route for the encoding: on concrete finite sums of quadratics in the class (Hessians from
    ``kdtheory.testing.gram_matrices`` with spectrum in [μ, L]) one exact step of (7)/(16), averaged over i,
    never exceeds the PEP worst case computed with that instance's own R², σ², D²."""
    from kdtheory.testing import gram_matrices

    L, kappa, n, d = 1.0, 8.0, 2, 3
    mu, gamma = L / kappa, u / (2 * L)
    H = [data.draw(gram_matrices(n=d, min_condition=1.0, max_condition=kappa, scale=L)) for _ in range(n)]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    c = [rng.standard_normal(d) for _ in range(n)]
    x_star = np.linalg.solve(sum(H), sum(h @ ci for h, ci in zip(H, c)))
    x0, theta = x_star + rng.standard_normal(d), x_star + 0.3 * rng.standard_normal(d)

    def grad(i, x):
        return H[i] @ (x - c[i])

    def f(x):
        return np.mean([0.5 * (x - c[i]) @ H[i] @ (x - c[i]) for i in range(n)])

    g_theta = np.mean([grad(i, theta) for i in range(n)], axis=0)
    x1 = [x0 - gamma * (grad(i, x0) - lam * grad(i, theta) + (lam * g_theta if unbiased else 0.0)) for i in range(n)]
    measure = (np.mean([np.sum((x - x_star) ** 2) for x in x1]) if metric == "distance"
               else np.mean([f(x) for x in x1]) - f(x_star))
    bounds = {"dist0": float(np.sum((x0 - x_star) ** 2)), "teacher_dist": float(np.sum((theta - x_star) ** 2)),
              "sigma_sq": float(np.mean([np.sum(grad(i, x_star) ** 2) for i in range(n)]))}
    r = O.kd_sgd_worst_case(L, mu, gamma, lam, n=n, unbiased=unbiased, metric=metric, bounds=bounds)
    if not r.accurate:
        pytest.skip(f"inaccurate solve: {r.reason}")
    assert measure <= r.value * (1 + 1e-6) + 1e-7 + r.error


@needs_extra
def test_one_step_class_worst_case_is_scale_invariant_and_the_rescaled_solve_maps_back():
    """x ↦ s·x, f ↦ s²f(·/s) keeps L, μ: σ, D, R scale by s and the worst case by s² (what
    verification.pep._scaled_worst_case relies on to re-solve a near-degenerate SDP at another scale)."""
    L, mu, gamma, lam, sigma, D, R = 1.0, 0.1, 0.2, 0.5, 1.0, 0.3, 0.2
    r1 = O.kd_sgd_worst_case(L, mu, gamma, lam, bounds=P._class_bounds(sigma, D, R))
    r3 = O.kd_sgd_worst_case(L, mu, gamma, lam, bounds=P._class_bounds(3 * sigma, 3 * D, 3 * R))
    assert r1.accurate and r3.accurate
    assert r3.value == pytest.approx(9 * r1.value, rel=1e-5)
    rs = P._scaled_worst_case(L, mu, gamma, lam, 2, sigma, D, R)
    assert rs.accurate and rs.value == pytest.approx(r1.value, rel=1e-5)


def _flat_or_not(lam_near, flat):
    def fake(L, mu, gamma, sigma, D, R, *, n=2, xatol=1e-3):
        W = 1.0
        rng_ = 1e-5 if flat else 0.1
        return dict(lam_wc=lam_near if D < 0.05 * R else 0.0, W_wc=W, W0=W + rng_, W1=W + rng_, accurate=True,
                    evaluations=3, converged=True, statuses=["optimal"], max_abs_duality_gap=1e-9, solver="fake", curve=[])
    return fake


@pytest.mark.parametrize("lam_near,flat,status", [(1.0, False, "holds"), (0.0, False, "violated"), (0.0, True, "inconclusive"),
                                                 (1.0, True, "holds")])
def test_lambda_wc_decides_near_one_and_is_inconclusive_only_where_the_worst_case_is_flat(monkeypatch, lam_near, flat, status):
    monkeypatch.setattr(O, "available", lambda: True)
    monkeypatch.setattr(P, "worst_case_optimal_lambda", _flat_or_not(lam_near, flat))
    v = get("safaryan.pep.lambda_wc").run(claim_rng(0, "safaryan.pep.lambda_wc"), "quick")
    assert v.status == status
    assert set(v.details["parts"]) == {"near_one", "non_increasing"}
    assert 0.1 <= v.details["start_in_noise_radii"] <= 0.3
