"""Paper 000, Figure 2 on a non-convex network: training loss of self-distillation vs λ (λ = 0 is SGD)."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_safaryan_sweep", "paper": "000",
          "title": "Final training loss of self-distillation from an SGD teacher vs the distillation weight λ "
                   "(ReLU MLP, digits); λ = 0 is plain SGD",
          "claims": ["safaryan.net.lambda_sweep"]}


def make(size="quick"):
    from paper_figs._gpu_common import network_claim_rng
    from gpu_validation.experiments import safaryan

    # the claim's own configuration and generator (seed 0): the figure draws the run the report measures
    cfg, rng = size, network_claim_rng("safaryan.net.lambda_sweep")
    v = safaryan.check_lambda_sweep(rng, cfg, device="auto")
    d = v.details
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(d["lams"], d["train_loss_last_third"], marker="o", label="mean over last third of epochs")
    ax1.plot(d["lams"], d["train_loss_min"], marker="s", label="minimum over epochs")
    if isinstance(d.get("lambda_star"), float):
        ax1.axvline(d["lambda_star"], color="k", ls="--", lw=1, label=f"λ* (eq. 14) = {d['lambda_star']:.2f}")
    ax1.set_xlabel("λ")
    ax1.set_ylabel("training loss")
    ax1.legend(fontsize=7)
    for lam, curve in zip(d["lams"], d["train_loss_curves"]):
        ax2.plot(np.arange(1, len(curve) + 1), curve, label=f"λ = {lam}")
    ax2.set_xlabel("epoch")
    ax2.set_yscale("log")
    ax2.legend(fontsize=6)
    fig.suptitle("Some λ > 0 beats SGD (λ = 0) when the teacher is an SGD model")
    return fig
