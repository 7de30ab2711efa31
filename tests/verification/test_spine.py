"""The earned-verdict spine: id stamping, tightness/resolution, combine, observed, stats, worst-case search."""

import math

import numpy as np
import pytest
from scipy import stats as st

from verification import claims as C
from verification import report as R
from verification.search import worst_case, worst_of
from verification.stats import compare_proportion, compare_samples, interval, proportion_interval


def _claim(fn, cid="dummy.spine", **kw):
    return C.Claim(cid, "000", "eq. 0", "a spine test claim", fn, **kw)


def test_runner_stamps_the_id_and_copies_the_correction_into_an_erratum():
    v = _claim(lambda rng, size: C.compare(predicted=2.0, measured=1.0, relation="<=")).run(np.random.default_rng(0))
    assert v.claim_id == "dummy.spine" and v.status == "holds"
    e = _claim(lambda rng, size: C.erratum(printed=1.0, measured=2.0, relation="<=", counterexample={"x": 1},
                                           refuted=True), corrected_by="dummy.other").run(np.random.default_rng(0))
    assert e.status == "erratum" and e.details["corrected_by"] == "dummy.other"
    with pytest.raises(ValueError, match="verdict for"):
        _claim(lambda rng, size: C.compare("dummy.else", 1.0, 0.0, "<=")).run(np.random.default_rng(0))
    # the old keyword still works, once
    assert C.Claim("a.b", "000", "w", "s", lambda r, s: None, corrected_by="a.c").corrected_by == "a.c"


def test_bound_tightness_and_resolution():
    v = C.compare(predicted=4.0, measured=3.0, relation="<=")
    assert v.tightness == 0.75 and v.resolution == 0.25
    # a bound lowered by more than the resolution is flagged
    assert C.compare(predicted=4.0 * (1 - 0.26), measured=3.0, relation="<=").status == "violated"
    w = C.compare(predicted=2.0, measured=5.0, relation=">=")
    assert w.tightness == 0.4 and math.isclose(w.resolution, 1.5)
    assert C.compare(predicted=2.0 * 2.51, measured=5.0, relation=">=").status == "violated"
    ident = C.compare(predicted=2.0, measured=2.0 + 1e-9, relation="==", rtol=1e-6)
    assert ident.tightness is None and math.isclose(ident.resolution, 1e-6)
    assert C.compare(0.0, 1e-12, "==", atol=1e-10).resolution == 1e-10
    gap = C.compare(predicted=0.0, measured=0.3, relation=">=")
    assert gap.tightness is None and gap.resolution is None
    assert C.compare(predicted=3.0, measured=1.0, relation="<=", vacuous=True).to_dict()["vacuous"] is True


def test_combine_the_worst_part_decides_and_every_part_is_reported():
    parts = {"a": C.compare(predicted=1.0, measured=0.5, relation="<="),
             "b": C.compare(predicted=1.0, measured=0.9, relation="<="),
             "c": C.compare(predicted=0.0, measured=1e-12, relation="==", atol=1e-9)}
    v = C.combine(parts)
    assert v.status == "holds" and v.details["deciding_part"] == "b" and set(v.details["parts"]) == {"a", "b", "c"}
    assert math.isclose(v.tightness, 0.9) and math.isclose(v.margin, 0.1)
    parts["d"] = C.compare(predicted=1.0, measured=2.0, relation="<=")
    v = C.combine(parts)
    assert v.status == "violated" and v.details["deciding_part"] == "d" and v.measured == 2.0
    inc = C.Verdict("", 1.0, 1.0, "<=", "inconclusive", -0.1)
    assert C.combine({"a": parts["a"], "i": inc}).status == "inconclusive"
    assert C.combine({"i": inc, "d": parts["d"]}).status == "violated"
    with pytest.raises(ValueError):
        C.combine({})
    with pytest.raises(TypeError):
        C.combine({"x": 1.0})


def test_observed_is_never_holds_by_default():
    v = C.observed(False, predicted=0.0, measured=-0.2, relation=">=", reason="loss rose at λ = 0.9")
    assert v.status == "not_reproduced" and v.details["reason"].startswith("loss rose")
    assert C.observed(True, predicted=0.0, measured=0.2, relation=">=", reason="monotone").status == "holds"
    with pytest.raises(TypeError):
        C.observed(1, predicted=0, measured=0, relation=">=", reason="x")
    with pytest.raises(ValueError):
        C.observed(True, predicted=0, measured=0, relation=">=", reason="")


