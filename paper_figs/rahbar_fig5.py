"""Fig. 5 of Rahbar et al.: overlap parameters (Sec. 4.4) of teachers and students with H^∞.

For each hidden unit, its output vector on the training inputs is normalised and its mean absolute dot product
with the top 5 eigenvectors of H^∞ (the ReLU arc-cosine kernel, exact for unit-norm inputs) is recorded. Inputs are
centred (``_rahbar_common``): on raw non-negative pixels H^∞'s top eigenvector is one-signed and every unit overlaps
it alike. Figure claim ``rahbar.fig5.perfect_overlap``: "the overlap parameter is larger for the teacher trained
perfectly" (a) and "this improvement is transferred to the student via distillation" (b), mean overlap per seed.
"""

from __future__ import annotations

from paper_figs import _rahbar_common as C
from verification.claims import claim
from paper_figs import verdicts_for

CID = "rahbar.fig5.perfect_overlap"
FIGURE = {"id": "rahbar_fig5", "paper": "001",
          "title": "Overlap of hidden-unit outputs with the top eigenvectors of H-infinity: imperfect vs perfect "
                   "teacher and their students",
          "claims": ["rahbar.arccos_kernel", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.4, Fig. 5",
       statement="mean overlap with the top eigenvectors of H^∞: perfect teacher > partially trained teacher, and "
                 "student of the perfect teacher > student of the imperfect one")
def _perfect_overlap(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    ov = {"teacher_imperfect": C.overlaps(e, e["W_teacher"]["early"]),
          "teacher_perfect": C.overlaps(e, e["W_teacher"]["final"]),
          "student_imperfect": C.overlaps(e, e["imperfect"]["W"]),
          "student_perfect": C.overlaps(e, e["with_teacher"]["W"])}
    return C.overlap_claim(ov, ("teacher_perfect", "teacher_imperfect"), ("student_perfect", "student_imperfect"),
                           "perfect > imperfect")


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    groups = [[("teacher_imperfect", "imperfect (partially trained) teacher", "C4"),
               ("teacher_perfect", "perfect teacher", "C1")],
              [("student_imperfect", "student of the imperfect teacher", "C4"),
               ("student_perfect", "student of the perfect teacher", "C1")]]
    return C.draw_overlaps(verdicts[CID], groups, "Rahbar et al. Fig. 5: spectral overlap (centred digits 0/1, ReLU)",
                           {"teachers": "perfect teacher overlaps more", "students": "transferred to the student"})
