"""Fig. 6 of Safaryan et al.: self-distillation with a fixed random mask (compressed student).

Linear soft-max on (pooled) digits, batch 10. A random mask with the given sparsity is drawn once at
initialisation and applied after every update (a fixed, biased mask — the experiment of App. F.3 —
not the unbiased rand-k of Assumption 4, which verification.simulate.rand_k provides for Thm 4). The
teacher is the dense, better-trained (L-BFGS) model. The paper: KD still lowers the train loss of the
compressed student, less so at higher sparsity.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _safaryan_common as C
from verification import simulate as sim

FIGURE = {"id": "safaryan_fig6", "paper": "000",
          "title": "Self-distillation with a fixed random mask at several sparsities (digits)",
          "claims": ["safaryan.thm4", "safaryan.thm4.omega_condition"]}

GAMMA = 0.5


def make(size="quick"):
    epochs = C.epochs_for(size, 4, 100)
    last = min(10, max(2, epochs // 3))
    sparsities = [0.0, 0.5, 0.8] if size == "quick" else [0.0, 0.3, 0.5, 0.7, 0.9]
    lams = np.array([0.0, 0.25, 0.5, 0.75, 1.0] if size == "quick" else np.linspace(0, 1, 11))
    teacher = C.lbfgs_teacher(100 if size == "quick" else 2000)
    shape = C.oracle().xshape
    rng = np.random.default_rng(0)
    fig = Figure(figsize=(6, 4.5))
    ax = fig.subplots()
    for sp in sparsities:
        mask = (rng.random(shape) >= sp).astype(float)
        res = C.train(teacher, lams, GAMMA, epochs, seed=1, n_seeds=1 if size == "quick" else 3,
                      compressor=sim.fixed_mask(mask), observe_every=2 if size == "quick" else 1)
        _, lastm, _ = C.min_and_last(res, last)
        ax.plot(lams, lastm / lastm[0], "o-", label=f"sparsity {sp:.0%} (SGD loss {lastm[0]:.3f})")
    ax.set_xlabel("distillation weight λ (0 = SGD on the masked model)")
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_ylabel(f"train loss (last {last} epochs) relative to SGD on the same mask")
    ax.set_title(f"Fig. 6: fixed random mask\n(digits, γ={GAMMA}, {epochs} epochs, dense L-BFGS teacher)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
