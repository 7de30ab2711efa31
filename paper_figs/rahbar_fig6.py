"""Fig. 6 of Rahbar et al. (Sec. 4.5): overlap parameters of a teacher (a) and a student (b) trained on the kernel
embedding of Sec. 4.3 vs on the original (centred) features.

The overlap of each network is measured against the H^∞ of its own inputs (the arc-cosine kernel of the embedding
or of the pixels). Figure claim ``rahbar.fig6.kernel_overlap``: "the overlap parameter for a teacher trained with
kernel embeddings is larger than the teacher trained with original features" and "this better overlap ... is
transferred to the student trained with the same kernel representations" (mean overlap per seed).
"""

from __future__ import annotations

from paper_figs import _rahbar_common as C
from verification.claims import claim
from paper_figs import verdicts_for

CID = "rahbar.fig6.kernel_overlap"
FIGURE = {"id": "rahbar_fig6", "paper": "001",
          "title": "Overlap with the top eigenvectors of H-infinity: teacher and student with vs without the kernel "
                   "embedding",
          "claims": ["rahbar.alignf", "rahbar.arccos_kernel", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.5, Fig. 6",
       statement="mean overlap: teacher on the kernel embedding > teacher on the original features, and the same "
                 "for their students (λ = 0.01)")
def _kernel_overlap(rng, size, n_seeds=None):
    raw, emb = C.experiment(size, n_seeds=n_seeds), C.experiment(size, embedded=True, n_seeds=n_seeds)
    ov = {"teacher_original": C.overlaps(raw, raw["W_teacher"]["final"]),
          "teacher_kernel": C.overlaps(emb, emb["W_teacher"]["final"]),
          "student_original": C.overlaps(raw, raw["with_teacher"]["W"]),
          "student_kernel": C.overlaps(emb, emb["with_teacher"]["W"])}
    return C.overlap_claim(ov, ("teacher_kernel", "teacher_original"), ("student_kernel", "student_original"),
                           "kernel embedding > original features")


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    groups = [[("teacher_original", "teacher, original features", "C0"), ("teacher_kernel", "teacher, kernel embedding", "C3")],
              [("student_original", "student, original features", "C0"), ("student_kernel", "student, kernel embedding", "C3")]]
    return C.draw_overlaps(verdicts[CID], groups, "Rahbar et al. Fig. 6: kernel embedding and spectral overlap "
                           "(each against the H-infinity of its own inputs)",
                           {"teachers": "kernel teacher overlaps more", "students": "transferred to the student"})
