"""The network claims are registered, run end to end at tiny sizes, and fail loudly on bad options."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import pkgutil  # noqa: E402

import gpu_validation.experiments as _experiments  # noqa: E402
from verification.claims import Verdict, load_all, run_claims, select  # noqa: E402
from verification.papers import papers  # noqa: E402

#: One experiment module per paper with network claims, named by the paper's claim prefix (the manifest).
MODULES = sorted(i.name for i in pkgutil.iter_modules(_experiments.__path__) if not i.name.startswith("_"))

IDS = ["safaryan.net.fig1_monotone", "safaryan.net.fig1_similarity", "safaryan.net.lambda_sweep",
       "rahbar.net.final_value", "rahbar.net.width_rate", "mobahi.net.train_acc_falls",
       "mobahi.net.test_acc_rises_then_falls", "mobahi.net.noisy_rises_then_falls",
       "mobahi.net.not_early_stopping", "mobahi.net.ntk_chain", "mobahi.net.ce_train_acc_falls",
       "mobahi.net.ce_test_acc_rises_then_falls", "mobahi.net.ce_noisy_rises_then_falls", "mobahi.net.ce_not_early_stopping",
       "phuong.net.students_reach_solution", "phuong.net.transfer_risk", "soteacher.net.ece"]


def test_all_six_experiments_registered_as_network_claims():
    load_all(network=True)
    ids = {c.id for c in select(kind="network")}
    assert set(IDS) <= ids
    assert not {c.id for c in select(kind="theory")} & set(IDS)


def test_experiment_modules_follow_the_manifest():
    load_all(network=True)
    prefixes = {p.prefix: key for key, p in papers().items()}
    for name in MODULES:
        assert name in prefixes, f"gpu_validation.experiments.{name} is not a claim prefix of the manifest"
        mine = [c for c in select(kind="network") if c.check.__module__ == f"gpu_validation.experiments.{name}"]
        assert mine, f"gpu_validation.experiments.{name} registers no network claim"
        assert all(c.id.startswith(name + ".") and c.paper_key == prefixes[name] for c in mine)


TINY = {
    "safaryan": ("check_fig1_monotone", {"hidden": 8, "teacher_epochs": 1, "epochs": 2, "lams": (0.1, 0.9)}),
    "mobahi": ("check_train_acc", {"rounds": 2, "epochs": 1, "hidden": 8, "n_train": 100, "seeds": 2}),
    "phuong": ("check_transfer_risk", {"ns": (2, 4), "sets": 2, "steps": 50, "deep_steps": 50}),
    "rahbar": ("check_final_value", {"widths": (16, 32), "n": 6, "teacher_t": 1.0, "horizon": 2.0, "checkpoints": 2}),
    "soteacher": ("check_ece", {"seeds": 2, "epochs": 1, "student_epochs": 1, "width": 2}),
}


@pytest.mark.parametrize("module", MODULES)
def test_tiny_run_returns_a_verdict_with_numbers(module):
    import importlib

    mod = importlib.import_module(f"gpu_validation.experiments.{module}")
    # a new paper's experiment module declares its own tiny configuration: TINY_CHECK = (check name, cfg)
    spec = getattr(mod, "TINY_CHECK", None) or TINY.get(module)
    assert spec, f"gpu_validation.experiments.{module}: declare TINY_CHECK = ('check_...', {{tiny config}})"
    fn, cfg = spec
    v = getattr(mod, fn)(np.random.default_rng(0), cfg, device="cpu")
    assert isinstance(v, Verdict) and v.status in ("holds", "violated", "skipped", "inconclusive", "not_reproduced")
    if v.status != "skipped":
        assert np.isfinite(v.measured) and v.details["device"] == "cpu"
    # deterministic given the rng
    v2 = getattr(mod, fn)(np.random.default_rng(0), cfg, device="cpu")
    assert v2.measured == v.measured or (np.isnan(v.measured) and np.isnan(v2.measured))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_bad_options_become_clear_errors_in_the_report():
    load_all(network=True)
    claims = select(ids=["safaryan.net.fig1_monotone"], kind="network")
    v, = run_claims(claims, size="quick", device="cuda")
    assert v.status == "violated" and "no CUDA GPU" in v.details["error"]
    v, = run_claims(claims, size="quick", device="cpu", dataset="mnist", data_dir=None)
    assert v.status == "violated" and "data_dir" in v.details["error"]
    v, = run_claims(claims, size="quick", device="cpu", dataset="svhn")
    assert v.status == "violated" and "dataset must be one of" in v.details["error"]
