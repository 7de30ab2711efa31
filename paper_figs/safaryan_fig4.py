"""Fig. 4 of Safaryan et al. (App. E/F): validation loss statistics for the set-up of Fig. 2a.

The caption: "Validation loss statistics for the same setup as in Figure 2a" — the minimum over epochs and the
mean of the last epochs of the validation cross-entropy against the distillation weight λ, SGD teacher
(λ = 0 is plain SGD). Fig. 2a's statement, "there exists a λ > 0 which achieves a lower training loss than SGD",
is what Fig. 4 carries over to held-out data; it is checked as a figure claim on the very runs the figure draws.

Set-up: Fig. 2's (linear soft-max on pooled scikit-learn digits, SGD with batch 10, γ = 0.5, the SGD teacher
trained with the students' hyper-parameters), but trained on a fixed 80 % split and evaluated on the other 20 %
(:func:`paper_figs._safaryan_common.digits_split`): Fig. 2 trains on every digit, so it has no validation set.
The validation loss of each iterate is averaged over the epoch (every ``observe_every``-th step), like the
paper's per-epoch running averages; 95 % interval over seeds of the paired difference (every λ of a seed sees
the same batches).
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from kdtheory import variance_reduction as vr
from paper_figs import _safaryan_common as C
from paper_figs import safaryan_fig2 as F2
from verification.claims import claim
from verification.stats import compare_samples
from paper_figs import verdicts_for

FIGURE = {"id": "safaryan_fig4", "paper": "000",
          "title": "Validation loss (min and last-epochs mean) vs distillation weight, SGD teacher (digits, 80/20 split)",
          "claims": ["safaryan.fig2.sgd_teacher_some_lambda", "safaryan.fig4.val_some_lambda"]}

GAMMA = F2.GAMMA


@functools.lru_cache(maxsize=4)
def _runs(size, seeds):
    """Per λ: per-epoch validation-loss curve (seed mean), its minimum, the last-epochs mean, and per seed."""
    epochs, last, lams = F2._config(size)          # Fig. 2's epochs, last-epochs window and λ grid
    A, B, Av, Bv = C.digits_split()
    teacher = C.sgd_teacher(GAMMA, epochs, seed=0, data=(A, B))

    def val_loss(X, idx):  # the whole validation set at every observed iterate → (S, Λ)
        return vr.minibatch_loss("softmax", X, Av, Bv, np.broadcast_to(np.arange(Av.shape[0]), (X.shape[0], Av.shape[0])))

    res = C.train(teacher, lams, GAMMA, epochs, seed=1, n_seeds=seeds, observe_every=4 if size == "quick" else 1,
                  data=(A, B), extra_observers={"val": val_loss})
    curve = res.windows["val"].mean(axis=1)              # (epochs, Λ)
    per = res.windows["val"][-last:].mean(axis=0)        # (S, Λ)
    train_last = C.last_epochs_per_seed(res, last).mean(axis=0)
    return {"epochs": epochs, "last": last, "seeds": seeds, "gamma": GAMMA, "batch": C.BATCH, "lams": lams,
            "n_train": int(A.shape[0]), "n_val": int(Av.shape[0]), "val_min": curve.min(axis=0).tolist(),
            "val_last": curve[-last:].mean(axis=0).tolist(), "val_last_per_seed": per.tolist(),
            "val_curve": curve.tolist(), "train_last": train_last.tolist()}


@claim("safaryan.fig4.val_some_lambda", paper="000", kind="figure", where="Fig. 4 (App.), with Fig. 2a's statement (Sec. 4.3)",
       statement="with the SGD teacher, some lambda > 0 reaches a lower validation loss (last-epochs mean, held-out 20 % of "
                 "digits) than SGD (lambda = 0); 95% interval over seeds of the paired difference at the best lambda")
def _val_some_lambda(rng, size, n_seeds=None):
    data = _runs(size, C.seeds_for(size, n_seeds))
    per = np.array(data["val_last_per_seed"])
    j = 1 + int(np.argmin(per[:, 1:].mean(axis=0)))
    v = compare_samples(per[:, j] - per[:, 0], 0.0, "<=")
    lam = data["lams"][j]
    return C.statement(v, holds=f"lambda = {lam} beats SGD on validation loss",
                       fails=f"no lambda > 0 beats SGD on validation loss (best lambda = {lam})",
                       details={"figure_data": data, "best_lambda": lam,
                                "relative_gain_at_best": float(1 - per[:, j].mean() / per[:, 0].mean())})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts["safaryan.fig4.val_some_lambda"]
    data = v.details["figure_data"]
    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.subplots()
    C.lambda_stats_panel(ax, data["lams"], data["val_min"], data["val_last"], data["last"],
                         "validation cross-entropy (per-epoch mean)")
    ax.set_title(f"Fig. 4 (digits, train {data['n_train']} / validation {data['n_val']}, γ={data['gamma']}, batch "
                 f"{data['batch']}, {data['epochs']} epochs, {data['seeds']} seeds)\n"
                 f"some λ > 0 beats SGD on validation: {C.status_line(verdicts, 'safaryan.fig4.val_some_lambda')}",
                 fontsize=7)
    fig.tight_layout()
    return fig
