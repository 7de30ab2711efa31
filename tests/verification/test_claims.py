"""Unit and property tests of the Claim/Verdict machinery itself."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification import claims as C

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@given(p=finite, m=finite, rel=st.sampled_from(["<=", ">=", "=="]),
       rtol=st.floats(0, 1), atol=st.floats(0, 10))
def test_compare_margin_sign_matches_status(p, m, rel, rtol, atol):
    v = C.compare("x.y", p, m, rel, rtol=rtol, atol=atol)
    assert (v.margin >= 0) == (v.status == "holds")
    tol = atol + rtol * abs(p)
    truth = {"<=": m <= p + tol, ">=": m >= p - tol, "==": abs(m - p) <= tol}[rel]
    # the relation decided by compare is the mathematical one (up to float rounding of the margin)
    if abs(abs(m - p) - tol) > 1e-9 * (1 + abs(p) + abs(m)):
        assert (v.status == "holds") == truth


def test_compare_nan_is_violated_and_bad_args():
    assert C.compare("x.y", float("nan"), 1.0, "<=").status == "violated"
    with pytest.raises(ValueError, match="relation"):
        C.compare("x.y", 1, 1, "<")
    with pytest.raises(ValueError, match="rtol"):
        C.compare("x.y", 1, 1, "<=", rtol=-1)


def test_erratum_needs_counterexample_and_refutation():
    with pytest.raises(ValueError, match="counterexample"):
        C.erratum("x.y", 1.0, 2.0, "<=", counterexample={}, refuted=True)
    v = C.erratum("x.y", 1.0, 2.0, "<=", counterexample={"n": 3}, refuted=True, corrected_by="x.z")
    assert v.status == "erratum" and v.margin == -1.0 and v.details["corrected_by"] == "x.z"
    assert C.erratum("x.y", 1.0, 2.0, "<=", counterexample={"n": 3}, refuted=False).status == "violated"


def test_verdict_rejects_unknown_status_and_jsonable():
    with pytest.raises(ValueError, match="status"):
        C.Verdict("x.y", 1, 1, "<=", "fine", 0.0)
    v = C.Verdict("x.y", np.float64(1), np.array([1.0, np.inf]), "<=", "holds", float("nan"),
                  {"a": np.arange(3), "b": (1, np.nan)})
    d = v.to_dict()
    assert d["measured"] == [1.0, "inf"] and d["margin"] == "nan" and d["details"]["b"] == [1, "nan"]


def test_claim_rng_depends_on_seed_and_id_only():
    a = C.claim_rng(3, "p.q").standard_normal(4)
    assert np.array_equal(a, C.claim_rng(3, "p.q").standard_normal(4))
    assert not np.array_equal(a, C.claim_rng(4, "p.q").standard_normal(4))
    assert not np.array_equal(a, C.claim_rng(3, "p.r").standard_normal(4))
    with pytest.raises(ValueError, match="seed"):
        C.claim_rng(-1, "p.q")


def test_paper_key_aliases():
    assert C.paper_key("002_ddf105459338061d.txt") == "002"
    assert C.paper_key("self_distillation") == "002"
    assert C.paper_key("003") == "003"
    with pytest.raises(ValueError, match="unknown paper"):
        C.paper_key("999")


def _ok(rng, size):
    return C.compare("dummy.ok", 1.0, float(rng.uniform(0, 0.5)), "<=")


def _boom(rng, size):
    raise RuntimeError("kaboom")


def test_run_claims_turns_exceptions_into_violations(monkeypatch):
    ok = C.Claim("dummy.ok", "000", "eq. 1", "fine", _ok)
    boom = C.Claim("dummy.boom", "000", "eq. 2", "raises", _boom)
    v_ok, v_boom = C.run_claims([ok, boom], seed=1)
    assert v_ok.status == "holds" and v_ok.seconds >= 0
    assert v_boom.status == "violated" and "kaboom" in v_boom.details["error"]
    with pytest.raises(ValueError, match="size"):
        ok.run(np.random.default_rng(0), "huge")


def test_registry_register_select_and_duplicates(monkeypatch):
    monkeypatch.setattr(C, "_REGISTRY", {})
    C.register(C.Claim("dummy.ok", "000", "eq. 1", "fine", _ok))
    with pytest.raises(ValueError, match="registered twice"):
        C.register(C.Claim("dummy.ok", "000", "eq. 1", "fine", _boom))
    C.claim("dummy.two", paper="002", where="eq. 3", statement="s")(_ok)
    assert [c.id for c in C.select(paper="000")] == ["dummy.ok"]
    assert [c.id for c in C.select(ids=["dummy.*"])] == ["dummy.ok", "dummy.two"]
    assert [c.id for c in C.by_paper("002")] == ["dummy.two"]
    with pytest.raises(KeyError, match="no claim"):
        C.select(ids=["dummy.nope"])
    with pytest.raises(ValueError, match="paper.name"):
        C.Claim("nodot", "000", "w", "s", _ok)
    assert math.isfinite(C.get("dummy.ok").run(np.random.default_rng(0)).margin)


def _shared_a(rng, size):
    x = rng.standard_normal(3)  # the "experiment": its numbers come from the rng only
    return C.compare("dummy.shared_a", 0.0, float(x.sum()), ">=", atol=1e9, details={"x": x})


def _shared_b(rng, size):
    x = rng.standard_normal(3)
    return C.compare("dummy.shared_b", 0.0, float(x.max()), ">=", atol=1e9, details={"x": x})


def test_rng_key_gives_equal_generators_alone_and_in_a_group(monkeypatch):
    """Claims sharing an rng_key receive the generator of that key (not of their id), so each one run
    alone measures exactly what it measures inside a group, and both see the same draws; the report's
    rng_seed is the entropy of that generator (re-running the check by hand from it reproduces the verdict)."""
    from verification.report import build_report

    reg: dict = {}
    monkeypatch.setattr(C, "_REGISTRY", reg)
    a = C.register(C.Claim("dummy.shared_a", "000", "eq. 0", "a", _shared_a, rng_key="dummy.exp"))
    b = C.register(C.Claim("dummy.shared_b", "000", "eq. 0", "b", _shared_b, rng_key="dummy.exp"))
    solo = C.register(C.Claim("dummy.solo", "000", "eq. 0", "c",
                              lambda rng, size: C.compare("dummy.solo", 0.0, float(rng.standard_normal()), ">=", atol=1e9)))
    assert (a.rng_name, solo.rng_name) == ("dummy.exp", "dummy.solo")
    group = C.run_claims([solo, a, b], seed=5)
    alone = [C.run_claims([c], seed=5)[0] for c in (a, b, solo)]
    for g, s in zip(group[1:] + group[:1], alone):
        assert g.to_dict() | {"seconds": 0} == s.to_dict() | {"seconds": 0}
    assert group[1].details["x"].tolist() == group[2].details["x"].tolist()  # one generator for both
    # the key, not the id, decides the generator: a seed differs, an id change does not
    assert group[1].details["x"].tolist() != C.run_claims([a], seed=6)[0].details["x"].tolist()
    assert group[0].measured == C.claim_rng(5, "dummy.solo").standard_normal()
    rep = build_report([solo, a, b], group, seed=5, size="quick")
    rows = {row["claim_id"]: row for row in rep["claims"]}
    assert rows["dummy.shared_a"]["rng_seed"] == rows["dummy.shared_b"]["rng_seed"] == C.rng_seed(5, "dummy.exp")
    assert rows["dummy.solo"]["rng_seed"] == C.rng_seed(5, "dummy.solo") != rows["dummy.shared_a"]["rng_seed"]
    by_hand = _shared_b(np.random.default_rng(rows["dummy.shared_b"]["rng_seed"]), "quick")
    assert by_hand.measured == rows["dummy.shared_b"]["measured"]
    with pytest.raises(ValueError, match="rng_key"):
        C.Claim("dummy.x", "000", "eq. 0", "x", _shared_a, rng_key="")


def test_claim_decorator_passes_rng_key(monkeypatch):
    reg: dict = {}
    monkeypatch.setattr(C, "_REGISTRY", reg)
    C.claim("dummy.deco", paper="000", where="eq. 0", statement="s", rng_key="dummy.k")(_shared_a)
    C.claim("dummy.deco2", paper="000", where="eq. 0", statement="s")(_shared_b)
    assert reg["dummy.deco"].rng_key == "dummy.k" and reg["dummy.deco2"].rng_name == "dummy.deco2"
