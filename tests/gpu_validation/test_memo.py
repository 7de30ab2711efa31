"""The in-process memo of experiments: claims of one experiment (one rng_key) run it once.

Property: a memoised experiment called with an equal generator (same state), size and options returns
what a real run returns and leaves the generator where a real run leaves it — so a claim gives the
same verdict alone (a real run) and after its sibling (a hit). Checked against real runs, not stored numbers.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gpu_validation.experiments._common import memo  # noqa: E402
from verification.claims import claim_rng, load_all, select  # noqa: E402


def _counting():
    @memo(maxsize=2)
    def exp(rng, size, flag=False):
        return {"x": rng.standard_normal(3), "size": size, "flag": flag}

    return exp


def test_equal_generators_run_once_and_leave_the_rng_as_a_real_run():
    exp = _counting()
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    ra = exp(a, "quick")
    rb = exp(b, "quick")
    assert exp.calls == 1 and np.array_equal(ra["x"], rb["x"])
    # after the hit the generator is where the real run left it: the next draws agree
    assert a.standard_normal() == b.standard_normal()
    rb["x"][:] = 0.0  # the caller's copy is its own: the cache is not corrupted
    assert np.array_equal(exp(np.random.default_rng(7), "quick")["x"], ra["x"]) and exp.calls == 1


def test_different_seed_size_or_options_miss_and_maxsize_evicts():
    exp = _counting()
    base = exp(np.random.default_rng(1), "quick")
    other = exp(np.random.default_rng(2), "quick")
    assert exp.calls == 2 and not np.array_equal(base["x"], other["x"])
    exp(np.random.default_rng(1), "full")
    exp(np.random.default_rng(1), "quick", flag=True)
    assert exp.calls == 4 and exp.cache_len() == 2  # bounded: the oldest entries were dropped
    exp(np.random.default_rng(1), "quick")
    assert exp.calls == 5  # evicted, so it ran again (and gives the same numbers)
    exp.cache_clear()
    assert exp.cache_len() == 0


def test_tensor_results_and_bad_arguments_are_refused():
    @memo
    def bad(rng, size):
        return {"t": torch.zeros(2)}

    with pytest.raises(TypeError, match=r"bad\(\)\['t'\] is a Tensor"):
        bad(np.random.default_rng(0), "quick")
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        bad(0, "quick")
    with pytest.raises(ValueError, match="maxsize"):
        memo(maxsize=0)


def test_claims_of_one_experiment_share_an_rng_key():
    load_all(network=True)
    keys = {c.id: c.rng_name for c in select(kind="network")}
    groups = [("safaryan.net.fig1_monotone", "safaryan.net.fig1_similarity"),
              ("rahbar.net.final_value", "rahbar.net.width_rate"),
              ("mobahi.net.train_acc_falls", "mobahi.net.test_acc_rises_then_falls", "mobahi.net.not_early_stopping",
               "mobahi.net.ce_train_acc_falls", "mobahi.net.ce_test_acc_rises_then_falls",
               "mobahi.net.ce_not_early_stopping"),
              ("mobahi.net.noisy_rises_then_falls", "mobahi.net.ce_noisy_rises_then_falls"),
              ("phuong.net.students_reach_solution", "phuong.net.transfer_risk")]
    for g in groups:
        assert len({keys[i] for i in g}) == 1, g
    assert len({keys[g[0]] for g in groups} | {keys["safaryan.net.lambda_sweep"], keys["soteacher.net.ece"]}) == 7


TINY_CHAIN = {"rounds": 2, "epochs": 1, "hidden": 8, "n_train": 60, "seeds": 2}


def test_chain_claim_alone_equals_after_its_sibling():
    """not_early_stopping draws from rng after the chain: alone (real chain) and after train_acc_falls
    (memo hit, rng restored) it must give the same verdict; the chain runs once for the pair."""
    from gpu_validation.experiments import mobahi

    key = mobahi.CHAIN_KEY
    mobahi._chain.cache_clear()
    mobahi._early_stopping.cache_clear()
    calls = mobahi._chain.calls
    mobahi.check_train_acc(claim_rng(0, key), TINY_CHAIN, device="cpu")
    grouped = mobahi.check_early_stopping(claim_rng(0, key), TINY_CHAIN, device="cpu")
    assert mobahi._chain.calls == calls + 1
    mobahi._chain.cache_clear()
    mobahi._early_stopping.cache_clear()  # the early-stopping run is memoised too (it holds the chain's result)
    alone = mobahi.check_early_stopping(claim_rng(0, key), TINY_CHAIN, device="cpu")
    assert mobahi._chain.calls == calls + 2
    assert grouped.to_dict() == alone.to_dict()
    other = mobahi.check_early_stopping(claim_rng(1, key), TINY_CHAIN, device="cpu")
    assert mobahi._chain.calls == calls + 3 and other.details["seed"] != alone.details["seed"]


def test_cpu_checks_run_with_the_configured_thread_count(monkeypatch):
    from gpu_validation.experiments import _common

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("KDTHEORY_TORCH_THREADS", raising=False)
        _, _, base = _common.setup("cpu", "digits", None)
        assert torch.get_num_threads() == _common.CPU_THREADS == base["threads"]
        monkeypatch.setenv("KDTHEORY_TORCH_THREADS", "2")
        _, _, base = _common.setup("cpu", "digits", None)
        assert torch.get_num_threads() == 2 == base["threads"]
        for bad in ("0", "two"):
            monkeypatch.setenv("KDTHEORY_TORCH_THREADS", bad)
            with pytest.raises(ValueError, match="KDTHEORY_TORCH_THREADS"):
                _common.setup("cpu", "digits", None)
    finally:
        torch.set_num_threads(before)


def test_memo_key_tells_long_arrays_apart():
    # str() abbreviates long arrays with '...'; arrays equal in their printed corners must still miss
    from gpu_validation.experiments._common import _memo_key

    a = np.zeros(5000)
    b = a.copy()
    b[2500] = 1.0
    assert str(a) == str(b)
    assert _memo_key([a]) != _memo_key([b])
    assert _memo_key([a]) == _memo_key([a.copy()])
