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
