"""Paper 002 (Mobahi, Farajtabar, Bartlett) on real networks: Figures 4–6 in miniature and the NTK link.

Self-distillation chains with the ℓ2 loss (Sec. 5): round 0 fits the one-hot labels y_0, round t fits
the predictions (softmax of the logits) of round t − 1 on the training inputs; every round trains a
fresh MLP (one hidden ReLU layer, weight decay — the regulariser R) for the same number of epochs.
Three seeds are trained at once (one vmapped ensemble). Training accuracy is measured on y_0.

* ``mobahi.net.train_acc_falls`` — training accuracy on y_0 does not increase from round to round.
* ``mobahi.net.test_acc_rises_then_falls`` — the paper's Fig. 4 statement as it is made: "the test accuracy
  may first go up but then will go down … Our empirical results on deep models follow this pattern": some
  round t ≥ 1 beats round 0 and the last round is below it, per seed with 95% intervals (not observed →
  ``not_reproduced`` with the interval).
* ``mobahi.net.noisy_rises_then_falls`` — the same statement in a set-up searched for it (30% training-label
  noise, weight decay 5e-4): reproduced at 95% over 8 seeds (see ``_NOISY``).
* ``mobahi.net.not_early_stopping`` (Fig. 6) — models trained from scratch on y_0 and stopped as soon
  as their training loss reaches the loss of the self-distilled round-t model differ from that model
  by more than seed-to-seed variation: cross-seed distance SD vs ES exceeds cross-seed distance ES vs ES.
* ``mobahi.net.ntk_chain`` — a wide two-layer network (eq. 1 of paper 001, NTK scaling, output centred
  at initialisation) self-distilled with the ℓ2 loss plus c_t‖W − W(0)‖² (c_t taken from the kdtheory
  path) follows ``kdtheory.self_distillation.self_distill`` computed with its empirical NTK at
  initialisation (G = JJᵀ/K), and the discrepancy shrinks as the width grows.

Sizes: ``quick`` ≈ 9 s for the three chain claims (one chain, shared) + 5 s for ``ntk_chain``, measured at seed 0 with one torch thread on the idle 2-core CPU (torch 2.13);
``full`` (8 rounds, 100 epochs, widths to 16384) ≈ 20 min on
one CPU core, ≈ 2 min on a GPU.
(GPU times are estimates from the CPU timings and the vmapped batch sizes; no GPU was available to
measure them. Quick timings were measured on a shared 2-core CPU.)
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from gpu_validation import data as gdata
from gpu_validation import models, train
from gpu_validation.experiments._common import compare, config, memo, r, seed_from, setup, tensors
from verification.claims import claim, combine, observed, skipped
from verification.stats import compare_samples

_SIZES = {
    "quick": dict(rounds=5, epochs=30, hidden=128, n_train=600, seeds=3, batch=32, lr=0.5, wd=2e-3,
                  widths=(256, 1024, 4096), K=24, ntk_rounds=3),
    "full": dict(rounds=8, epochs=100, hidden=512, n_train=None, seeds=5, batch=32, lr=0.5, wd=2e-3,
                 widths=(256, 1024, 4096, 16384), K=40, ntk_rounds=5),
}


CHAIN_KEY = "mobahi.net.l2_chain"  # rng_key of the three chain claims (one experiment)


def _data(size, device, dataset, data_dir):
    """(cfg, base details, device, X, y, X_test, y_test, Y0 one-hot) of the chain experiments."""
    cfg = config(_SIZES, size)
    dev, ds, base = setup(device, dataset, data_dir)
    n = cfg["n_train"] or len(ds.y_train)
    ytr = np.array(ds.y_train[:n])
    noise = float(cfg.get("label_noise", 0.0))
    if noise:  # symmetric label noise on the training set only (fixed generator: the same flips every run)
        g = np.random.default_rng(12345)
        flip = g.random(n) < noise
        ytr[flip] = (ytr[flip] + g.integers(1, 10, int(flip.sum()))) % 10
    X, y, Xte, yte = tensors(dev, ds.X_train[:n].reshape(n, -1), ytr,
                             ds.X_test.reshape(len(ds.X_test), -1), ds.y_test)
    return cfg, base, dev, X, y, Xte, yte, F.one_hot(y, 10).float()


@memo  # the three chain claims share rng_key CHAIN_KEY: one chain serves all (plain numpy results)
def _chain(rng, size, device, dataset, data_dir):
    """The ℓ2 self-distillation chain: (summary, per-round rows, per-round test probabilities (S, N_test, 10))."""
    cfg, base, dev, X, y, Xte, yte, Y0 = _data(size, device, dataset, data_dir)
    n = len(y)
    seed0 = seed_from(rng)
    S = cfg["seeds"]
    chain = train.l2_self_distillation_chain(
        lambda t: train.make_ensemble([models.MLP(X.shape[1], cfg["hidden"], 10, seed=seed0 + 100 * t + s)
                                       for s in range(S)], dev),
        X, Y0, cfg["rounds"], lambda t: train.batch_schedule(n, cfg["batch"], cfg["epochs"], rng, dev),
        lr=cfg["lr"], weight_decay=cfg["wd"], momentum=0.9)
    rows = []
    sd_test_probs = []
    for t, rd in enumerate(chain):
        ptr = rd.train_outputs
        with torch.no_grad():
            pte = F.softmax(rd.ensemble.forward(Xte), -1)
        rows.append(dict(round=t,
                         train_acc=(ptr.argmax(-1) == y).float().mean(1).cpu().numpy(),
                         test_acc=(pte.argmax(-1) == yte).float().mean(1).cpu().numpy(),
                         train_loss_y0=((ptr - Y0) ** 2).sum(-1).mean(1).cpu().numpy(),
                         **train.status_of(rd.ensemble)))
        sd_test_probs.append(pte.cpu().numpy())
    out = dict(base, rounds=cfg["rounds"], epochs=cfg["epochs"], hidden=cfg["hidden"], n_train=n, seeds=S,
               weight_decay=cfg["wd"], lr=cfg["lr"], seed=seed0, label_noise=float(cfg.get("label_noise", 0.0)),
               train_acc=[r(row["train_acc"].mean()) for row in rows],
               train_acc_std=[r(row["train_acc"].std()) for row in rows],
               test_acc=[r(row["test_acc"].mean()) for row in rows],
               test_acc_std=[r(row["test_acc"].std()) for row in rows],
               train_loss_y0=[r(row["train_loss_y0"].mean()) for row in rows],
               nan_stopped=[row["nan_stopped"] for row in rows])
    return out, rows, sd_test_probs


@claim("mobahi.net.train_acc_falls", paper="002", where="Sec. 5, Fig. 4 (ℓ2 loss)", kind="network", rng_key=CHAIN_KEY,
       statement="In a self-distillation chain with the ℓ2 loss, training accuracy on the original labels "
                 "does not increase from one round to the next (amplified regularisation)")
def check_train_acc(rng, size, device="auto", dataset="digits", data_dir=None):
    m, _, _ = _chain(rng, size, device, dataset, data_dir)
    acc = np.array(m["train_acc"])
    worst_rise = float(np.max(np.diff(acc)))
    return compare("mobahi.net.train_acc_falls", 0.0, worst_rise, "<=", atol=1.0 / m["n_train"],
                   details={**m, "measured_is": "largest round-to-round rise of mean training accuracy on y_0",
                            "tolerance_is": "one training example"})


def _rises_then_falls(m, rows):
    """Parts "first_rises" / "then_falls" of Fig. 4's statement, per seed with 95% t-intervals."""
    acc = np.stack([row["test_acc"] for row in rows])  # (rounds + 1, seeds)
    rise = acc[1:].max(0) - acc[0]                      # best later round minus round 0, per seed
    peak = 1 + np.argmax(acc[1:], axis=0)
    fall = acc[peak, np.arange(acc.shape[1])] - acc[-1]  # that best round minus the last round, per seed
    det = {**m, "best_round_of_mean": int(np.argmax(acc.mean(1))), "rise_per_seed": rise.tolist(),
           "fall_per_seed": fall.tolist()}
    parts = {}
    for name, smp, what in (("first_rises", rise, "max_{t≥1} test acc − round-0 test acc"),
                            ("then_falls", fall, "best round t ≥ 1 minus last round test acc")):
        v = compare_samples(smp, 0.0, ">=", details={"measured_is": what})
        if v.status != "holds" or not v.details["interval"][0] > 0:  # strictly: a zero rise/fall is not the statement
            lo, hi = v.details["interval"]
            v = observed(False, predicted=0.0, measured=v.measured, relation=">=",
                         reason=f"{what}: mean {v.measured:.4f}, 95% CI [{lo:.4f}, {hi:.4f}] over {len(smp)} seeds "
                                f"— not positive at 95% (best round of the mean curve: "
                                f"{det['best_round_of_mean']})", details=v.details)
        parts[name] = v
    return combine(parts, details=det)


