"""Executors: the same report whichever runs it; a task that raises or whose worker dies is a row.

The process pool and the LocalCluster spawn real worker processes (two each); the cheap claims keep
this under a minute on two cores. Toy plugin claims (a check that raises, one that calls ``os._exit``)
run only inside the workers, so they never enter this process's registry.
"""

import json

import pytest
from click.testing import CliRunner

from verification import executors as E
from verification import report as R
from verification.claims import Claim, load_all, select
from verification.cli import main

from ._toy import placeholder, write_toy_package

load_all()
CHEAP = ["mobahi.prop2", "rahbar.thm1_conditions", "safaryan.prop1.least_squares", "safaryan.lemma6",
         "safaryan.lemma6_B_printed", "phuong.lemmaC1", "safaryan.pep.thm1_step", "soteacher.lemma_a3_printed"]


def _toy(id, rng_key=None):
    """A parent-side stand-in: plan() needs only id, rng_name and kind; the worker runs the real claim."""
    return Claim(id, "toy_0000.txt", "toy", "toy", placeholder, rng_key=rng_key)


def test_sequential_pool_and_local_cluster_give_identical_reports(tmp_path):
    """kdverify run, --jobs 2 and --dask local (2 workers): the same JSON apart from timing."""
    pytest.importorskip("distributed")
    claims = [a for c in CHEAP for a in ("--claim", c)]
    runs = {"seq": [], "pool": ["--jobs", "2"], "dask": ["--dask", "local", "--jobs", "2"]}
    reports = {}
    for name, extra in runs.items():
        r = CliRunner().invoke(main, ["run", "--seed", "3", "--out", str(tmp_path / name), *claims, *extra])
        assert r.exit_code == 0, r.output
        reports[name] = json.loads((tmp_path / name / "verification.json").read_text())
    assert [row["claim_id"] for row in reports["seq"]["claims"]] == [c.id for c in select(ids=CHEAP)]
    assert {row["status"] for row in reports["seq"]["claims"]} <= {"holds", "erratum", "skipped"}
    assert reports["pool"]["timing"]["executor"] == "process pool (2 workers)"
    assert reports["dask"]["timing"]["executor"] == "dask LocalCluster (2 workers)"
    ref = json.dumps(R.strip_timing(reports["seq"]), indent=2)
    for name in ("pool", "dask"):
        assert json.dumps(R.strip_timing(reports[name]), indent=2) == ref, name


def test_plan_groups_rng_keys_and_seeds():
    claims = [_toy("toy.a", "k"), _toy("toy.b"), _toy("toy.c", "k")]
    tasks = E.plan(claims, [0, 1], modules=("toy_kd.claims",))
    assert [(t.claim_ids, t.seed) for t in tasks] == [(("toy.a", "toy.c"), 0), (("toy.b",), 0),
                                                      (("toy.a", "toy.c"), 1), (("toy.b",), 1)]
    assert all(t.modules == ("toy_kd.claims",) for t in tasks)
    with pytest.raises(ValueError, match="jobs"):
        E.ProcessExecutor(0)
    assert isinstance(E.make_executor(1, None), E.SequentialExecutor)
    assert isinstance(E.make_executor(3, None), E.ProcessExecutor)


def test_pool_task_that_raises_and_worker_that_dies(tmp_path):
    root = write_toy_package(tmp_path)
    import sys

    sys.path.insert(0, str(root))  # spawned workers receive the parent's sys.path
    try:  # (not monkeypatch.syspath_prepend: toy_kd must not stay importable for the other tests)
        claims = [_toy("toy.bound"), _toy("toy.raises"), _toy("toy.dies"), _toy("toy.shared_a", "toy.exp"),
                  _toy("toy.shared_b", "toy.exp")]
        vs = E.run_claims_on(claims, seed=0, executor=E.ProcessExecutor(2),
                             modules=("toy_kd.claims", "toy_kd.bad", "toy_kd.deadly"))
        got = {v.claim_id: v for v in vs}
        assert [v.claim_id for v in vs] == [c.id for c in claims]  # order preserved
        assert got["toy.bound"].status == got["toy.shared_a"].status == got["toy.shared_b"].status == "holds"
        assert got["toy.raises"].status == "violated" and "boom from toy.raises" in got["toy.raises"].details["error"]
        assert got["toy.dies"].status == "violated" and "worker process died" in got["toy.dies"].details["error"]
        # a task that fails as a whole (its module does not import in the worker) is a row too
        vs = E.run_claims_on([_toy("toy.bound")], executor=E.ProcessExecutor(2), modules=("toy_kd.nope",))
        assert vs[0].status == "violated" and "toy_kd.nope" in vs[0].details["error"]
    finally:
        sys.path.remove(str(root))


def test_local_cluster_worker_that_dies(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    root = write_toy_package(tmp_path)
    monkeypatch.syspath_prepend(str(root))  # spawned workers (nanny's too) receive the parent's sys.path
    claims = [_toy("toy.dies"), _toy("toy.bound"), _toy("toy.raises")]
    vs = E.run_claims_on(claims, executor=E.DaskExecutor("local", 2),
                         modules=("toy_kd.claims", "toy_kd.bad", "toy_kd.deadly"))
    got = {v.claim_id: v for v in vs}
    assert [v.claim_id for v in vs] == [c.id for c in claims]
    assert got["toy.bound"].status == "holds", got["toy.bound"].details  # (a lost result is re-run alone)
    assert got["toy.raises"].status == "violated" and "boom" in got["toy.raises"].details["error"]
    assert got["toy.dies"].status == "violated" and "KilledWorker" in got["toy.dies"].details["error"]
