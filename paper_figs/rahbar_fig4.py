"""Fig. 4 of Rahbar et al.: teacher and student trained on a learned kernel embedding (Sec. 4.3).

alignf (centered alignment, the QP of eq. 17–18 solved exactly as a non-negative least squares) learns
weights of seven Gaussian kernels on the training set; a Nyström embedding (landmarks: training points)
of the combined kernel, normalised to unit norm, replaces the raw pixels as the networks' input. Teacher
(100 units) and student (20 units, λ = 0.01, initialised at the teacher) are trained on both inputs.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import kernel_regime as kr
from paper_figs import _rahbar_common as C

FIGURE = {"id": "rahbar_fig4", "paper": "001",
          "title": "Knowledge transfer with a learned kernel embedding (alignf + Nyström) vs raw inputs (digits 0/1)",
          "claims": ["rahbar.alignf", "rahbar.thm3_modal"]}

GAMMAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def embedding(Xtr, ytr, Xte, n_landmarks):
    """alignf weights over GAMMAS, then unit-norm Nyström features of the combined kernel (train, test)."""
    mu = kr.alignf(np.stack([kr.gaussian_kernel(Xtr, Xtr, g) for g in GAMMAS]), ytr)
    L = Xtr[:, :n_landmarks]

    def K(A, B):
        return sum(w * kr.gaussian_kernel(A, B, g) for w, g in zip(mu, GAMMAS) if w > 0)

    Ktr = kr.nystrom_embedding(K(Xtr, L), K(L, L), rtol=1e-8)
    Kte = kr.nystrom_embedding(K(Xte, L), K(L, L), rtol=1e-8)
    return kr.normalize_columns(Ktr.T), kr.normalize_columns(Kte.T), mu


def make(size="quick"):
    n, _, _ = C.sizes(size)
    Xtr, ytr, Xte, yte = C.data(n)
    Etr, Ete, mu = embedding(Xtr, ytr, Xte, n_landmarks=min(n, 40))
    emb = (Etr, ytr, Ete, yte)
    t_emb = C.teacher_on(size, *emb)
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    t, tr, te = C.teacher_curves(size)
    C.draw(axes, t, tr, te, None, "teacher, raw inputs", "C2")
    t, tr, te = C.teacher_curves(size, dataset=emb, teacher_run=t_emb)
    C.draw(axes, t, tr, te, None, "teacher, kernel embedding", "C9")
    t, tr, te, pr = C.student(size, lam=C.LAM, init="teacher")
    C.draw(axes, t, tr, te, pr, "student, raw inputs", "C1")
    t, tr, te, pr = C.student(size, lam=C.LAM, init="teacher", dataset=emb, teacher_run=t_emb)
    C.draw(axes, t, tr, te, pr, "student, kernel embedding", "C3")
    w = ", ".join(f"{g:g}:{m:.2f}" for g, m in zip(GAMMAS, mu) if m > 0)
    return C.finish(fig, axes, f"Rahbar et al. Fig. 4: alignf kernel embedding (weights γ:μ = {w}; Nyström, {Etr.shape[0]} features)")
