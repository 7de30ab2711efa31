"""Fig. 2 of Safaryan et al.: minimum and last-epochs train loss vs the distillation weight λ.

Linear soft-max model on (pooled) scikit-learn digits, SGD with batch 10 and a fixed step, for an
SGD-trained teacher (same hyper-parameters, λ = 0 is plain SGD) and an L-BFGS teacher. The paper's
statements (Sec. 4.3 and the caption), checked as figure claims on the very runs the figure draws,
with 95 % intervals over independent seeds (paired: every λ of a seed sees the same batches):

* SGD teacher: "there exists a λ > 0 which achieves a lower training loss than SGD";
* L-BFGS teacher: "higher distillation weight always leads to lower loss" (every step up the λ grid lowers
  the last-epochs loss).
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _safaryan_common as C
from verification.claims import claim
from verification.stats import compare_samples
from paper_figs import verdicts_for

FIGURE = {"id": "safaryan_fig2", "paper": "000",
          "title": "Train loss (min and last-epochs mean) vs distillation weight, SGD vs L-BFGS teacher (digits)",
          "claims": ["safaryan.thm1", "safaryan.lemma1.lambda_star", "safaryan.lemma1.optimal_teacher",
                     "safaryan.fig2.sgd_teacher_some_lambda", "safaryan.fig2.lbfgs_larger_lambda"]}

GAMMA = 0.5


def _config(size):
    epochs = C.epochs_for(size, 4, 100)
    lams = [0.0, 0.01, 0.1, 0.3, 0.6, 1.0] if size == "quick" else [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    return epochs, min(10, max(2, epochs // 3)), lams


@functools.lru_cache(maxsize=4)
def _runs(size, seeds):
    """Both panels' runs: per teacher, the per-epoch loss curves and per-seed last-epochs means."""
    epochs, last, lams = _config(size)
    teachers = {"SGD teacher": C.sgd_teacher(GAMMA, epochs, seed=0),
                "L-BFGS teacher": C.lbfgs_teacher(60 if size == "quick" else 2000)}
    out = {}
    for name, theta in teachers.items():
        res = C.train(theta, lams, GAMMA, epochs, seed=1, n_seeds=seeds, observe_every=2 if size == "quick" else 1)
        mn, lastm, curve = C.min_and_last(res, last)
        out[name] = {"lams": lams, "min": mn.tolist(), "last": lastm.tolist(),
                     "last_per_seed": C.last_epochs_per_seed(res, last).tolist(), "curve": curve.tolist()}
    return {"epochs": epochs, "last": last, "seeds": seeds, "gamma": GAMMA, "batch": C.BATCH, "panels": out}


@claim("safaryan.fig2.sgd_teacher_some_lambda", paper="000", kind="figure", where="Fig. 2, Sec. 4.3",
       statement="with the SGD teacher, some lambda > 0 reaches a lower train loss (last-epochs mean) than SGD (lambda = 0); "
                 "95% interval over seeds of the paired difference at the best lambda")
def _sgd_teacher(rng, size, n_seeds=None):
    data = _runs(size, C.seeds_for(size, n_seeds))
    p = data["panels"]["SGD teacher"]
    per = np.array(p["last_per_seed"])
    j = 1 + int(np.argmin(per[:, 1:].mean(axis=0)))
    v = compare_samples(per[:, j] - per[:, 0], 0.0, "<=")
    return C.statement(v, holds=f"lambda = {p['lams'][j]} beats SGD", fails=f"no lambda > 0 beats SGD (best lambda = {p['lams'][j]})",
                       details={"figure_data": data, "best_lambda": p["lams"][j]})


@claim("safaryan.fig2.lbfgs_larger_lambda", paper="000", kind="figure", where="Fig. 2 caption, Sec. 4.3",
       statement="with the L-BFGS teacher, higher distillation weight always leads to lower loss: every step up the lambda grid "
                 "lowers the last-epochs train loss (95% intervals over seeds, paired)")
def _lbfgs_teacher(rng, size, n_seeds=None):
    data = _runs(size, C.seeds_for(size, n_seeds))
    p = data["panels"]["L-BFGS teacher"]
    per = np.array(p["last_per_seed"])
    diffs = per[:, 1:] - per[:, :-1]                    # loss(λ_{i+1}) − loss(λ_i) per seed
    i = int(np.argmax(diffs.mean(axis=0)))              # the least favourable step
    v = compare_samples(diffs[:, i], 0.0, "<=")
    return C.statement(v, holds="the loss decreases at every step of the lambda grid",
                       fails=f"the loss does not decrease from lambda = {p['lams'][i]} to {p['lams'][i + 1]}",
                       details={"figure_data": data, "least_favourable_step": [p["lams"][i], p["lams"][i + 1]]})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    data = verdicts["safaryan.fig2.sgd_teacher_some_lambda"].details["figure_data"]
    fig = Figure(figsize=(10, 4.3))
    axes = fig.subplots(1, 2)
    cids = {"SGD teacher": "safaryan.fig2.sgd_teacher_some_lambda", "L-BFGS teacher": "safaryan.fig2.lbfgs_larger_lambda"}
    for ax, (name, p) in zip(axes, data["panels"].items()):
        C.lambda_stats_panel(ax, p["lams"], p["min"], p["last"], data["last"], "train cross-entropy (per-epoch running mean)")
        ax.set_title(f"{name}, γ={data['gamma']}, batch {data['batch']}, {data['epochs']} epochs, {data['seeds']} seeds\n"
                     f"{C.status_line(verdicts, cids[name])}", fontsize=8)
    fig.suptitle("Safaryan et al. Fig. 2 (digits, linear soft-max): measured train loss vs λ", fontsize=10)
    fig.tight_layout()
    return fig
