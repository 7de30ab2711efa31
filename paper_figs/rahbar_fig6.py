"""Fig. 6 of Rahbar et al. (Sec. 4.5): overlap parameters of a teacher (a) and a student (b) trained on the kernel
embedding of Sec. 4.3 vs on the original (centred) features.

The overlap of each network is measured against the H^∞ of its own inputs (the arc-cosine kernel of the embedding
or of the pixels). Figure claim ``rahbar.fig6.kernel_overlap``: "the overlap parameter for a teacher trained with
kernel embeddings is larger than the teacher trained with original features" and "this better overlap ... is
transferred to the student trained with the same kernel representations" (mean overlap per seed).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C
from verification.claims import claim, combine

CID = "rahbar.fig6.kernel_overlap"
FIGURE = {"id": "rahbar_fig6", "paper": "001",
          "title": "Overlap with the top eigenvectors of H-infinity: teacher and student with vs without the kernel "
                   "embedding",
          "claims": ["rahbar.alignf", "rahbar.arccos_kernel", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.5, Fig. 6",
       statement="mean overlap: teacher on the kernel embedding > teacher on the original features, and the same "
                 "for their students (λ = 0.01)")
def _kernel_overlap(rng, size):
    raw, emb = C.experiment(size), C.experiment(size, embedded=True)
    ov = {"teacher_original": C.overlaps(raw, raw["W_teacher"]["final"]),
          "teacher_kernel": C.overlaps(emb, emb["W_teacher"]["final"]),
          "student_original": C.overlaps(raw, raw["with_teacher"]["W"]),
          "student_kernel": C.overlaps(emb, emb["with_teacher"]["W"])}
    parts = {"teachers": C.statement(ov["teacher_kernel"].mean(1) - ov["teacher_original"].mean(1),
                                     "mean overlap: kernel − original teacher"),
             "students": C.statement(ov["student_kernel"].mean(1) - ov["student_original"].mean(1),
                                     "mean overlap: kernel − original student")}
    return combine(parts, details={"overlaps_seed0": {k: x[0].tolist() for k, x in ov.items()},
                                   "mean_overlap": {k: float(x.mean()) for k, x in ov.items()}})


def make(size="quick", verdicts=None):
    if verdicts is None:
        from paper_figs import figure_verdicts
        verdicts = figure_verdicts(FIGURE, size)
    v = verdicts[CID]
    ov = v.details["overlaps_seed0"]
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    bins = np.linspace(0, 0.6, 31)
    for ax, who in zip(axes, ("teacher", "student")):
        for rep, col in (("original", "C0"), ("kernel", "C3")):
            x = np.asarray(ov[f"{who}_{rep}"])
            ax.hist(x, bins=bins, alpha=0.55, color=col, label=f"{who}, {rep} features (mean {x.mean():.3f})")
        ax.set_xlabel(f"overlap (mean over the top {C.TOP} eigenvectors of its inputs' H-infinity)")
        ax.set_ylabel("number of hidden units (seed 0)")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_title("(a) teachers", fontsize=9)
    axes[1].set_title("(b) students (λ = 0.01)", fontsize=9)
    lines = C.verdict_lines(v, {"teachers": "kernel teacher overlaps more", "students": "transferred to the student"})
    fig.suptitle("Rahbar et al. Fig. 6: kernel embedding and spectral overlap\n" + "\n".join(lines), fontsize=8)
    return fig
