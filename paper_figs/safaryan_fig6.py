"""Fig. 6 of Safaryan et al. (App. F.3): self-distillation with a fixed random mask (compressed student).

Linear soft-max on (pooled) digits, batch 10. A random mask with the given sparsity is drawn once at
initialisation and applied after every update — the paper's set-up. The teacher is the paper's "better
teacher" (App. F.2): a dense model trained by SGD with the same step for three times as many epochs.
This set-up is outside Theorem 4 (a fixed mask is a biased compressor, and its ω = sparsity/(1 − sparsity)
is far above the ω ≤ μ/(16𝓛) the theorem needs), so the figure cites no theorem; its statements are
figure claims with 95 % intervals over paired seeds: "self-distillation can indeed reduce the train loss,
compared to SGD, even for compressed updates" and "with increased sparsity the impact of
self-distillation is less pronounced".
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _safaryan_common as C
from verification import simulate as sim
from verification.claims import claim, combine
from verification.stats import compare_samples
from paper_figs import verdicts_for

FIGURE = {"id": "safaryan_fig6", "paper": "000",
          "title": "Self-distillation with a fixed random mask at several sparsities (digits); outside Theorem 4's assumptions",
          "claims": ["safaryan.fig6.kd_beats_sgd_masked", "safaryan.fig6.gain_shrinks_with_sparsity"]}

GAMMA = 0.5


@functools.lru_cache(maxsize=4)
def _runs(size, seeds):
    epochs = C.epochs_for(size, 4, 100)
    last = min(10, max(2, epochs // 3))
    sparsities = [0.0, 0.5, 0.8] if size == "quick" else [0.0, 0.3, 0.5, 0.7, 0.9]
    lams = [0.0, 0.25, 0.5, 0.75, 1.0] if size == "quick" else np.linspace(0, 1, 11).round(2).tolist()
    teacher = C.sgd_teacher(GAMMA, 3 * epochs, seed=0)        # the "better teacher": same γ, 3x the epochs
    shape = C.oracle().xshape
    rng = np.random.default_rng(0)
    rows = []
    for i, sp in enumerate(sparsities):
        mask = (rng.random(shape) >= sp).astype(float)
        res = C.train(teacher, lams, GAMMA, epochs, seed=1 + i, n_seeds=seeds, compressor=sim.fixed_mask(mask),
                      observe_every=2 if size == "quick" else 1)
        rows.append({"sparsity": sp, **C.best_relative_gain(res, lams, last)})
    return {"epochs": epochs, "last": last, "seeds": seeds, "gamma": GAMMA, "teacher": f"SGD, {3 * epochs} epochs", "rows": rows}


@claim("safaryan.fig6.kd_beats_sgd_masked", paper="000", kind="figure", where="Fig. 6, App. F.3",
       statement="with a fixed random mask (every sparsity drawn), some lambda > 0 lowers the train loss below SGD on the same "
                 "mask (95% interval over paired seeds of the relative gain at the best lambda)")
def _kd_beats(rng, size, n_seeds=None):
    data = _runs(size, C.seeds_for(size, n_seeds))
    parts = {f"sparsity_{r['sparsity']}": compare_samples(r["gain_per_seed"], 0.0, ">=") for r in data["rows"]}
    failing = [r["sparsity"] for r in data["rows"] if parts[f"sparsity_{r['sparsity']}"].status != "holds"]
    return C.statement(combine(parts), holds="KD beats SGD at every sparsity",
                       fails=f"KD does not beat SGD at sparsity {failing}", details={"figure_data": data})


@claim("safaryan.fig6.gain_shrinks_with_sparsity", paper="000", kind="figure", where="Fig. 6, App. F.3",
       statement="'with increased sparsity the impact of self-distillation is less pronounced': the best relative gain at the "
                 "highest sparsity is below that of the dense model (95% interval over seeds of the difference)")
def _gain_shrinks(rng, size, n_seeds=None):
    return C.gain_trend_statement(_runs(size, C.seeds_for(size, n_seeds)), "sparsity", grows=False)


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    data = verdicts["safaryan.fig6.kd_beats_sgd_masked"].details["figure_data"]
    fig = Figure(figsize=(6.5, 5))
    ax = fig.subplots()
    for r in data["rows"]:
        ax.plot(r["lams"], r["relative_to_sgd"], "o-", label=f"sparsity {r['sparsity']:.0%} (SGD loss {r['sgd_loss']:.3f})")
    ax.set_xlabel("distillation weight λ (0 = SGD on the masked model)")
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_ylabel(f"train loss (last {data['last']} epochs) relative to SGD on the same mask")
    ax.set_title(f"Fig. 6: fixed random mask (digits, γ={data['gamma']}, {data['epochs']} epochs, {data['seeds']} seeds, "
                 f"teacher {data['teacher']})\nKD beats SGD: {C.status_line(verdicts, 'safaryan.fig6.kd_beats_sgd_masked')}\n"
                 f"gain shrinks with sparsity: {C.status_line(verdicts, 'safaryan.fig6.gain_shrinks_with_sparsity')}", fontsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
