"""Paper 002 claims: the erratum counterexamples against values derived by hand (not by kdtheory)."""

import numpy as np
import pytest

from verification import self_distillation  # noqa: F401  (registers the 002 claims)
from verification.claims import get


def _run(cid):
    return get(cid).check(np.random.default_rng(0), "quick")


def test_eq25_printed_counterexample_by_hand():
    # G = I/2, y = (1, 1), eps = 0.25: residual (c/(c + 1/2))² = eps ⇒ c = 1/2 exactly;
    # printed bracket: s = √2·0.25, ‖z‖ = √2 ⇒ c = (1/2)(√2/4)/(√2 − √2/4) = 1/6 at both ends
    v = _run("mobahi.eq25_printed")
    assert v.status == "erratum"
    assert v.measured == pytest.approx(0.5, rel=1e-9) and v.predicted == pytest.approx(1 / 6, rel=1e-12)


def test_prop4_printed_counterexample_by_hand():
    # G = I/4, y0 = 1 (K = 4), eps = 0.04: every round has c_t with (c/(c + 1/4))² ‖y_t‖²/4 = eps, and ‖y_t‖/2 drops
    # by exactly 0.2 per round (y_{t+1} = y_t − √eps·y_t/‖y_t‖·2): 1, 0.8, 0.6, 0.4, 0.2 ⇒ collapse at t = 4;
    # printed t̲ = (2/(2·0.04) − 1)/1 = 24, corrected (2/√0.16 − 1)/1 = 4
    v = _run("mobahi.prop4_printed")
    assert v.status == "erratum"
    assert v.measured == 4 and v.predicted == pytest.approx(24.0)
    assert v.details["counterexample"]["corrected_t_lower"] == pytest.approx(4.0)


def test_eq32_printed_counterexample_by_hand():
    # K = 1, x = 1/2: d = g(1/2, 1/2) = (1/4)(1/4)/3 = 1/48; eps = 1/4 ⇒ c/(c + d) = 1/2 ⇒ c = 1/48;
    # f0(1/2) = g·1/(c + d) = 1/2; printed g·d/(c + d) = 1/96
    v = _run("mobahi.eq32_printed")
    assert v.status == "erratum"
    assert v.measured == pytest.approx(0.5, rel=1e-12) and v.predicted == pytest.approx(1 / 96, rel=1e-12)


def test_trivial_bound_on_fig2_data_by_hand_numbers():
    # the numbers for the paper's own Fig. 2 data: t̲ = 0.00064 (κ = 4,471), trivial 2.86, collapse at 4
    v = _run("mobahi.trivial_bound")
    f = v.details["fig2"]
    assert v.status == "holds" and f["collapsed_at"] == 4
    assert f["t_lower_prop4"] == pytest.approx(0.00064, abs=1e-5) and f["trivial_u0_minus_1"] == pytest.approx(2.86, abs=0.01)
    assert f["t_lower_prop4"] <= f["trivial_u0_minus_1"] <= f["collapsed_at"]


def test_sec36_multiclass_decides_on_both_parts():
    # per-class direct reference and the joint SLSQP problem both decide (a shared-eps mutant violates both)
    v = _run("mobahi.sec36_multiclass")
    assert v.status == "holds"
    parts = v.details["parts"]
    assert set(parts) == {"per_class_direct", "joint_problem"}
    assert parts["per_class_direct"]["measured"] <= 1e-7 and parts["joint_problem"]["measured"] <= 1e-5
