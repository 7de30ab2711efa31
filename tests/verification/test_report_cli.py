"""The report is deterministic apart from timing fields; the CLI exits as documented."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from verification import claims as C
from verification import report as R
from verification.cli import main


def _noisy(rng, size):
    x = rng.standard_normal(1000).mean()
    return C.compare("dummy.noisy", 0.2, abs(float(x)), "<=", details={"n": 1000, "curve": np.arange(3)})


def _bad(rng, size):
    return C.compare("dummy.bad", 0.0, 1.0, "<=")


def _err(rng, size):
    return C.erratum("dummy.err", 1.0, 2.0, "<=", counterexample={"x": 1}, refuted=True, corrected_by="dummy.noisy")


@pytest.fixture
def dummies(monkeypatch):
    reg = {}
    monkeypatch.setattr(C, "_REGISTRY", reg)
    monkeypatch.setattr(C, "load_all", lambda **kw: dict(reg))  # any options (network, figures, modules …)
    for cid, fn, corr in (("dummy.noisy", _noisy, None), ("dummy.bad", _bad, None), ("dummy.err", _err, "dummy.noisy")):
        C.register(C.Claim(cid, "000", "eq. 0 (f(x|y))", f"{cid} statement", fn, corrected_by=corr))
    return reg


def test_report_is_deterministic_apart_from_timing(dummies):
    sel = C.select(ids=["dummy.noisy", "dummy.err"])
    reps = [R.build_report(sel, C.run_claims(sel, seed=7), seed=7, size="quick") for _ in range(2)]
    assert json.dumps(R.strip_timing(reps[0])) == json.dumps(R.strip_timing(reps[1]))
    other = R.build_report(sel, C.run_claims(sel, seed=8), seed=8, size="quick")
    assert R.strip_timing(other) != R.strip_timing(reps[0])
    assert reps[0]["summary"] == {"holds": 1, "violated": 0, "erratum": 1, "skipped": 0, "inconclusive": 0,
                                  "not_reproduced": 0, "total": 2, "vacuous": 0}
    md = R.to_markdown(reps[0])
    assert "`dummy.err`" in md and "counterexample" in md and "| claim |" in md
    # every table row has the header's 10 cells, also when a 'where' contains '|' (dummy.noisy's does)
    rows = [ln for ln in md.splitlines() if ln.startswith("| `")]
    assert len(rows) == 2
    for ln in rows:
        assert len(ln.replace("\\|", "").split("|")) == 12, ln


def test_cli_run_writes_reports_and_exit_codes(dummies, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["run", "--claim", "dummy.noisy", "--claim", "dummy.err", "--out", str(tmp_path), "--seed", "3"])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "verification.json").read_text())
    assert [r["claim_id"] for r in rep["claims"]] == ["dummy.err", "dummy.noisy"] and rep["seed"] == 3
    assert (tmp_path / "verification.md").exists()
    res = runner.invoke(main, ["run", "--claim", "dummy.bad", "--out", str(tmp_path)])
    assert res.exit_code == 1
    res = runner.invoke(main, ["run", "--claim", "dummy.nope", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "no claim" in res.output
    res = runner.invoke(main, ["run", "--size", "huge"])
    assert res.exit_code == 2


def test_cli_list_and_figs_errors(dummies, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["list", "--kind", "theory"])
    assert res.exit_code == 0 and "dummy.bad" in res.output
    res = runner.invoke(main, ["figs", "--only", "no_such_figure", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "unknown figure" in res.output


def test_cli_gpu_cuda_without_gpu_is_a_clear_error():
    torch = pytest.importorskip("torch")
    pytest.importorskip("gpu_validation.device")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    res = CliRunner().invoke(main, ["gpu", "--device", "cuda"])
    assert res.exit_code == 2 and "cuda" in res.output.lower()


def test_readme_sample_table_matches_the_claims():
    """The README's sample of the report table is what the claims print now (cheap rows re-run at seed 0)."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = [ln for ln in readme.splitlines() if ln.startswith("│ safaryan.")]
    assert len(rows) >= 8, "README lost its sample of the report table"
    reg = C.load_all()
    checked = 0
    for ln in rows:
        cid, _where, pred, meas, rel, status, _margin, _s = (c.strip() for c in ln.strip("│").split("│"))
        if cid.startswith("safaryan.thm"):
            continue  # the simulations take seconds; their rows are checked by hand with the command shown
        v = reg[cid].run(C.claim_rng(0, cid), "quick")
        assert (R.fmt(v.predicted), R.fmt(v.measured), v.relation, v.status) == (pred, meas, rel, status), cid
        checked += 1
    assert checked >= 5
