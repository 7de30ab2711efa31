"""Fig. 4 of Rahbar et al.: teacher and student trained on a learned kernel embedding (Sec. 4.3) vs raw inputs.

alignf (centered alignment, the QP of eq. 17–18 solved exactly as a non-negative least squares) learns weights
of seven Gaussian kernels on the training set; unit-norm Nyström features of the combined kernel replace the
(centred) pixels. Figure claim ``rahbar.fig4.embedding_helps``: "using the kernel embeddings as inputs helps both
teacher and student networks in terms of training loss and test loss" (final losses over seeds).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C
from verification.claims import claim, combine
from paper_figs import verdicts_for

CID = "rahbar.fig4.embedding_helps"
FIGURE = {"id": "rahbar_fig4", "paper": "001",
          "title": "Knowledge transfer with a learned kernel embedding (alignf + Nyström) vs raw inputs (digits 0/1)",
          "claims": ["rahbar.alignf", "rahbar.thm3_modal", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.3, Fig. 4",
       statement="teacher and student (λ = 0.01) on the kernel embedding end with lower training and test loss "
                 "than on the raw inputs")
def _embedding_helps(rng, size, n_seeds=None):
    raw, emb = C.experiment(size, n_seeds=n_seeds), C.experiment(size, embedded=True, n_seeds=n_seeds)
    parts = {f"{nm}_{k}": C.loss_statement(raw[nm][k][:, -1], emb[nm][k][:, -1], f"final {k} loss of the {nm}: raw − embedding")
             for nm in ("teacher", "with_teacher") for k in ("train", "test")}
    cur = {"raw": C.curves(raw, ["teacher", "with_teacher"]), "embedding": C.curves(emb, ["teacher", "with_teacher"])}
    return combine(parts, details={"curves": cur, "alignf_weights": emb["alignf_weights"], "gammas": list(C.GAMMAS),
                                   "features": int(emb["X"].shape[0])})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts[CID]
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    cur = v.details["curves"]
    t = np.asarray(cur["raw"]["t"])
    for rep, ls in (("raw", "-"), ("embedding", ":")):
        for nm, col in (("teacher", "C2"), ("with_teacher", "C1")):
            c = cur[rep][nm]
            lab = f"{C.LABELS[nm]}, {rep} (Δw/w ≤ {c['rel_change']:.2g})"
            axes[0].plot(t, c["train"], color=col, ls=ls, label=lab)
            axes[1].plot(t, c["test"], color=col, ls=ls, label=lab)
    w = ", ".join(f"γ={g:g}: {m:.2f}" for g, m in zip(v.details["gammas"], v.details["alignf_weights"]) if m > 0)
    lines = C.verdict_lines(v, {"teacher_test": "embedding helps the teacher (test)",
                                "with_teacher_test": "embedding helps the student (test)"}) + [f"alignf weights {w}"]
    for ax, name in zip(axes, ("training loss", "test loss")):
        ax.set_xlabel("time t = steps × learning rate")
        ax.set_ylabel(f"{name} (mean squared error, mean over seeds)")
        ax.set_yscale("log")
        ax.legend(fontsize=6, loc="upper right")
    fig.suptitle("Rahbar et al. Fig. 4: kernel embedding vs raw inputs\n" + "\n".join(lines), fontsize=8)
    return fig
