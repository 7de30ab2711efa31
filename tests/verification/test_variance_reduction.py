"""Paper-000 specifics the generic registry battery does not cover: errata point at corrected claims
that hold, and each erratum's counterexample really refutes the printed formula."""

from __future__ import annotations

import pytest

from verification.claims import claim_rng, load_all, select

ERRATA = ["safaryan.alg1_convention", "safaryan.eq32_rho_printed", "safaryan.lemma6_B_printed",
          "safaryan.sec7_omega_scaling"]


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
                   "safaryan.assumption3.minibatch_bound"]:
        assert needed in ids


def test_theorem1_reports_empirical_best_lambda(registry):
    v = registry["safaryan.thm1"].run(claim_rng(0, "safaryan.thm1"), "quick")
    for d in v.details["runs"].values():
        assert 0.0 <= d["empirical_best_lambda_on_grid"] <= 1.0 and "lambda_star_lemma1" in d
        # KD at a good weight beats plain SGD's stationary error (partial variance reduction)
        assert min(d["measured_mean"]) < d["sgd_lambda0"]
