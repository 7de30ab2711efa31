"""Checks of the paper-004 claims that the generic registry battery does not make.

Mutation tests: a claim must turn ``violated`` when the formula it checks is made wrong (so the checks
can fail); the erratum counterexamples are re-verified here by an independent computation.
"""

import math

import numpy as np
import pytest

from kdtheory import label_distribution as LD
from verification import label_distribution as VL
from verification.claims import claim_rng, get, load_all

load_all()


def _run(cid, size="quick"):
    return get(cid).run(claim_rng(0, cid), size)


def test_prop33_coverage_fails_for_a_bound_that_is_too_small(monkeypatch):
    orig = LD.sibling_bound
    monkeypatch.setattr(LD, "sibling_bound", lambda K, n, d: 0.3 * orig(K, n, d))
    assert _run("soteacher.prop33_coverage").status == "violated"


def test_lemma_a4_fails_for_a_larger_fraction(monkeypatch):
    monkeypatch.setattr(LD, "covering_fraction", lambda kappa, m: 1.0 - 1.0 / (2 * kappa * m))
    assert _run("soteacher.lemma_a4").status == "violated"


def test_ece_claim_fails_for_a_biased_ece(monkeypatch):
    orig = LD.expected_calibration_error
    monkeypatch.setattr(LD, "expected_calibration_error", lambda P, y, n_bins=15: orig(P, y, n_bins) + 0.05)
    assert _run("soteacher.ece_consistency").status == "violated"


def test_thm36_subset_counterexample_is_genuine():
    v = _run("soteacher.thm36_any_subset")
    ce = v.details["counterexample"]
    assert v.status == "erratum"
    # the isolated input is alone in its cell: the ERM predicts a one-hot label, at ∞-distance 1/2 from (1/2, 1/2)
    assert ce["its_cell_size"] == 1 and ce["error_inf_norm_min_over_draws"] == pytest.approx(0.5)
    assert ce["subset_size"] >= ce["required_size"]
    b = LD.erm_bound(ce["N"], ce["K"], ce["cells"], ce["kappa"], ce["delta"], 0.0, ce["r"], 0.0, math.inf)
    assert b < 0.5


def test_lemma_a3_counterexample_is_genuine():
    v = _run("soteacher.lemma_a3_printed")
    ce = v.details["counterexample"]
    assert v.status == "erratum"
    # the risk of the ERM centre (0.8, 0.2) by hand: label 0 reaches 1, label 1 reaches 0.4
    assert ce["erm_risk"] == pytest.approx(-0.15 * math.log(0.4), rel=1e-6)
    assert ce["risk_at_printed_centre"] == pytest.approx(-0.15 * math.log(0.21), rel=1e-9)
    assert min(ce["second"]["printed_centre"]) < 0


def test_simulators():
    rng = np.random.default_rng(0)
    E = VL.sibling_errors(rng, [0.2, 0.8], 10, 50)
    assert E.shape == (50, 3) and np.all(E[:, 0] >= E[:, 1] - 1e-12) and np.all(E[:, 1] >= E[:, 2] - 1e-12)
    P = np.tile([0.1, 0.6, 0.3], (4000, 1))
    Y = VL.draw_labels(rng, P, 3)
    freq = np.bincount(Y.ravel(), minlength=3) / Y.size
    assert np.allclose(freq, [0.1, 0.6, 0.3], atol=0.015)
    with pytest.raises(ValueError, match="learner"):
        VL.erm_errors(rng, N=50, K=2, r=0.3, L_star=0.1, kappa=2, reps=2, learner="svm")


def test_thm38_fails_for_a_bound_that_is_too_small(monkeypatch):
    orig = LD.augmented_erm_bound
    monkeypatch.setattr(LD, "augmented_erm_bound", lambda *a, **k: 0.3 * orig(*a, **k))
    assert _run("soteacher.thm38").status == "violated"


