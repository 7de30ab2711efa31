"""Fig. 2 of Rahbar et al.: students with λ → 0, λ = 0.01 and λ → ∞, and the teacher.

λ → 0 is the lottery-ticket set-up (retraining the selected teacher units on the labels, Sec. 2.5.1).
λ → ∞ with the student initialised at the teacher: the loss (2) is 0 at initialisation, the weights do
not move, and the output stays at Σ_k a_kφ_k/√m (Sec. 4.1) — drawn as that constant, together with the
pole prediction for a large finite λ = 10 (whose poles are all ≥ λ·min eig H_k > 0 on the moving modes).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C

FIGURE = {"id": "rahbar_fig2", "paper": "001",
          "title": "Students with λ → 0, λ = 0.01, λ → ∞ and the teacher: training and test loss (digits 0/1)",
          "claims": ["rahbar.poles_monotone", "rahbar.thm2_expectation", "rahbar.final_error"]}


def make(size="quick"):
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    t, tr, te, pr = C.student(size, lam=0.0, init="teacher")
    C.draw(axes, t, tr, te, pr, "student λ → 0 (lottery ticket)", "C0")
    t, tr, te, pr = C.student(size, lam=C.LAM, init="teacher")
    C.draw(axes, t, tr, te, pr, "student λ = 0.01", "C1")
    # λ → ∞: weights stay at the teacher's; the loss is the initial one at all times
    axes[0].plot(t, np.full_like(t, tr[0]), color="C3", label="student λ → ∞ (weights frozen)")
    axes[1].plot(t, np.full_like(t, te[0]), color="C3", label="student λ → ∞ (weights frozen)")
    _, _, _, pr10 = C.student(size, lam=10.0, init="teacher", predict=True) if size == "full" else (None,) * 4
    if pr10 is not None:
        axes[0].plot(t, pr10, color="C3", ls=":", label="λ = 10 (pole prediction)")
    t, tr, te = C.teacher_curves(size)
    C.draw(axes, t, tr, te, None, "teacher (100 units)", "C2")
    return C.finish(fig, axes, "Rahbar et al. Fig. 2: the regularisation λ between labels and teacher")
