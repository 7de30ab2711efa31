"""Fig. 5 of Rahbar et al.: overlap parameters (Sec. 4.4) of teachers and students with H^∞.

For each hidden unit, its output vector on the training inputs is normalised and its mean absolute dot product
with the top 5 eigenvectors of H^∞ (the ReLU arc-cosine kernel, exact for unit-norm inputs) is recorded. Inputs are
centred (``_rahbar_common``): on raw non-negative pixels H^∞'s top eigenvector is one-signed and every unit overlaps
it alike. Figure claim ``rahbar.fig5.perfect_overlap``: "the overlap parameter is larger for the teacher trained
perfectly" (a) and "this improvement is transferred to the student via distillation" (b), mean overlap per seed.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C
from verification.claims import claim, combine

CID = "rahbar.fig5.perfect_overlap"
FIGURE = {"id": "rahbar_fig5", "paper": "001",
          "title": "Overlap of hidden-unit outputs with the top eigenvectors of H-infinity: imperfect vs perfect "
                   "teacher and their students",
          "claims": ["rahbar.arccos_kernel", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.4, Fig. 5",
       statement="mean overlap with the top eigenvectors of H^∞: perfect teacher > partially trained teacher, and "
                 "student of the perfect teacher > student of the imperfect one")
def _perfect_overlap(rng, size):
    e = C.experiment(size)
    ov = {"teacher_imperfect": C.overlaps(e, e["W_teacher"]["early"]),
          "teacher_perfect": C.overlaps(e, e["W_teacher"]["final"]),
          "student_imperfect": C.overlaps(e, e["imperfect"]["W"]),
          "student_perfect": C.overlaps(e, e["with_teacher"]["W"])}
    parts = {"teachers": C.statement(ov["teacher_perfect"].mean(1) - ov["teacher_imperfect"].mean(1),
                                     "mean overlap: perfect − imperfect teacher"),
             "students": C.statement(ov["student_perfect"].mean(1) - ov["student_imperfect"].mean(1),
                                     "mean overlap: student of perfect − of imperfect teacher")}
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
        for stage, col in (("imperfect", "C4"), ("perfect", "C1")):
            x = np.asarray(ov[f"{who}_{stage}"])
            ax.hist(x, bins=bins, alpha=0.55, color=col, label=f"{who} of the {stage} teacher (mean {x.mean():.3f})"
                    if who == "student" else f"{stage} teacher (mean {x.mean():.3f})")
        ax.set_xlabel(f"overlap (mean |⟨φ_k/‖φ_k‖, u_j⟩| over the top {C.TOP} eigenvectors of H-infinity)")
        ax.set_ylabel("number of hidden units (seed 0)")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_title("(a) teachers", fontsize=9)
    axes[1].set_title("(b) students (λ = 0.01)", fontsize=9)
    lines = C.verdict_lines(v, {"teachers": "perfect teacher overlaps more", "students": "transferred to the student"})
    fig.suptitle("Rahbar et al. Fig. 5: spectral overlap (centred digits 0/1, ReLU)\n" + "\n".join(lines), fontsize=8)
    return fig
