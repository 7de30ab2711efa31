"""Paper 004's network claims: the paired two-level bootstrap and the synthetic known-p* task, at tiny sizes."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gpu_validation.experiments import soteacher  # noqa: E402
from verification.claims import load_all, select  # noqa: E402


def _fake_run(rng, S=3, N=200, K=3, shift=0.0):
    y = rng.integers(K, size=N)
    out = {}
    for method in ("standard", "soteacher"):
        P = rng.dirichlet(np.ones(K), size=(S, N)).astype(np.float32)
        out[method] = {"teacher": P, "teacher_ts": P, "student": P}
    return {"y_test": y, "probs": out}


def test_paired_bootstrap_point_estimate_by_hand_and_zero_for_identical_methods():
    rng = np.random.default_rng(0)
    m = _fake_run(rng)
    point, reps = soteacher.paired_bootstrap(m, "student_acc", np.random.default_rng(1), 50)
    y = m["y_test"]
    acc = {k: np.mean([(m["probs"][k]["student"][s].argmax(1) == y).mean() for s in range(3)]) for k in m["probs"]}
    assert point == pytest.approx(acc["soteacher"] - acc["standard"], abs=1e-12)
    assert reps.shape == (50,) and np.std(reps) > 0
    m["probs"]["soteacher"] = m["probs"]["standard"]
    point, reps = soteacher.paired_bootstrap(m, "ece", np.random.default_rng(1), 20)
    assert point == 0.0 and np.all(reps == 0.0)  # paired resampling: identical methods never differ
    with pytest.raises(ValueError, match="unknown metric"):
        soteacher.paired_bootstrap(m, "top5", np.random.default_rng(1), 2)


def test_difference_verdict_statuses_follow_the_interval():
    rng = np.random.default_rng(0)
    m = _fake_run(rng, N=400)
    m["boot"] = 200
    y = m["y_test"]
    onehot = np.eye(3, dtype=np.float32)[y]
    m["probs"]["soteacher"]["student"] = np.broadcast_to(onehot, m["probs"]["standard"]["student"].shape).copy()
    v = soteacher.difference_verdict(m, "student_acc", ">=", np.random.default_rng(1))  # perfect student
    assert v.status == "holds" and v.details["interval"][0] > 0 and v.margin > 0
    w = soteacher.difference_verdict(m, "student_acc", "<=", np.random.default_rng(1))
    assert w.status == "not_reproduced" and w.margin < 0
    m["probs"]["soteacher"] = m["probs"]["standard"]
    u = soteacher.difference_verdict(m, "teacher_acc", ">=", np.random.default_rng(1))
    assert u.measured == 0.0 and u.status == "inconclusive"  # identical recipes: the interval is [0, 0]
    with pytest.raises(ValueError, match="rel"):
        soteacher.difference_verdict(m, "ece", "==", np.random.default_rng(1))
    with pytest.raises(ValueError, match="unknown recipe"):
        soteacher.difference_verdict(m, "ece", "<=", np.random.default_rng(1), a="lr=1")


def test_settings_are_the_tables_methods_then_fig2s_sweeps():
    cfg = dict(soteacher._SIZES["quick"], sweep_lr=(0.0, 1e-4, soteacher.LAMBDA_LR), sweep_cr=(2.0,),
               sweep_schedules=("linear", "cyclic"))
    s = soteacher.settings(cfg)
    L, C = soteacher.LAMBDA_LR, soteacher.LAMBDA_CR_MAX
    assert s == {"standard": (0.0, 0.0, "linear"), "soteacher": (L, C, "linear"), "no_lr": (0.0, C, "linear"),
                 "no_cr": (L, 0.0, "linear"), "lr=0.0001": (1e-4, C, "linear"), "cr=2": (L, 2.0, "linear"),
                 "schedule=cyclic": (L, C, "cyclic")}  # duplicates of the table's recipes are not trained twice
    assert tuple(s)[:4] == soteacher.METHODS


def test_every_table_column_is_a_network_claim_sharing_one_run():
    load_all(network=True)
    ids = {c.id: c for c in select(kind="network") if c.id.startswith("soteacher.net.")}
    cols = {"soteacher.net.ece", "soteacher.net.nll", "soteacher.net.ece_ts", "soteacher.net.nll_ts",
            "soteacher.net.student_acc", "soteacher.net.fidelity"}
    assert cols | {"soteacher.net.train_p_star"} <= set(ids)
    assert {ids[c].rng_name for c in cols} == {soteacher.RUN_KEY}


def test_table_claims_tiny_run_statuses_and_memo():
    cfg = {"seeds": 2, "epochs": 1, "student_epochs": 1, "width": 2, "boot": 20, "sweep_lr": (1e-2,), "sweep_cr": (),
           "sweep_schedules": ()}
    v = soteacher.check_nll(np.random.default_rng(0), cfg, device="cpu")
    calls = soteacher._run.calls
    w = soteacher.check_fidelity(np.random.default_rng(0), cfg, device="cpu")
    assert soteacher._run.calls == calls  # the second column reused the memoised run
    for x in (v, w):
        assert x.status in ("holds", "not_reproduced", "inconclusive")
        lo, hi = x.details["interval"]
        assert lo <= x.measured <= hi or x.status == "inconclusive"
        assert "probs" not in x.details
    assert set(v.details["table"]) == {"standard", "soteacher", "no_lr", "no_cr", "lr=0.01"}
    assert v.details["n_train"] == 300 and v.details["n_test"] == 539 + (1797 - 539 - 250 - 300)  # left-out points tested
    assert "Fitted temperatures: standard" in v.details["reason"]


def test_synthetic_p_star_task_tiny():
    rng = np.random.default_rng(0)
    X, P, y = soteacher.synthetic_p_star(rng, 4000, 5, 3)
    assert np.allclose(P.sum(1), 1) and X.shape == (4000, 5)
    freq = np.bincount(y, minlength=3) / 4000  # labels drawn from p*: frequencies match its mean
    assert np.allclose(freq, P.mean(0), atol=0.03)
    cfg = {"seeds": 2, "N": 60, "hidden": 8, "epochs": 2, "batch": 30, "lambdas_lr": (0.0, 1e-2), "boot": 20}
    v = soteacher.check_train_p_star(np.random.default_rng(0), cfg, device="cpu")
    assert v.status in ("holds", "not_reproduced", "inconclusive")
    assert set(v.details["sweep_mean_train_error_1norm"]) == {"standard", "soteacher_lr0", "soteacher_lr0.01"}