@claim("mobahi.net.test_acc_rises_then_falls", paper="002", where="Sec. 5, Fig. 4; Sec. 6", kind="network",
       rng_key=CHAIN_KEY,
       statement="As the paper states it: in the ℓ2 self-distillation chain the test accuracy first goes up, then "
                 "goes down (some round t ≥ 1 beats round 0, and the last round is below that best round); over "
                 "seeds, with 95% intervals — on the clean-label chain of the other chain claims")
def check_test_acc(rng, size, device="auto", dataset="digits", data_dir=None):
    m, rows, _ = _chain(rng, size, device, dataset, data_dir)
    return _rises_then_falls(m, rows)


#: the set-up where the statement was searched for and found (issue 16): 30% symmetric training-label noise and a
#: weaker weight decay, so that round 0 overfits the noise. Measured (seed 0, CPU): quick — test accuracy
#: 0.8309 → 0.8395 → 0.8386 → 0.8379 → 0.8326 → 0.8293, rise +0.0151 and fall +0.0167 both positive at 95% over 8
#: seeds (187 s on the loaded 2-core machine). Tried before: noise 0.3 with wd 2e-3 (never rises: round 0 already
#: underfits, 0.790 → 0.736), noise 0.3 with wd 0 (rises 0.776 → 0.809, no fall within 4 rounds), noise 0.3 with
#: wd 5e-4 and 4 seeds (rise and fall +0.016/+0.015, intervals straddle 0).
_NOISY = {"quick": dict(label_noise=0.3, wd=5e-4, rounds=6, seeds=8),
          "full": dict(label_noise=0.3, wd=5e-4, rounds=8, seeds=16, epochs=60)}
