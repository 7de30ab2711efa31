"""Paper 001 on real data: finite-width networks vs the kernel-regime prediction, as the width grows."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_rahbar_width", "paper": "001",
          "title": "Two-layer networks trained by GD on loss (2) (digits 3 vs 8): distance to the final value f_∞ "
                   "and to the kernel-regime trajectory vs the width m",
          "claims": ["rahbar.net.final_value", "rahbar.net.width_rate"]}


def make(size="quick"):
    from paper_figs._gpu_common import network_claim_rng
    from gpu_validation.experiments import rahbar

    # the claim's own configuration and generator (seed 0): the figure draws the run the report measures
    cfg, rng = size, network_claim_rng("rahbar.net.width_rate")
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    try:
        m = rahbar._run(rng, cfg, "auto", "digits", None)
    except ImportError as exc:
        ax.text(0.5, 0.5, f"kdtheory.kernel_regime not available:\n{exc}", ha="center", va="center", wrap=True)
        return fig
    ms = [row["m"] for row in m["rows"]]
    ax.loglog(ms, [row["final_rel_err"] for row in m["rows"]], marker="o", label="‖f_net(T) − f_∞‖/‖f_∞‖")
    if all("traj_L1" in row for row in m["rows"]):
        err = [row["traj_L1"] for row in m["rows"]]
        ax.loglog(ms, err, marker="s", label="∫‖f_net − f_ker‖dt")
        ax.loglog(ms, err[0] * (np.array(ms) / ms[0]) ** -0.5, "k--", lw=1, label="∝ m^(−1/2)")
    ax.loglog(ms, [row["phi_dist"] for row in m["rows"]], marker="^", label="‖φ − f(0)‖/√m (Assumption 4)")
    ax.set_xlabel("width m")
    ax.legend(fontsize=7)
    ax.set_title("Kernel regime as m grows")
    return fig
