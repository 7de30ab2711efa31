"""Fig. 3 of Rahbar et al.: perfect, imperfect and no-initialisation teacher (λ = 0.01).

Perfect: student initialised at the fully trained teacher's units and φ from them; imperfect: both from
the teacher after 1/10 of its training; no initialisation: random student weights, φ from the final teacher.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C

FIGURE = {"id": "rahbar_fig3", "paper": "001",
          "title": "Perfect vs imperfect vs no-initialisation teacher (λ = 0.01): training and test loss (digits 0/1)",
          "claims": ["rahbar.thm1_conditions", "rahbar.thm3_modal", "rahbar.final_error"]}


def make(size="quick"):
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    t, tr, te, pr = C.student(size, lam=C.LAM, init="teacher", teacher_stage="final")
    C.draw(axes, t, tr, te, pr, "perfect teacher", "C1")
    t, tr, te, pr = C.student(size, lam=C.LAM, init="teacher", teacher_stage="early")
    C.draw(axes, t, tr, te, pr, "imperfect teacher (early weights)", "C4")
    t, tr, te, pr = C.student(size, lam=C.LAM, init="random", teacher_stage="final")
    C.draw(axes, t, tr, te, pr, "no student initialisation", "C5")
    return C.finish(fig, axes, "Rahbar et al. Fig. 3: quality of the teacher and of the initialisation")