def test_thm38_printed_counterexample_is_genuine():
    v = _run("soteacher.thm38_printed")
    ce = v.details["counterexample"]
    assert v.status == "erratum"
    # f*(x) mixes the labels of both strips half and half: ‖(0.5, 0.5) − (0.9, 0.1)‖_1 = 0.8, up to label noise
    assert ce["error_1norm_min_over_inputs_and_draws"] == pytest.approx(0.8, abs=0.1)
    assert ce["L_p_A_printed"] == 0.0 and ce["L_p_A_corrected"] == pytest.approx(1.6)
    # eq. (6) recomputed from its parts, with the largest measured L_f^A
    b = LD.augmented_erm_bound(20000, 2, ce["cells"], ce["kappa"], ce["delta"], 0.0, ce["r"], 0.0,
                               ce["L_f_A_max_over_draws"], 0.0, 1)
    assert b == pytest.approx(ce["bound_eq6_max_over_draws"], rel=1e-12)
    assert b < ce["error_1norm_min_over_inputs_and_draws"]


def test_augmented_erm_is_the_augmented_cell_mean():
    # eq. (5) on cells: a cell predicts the label mean over the augmented inputs that fall in it
    rng = np.random.default_rng(1)
    left = rng.random((150, 2)) * [0.1, 1.0]
    X = np.vstack([left, VL.flip_x1(left)])  # the right strip is the exact mirror image of the left one

    def onehot_by_side(Z):
        return np.where(Z[:, :1] < 0.5, [[1.0, 0.0]], [[0.0, 1.0]])

    # identity alone: deterministic labels, the cell means are exact, no error and no augmentation gap
    res = VL.augmented_erm_errors(rng, X, onehot_by_side, [lambda Z: Z], r=0.2, kappa=1.0, reps=2, norm=1)
    assert np.all(res["errors"] == 0.0) and res["L_p_A_printed"] == 0.0 and res["L_p_A_corrected"] == 0.0
    # with the mirror: every cell holds each of its inputs twice, once with its label and once (as the image of
    # its mirror twin) with the other, so f* = (1/2, 1/2) and the 1-norm error is exactly 1 on every input
    res = VL.augmented_erm_errors(rng, X, onehot_by_side, [lambda Z: Z, VL.flip_x1], r=0.2, kappa=1.0, reps=2,
                                  norm=1)
    assert np.allclose(res["errors"], 1.0, atol=1e-12)
    assert res["L_p_A_printed"] == 0.0 and res["L_p_A_corrected"] == pytest.approx(2.0)
    assert np.all(res["L_f_A"] == 0.0)


def test_eq27_claim_fails_for_the_wrong_inequality(monkeypatch):
    orig = LD.condition_27
    monkeypatch.setattr(LD, "condition_27", lambda y, eps, k: not orig(y, eps, k))
    assert _run("soteacher.eq27").status == "violated"


def test_eq25_counterexample_is_genuine():
    v = _run("soteacher.eq25_printed")
    ce = v.details["counterexample"]
    assert v.status == "erratum" and ce["case_II_occurs"]
    # (25) by hand: 3·0.2·0.02/0.19 − 0.2 < 0; the ERM centre (0, 0.2, 0.8): label 2 reaches 1, label 1 reaches 0.4,
    # label 0 reaches 0.2
    assert ce["printed"][0] == pytest.approx(3 * 0.2 * 0.02 / 0.19 - 0.2)
    assert ce["erm_risk"] == pytest.approx(-0.17 * math.log(0.4) - 0.02 * math.log(0.2), rel=1e-6)


# --- issue 13 mutants: every single-term deletion of eq. (4) and x0.3 must turn a designed part violated ---

def _erm_mutant(drop=None, scale=1.0):
    def f(N, K, m, kappa, delta, L, r, L_star, norm=2):
        kap = 1.0 if drop == "kappa" else kappa
        KK = 1 if drop == "K" else K
        mm = 1 if drop == "N_r" else m
        lg = {"log": 1.0, "log2": math.log(2)}.get(drop, math.log(2 / delta))
        conc = math.sqrt(2 * kap * mm * KK / N * lg)
        lip = 0.0 if drop == "L_xi" else L * r * LD.xi(K, norm)
        ls = {"L_star": 0.0, "L_star_once": L_star * r}.get(drop, 2 * L_star * r)
        return scale * (conc + lip + ls)
    return f


