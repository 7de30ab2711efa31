"""Fig. 2 of Safaryan et al.: minimum and last-10-epoch train loss vs the distillation weight λ.

Linear soft-max model on (pooled) scikit-learn digits, SGD with batch 10 and a fixed step, for an
SGD-trained teacher (same hyper-parameters, λ = 0 is plain SGD) and an L-BFGS teacher. The paper's
finding: with the SGD teacher some λ > 0 beats SGD (an interior optimal weight, Thm 1 / eq. 14);
with the near-optimal L-BFGS teacher larger λ keeps lowering the loss.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _safaryan_common as C

FIGURE = {"id": "safaryan_fig2", "paper": "000",
          "title": "Train loss (min and last-10-epoch mean) vs distillation weight, SGD vs L-BFGS teacher (digits)",
          "claims": ["safaryan.thm1", "safaryan.lemma1.lambda_star", "safaryan.lemma1.optimal_teacher"]}

GAMMA = 0.5


def make(size="quick"):
    epochs = C.epochs_for(size, 4, 100)
    last = min(10, max(2, epochs // 3))
    lams = [0.0, 0.01, 0.1, 0.3, 0.6, 1.0] if size == "quick" else [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    teachers = {"SGD teacher": C.sgd_teacher(GAMMA, epochs, seed=0),
                "L-BFGS teacher": C.lbfgs_teacher(60 if size == "quick" else 2000)}
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    for ax, (name, theta) in zip(axes, teachers.items()):
        res = C.train(theta, lams, GAMMA, epochs, seed=1, n_seeds=1 if size == "quick" else 3,
                      observe_every=2 if size == "quick" else 1)
        mn, lastm, _ = C.min_and_last(res, last)
        lam = np.array(lams)
        ax.plot(lam[1:], mn[1:], "o-", label="KD: min over epochs")
        ax.plot(lam[1:], lastm[1:], "s-", label=f"KD: mean of last {last} epochs")
        ax.axhline(mn[0], color="C0", ls="--", lw=1, label="SGD (λ=0): min")
        ax.axhline(lastm[0], color="C1", ls="--", lw=1, label=f"SGD (λ=0): last {last}")
        ax.set_xscale("log")
        ax.set_xlabel("distillation weight λ")
        ax.set_ylabel("train cross-entropy (per-epoch running mean)")
        ax.set_title(f"{name}, γ={GAMMA}, batch {C.BATCH}, {epochs} epochs", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle("Safaryan et al. Fig. 2 (digits, linear soft-max): KD as partial variance reduction")
    fig.tight_layout()
    return fig
