"""Paper 000, Figure 1 on a real network: true vs approximate (eq. 5) distillation gradient, per epoch."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_safaryan_fig1", "paper": "000",
          "title": "Cosine similarity, ℓ2 distance and SNR between the true distillation gradient and eq. (5), "
                   "one-hidden-layer ReLU MLP on the digits, per epoch, for several λ",
          "claims": ["safaryan.net.fig1_monotone", "safaryan.net.fig1_similarity", "safaryan.net.fig1_l2_monotone"]}


def make(size="quick"):
    from paper_figs._gpu_common import network_claim_rng
    from gpu_validation.experiments import safaryan

    # the claim's own configuration and generator (seed 0): the figure draws the run the report measures
    cfg, rng = size, network_claim_rng("safaryan.net.fig1_monotone")
    m = safaryan._fig1(rng, cfg, "auto", "digits", None)
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    ep = np.arange(1, m["epochs"] + 1)
    for key, ax, label in zip(("cosine", "l2_distance", "snr"), axes, ("cosine similarity", "ℓ2 distance", "SNR")):
        for lam, curve in zip(m["lams"], m[key]):
            ax.plot(ep, curve, marker="o", ms=3, label=f"λ = {lam}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label)
    axes[0].legend(fontsize=7)
    # the caption's "larger λ leads to larger differences", as measured on the drawn curves (last epoch)
    l2_last = [curve[-1] for curve in m["l2_distance"]]
    order = [lam for _, lam in sorted(zip(l2_last, m["lams"]))]
    monotone = all(a <= b for a, b in zip(l2_last, l2_last[1:]))
    fig.suptitle("True gradient of eq. (4) vs eq. (5), SGD teacher — ℓ2 distance at the last epoch "
                 + ("increases with λ" if monotone else f"is not monotone in λ (ascending order of λ: {order})"), fontsize=9)
    return fig