@pytest.mark.parametrize("drop,scale,killer", [
    (None, 0.3, "concentration_small_cell"), ("kappa", 1.0, "concentration_small_cell"),
    ("N_r", 1.0, "concentration_small_cell"), ("K", 1.0, "concentration_many_classes"),
    ("log", 1.0, "concentration_small_cell"), ("log2", 1.0, "concentration_small_cell"),
    ("L_xi", 1.0, "lipschitz_term"), ("L_star", 1.0, "lipschitz_p_star_term"),
    ("L_star_once", 1.0, "lipschitz_p_star_term")])
def test_thm36_kills_every_single_term_mutant(monkeypatch, drop, scale, killer):
    monkeypatch.setattr(LD, "erm_bound", _erm_mutant(drop, scale))
    parts = VL._thm36_parts(np.random.default_rng(3), "quick")
    assert parts[killer].status == "violated", {k: v.status for k, v in parts.items()}


def test_thm36_designed_parts_hold_and_are_tight():
    parts = VL._thm36_parts(np.random.default_rng(3), "quick")
    assert {v.status for v in parts.values()} == {"holds"}
    # tightness = (1 − δ)-quantile of the error / eq. (4) at the searched worst instance
    assert parts["lipschitz_p_star_term"].tightness > 0.9
    assert parts["concentration_many_classes"].tightness > 0.65
    assert parts["lipschitz_term"].tightness > 0.6
    assert parts["concentration_small_cell"].tightness > 0.4


@pytest.mark.parametrize("name,mutant", [
    ("x0.3", lambda o: lambda K, n, d: 0.3 * o(K, n, d)),
    ("drop the factor 2", lambda o: lambda K, n, d: o(K, n, d) / math.sqrt(2)),
    ("drop K", lambda o: lambda K, n, d: o(K, n, d) / math.sqrt(K)),
    ("drop log(2/δ)", lambda o: lambda K, n, d: math.sqrt(2 * K / n))])
def test_prop33_kills_mutants(monkeypatch, name, mutant):
    monkeypatch.setattr(LD, "sibling_bound", mutant(LD.sibling_bound))
    assert _run("soteacher.prop33_coverage").status == "violated"


def test_prop33_factor_two_needed_only_with_many_classes():
    # the halved bound is Hoeffding's inequality for K = 2 (true): only the many-classes part catches it
    v = _run("soteacher.prop33_coverage")
    many = v.details["parts"]["many_classes"]["details"]
    assert many["mean_error"] > many["bound_with_factor_2_dropped"]
    assert many["mean_error"] == pytest.approx(2 * math.exp(-0.5), abs=0.02)


def test_lemma_a1_is_tight_and_kills_the_dropped_two(monkeypatch):
    v = _run("soteacher.lemma_a1")
    assert v.status == "holds" and v.tightness == pytest.approx(1.0, abs=1e-9)
    orig = LD.lemma_a1_bound
    monkeypatch.setattr(LD, "lemma_a1_bound", lambda Ls, r, n=None: orig(Ls, r, n) / 2)
    assert _run("soteacher.lemma_a1").status == "violated"


def test_lemma_a1_adversarial_cell_by_hand():
    # x at −r, one other input at +r (n = 2): E ȳ = p*(0), gap = r‖v‖, eq. (10) bound = 2·(1/2)·L* r = L* r
    inst = {"kind": "adversarial line", "n": 2, "r": 0.2, "K": 3, "norm": 1}
    assert VL._lemma_a1_ratio(inst, True) == pytest.approx(1.0, rel=1e-12)
    assert VL._lemma_a1_ratio(inst, False) == pytest.approx(0.5, rel=1e-12)


def test_thm38_ring_setting_is_informative_and_tight():
    v = _run("soteacher.thm38")
    ring = v.details["parts"]["ring_rotations_delta0.3"]
    assert v.status == "holds" and not ring["vacuous"]
    assert ring["details"]["bound"] < 1.0 and ring["tightness"] > 0.6  # max possible 1-norm error is 2
    # f* pools all 8 clusters: error on cluster 0 ≈ 7/8 · ‖pB − p0‖_1 = 7/8 · 0.4 = 0.35; printed L_p^A is 0
    assert ring["details"]["L_p_A_corrected"] == pytest.approx(0.4, abs=1e-12)
    assert ring["details"]["L_p_A_printed"] == pytest.approx(0.0, abs=1e-12)
