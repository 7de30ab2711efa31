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

    # the claims' own configuration and generator (seed 0): the figure draws the runs the report measures
    rng = network_claim_rng("safaryan.net.fig1_monotone")
    m = safaryan._fig1_details(safaryan._fig1_runs(rng, size, "auto", "digits", None))
    verdicts = {cid: fn(network_claim_rng(cid), size) for cid, fn in (
        ("safaryan.net.fig1_monotone", safaryan.check_fig1_monotone),
        ("safaryan.net.fig1_l2_monotone", safaryan.check_fig1_l2_monotone),
        ("safaryan.net.fig1_similarity", safaryan.check_fig1_similarity))}   # memo hits: the same runs
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    ep = np.arange(1, m["epochs"] + 1)
    for key, ax, label in zip(("cosine", "l2_distance", "snr"), axes, ("cosine similarity", "ℓ2 distance", "SNR")):
        for k, (lam, curve) in enumerate(zip(m["lams"], m[key])):
            ax.plot(ep, curve, marker="o", ms=3, color=f"C{k}", label=f"λ = {lam}")
            for run in m[key + "_per_seed"]:
                ax.plot(ep, run[k], color=f"C{k}", alpha=0.2, lw=0.7)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{label} (mean over the epoch's steps)")
        ax.set_title(f"{label}: seed mean (thin: {m['n_seeds']} seeds)", fontsize=8)
    axes[0].legend(fontsize=7)

    def line(cid, what):
        v = verdicts[cid]
        reason = v.details.get("reason", "")
        return f"{what}: {v.status.replace('_', ' ')}" + (f" ({reason})" if reason and v.status != "holds" else "")

    import textwrap

    lines = [line("safaryan.net.fig1_monotone", "cosine monotone in λ") + "; "
             + line("safaryan.net.fig1_similarity", "cosine ≥ 0.9 for λ ≤ 0.5"),
             line("safaryan.net.fig1_l2_monotone", "caption's 'larger λ, larger ℓ2 difference'")]
    fig.suptitle("True gradient of eq. (4) vs eq. (5), SGD teacher, 95% intervals over seeds\n"
                 + "\n".join(textwrap.fill(t, 170) for t in lines), fontsize=7)
    return fig
