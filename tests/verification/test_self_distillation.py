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
