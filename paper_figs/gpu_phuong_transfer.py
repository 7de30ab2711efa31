"""Paper 003 on real data: transfer risk of GD-distilled linear students vs Thm 3 with the empirical p̂."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_phuong_transfer", "paper": "003",
          "title": "Digits 0 vs 1, logistic-regression teacher: measured transfer risk of GD students vs Thm 3's bound "
                   "with the empirical angle distribution, and distance of the students to ŵ",
          "claims": ["phuong.net.transfer_risk", "phuong.net.students_reach_solution"]}


def make(size="quick"):
    from paper_figs._gpu_common import network_claim_rng
    from gpu_validation.experiments import phuong

    # the claim's own configuration and generator (seed 0): the figure draws the run the report measures
    cfg, rng = size, network_claim_rng("phuong.net.transfer_risk")
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    v = phuong.check_transfer_risk(rng, cfg, device="auto")
    d = v.details
    if v.status == "skipped":
        ax1.text(0.5, 0.5, d["reason"], ha="center", va="center", wrap=True)
        return fig
    d["deep"] = phuong.check_students(network_claim_rng("phuong.net.students_reach_solution"), cfg, device="auto").details["deep"]
    ax1.errorbar(d["n"], d["risk_mean"], yerr=d["risk_std"], marker="o", label="measured risk (GD students)")
    ax1.plot(d["n"], d["bound"], marker="s", label="Thm 3 bound with p̂")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("transfer set size n")
    ax1.set_ylabel("transfer risk")
    ax1.legend()
    floor = 1e-16  # exact zeros (GD reached ŵ to the last bit) drawn at the floor of the log axis
    ax2.semilogy(d["n"], np.maximum(d["lin_rel_dist_max"], floor), marker="o", label="N = 1")
    for depth in (2, 3):
        rows = [row for row in d["deep"] if row["depth"] == depth]
        ax2.semilogy([row["n"] for row in rows], np.maximum([row["rel_dist_max"] for row in rows], floor), marker="s",
                     label=f"N = {depth}")
    ax2.set_xscale("log", base=2)
    ax2.set_xlabel("n")
    ax2.set_ylabel("max ‖w_GD − ŵ‖/‖ŵ‖")
    ax2.legend()
    return fig
