"""Paper-000 specifics the generic registry battery does not cover: errata point at corrected claims
that hold, and each erratum's counterexample really refutes the printed formula."""

from __future__ import annotations

import pytest

from verification.claims import claim_rng, load_all, select

ERRATA = ["safaryan.alg1_convention", "safaryan.eq32_rho_printed", "safaryan.lemma6_B_printed",
          "safaryan.sec7_omega_scaling", "safaryan.lemma4_fixed_sample", "safaryan.lemma4_proof_expansion",
          "safaryan.thm3_proof_recursion", "safaryan.sec5_restart_printed", "safaryan.sec4_lambda_star_le_1",
          "safaryan.app_a_qg28_pl_printed"]


@pytest.fixture(scope="module")
def registry():
    return load_all()


@pytest.mark.parametrize("cid", ERRATA)
def test_erratum_refuted_and_corrected_claim_holds(registry, cid):
    c = registry[cid]
    assert c.corrected_by in registry
    v = c.run(claim_rng(0, cid), "quick")
    assert v.status == "erratum" and v.margin < 0 and v.details["counterexample"]
    corrected = registry[c.corrected_by]
    vc = corrected.run(claim_rng(0, corrected.id), "quick")
    assert vc.status == "holds" and vc.margin >= 0


def test_paper000_claims_cover_the_issue(registry):
    ids = {c.id for c in select(paper="000")}
    for needed in ["safaryan.prop1.least_squares", "safaryan.prop1.logistic", "safaryan.prop1.softmax",
                   "safaryan.prop1_exact", "safaryan.lemma1.lambda_star", "safaryan.lemma1.ratio_identity",
                   "safaryan.lemma1.symbolic", "safaryan.thm1", "safaryan.thm2", "safaryan.thm3.bound",
                   "safaryan.thm3.scaling", "safaryan.thm4", "safaryan.thm1.exact", "safaryan.thm2.exact",
                   "safaryan.lemma1.optimal_teacher", "safaryan.assumption3.minibatch_exact",
                   "safaryan.assumption3.minibatch_bound", "safaryan.lemma2", "safaryan.lemma3", "safaryan.lemma4",
                   "safaryan.lemma5", "safaryan.lemma6", "safaryan.eq38", "safaryan.eq3_soft_labels", "safaryan.appB3_jacobian",
                   "safaryan.app_a_qg28", "safaryan.sec5_restart", "safaryan.sec5_lambda_one", "safaryan.thm1.transient",
                   "safaryan.thm2.transient", "safaryan.thm2.nonconvex_pl", "safaryan.lemma1.lambda_star_outside",
                   "safaryan.thm4.omega_condition", "safaryan.thm4.one_step"]:
        assert needed in ids


def test_theorem1_reports_empirical_best_lambda(registry):
    v = registry["safaryan.thm1"].run(claim_rng(0, "safaryan.thm1"), "quick")
    for d in v.details["runs"].values():
        assert 0.0 <= d["empirical_best_lambda_on_grid"] <= 1.0 and "lambda_star_lemma1" in d
        # KD at a good weight beats plain SGD's stationary error (partial variance reduction)
        assert min(d["measured_mean"]) < d["sgd_lambda0"]


def test_thm4_exercises_kd_gain_with_the_batch_lambda_star(registry):
    """Theorem 4 is checked where KD can help: λ* of the simulated mini-batch sampling, and KD beats SGD."""
    v = registry["safaryan.thm4"].run(claim_rng(0, "safaryan.thm4"), "quick")
    assert v.status == "holds"
    d = v.details
    assert d["lams"][1] == pytest.approx(d["lambda_star_batch"]) and 0.0 < d["lambda_star_batch"] < 1.0
    assert d["measured_mean"][1] < d["measured_mean"][0]
    assert d["parts"]["kd_gain_at_lam_star"]["status"] == "holds"


def test_sec5_lambda_one_is_not_reproduced_for_far_teachers(registry):
    v = registry["safaryan.sec5_lambda_one"].run(claim_rng(0, "safaryan.sec5_lambda_one"), "quick")
    assert v.status == "not_reproduced"
    ratios = [r["ratio_to_sgd"] for r in v.details["instances"]]
    assert ratios[0] < 1.0 < ratios[-1]      # near teacher helps, far teacher hurts
