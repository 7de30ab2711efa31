"""Figure 3 of Phuong & Lampert (paper 003): transfer risk of linear distillation vs the angular alignment κ.

Tasks of Sec. 5.1 (P[ᾱ(w*, x) ≥ θ] = (1 − 2θ/π)^κ), d = 1000, n = 20. The expected transfer risk is a Monte
Carlo average over transfer sets (exact Bartlett-reduced sampler, one stacked QR) of the exact risk of each
student (quadrature), with a 95% band; Theorem 3's bound (eq. 19, minimised over β), its tight form from the
proof and Cor. 2's bound are drawn over it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import linear_transfer as lt

FIGURE = {
    "id": "phuong_fig3",
    "paper": "003",
    "title": "Transfer risk of linear distillation on tasks of varying angular alignment κ (d = 1000, n = 20)",
    "claims": ["phuong.thm3", "phuong.thm3_tight", "phuong.cor2"],
}

D, N = 1000, 20
KAPPAS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


def data(size="quick", seed=3):
    """Risk curve and bounds: dict of arrays over KAPPAS."""
    m = 400 if size == "quick" else 10_000
    rng = np.random.default_rng(seed)
    out = {k: [] for k in ("kappa", "risk", "se", "thm3", "thm3_tight", "cor2")}
    for kappa in KAPPAS:
        task = lt.polynomial_task(D, kappa)
        mean, se = lt.expected_transfer_risk(task, N, m, rng)
        out["kappa"].append(kappa)
        out["risk"].append(mean)
        out["se"].append(se)
        out["thm3"].append(lt.transfer_risk_bound(task, N))
        out["thm3_tight"].append(lt.transfer_risk_bound(task, N, tight=True))
        out["cor2"].append(min(1.0, lt.corollary2_bound(N, kappa)))
    out["sets"] = m
    return {k: np.asarray(v) if isinstance(v, list) else v for k, v in out.items()}


def make(size="quick"):
    r = data(size)
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    k = r["kappa"]
    lo = np.maximum(r["risk"] - 1.96 * r["se"], 1e-300)
    ax.fill_between(k, lo, r["risk"] + 1.96 * r["se"], color="C0", alpha=0.25, lw=0)
    ax.plot(k, r["risk"], "o-", color="C0", label=f"measured E[R] ({r['sets']} transfer sets, 95% band)")
    ax.plot(k, r["thm3"], "s--", color="C3", label="Thm 3 bound  min_β p(β) + p(π/2−β)^n")
    ax.plot(k, r["thm3_tight"], ":", color="C1", label="tight form  p(β) + (1−p(β)) p(π/2−β)^n")
    ax.plot(k, r["cor2"], "^-.", color="C2", label="Cor. 2  (1 + (log n)^κ)/n^κ")
    ax.set_yscale("log")
    ax.set_xlabel("κ (angular alignment of the task)")
    ax.set_ylabel("expected transfer risk")
    ax.set_title(f"Linear distillation, d = {D}, n = {N}")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig
