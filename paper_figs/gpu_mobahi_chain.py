"""Paper 002, Figures 4 and 6 in miniature: ℓ2 self-distillation rounds on an MLP, and early stopping."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_mobahi_chain", "paper": "002",
          "title": "Self-distillation with the ℓ2 loss on the digits: training accuracy (original labels) and test "
                   "accuracy per round; early-stopped models at the same training loss",
          "claims": ["mobahi.net.train_acc_falls", "mobahi.net.test_acc_rises_then_falls", "mobahi.net.not_early_stopping",
                     "mobahi.net.noisy_rises_then_falls"]}


def make(size="quick"):
    from paper_figs._gpu_common import network_claim_rng
    from gpu_validation.experiments import mobahi

    # the claim's own configuration and generator (seed 0): the figure draws the run the report measures
    cfg, rng = size, network_claim_rng("mobahi.net.not_early_stopping")
    v = mobahi.check_early_stopping(rng, cfg, device="auto")
    d = v.details
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    rounds = np.arange(len(d["train_acc"]))
    ax1.errorbar(rounds, d["train_acc"], yerr=d["train_acc_std"], marker="o", label="train (y₀)")
    ax1.errorbar(rounds, d["test_acc"], yerr=d["test_acc_std"], marker="s", label="test")
    ax1.set_xlabel("self-distillation round")
    ax1.set_ylabel("accuracy")
    ax1.legend()
    es = d["early_stopping"]
    ax2.plot([e["level"] for e in es], [e["sd_test_acc"] for e in es], marker="o", label="self-distillation")
    ax2.plot([e["level"] for e in es], [e["es_test_acc"] for e in es], marker="s", label="early stopping")
    ax2.set_xlabel("training loss on y₀ (ℓ2)")
    ax2.set_ylabel("test accuracy")
    ax2.legend()
    ta = mobahi.check_train_acc(network_claim_rng("mobahi.net.train_acc_falls"), cfg, device="auto")
    te = mobahi.check_test_acc(network_claim_rng("mobahi.net.test_acc_rises_then_falls"), cfg, device="auto")
    fig.suptitle(f"measured: training accuracy never rises — {ta.status}; test accuracy first rises, then falls — "
                 f"{te.status}; SD differs from early stopping — {v.status}", fontsize=8)
    return fig