def test_t_interval_matches_scipy_and_the_three_statuses():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    m, lo, hi = interval(x)
    half = st.t.ppf(0.975, 4) * np.std(x, ddof=1) / np.sqrt(5)  # independent route: the textbook formula
    assert m == 3.0 and math.isclose(lo, 3 - half) and math.isclose(hi, 3 + half)
    assert compare_samples(x, 3 + half + 0.01, "<=").status == "holds"
    assert compare_samples(x, 3 - half - 0.01, "<=").status == "violated"
    v = compare_samples(x, 3.5, "<=")
    assert v.status == "inconclusive" and v.details["interval"] == [lo, hi] and v.details["n_to_decide"] > 5
    assert compare_samples(x, 3 - half - 0.01, ">=").status == "holds"
    # an asserted effect size shifts the boundary
    assert compare_samples(x, 3 + half + 0.01, "<=", effect=1.0).status == "inconclusive"
    with pytest.raises(ValueError, match="NaN"):
        compare_samples([1.0, float("nan")], 0.0, "<=")
    with pytest.raises(TypeError, match="bootstrap"):
        interval(x, method="bootstrap")
    mb, lob, hib = interval(x, method="bootstrap", rng=np.random.default_rng(0))
    assert lob < 3 < hib


def test_clopper_pearson_interval_and_proportion_verdicts():
    p, lo, hi = proportion_interval(0, 10)
    assert p == 0 and lo == 0 and math.isclose(hi, 1 - 0.025 ** (1 / 10))  # closed form at k = 0
    p, lo, hi = proportion_interval(10, 10)
    assert hi == 1 and math.isclose(lo, 0.025 ** (1 / 10))
    assert compare_proportion(0, 200, 0.05, "<=").status == "holds"
    assert compare_proportion(40, 200, 0.05, "<=").status == "violated"
    assert compare_proportion(10, 200, 0.05, "<=").status == "inconclusive"
    with pytest.raises(ValueError):
        proportion_interval(3, 2)


def test_worst_case_finds_the_maximiser_and_is_deterministic():
    def ratio(p):
        return 1 - (p["x"] - 0.3) ** 2 - (p["y"] + 0.5) ** 2

    a = worst_case(ratio, {"x": (0, 1), "y": (-1, 1)}, rng=np.random.default_rng(1), budget=300)
    b = worst_case(ratio, {"x": (0, 1), "y": (-1, 1)}, rng=np.random.default_rng(1), budget=300)
    assert a == b and a.ratio > 1 - 1e-6 and abs(a.params["x"] - 0.3) < 1e-3 and a.evaluations <= 300
    c = worst_case(lambda p: p["n"] / (1 + p["n"]) if p["n"] != 7 else float("nan"), {"n": (1, 9)},
                   rng=np.random.default_rng(0), budget=60, integer=["n"])
    assert c.params["n"] == 9 and isinstance(c.params["n"], int)
    with pytest.raises(ValueError, match="lo < hi"):
        worst_case(ratio, {"x": (1, 0)}, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        worst_case(ratio, {"x": (0, 1)}, rng=None)
    w = worst_of([1, 5, 3], lambda i: i / 10)
    assert w.params == {"instance": 5} and w.ratio == 0.5 and w.evaluations == 3
    assert worst_case(ratio, {"x": (0, 1), "y": (-1, 1)}, rng=np.random.default_rng(1), budget=50).to_dict()["evaluations"] <= 50


def test_report_columns_and_paper_summary():
    claims = [_claim(lambda r, s: C.compare(predicted=2.0, measured=1.0, relation="<="), cid="dummy.a"),
              _claim(lambda r, s: C.compare(predicted=2.0, measured=1.8, relation="<=", vacuous=True), cid="dummy.b")]
    vs = C.run_claims(claims)
    rep = R.build_report(claims, vs, seed=0, size="quick")
    assert rep["claims"][0]["tightness"] == 0.5 and rep["claims"][1]["vacuous"] is True
    ps = rep["papers_summary"]["000"]
    assert ps["holds"] == 2 and ps["median_tightness"] == pytest.approx(0.7) and ps["vacuous"] == 1
    md = R.to_markdown(rep)
    assert "holds (vacuous)" in md and "median tightness" in md


def test_n_seeds_is_passed_only_to_checks_that_name_it():
    seen = {}

    def with_seeds(rng, size, n_seeds=None):
        seen["n"] = n_seeds
        return C.compare(predicted=1.0, measured=0.0, relation="<=")

    def without(rng, size):
        return C.compare(predicted=1.0, measured=0.0, relation="<=")

    C.run_claims([_claim(with_seeds), _claim(without, cid="dummy.w")], n_seeds=7)
    assert seen["n"] == 7
