"""The report is deterministic apart from timing fields; the CLI exits as documented."""

import json
import math
import os
import re
from pathlib import Path

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
    # register the real claims first: a module first imported while the dummy registry is in place (``figs``
    # discovers paper_figs) would register into it and be lost to later tests
    C.load_all(figures=True)
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


def test_cli_figs_runs_the_figure_claims_on_the_executor(tmp_path):
    """``kdverify figs --jobs 2`` runs the figure claims on worker processes and draws here: the same statuses
    as the sequential run, the figure written, the executor named in the JSON's timing block."""
    runner = CliRunner()
    reps = {}
    for jobs in ("1", "2"):
        out = tmp_path / jobs
        res = runner.invoke(main, ["figs", "--only", "mobahi_fig3", "--out", str(out), "--jobs", jobs])
        assert res.exit_code == 0, res.output
        assert (out / "mobahi_fig3.png").stat().st_size > 0
        reps[jobs] = json.loads((out / "figures.json").read_text())
    statuses = {j: [(c["claim_id"], c["status"]) for c in r["claims"]] for j, r in reps.items()}
    assert statuses["1"] == statuses["2"] and statuses["1"]
    assert reps["1"]["timing"]["executor"] == "sequential" and "2 workers" in reps["2"]["timing"]["executor"]


def test_cli_gpu_cuda_without_gpu_is_a_clear_error():
    torch = pytest.importorskip("torch")
    pytest.importorskip("gpu_validation.device")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    res = CliRunner().invoke(main, ["gpu", "--device", "cuda"])
    assert res.exit_code == 2 and "cuda" in res.output.lower()


def _sample_cell_matches(cell: str, value) -> bool:
    """One numeric cell of the README's sample against a re-run value, machine-independently.

    ``< X`` / ``> X``: a bound (round-off of an exact identity or a minimiser's error depends on the CPU's BLAS
    kernels: 3.451e-09 on one x86 machine, 3.084e-10 on another), so the sample prints only the bound;
    ``-``: no number; anything else: the 4 significant digits ``fmt`` prints, to a relative tolerance of 1e-3
    (a value on a rounding edge may print one unit differently elsewhere).
    """
    if cell == "-":
        return R.fmt(value) == "-"
    if cell[:1] in "<>":
        bound = float(cell[1:])
        return abs(value) < bound if cell[0] == "<" else value > bound
    return math.isclose(float(value), float(cell), rel_tol=1e-3, abs_tol=0.0)


def _sample_rows(readme: str) -> list[dict]:
    """The rows of the README's sample table, as dicts keyed by the table's header (so columns can move)."""
    header = next(ln for ln in readme.splitlines() if ln.startswith("┃ claim"))
    names = [c.strip() for c in header.strip("┃").split("┃")]
    rows = [ln for ln in readme.splitlines() if ln.startswith("│ safaryan.")]
    return [dict(zip(names, (c.strip() for c in ln.strip("│").split("│")), strict=True)) for ln in rows]


def test_readme_sample_table_matches_the_claims():
    """The README's sample of the report table is what the claims print now (cheap rows re-run at seed 0).

    Statuses and relations exactly; round-off values as the bounds the sample prints; other numbers to the
    sample's printed digits (relative tolerance 1e-3): the sample must hold on any machine, not only ours.
    """
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = _sample_rows(readme)
    assert len(rows) >= 8, "README lost its sample of the report table"
    reg = C.load_all()
    checked = 0
    for row in rows:
        cid = row["claim"]
        if cid.startswith("safaryan.thm"):
            continue  # the simulations take seconds; their rows are checked by hand with the command shown
        v = reg[cid].run(C.claim_rng(0, cid), "quick")
        assert (v.relation, v.status) == (row["rel"], row["status"]), cid
        cells = {"predicted": v.predicted, "measured": v.measured, "margin": v.margin,
                 "tight": getattr(v, "tightness", None), "resol": getattr(v, "resolution", None)}
        for col, value in cells.items():
            if col in row or col in ("predicted", "measured", "margin"):
                assert _sample_cell_matches(row[col], value), (cid, col, row[col], value)
        checked += 1
    assert checked >= 5


def test_readme_sample_cells_are_compared_machine_independently():
    """The comparison itself: a bound cell accepts any round-off below it, a digits cell its neighbours."""
    assert _sample_cell_matches("< 1e-07", 3.451e-09) and _sample_cell_matches("< 1e-07", 3.084e-10)
    assert not _sample_cell_matches("< 1e-07", 2e-07)
    assert _sample_cell_matches("> 9e-07", 9.965e-07) and not _sample_cell_matches("> 9e-07", 8e-07)
    assert _sample_cell_matches("0.1236", 0.12361501) and _sample_cell_matches("0.1236", 0.12364)
    assert not _sample_cell_matches("0.1236", 0.1250)
    assert _sample_cell_matches("-", None) and not _sample_cell_matches("-", 0.5)


def _report_for(dummies, seed):
    sel = C.select(ids=["dummy.noisy", "dummy.err"])
    return R.build_report(sel, C.run_claims(sel, seed=seed), seed=seed, size="quick")


