"""Paper 002, Figure 3: diagonal entries of B_t (eq. 46) for t = 0…3 on the data of Figure 2
(y = sin(2πx) + N(0, 0.5²) at x = 0, 0.1, …, 1, seed 0, ε = 0.04; see paper_figs.mobahi_fig2).

Entries are ordered by the eigenvalue d_k of G (ascending). The two entries for the null space of G (the
points x = 0 and 1, pinned by the boundary conditions) are exactly 0 in every round.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import greens as gr
from kdtheory import self_distillation as sd
from paper_figs.mobahi_fig2 import EPS, data

FIGURE = {"id": "mobahi_fig3", "paper": "002", "title": "Evolution of diag(B_t), t = 0…3 (K = 11)",
          "claims": ["mobahi.prop5", "mobahi.not_early_stopping"]}


def make(size: str = "quick") -> Figure:
    x, y = data()
    G = gr.gram(x)
    path = sd.self_distill(G, y, EPS, 4)
    B = np.exp(path.log_B)
    fig = Figure(figsize=(12, 3.2))
    ax = fig.subplots(1, B.shape[0], sharey=False)
    for t in range(B.shape[0]):
        ax[t].bar(np.arange(B.shape[1]), B[t], color="tab:blue")
        ax[t].set_title(f"t = {t}: eff. basis {path.effective_basis[t]:.2f}")
        ax[t].set_xlabel("k (eigenvalues ascending)")
    ax[0].set_ylabel("B_t[k, k]")
    fig.tight_layout()
    return fig
