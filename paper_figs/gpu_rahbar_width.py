"""Paper 001 on real data: finite-width networks vs the kernel-regime prediction, as the width grows."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_rahbar_width", "paper": "001",
          "title": "Two-layer networks trained by GD on loss (2) (digits 3 vs 8): distance to the kernel-regime "
                   "trajectory vs the width m",
          "claims": ["rahbar.net.final_value", "rahbar.net.width_rate"]}


def make(size="quick", verdicts=None):
    """Draws the run of ``rahbar.net.width_rate`` (its verdict's details when given, else the claim's own memoised
    run: configuration of ``size``, generator of seed 0)."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    v = (verdicts or {}).get("rahbar.net.width_rate")
    if v is not None and v.details.get("runs"):
        m = v.details["runs"][0]
    else:
        from paper_figs._gpu_common import network_claim_rng
        try:
            from gpu_validation.experiments import rahbar
            m = rahbar._run(network_claim_rng("rahbar.net.width_rate"), size, "auto", "digits", None)
        except ImportError as exc:
            ax.text(0.5, 0.5, f"torch or kdtheory.kernel_regime not available:\n{exc}", ha="center", va="center",
                    wrap=True)
            return fig
    ms = np.array([row["m"] for row in m["rows"]], float)
    if all("traj_L1" in row for row in m["rows"]):
        err = np.array([row["traj_L1"] for row in m["rows"]])
        ax.loglog(ms, err, marker="s", label="∫‖f_net − f_ker‖dt (Thm 3's L1 sense)")
        ax.loglog(ms, err[0] * (ms / ms[0]) ** -0.5, "k--", lw=1, label="slope −1/2 (O(1/√m))")
    if all("net_vs_linearised_at_T_rel" in row for row in m["rows"]):
        ax.loglog(ms, [row["net_vs_linearised_at_T_rel"] for row in m["rows"]], marker="o",
                  label="‖f_net(T) − f_ker(T)‖ / ‖f_ker(T) − f(0)‖")
    ax.loglog(ms, [row["phi_dist"] for row in m["rows"]], marker="^", label="‖φ − f(0)‖/√m (Assumption 4)")
    ax.set_xlabel("width m (hidden units)")
    ax.set_ylabel("distance (log scale)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    status = f" — width_rate: {v.status}" if v is not None else ""
    ax.set_title(f"Network vs kernel regime as m grows (λ = {m.get('lam')}, T = {m.get('horizon', 0):.3g}){status}",
                 fontsize=9)
    return fig