def test_reports_of_one_run_are_written_together_and_atomically(dummies, tmp_path, monkeypatch):
    old, new = _report_for(dummies, 1), _report_for(dummies, 2)
    js, md = R.write_reports(old, tmp_path, "verification")
    assert json.loads(js.read_text()) == json.loads(R.to_json(old))
    assert md.read_text().endswith(f"<!-- verification.json sha256:{R.json_digest(js.read_text())} -->\n")
    before = {p.name: p.read_text() for p in (js, md)}

    seen = []  # at every rename: what a reader would find at the two targets
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(dst).name, {p.name: p.read_text() for p in (js, md)}))
        real_replace(src, dst)

    monkeypatch.setattr(R.os, "replace", spy)
    R.write_reports(new, tmp_path, "verification")
    # both temporaries were complete before the first rename: the targets were still the old run's, whole;
    # the Markdown is replaced first and the JSON (what readers poll) last
    assert [name for name, _ in seen] == ["verification.md", "verification.json"]
    assert seen[0][1] == before
    assert json.loads(js.read_text())["seed"] == 2
    assert md.read_text().endswith(f"sha256:{R.json_digest(js.read_text())} -->\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verification.json", "verification.md"]  # no temps


def test_failed_write_leaves_the_previous_reports_whole(dummies, tmp_path, monkeypatch):
    js, md = R.write_reports(_report_for(dummies, 1), tmp_path, "verification")
    before = {p: p.read_text() for p in (js, md)}
    calls = []
    real = R._temp_beside

    def fail_second(path, text):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(R, "_temp_beside", fail_second)
    with pytest.raises(OSError, match="No space"):
        R.write_reports(_report_for(dummies, 2), tmp_path, "verification")
    assert {p: p.read_text() for p in (js, md)} == before  # neither file replaced: no mix of two runs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["verification.json", "verification.md"]
    R.write_json({"a": 1}, tmp_path / "one.json")  # the single-file writers are atomic too
    assert json.loads((tmp_path / "one.json").read_text()) == {"a": 1}


_WRITER = r"""
import sys
from verification import report as R
out = sys.argv[1]
big = {"claims": [{"claim_id": f"c{i}", "details": {"curve": list(range(2000))}} for i in range(40)]}
runs = []
for seed in (0, 1):  # two runs' texts, made once: the loop below does nothing but rewrite the files
    rep = {**big, "seed": seed, "kind": "theory", "size": "quick", "kdtheory_version": "0", "summary": {},
           "timing": {"generated": str(seed)}}
    j = R.to_json(rep)
    runs.append({f"{out}/verification.md": f"run {seed}\n<!-- verification.json sha256:{R.json_digest(j)} -->\n",
                 f"{out}/verification.json": j})
k = 0
while True:  # rewrite forever, alternating the two runs, until killed
    R.write_texts_atomic(runs[k % 2])
    k += 1
    if k == 1:
        print(k, flush=True)
"""


def test_killed_writer_never_leaves_an_empty_or_truncated_report(tmp_path):
    """The issue's experiment, in small: a writer killed (SIGKILL) at random moments while it rewrites a ~600 kB
    report, and a reader polling meanwhile, never see an empty or truncated JSON (before: 2 of 30 kills left a
    0-byte file); after each kill the Markdown beside the JSON is one whole run's, and its digest tells whether it is
    the JSON's run (CI's file system once left 3 of 6 kills between the two renames: detected, never torn)."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    rng = np.random.default_rng(0)
    js, md = tmp_path / "verification.json", tmp_path / "verification.md"
    reads = 0
    for _ in range(6):
        p = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], env=env, stdout=subprocess.PIPE,
                             text=True)
        p.stdout.readline()  # one complete write done
        t_end = time.monotonic() + float(rng.uniform(0.05, 0.4))
        while time.monotonic() < t_end:
            json.loads(js.read_text())  # whole, parseable JSON at every poll
            reads += 1
        p.send_signal(signal.SIGKILL)
        p.wait()
        jtext, mtext = js.read_text(), md.read_text()
        json.loads(jtext)
        # the kill can fall between the two renames (how often depends on the file system: on tmpfs, with
        # fsync a no-op, the renames are a large share of each rewrite): the pair may then be two runs', but
        # each file is whole and the digest says so; the Markdown is always one complete run's
        m = re.fullmatch(r"run ([01])\n<!-- verification\.json sha256:[0-9a-f]{16} -->\n", mtext)
        assert m, mtext[-80:]
        if not mtext.endswith(f"sha256:{R.json_digest(jtext)} -->\n"):
            assert int(m.group(1)) != json.loads(jtext)["seed"]  # two whole runs, not a torn file
        leftovers = [q.name for q in tmp_path.iterdir() if q.name not in ("verification.json", "verification.md")]
        for name in leftovers:  # a kill during a temp write leaves its hidden .tmp file, never a target
            assert name.startswith(".verification.") and name.endswith(".tmp"), name
            (tmp_path / name).unlink()
    assert reads > 0
