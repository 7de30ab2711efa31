"""Fig. 3 of Safaryan et al.: biased KD (7) vs unbiased KD (16) vs SGD — train loss and gradient variance per epoch.

Linear soft-max on (pooled) digits, batch 10, SGD teacher trained with the same hyper-parameters.
Left: per-epoch running mean of the mini-batch train loss. Right: variance E‖g_ξ − E g_ξ‖² of the
update direction ∇f_ξ(x) − λ∇f_ξ(θ) (the bias correction of (16) is a constant and leaves it
unchanged), evaluated at the start of every epoch. The paper: both KD variants reduce the variance,
and the unbiased one (Thm 3) also lowers the loss further.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import variance_reduction as vr
from paper_figs import _safaryan_common as C

FIGURE = {"id": "safaryan_fig3", "paper": "000",
          "title": "Biased vs unbiased self-distillation vs SGD: train loss and gradient variance per epoch (digits)",
          "claims": ["safaryan.thm3.bound", "safaryan.thm3.scaling", "safaryan.thm1"]}

GAMMA = 0.5
LAM = 0.5


def _variance_observer(teacher, lams, every):
    """Observer returning the direction variance at the first step of each epoch, held for the epoch
    (so the per-epoch window mean is the epoch-start value; the full pass over the data runs once per epoch)."""
    A, B = C.digits()
    tg = vr.per_sample_gradients("softmax", teacher, A, B)
    state = {"k": 0, "val": None}

    def obs(X, idx):
        if state["k"] % every == 0:
            out = np.zeros(X.shape[:2])
            for s in range(X.shape[0]):
                for j, lam in enumerate(lams):
                    out[s, j] = vr.direction_variance(vr.per_sample_gradients("softmax", X[s, j], A, B), tg, lam, C.BATCH)
            state["val"] = out
        state["k"] += 1
        return state["val"]

    return obs


def make(size="quick"):
    epochs = C.epochs_for(size, 5, 100)
    seeds = 1 if size == "quick" else 3
    teacher = C.sgd_teacher(GAMMA, epochs, seed=0)
    steps = C.digits()[0].shape[0] // C.BATCH
    curves = {}
    for unbiased, lams in ((False, [0.0, LAM]), (True, [LAM])):
        res = C.train(teacher, lams, GAMMA, epochs, seed=1, n_seeds=seeds, unbiased=unbiased,
                      extra_observers={"var": _variance_observer(teacher, lams, steps)})
        loss = res.windows["loss"].mean(axis=1)
        var = res.windows["var"].mean(axis=1)
        for j, lam in enumerate(lams):
            name = "SGD" if lam == 0 else (f"unbiased KD (16), λ={lam}" if unbiased else f"KD (7), λ={lam}")
            curves[name] = (loss[:, j], var[:, j])
    fig = Figure(figsize=(10, 4))
    ax_l, ax_v = fig.subplots(1, 2)
    ep = np.arange(1, epochs + 1)
    for name, (loss, var) in curves.items():
        ax_l.plot(ep, loss, label=name)
        ax_v.plot(ep, var, label=name)
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("train cross-entropy (running mean)")
    ax_l.set_title("train loss")
    ax_v.set_xlabel("epoch")
    ax_v.set_ylabel("variance of the update direction")
    ax_v.set_yscale("log")
    ax_v.set_title("gradient variance at epoch start (batch 10)")
    for ax in (ax_l, ax_v):
        ax.legend(fontsize=8)
    fig.suptitle(f"Safaryan et al. Fig. 3 (digits, linear soft-max, γ={GAMMA}, SGD teacher)")
    fig.tight_layout()
    return fig
