"""Fig. 5 of Rahbar et al.: overlap parameters (Sec. 4.4) of teachers and students with H^∞.

For each hidden unit, its output vector on the training inputs is normalised and its mean absolute
dot product with the top eigenvectors of H^∞ (the ReLU arc-cosine kernel, exact for unit-norm inputs)
is recorded; the histograms compare (a) a partially (early) and a fully trained teacher and (b) students
distilled (λ = 0.01) from them.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import kernel_regime as kr
from paper_figs import _rahbar_common as C

FIGURE = {"id": "rahbar_fig5", "paper": "001",
          "title": "Overlap of hidden-unit outputs with the top eigenvectors of H^∞: imperfect vs perfect teacher and students",
          "claims": ["rahbar.arccos_kernel"]}

TOP = 5


def make(size="quick"):
    n, _, _ = C.sizes(size)
    Xtr = C.data(n)[0]
    Hinf = kr.arccos_kernel(Xtr)
    _, _, W_early, W_final = C.teacher(size)
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    bins = np.linspace(0, 1, 26)
    for W, lab, col in ((W_early, "imperfect (partially trained) teacher", "C4"), (W_final, "perfect teacher", "C1")):
        ov = kr.overlap_parameters(kr.unit_outputs(W, Xtr, C.ACT), Hinf, top=TOP)
        axes[0].hist(ov, bins=bins, alpha=0.6, color=col, label=f"{lab} (mean {ov.mean():.3f})")
    for stage, lab, col in (("early", "student of imperfect teacher", "C4"), ("final", "student of perfect teacher", "C1")):
        Ws, _ = C.student(size, lam=C.LAM, init="teacher", teacher_stage=stage, predict=False, return_weights=True)
        ov = kr.overlap_parameters(kr.unit_outputs(Ws, Xtr, C.ACT), Hinf, top=TOP)
        axes[1].hist(ov, bins=bins, alpha=0.6, color=col, label=f"{lab} (mean {ov.mean():.3f})")
    for ax, t in zip(axes, ("(a) teachers (100 units)", "(b) students (20 units, λ = 0.01)")):
        ax.set_xlabel(f"overlap (mean over top {TOP} eigenvectors of H^∞)")
        ax.set_ylabel("number of hidden units")
        ax.set_title(t, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Rahbar et al. Fig. 5: spectral overlap with the arc-cosine kernel H^∞ (digits 0/1, ReLU)", fontsize=10)
    return fig
