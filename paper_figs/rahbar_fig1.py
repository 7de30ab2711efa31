"""Fig. 1 of Rahbar et al.: training and test loss of no teacher / student with teacher (λ = 0.01) / teacher.

Digits 0 vs 1, unit-norm inputs, ReLU, teacher 100 units, students 20 units, w ~ N(0, 1e-4 I), a ∈ {±1}.
The dashed curves are the students' trajectories predicted from the poles of H̄ (Thm 3, corrected).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C

FIGURE = {"id": "rahbar_fig1", "paper": "001",
          "title": "Dynamics of knowledge transfer, λ = 0.01: no teacher vs student with teacher vs teacher (digits 0/1)",
          "claims": ["rahbar.thm1_conditions", "rahbar.thm3_modal", "rahbar.poles_monotone"]}


def make(size="quick"):
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    t, tr, te, pr = C.student(size, lam=0.0, init="random")
    C.draw(axes, t, tr, te, pr, "no teacher (student, labels only)", "C0")
    t, tr, te, pr = C.student(size, lam=C.LAM, init="teacher")
    C.draw(axes, t, tr, te, pr, "student with teacher (λ = 0.01)", "C1")
    t, tr, te = C.teacher_curves(size)
    C.draw(axes, t, tr, te, None, "teacher (100 units)", "C2")
    return C.finish(fig, axes, "Rahbar et al. Fig. 1: knowledge transfer in the kernel regime (λ = 0.01)")