NOISY_KEY = "mobahi.net.l2_chain_noisy"


@claim("mobahi.net.noisy_rises_then_falls", paper="002", where="Sec. 5, Fig. 4; Sec. 6", kind="network",
       rng_key=NOISY_KEY,
       statement="Fig. 4's 'test accuracy first goes up, then goes down' in a set-up built for it: 30% training "
                 "label noise, weight decay 5e-4 (round 0 overfits the noise); per seed with 95% intervals")
def check_noisy_test_acc(rng, size, device="auto", dataset="digits", data_dir=None):
    cfg = {**config(_SIZES, size), **_NOISY[size]} if isinstance(size, str) else {**_NOISY["quick"], **size}
    m, rows, _ = _chain(rng, cfg, device, dataset, data_dir)
    return _rises_then_falls(m, rows)


@claim("mobahi.net.not_early_stopping", paper="002", where="Sec. 3.4, Sec. 5, Fig. 6", kind="network", rng_key=CHAIN_KEY,
       statement="Self-distillation is not early stopping: a model trained on y_0 and stopped at the same training "
                 "loss as the last self-distilled round differs from it by more than seed-to-seed variation")
def check_early_stopping(rng, size, device="auto", dataset="digits", data_dir=None):
    m, rows, sd_probs = _chain(rng, size, device, dataset, data_dir)
    cfg, _, dev, X, y, Xte, yte, Y0 = _data(size, device, dataset, data_dir)
    seed0 = m["seed"]
    S, n = cfg["seeds"], len(y)
    targets = torch.as_tensor(np.stack([row["train_loss_y0"] for row in rows[1:]]), device=dev, dtype=torch.float32)  # (R−1, S)
    level = targets.mean(1)  # the loss level of each round (mean over seeds)
    ens = train.make_ensemble([models.MLP(X.shape[1], cfg["hidden"], 10, seed=seed0 + 7919 + s) for s in range(S)], dev)
    snaps = [{k: v.detach().clone() for k, v in ens.params.items()} for _ in range(len(level))]
    done = torch.zeros(len(level), S, dtype=torch.bool, device=dev)

    def loss(p, b, idx):
        return train.l2_loss(F.softmax(functional_call(ens.base, (p, b), (X[idx],)), -1), Y0[idx])

    def snapshot():
        with torch.no_grad():
            cur = ((F.softmax(ens.forward(X), -1) - Y0) ** 2).sum(-1).mean(1)  # (S,)
            for j in range(len(level)):
                newly = (cur <= level[j]) & ~done[j]
                for k, v in ens.params.items():
                    snaps[j][k].copy_(torch.where(newly.view(-1, *([1] * (v.ndim - 1))), v, snaps[j][k]))
                done[j] |= newly

    sch = train.batch_schedule(n, cfg["batch"], cfg["epochs"], rng, dev)
    g = torch.func.vmap(torch.func.grad_and_value(loss), in_dims=(0, 0, None))
    bufs: dict = {}
    for e in range(sch.shape[0]):
        for t in range(sch.shape[1]):
            grads, lv = g(ens.params, ens.buffers, sch[e, t])
            train.sgd_update(ens, grads, cfg["lr"], train.finite_members(lv, grads), cfg["wd"], 0.9, bufs)
            snapshot()
    reached = done.cpu().numpy()
    res = []
    for j in range(len(level)):
        with torch.no_grad():
            es = F.softmax(torch.func.vmap(lambda p, b: functional_call(ens.base, (p, b), (Xte,)))(snaps[j], ens.buffers), -1)
        sd = torch.as_tensor(sd_probs[j + 1], device=dev)
        cross = lambda A, B: float(np.mean([(A[a] - B[b]).pow(2).sum(-1).mean().item()  # noqa: E731
                                            for a in range(S) for b in range(S) if a != b]))
        res.append(dict(round=j + 1, level=float(level[j]), reached=reached[j].tolist(),
                        es_test_acc=float((es.argmax(-1) == yte).float().mean()),
                        sd_test_acc=float((sd.argmax(-1) == yte).float().mean()),
                        dist_sd_es=cross(sd, es), dist_es_es=cross(es, es)))
    last = res[-1]
    ratio = last["dist_sd_es"] / max(last["dist_es_es"], 1e-30)
    return compare("mobahi.net.not_early_stopping", 1.0, ratio, ">=",
                   details={**m, "early_stopping": [{k: (r(v) if isinstance(v, float) else v) for k, v in row.items()} for row in res],
                            "measured_is": "last round: mean cross-seed ‖p_SD − p_ES‖² / mean cross-seed ‖p_ES − p_ES'‖² (test set)",
                            "all_reached": bool(reached.all()),
                            "early_stopping_nan_stopped": train.status_of(ens)["nan_stopped"]})


