"""Figure 3 of Phuong & Lampert (paper 003): transfer risk of linear distillation vs the angular alignment κ.

Tasks of Sec. 5.1 (P[ᾱ(w*, x) ≥ θ] = (1 − 2θ/π)^κ), d = 1000, n = 20. The expected transfer risk is a Monte
Carlo average over transfer sets (exact Bartlett-reduced sampler, one stacked QR) of the exact risk of each
student (quadrature), with a 95% interval; Theorem 3's bound (eq. 19, minimised over β), its tight form from the
proof and Cor. 2's bound are drawn over it. The figure's statements ("a clearly decreasing trend", the bounds
above the risk) are the figure claims below, measured on the data the figure draws.

Drawing: the risk falls from ~0.3 to ~1e-12 over the κ range, so the left panel's log axis is floored at
``FLOOR`` (points below it drawn as open markers on the floor); the tight form and Thm 3's bound differ by the
factor 1 − p(β) and would hide under each other, so the right panel draws tight form / Thm 3 and risk / bound.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import linear_transfer as lt
from paper_figs import verdicts_for
from verification.claims import claim, observed
from verification.stats import interval

FIGURE = {
    "id": "phuong_fig3",
    "paper": "003",
    "title": "Transfer risk of linear distillation on tasks of varying angular alignment κ (d = 1000, n = 20)",
    "claims": ["phuong.thm3", "phuong.thm3_tight", "phuong.cor2", "phuong.fig3.risk_decreases_in_kappa",
               "phuong.fig3.bounds_above_risk"],
}

D, N = 1000, 20
KAPPAS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
FLOOR = 1e-6
_SIZES = {"quick": 400, "full": 10_000}  # transfer sets per κ


def data(size="quick", rng=None, n_seeds=None):
    """Risk curve (mean and 95% t interval over transfer sets) and the three bounds, over KAPPAS."""
    m = n_seeds or _SIZES[size]
    rng = np.random.default_rng(3) if rng is None else rng
    out = {k: [] for k in ("kappa", "risk", "lo", "hi", "thm3", "thm3_tight", "cor2")}
    for kappa in KAPPAS:
        task = lt.polynomial_task(D, kappa)
        mean, lo, hi = interval(lt.transfer_risk_samples(task, N, m, rng))
        out["kappa"].append(kappa)
        out["risk"].append(mean)
        out["lo"].append(max(lo, 0.0))
        out["hi"].append(hi)
        out["thm3"].append(lt.transfer_risk_bound(task, N))
        out["thm3_tight"].append(lt.transfer_risk_bound(task, N, tight=True))
        out["cor2"].append(min(1.0, lt.corollary2_bound(N, kappa)))
    out["sets"] = m
    return out


@claim("phuong.fig3.risk_decreases_in_kappa", paper="003", where="Sec. 5.1, Fig. 3", kind="figure",
       rng_key="phuong.fig3",
       statement="The expected transfer risk decreases as κ grows: each step's 95% intervals are ordered or overlap "
                 "only where the means still fall, and the first and last κ's intervals are disjoint")
def _check_decreasing(rng, size, n_seeds=None):
    r = data(size, rng, n_seeds)
    risk, lo, hi = np.array(r["risk"]), np.array(r["lo"]), np.array(r["hi"])
    falls = np.diff(risk) < 0
    rises_significantly = np.flatnonzero(lo[1:] > hi[:-1])  # a step whose interval lies wholly above the previous
    ok = bool(falls.all() and rises_significantly.size == 0 and hi[-1] < lo[0])
    reason = (f"mean risk falls at {int(falls.sum())} of {falls.size} steps of κ, from {risk[0]:.3g} "
              f"[{lo[0]:.3g}, {hi[0]:.3g}] at κ = {KAPPAS[0]} to {risk[-1]:.3g} at κ = {KAPPAS[-1]}")
    if not ok:
        reason += f"; steps where it rises: {[KAPPAS[i + 1] for i in np.flatnonzero(~falls)]}"
    return observed(ok, predicted=0.0, measured=float(np.max(np.diff(risk))), relation="<=", reason=reason,
                    details={"curves": r})


@claim("phuong.fig3.bounds_above_risk", paper="003", where="Sec. 5.1, Fig. 3; Thm 3, Cor. 2", kind="figure",
       rng_key="phuong.fig3",
       statement="Thm 3's bound, its tight form and Cor. 2's bound lie above the upper 95% limit of the measured risk at every κ")
def _check_bounds_above(rng, size, n_seeds=None):
    r = data(size, rng, n_seeds)
    hi = np.array(r["hi"])
    lowest = np.minimum.reduce([np.array(r["thm3"]), np.array(r["thm3_tight"]), np.array(r["cor2"])])
    ratio = hi / lowest
    k = int(np.argmax(ratio))
    ok = bool(np.all(hi <= lowest))
    return observed(ok, predicted=float(lowest[k]), measured=float(hi[k]), relation="<=",
                    reason=f"largest (upper risk limit)/(lowest bound) = {ratio[k]:.3g} at κ = {KAPPAS[k]}",
                    tightness=float(ratio[k]), details={"curves": r})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    vd = verdicts["phuong.fig3.risk_decreases_in_kappa"]
    vb = verdicts["phuong.fig3.bounds_above_risk"]
    r = vd.details["curves"]
    k = np.array(r["kappa"])
    risk, lo, hi = (np.array(r[x]) for x in ("risk", "lo", "hi"))
    fig = Figure(figsize=(10.0, 4.2))
    ax, ax2 = fig.subplots(1, 2)
    ax.fill_between(k, np.maximum(lo, FLOOR), np.maximum(hi, FLOOR), color="C0", alpha=0.25, lw=0)
    vis = risk >= FLOOR
    ax.plot(k[vis], risk[vis], "o-", color="C0", label=f"measured E[R] ({r['sets']} transfer sets, 95% CI)")
    if (~vis).any():
        ax.plot(k[~vis], np.full((~vis).sum(), FLOOR), "o", mfc="none", color="C0",
                label=f"E[R] < {FLOOR:g} (drawn on the floor)")
    ax.plot(k, np.maximum(r["thm3"], FLOOR), "s--", color="C3", label="Thm 3  min_β p(β) + p(π/2−β)^n")
    ax.plot(k, np.maximum(r["thm3_tight"], FLOOR), "x:", color="C1", label="tight form  p(β) + (1−p(β)) p(π/2−β)^n")
    ax.plot(k, np.maximum(r["cor2"], FLOOR), "^-.", color="C2", label="Cor. 2  (1 + (log n)^κ)/n^κ")
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 2, 1.5)
    ax.set_xlabel("κ (angular alignment of the task)")
    ax.set_ylabel("expected transfer risk")
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3, which="both")
    ax2.plot(k, np.array(r["thm3_tight"]) / np.array(r["thm3"]), "x:", color="C1", label="tight form / Thm 3")
    ax2.plot(k, risk / np.array(r["thm3"]), "o-", color="C0", label="E[R] / Thm 3")
    ax2.plot(k, risk / np.array(r["cor2"]), "^-.", color="C2", label="E[R] / Cor. 2")
    ax2.set_yscale("log")
    ax2.set_xlabel("κ")
    ax2.set_ylabel("ratio")
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3, which="both")
    fig.suptitle(f"d = {D}, n = {N}: risk decreasing in κ — {vd.status} ({vd.details['reason']}); "
                 f"bounds above the risk — {vb.status} ({vb.details['reason']})", fontsize=7, wrap=True)
    fig.tight_layout()
    return fig
