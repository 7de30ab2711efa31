"""Paper 002 network chains (ℓ2 and cross-entropy, Figs. 4–6): the statistics that decide the claims, on synthetic
per-seed accuracies whose truth is known, and one tiny real run of both chains and early stopping."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gpu_validation import models, train  # noqa: E402
from gpu_validation.experiments import mobahi  # noqa: E402

S = 8


def _rows(test_acc, train_acc=None, loss="l2"):
    """Chain rows / summary in the shape _chain returns, from (rounds, S) arrays."""
    test_acc = np.asarray(test_acc, dtype=float)
    train_acc = test_acc if train_acc is None else np.asarray(train_acc, dtype=float)
    rows = [{l: {"test_acc": test_acc[t], "train_acc": train_acc[t], "train_loss_y0": np.zeros(test_acc.shape[1]),
                 "nan_stopped": []} for l in mobahi.LOSSES} for t in range(test_acc.shape[0])]
    m = {"seeds": test_acc.shape[1], **{l: {"test_acc": test_acc.mean(1).tolist(), "nan_stopped": []} for l in mobahi.LOSSES}}
    return m, rows


def test_rises_then_falls_decides_on_known_patterns():
    g = np.random.default_rng(0)
    noise = 0.003 * g.standard_normal((6, S))
    peak = np.array([0.80, 0.83, 0.84, 0.83, 0.81, 0.79])[:, None] + noise
    v = mobahi._rises_then_falls(*_rows(peak), "l2")
    assert v.status == "holds" and v.details["peak_tested"] in (1, 2, 3) and "observed at round" in v.details["reason"]
    assert math.isclose(v.details["confidence_per_round"], 1 - 0.05 / 4)  # 4 candidate peaks, family-wise 95%
    falling = np.array([0.90, 0.88, 0.86, 0.84, 0.82, 0.80])[:, None] + noise
    v = mobahi._rises_then_falls(*_rows(falling), "l2")
    assert v.status == "not_reproduced" and v.details["reason"].startswith("contradicted")
    rising = np.array([0.80, 0.81, 0.82, 0.83, 0.84, 0.85])[:, None] + noise  # rises, never falls
    assert mobahi._rises_then_falls(*_rows(rising), "l2").status != "holds"
    assert mobahi._rises_then_falls(*_rows(peak[:2]), "l2").status == "skipped"


def test_rises_then_falls_is_not_fooled_by_picking_the_best_round():
    """Under the null (every round the same mean, seed-to-seed noise) the statement must hold at most ~5% of the
    time; the previous statistic (max over rounds − round 0, best round − last round, each at 95%) held far more
    often: choosing the peak on the data manufactures a rise and a fall out of noise."""
    from verification.stats import compare_samples

    g = np.random.default_rng(1)
    new = old = 0
    n = 300
    for _ in range(n):
        acc = 0.8 + 0.01 * g.standard_normal((6, S)) + 0.01 * g.standard_normal((1, S))  # per-seed offset shared by rounds
        new += mobahi._rises_then_falls(*_rows(acc), "l2").status == "holds"
        rise = acc[1:].max(0) - acc[0]
        pk = 1 + np.argmax(acc[1:], axis=0)
        fall = acc[pk, np.arange(S)] - acc[-1]
        old += all(compare_samples(x, 0.0, ">=").details["interval"][0] > 0 for x in (rise, fall))
    assert new / n <= 0.06, new / n
    assert old / n >= 0.3, old / n  # the defect the Bonferroni test removes


def test_train_acc_falls_every_round_part_by_part():
    g = np.random.default_rng(2)
    acc = np.array([0.95, 0.93, 0.91, 0.89])[:, None] + 0.002 * g.standard_normal((4, S))
    m, rows = _rows(acc, acc)
    v = mobahi._falls_every_round(m, rows, "ce")
    assert v.status == "holds" and set(v.details["parts"]) == {"round_0_to_1", "round_1_to_2", "round_2_to_3"}
    acc[2] += 0.05  # round 1 → 2 rises: that part is violated and decides
    v = mobahi._falls_every_round(*_rows(acc, acc), "ce")
    assert v.status == "violated" and v.details["deciding_part"] == "round_1_to_2"
    m, rows = _rows(acc, acc)
    m["ce"]["nan_stopped"] = [[], [1]]
    assert mobahi._falls_every_round(m, rows, "ce").details.get("nan_stopped_runs")


def _es(gaps, reached=None):
    gaps = np.asarray(gaps, dtype=float)
    R1 = gaps.shape[0]
    reached = np.ones_like(gaps, dtype=bool) if reached is None else reached
    rows = [dict(round=j + 1, level=np.full(S, 0.1 * (j + 1)), es_loss=np.full(S, 0.1 * (j + 1)), reached=reached[j],
                 sd_test_acc=0.8 + gaps[j], es_test_acc=np.full(S, 0.8), dist_sd_es=1.0, dist_es_es=1.0)
            for j in range(R1)]
    return {"l2": rows, "l2_nan_stopped": [], "ce": rows, "ce_nan_stopped": []}


def test_not_early_stopping_per_round_with_bonferroni():
    m, _ = _rows(np.full((5, S), 0.8))
    g = np.random.default_rng(3)
    gaps = 0.002 * g.standard_normal((4, S))
    gaps[2] += 0.02  # only round 3 differs
    v = mobahi._not_early_stopping(m, _es(gaps), "l2")
    assert v.status == "holds" and v.details["round_tested"] == 3 and "SD better" in v.details["reason"]
    assert math.isclose(v.details["confidence_per_round"], 1 - 0.05 / 4)
    v = mobahi._not_early_stopping(m, _es(-gaps), "l2")
    assert v.status == "holds" and "SD worse" in v.details["reason"]
    v = mobahi._not_early_stopping(m, _es(0.002 * g.standard_normal((4, S))), "l2")
    assert v.status in ("inconclusive", "holds")
    reached = np.ones((4, S), dtype=bool)
    reached[2, 1:] = False  # round 3's ES runs never reached the level: not used
    v = mobahi._not_early_stopping(m, _es(gaps, reached), "l2")
    assert v.details["early_stopping"][2]["reached"] == 1 and v.details["round_tested"] != 3
    null = sum(mobahi._not_early_stopping(m, _es(0.01 * g.standard_normal((4, S))), "l2").status == "holds"
               for _ in range(200))
    assert null / 200 <= 0.06


def test_fit_loss_is_l2_or_cross_entropy_per_member():
    z = torch.randn(5, 10, generator=torch.Generator().manual_seed(0))
    q = torch.softmax(torch.randn(5, 10, generator=torch.Generator().manual_seed(1)), -1)
    l2 = ((torch.softmax(z, -1) - q) ** 2).sum(-1).mean()
    ce = -(q * torch.log_softmax(z, -1)).sum(-1).mean()
    assert torch.allclose(mobahi._fit(z, q, torch.tensor(1.0)), l2)
    assert torch.allclose(mobahi._fit(z, q, torch.tensor(0.0)), ce)


def test_chain_criterion_path_equals_the_default_l2_chain():
    X = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
    Y0 = torch.nn.functional.one_hot(torch.arange(40) % 3, 3).float()
    mk = lambda t: train.make_ensemble([models.MLP(6, 5, 3, seed=10 * t + s) for s in range(2)], torch.device("cpu"))  # noqa: E731
    sch = lambda t: train.batch_schedule(40, 8, 2, np.random.default_rng(t), torch.device("cpu"))  # noqa: E731
    a = train.l2_self_distillation_chain(mk, X, Y0, 2, sch, lr=0.3, weight_decay=1e-3, momentum=0.9)
    crit = lambda z, t, w: w * train.l2_loss(torch.softmax(z, -1), t)  # noqa: E731
    b = train.l2_self_distillation_chain(mk, X, Y0, 2, sch, lr=torch.tensor([0.3, 0.3]), weight_decay=1e-3,
                                         momentum=0.9, criterion=crit, member_args=(torch.ones(2),))
    for ra, rb in zip(a, b):
        assert torch.allclose(ra.train_outputs, rb.train_outputs, atol=1e-6)
    with pytest.raises(ValueError, match="member_order"):
        train.l2_self_distillation_chain(mk, X, Y0, 1, sch, lr=0.3, member_order=lambda t: torch.zeros(3, 40, dtype=torch.long))


TINY = {"rounds": 3, "epochs": 8, "hidden": 16, "n_train": 120, "seeds": 2}  # enough steps that ES crosses the levels


def test_tiny_chain_both_losses_and_early_stopping_at_equal_loss():
    from verification.claims import claim_rng

    mobahi._chain.cache_clear()
    mobahi._early_stopping.cache_clear()
    rng = claim_rng(0, mobahi.CHAIN_KEY)
    m, rows, probs = mobahi._chain(rng, mobahi._cfg(TINY), "cpu", "digits", None)
    assert probs.shape[:2] == (3, 4) and set(m) >= set(mobahi.LOSSES)
    assert all(len(rows[t][loss]["test_acc"]) == 2 for t in range(3) for loss in mobahi.LOSSES)
    runs = mobahi._chain.calls  # (cache_clear keeps the count: other tests in this worker may have run it)
    m2, es = mobahi._early_stopping(claim_rng(0, mobahi.CHAIN_KEY), mobahi._cfg(TINY), "cpu", "digits", None)
    assert m2 == m and mobahi._chain.calls == runs  # the early-stopping run reuses the chain
    for loss in mobahi.LOSSES:
        for row in es[loss]:
            ok = np.asarray(row["reached"], dtype=bool)
            assert ok.any(), (loss, row)  # else the check below is vacuous
            # the bisection puts the early-stopped model at the self-distilled level (float32 losses)
            assert np.allclose(row["es_loss"][ok], row["level"][ok], rtol=1e-4)
            assert np.allclose(row["sd_test_acc"], rows[row["round"]][loss]["test_acc"])
    for check in (mobahi.check_ce_early_stopping, mobahi.check_ce_train_acc, mobahi.check_ce_test_acc):
        v = check(claim_rng(0, mobahi.CHAIN_KEY), TINY, device="cpu")
        assert v.status in ("holds", "inconclusive", "not_reproduced", "violated") and v.details["loss"] == "ce"
    with pytest.raises(ValueError, match="n_seeds"):
        mobahi.check_ce_train_acc(claim_rng(0, mobahi.CHAIN_KEY), TINY, device="cpu", n_seeds=1)


def test_figure_modules_use_the_experiments_rng_keys():
    from paper_figs import _mobahi_net

    assert _mobahi_net.CHAIN_KEY == mobahi.CHAIN_KEY and _mobahi_net.NOISY_KEY == mobahi.NOISY_KEY


def test_mixed_ensemble_halves_are_the_plain_chains():
    """The ℓ2 half of the two-loss ensemble is the plain ℓ2 chain (default criterion) with the same seeds and
    batches, and the cross-entropy half is the chain with criterion cross_entropy_soft at ce_lr: members, loss
    choice and learning rates are not mixed up."""
    import torch.nn.functional as F

    from gpu_validation.experiments._common import seed_from
    from verification.claims import claim_rng

    cfg = mobahi._cfg(TINY)
    mobahi._chain.cache_clear()
    m, rows, probs = mobahi._chain(claim_rng(0, mobahi.CHAIN_KEY), cfg, "cpu", "digits", None)
    _, dev, X, y, Xte, yte, Y0 = mobahi._data(cfg, "cpu", "digits", None)
    S, n = cfg["seeds"], len(y)
    for loss, kw in (("l2", dict(lr=cfg["lr"])),
                     ("ce", dict(lr=cfg["ce_lr"], criterion=lambda z, t: train.cross_entropy_soft(z, t)))):
        rng = claim_rng(0, mobahi.CHAIN_KEY)
        seed0 = seed_from(rng)
        chain = train.l2_self_distillation_chain(
            lambda t: train.make_ensemble([models.MLP(X.shape[1], cfg["hidden"], 10, seed=seed0 + 100 * t + s)
                                           for s in range(S)], dev),
            X, Y0, cfg["rounds"], lambda t: train.batch_schedule(n, cfg["batch"], cfg["epochs"], rng, dev),
            weight_decay=cfg["wd"], momentum=0.9, member_order=lambda t: mobahi._orders(rng, n, S, dev)[:S], **kw)
        half = slice(0, S) if loss == "l2" else slice(S, 2 * S)
        for t, rd in enumerate(chain):
            with torch.no_grad():
                pte = F.softmax(rd.ensemble.forward(Xte), -1).numpy()
            assert np.allclose(pte, probs[t, half], atol=1e-5), (loss, t)
            assert np.allclose((pte.argmax(-1) == yte.numpy()).mean(1), rows[t][loss]["test_acc"])
            p = rd.train_outputs.numpy()  # softmax on the training inputs: the loss on y_0 of this chain's kind
            Y = Y0.numpy()
            own = ((p - Y) ** 2).sum(-1).mean(1) if loss == "l2" else -(np.log(p) * Y).sum(-1).mean(1)
            assert np.allclose(own, rows[t][loss]["train_loss_y0"], rtol=1e-4), (loss, t)
