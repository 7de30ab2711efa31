"""Paper 002, Figure 3: diagonal entries of B_t (eq. 46) for t = 0…3 on the data of Figure 2
(y = sin(2πx) + N(0, 0.5²) at x = 0, 0.1, …, 1, seed 0, ε = 0.04; see paper_figs.mobahi_fig2).

Entries are ordered by the eigenvalue d_k of G (ascending). The two entries for the null space of G (the
points x = 0 and 1, pinned by the boundary conditions (55)) are exactly 0 in every round: no function of the
space can represent them. "eff. basis" is the participation ratio (Σ B)²/Σ B² of diag(B_t).

Figure claim ``mobahi.fig3.smaller_shrink_faster`` — Sec. 4: "self-distillation regularizes the solution by
sparsifying the coefficient. As shown in Figure 3 the smaller the values, the faster they shrink": measured on
the drawn B_t as (i) the shrink factor B_{t+1}[k]/B_t[k] never smaller for a larger entry B_t[k] and (ii) the
participation ratio decreasing every round.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kdtheory import greens as gr
from kdtheory import self_distillation as sd
from paper_figs.mobahi_fig2 import EPS, data
from verification.claims import claim, observed
from paper_figs import verdicts_for

CLAIM = "mobahi.fig3.smaller_shrink_faster"
FIGURE = {"id": "mobahi_fig3", "paper": "002", "title": "Evolution of diag(B_t), t = 0…3 (K = 11)",
          "claims": ["mobahi.prop5", "mobahi.not_early_stopping", "mobahi.sparsity_vs_eps", CLAIM]}


@claim(CLAIM, paper="002", kind="figure", where="Sec. 4, Fig. 3",
       statement="Self-distillation sparsifies the coefficients B_t: the smaller an entry, the faster it shrinks "
                 "(shrink factor B_{t+1}/B_t non-decreasing in B_t), and the effective number of basis "
                 "functions (participation ratio) decreases every round")
def _check_fig3(rng, size):
    x, y = data()
    path = sd.self_distill(gr.gram(x), y, EPS, 4)
    B = np.exp(path.log_B)
    live = B[0] > 0
    worst = np.inf
    for t in range(B.shape[0] - 1):
        b, f = B[t][live], B[t + 1][live] / B[t][live]
        o = np.argsort(b)
        worst = min(worst, float(np.min(np.diff(f[o]))) if o.size > 1 else np.inf)
    pr = path.effective_basis
    pr_drop = float(np.min(-np.diff(pr))) if pr.size > 1 else np.inf
    ok = worst >= -1e-12 and pr_drop > 0
    return observed(bool(ok), predicted=0.0, measured=min(worst, pr_drop), relation=">=",
                    reason=(f"min increase of the shrink factor along increasing B_t[k]: {worst:.3g}; min drop of "
                            f"the participation ratio per round: {pr_drop:.3g} ({' → '.join(f'{p:.2f}' for p in pr)})"),
                    details={"B": B.tolist(), "effective_basis": pr.tolist(), "d": path.d.tolist(),
                             "collapsed_at": path.collapsed_at})


def make(size: str = "quick", verdicts=None) -> Figure:
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts[CLAIM]
    B = np.array(v.details["B"])
    pr = v.details["effective_basis"]
    fig = Figure(figsize=(12, 3.4))
    ax = fig.subplots(1, B.shape[0], sharey=True)
    for t in range(B.shape[0]):
        ax[t].bar(np.arange(B.shape[1]), B[t], color="tab:blue")
        ax[t].set_title(f"t = {t}: participation ratio {pr[t]:.2f}", fontsize=9)
        ax[t].set_xlabel("k (eigenvalues of G ascending)", fontsize=8)
        ax[t].xaxis.set_major_locator(MaxNLocator(integer=True))
    ax[0].set_ylabel("B_t[k, k]")
    ax[0].text(0.02, 0.95, "k = 0, 1: null space of G\n(x = 0, 1 pinned by (55)): B = 0", transform=ax[0].transAxes,
               fontsize=7, va="top")
    fig.suptitle(f"{v.claim_id or CLAIM}: {v.status} — {v.details['reason']}", fontsize=7)
    fig.tight_layout()
    return fig