# ------------------------------------------------------------------------------- NTK-regime chain
def _ntk_gram(net, X):
    """Empirical NTK at the current weights: Θ = J Jᵀ with J = ∂f(x_k)/∂W, (K, K)."""
    J = torch.func.jacrev(lambda W: torch.func.functional_call(net, {"W": W}, (X,)))(net.W.detach())
    J = J.reshape(X.shape[0], -1)
    return J @ J.T


def _fit_ridge(net, W0, f0, X, target, c, K, iters):
    """argmin_W (1/K)Σ_k (f(x_k) − f0(x_k) − target_k)² + c‖W − W(0)‖² by L-BFGS, from W(0)."""
    W = torch.nn.Parameter(W0.clone())
    opt = torch.optim.LBFGS([W], lr=1.0, max_iter=iters, tolerance_grad=1e-12, tolerance_change=1e-15,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        g = torch.func.functional_call(net, {"W": W}, (X,)) - f0
        loss = ((g - target) ** 2).sum() / K + c * ((W - W0) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return torch.func.functional_call(net, {"W": W}, (X,)) - f0


@claim("mobahi.net.ntk_chain", paper="002", where="Sec. 5 (NTK link), Sec. 3 (eq. 1, self-distillation path)",
       kind="network",
       statement="A wide two-layer network self-distilled with the ℓ2 loss follows the kdtheory self-distillation "
                 "path computed with its empirical NTK, and more closely as the width grows")
def check_ntk_chain(rng, size, device="auto", dataset="digits", data_dir=None):
    try:
        from kdtheory.self_distillation import self_distill
    except ImportError as exc:
        return skipped("mobahi.net.ntk_chain", f"kdtheory.self_distillation not available: {exc}")
    cfg = config(_SIZES, size)
    dev, ds, base = setup(device, dataset, data_dir)
    Xtr, ytr, _, _ = gdata.two_class(ds, (3, 8), n_train=cfg["K"])
    X = torch.as_tensor(Xtr, dtype=torch.float64, device=dev)
    y0 = ytr.astype(np.float64)
    K = len(y0)
    eps = 0.05 * float(np.mean(y0 ** 2))
    seed = seed_from(rng)
    rows = []
    for m_width in cfg["widths"]:
        net = models.TwoLayerNTK(X.shape[1], m_width, activation="tanh", seed=seed).to(device=dev, dtype=torch.float64)
        W0 = net.W.detach().clone()
        with torch.no_grad():
            f0 = net(X)
        G = (_ntk_gram(net, X) / K).cpu().numpy()
        path = self_distill(G, y0, eps, cfg["ntk_rounds"])
        cs = np.asarray(path.c, dtype=float)
        ys = [np.asarray(v, dtype=float) for v in path.y]
        target = torch.as_tensor(y0, device=dev)
        errs = []
        for t, c in enumerate(cs):
            pred = _fit_ridge(net, W0, f0, X, target, float(c), K, 300)
            ref = ys[t + 1]
            errs.append(float(np.linalg.norm(pred.cpu().numpy() - ref) / max(np.linalg.norm(ref), 1e-30)))
            target = pred  # the network's own predictions are the next labels
        rows.append(dict(m=m_width, c=r(cs, 6), rel_err=r(errs, 6), max_rel_err=max(errs) if errs else float("nan"),
                         collapsed_at=path.collapsed_at))
    errs = np.array([row["max_rel_err"] for row in rows])
    slope = float(np.polyfit(np.log([row["m"] for row in rows]), np.log(errs), 1)[0]) if np.all(errs > 0) else float("nan")
    ratios = errs[1:] / errs[:-1]
    return compare("mobahi.net.ntk_chain", 1.0, float(ratios.max()), "<=",
                   details={**base, "rows": rows, "K": K, "eps": eps, "seed": seed, "loglog_slope": slope,
                            "max_rel_err_by_width": r(errs, 6),
                            "measured_is": "largest ratio of the max relative error (network chain vs kdtheory path, "
                                           "over rounds) between consecutive widths",
                            "predicted_is": "1 (the error must shrink at every width step)"})
