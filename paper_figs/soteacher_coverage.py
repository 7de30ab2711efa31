"""Paper 004 (SoTeacher), Prop. 3.3 and Thm 3.6: how often the bounds hold, against the promised 1 − δ."""

import math

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "soteacher_coverage", "paper": "004",
          "title": "Coverage frequency of eq. (3) (1-, 2-, ∞-norms, and the K-free 2-norm bound) and of eq. (4) "
                   "against 1 − δ: every curve lies above the diagonal; eq. (3) is nearly tight only in the 1-norm",
          "claims": ["soteacher.prop33_coverage", "soteacher.prop33_l2_kfree", "soteacher.thm36"]}


def make(size="quick"):
    from kdtheory import label_distribution as LD
    from verification.label_distribution import erm_errors, sibling_errors

    rng = np.random.default_rng(5)
    deltas = np.linspace(0.02, 0.98, 25)
    reps = 4000 if size == "quick" else 40000
    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, K in zip(axes[:2], (2, 20)):
        n = 30
        p = rng.dirichlet(np.ones(K))
        E = sibling_errors(rng, p, n, reps, norms=(1, 2, math.inf))
        for j, name in enumerate(("1-norm", "2-norm", "∞-norm")):
            cov = [np.mean(E[:, j] <= LD.sibling_bound(K, n, d)) for d in deltas]
            ax.plot(1 - deltas, cov, marker=".", label=f"eq. (3), {name}")
        cov = [np.mean(E[:, 1] <= LD.sibling_bound_l2(n, d)) for d in deltas]
        ax.plot(1 - deltas, cov, marker="x", label="K-free 2-norm bound")
        ax.plot([0, 1], [0, 1], "k:", lw=1, label="1 − δ")
        ax.set_title(f"Prop. 3.3: K={K}, |S|={n}, p* ~ Dirichlet(1)", fontsize=9)
        ax.set_xlabel("1 − δ")
        ax.set_ylabel("frequency(error ≤ bound)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
    ax = axes[2]
    N, K, r, L_star, kappa = 3000, 2, 0.15, 0.5, 2.0
    res = erm_errors(rng, N=N, K=K, r=r, L_star=L_star, kappa=kappa, reps=60 if size == "quick" else 400, norm=1)
    for label, stat in (("worst input of D̃", np.min), ("mean over D̃", np.mean)):
        cov = [stat((res["errors"] <= LD.erm_bound(N, K, res["m"], kappa, d, 0.0, r, L_star, 1)).mean(axis=0))
               for d in deltas]
        ax.plot(1 - deltas, cov, marker=".", label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="1 − δ")
    ax.set_title(f"Thm 3.6, cell ERM: N={N}, K={K}, {res['m']} cells", fontsize=9)
    ax.set_xlabel("1 − δ")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    fig.suptitle("Coverage of the SoTeacher bounds against the promised 1 − δ")
    return fig
