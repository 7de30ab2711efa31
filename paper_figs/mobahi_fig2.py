"""Paper 002, Figure 2: the spline Green's function (a), noisy samples and the unregularised fit (b), and four
rounds of self-distillation with ε = 0.04 (c), drawn with the underlying sin(2πx).

Data choice: the text is inconsistent (caption: samples of y = sin(2πx); Sec. 4: "sampled from y = sin(x)" and
"y_k = x_k + η"). We use what the figure shows according to its caption: y_k = sin(2πx_k) + η_k with η ~ N(0, 0.5²)
(σ = 0.5 from Sec. 4), x_k = 0, 0.1, …, 1 (K = 11, evenly spaced "with steps of 0.1"), seed 0 — with it the path
collapses after four fitted rounds (t = 0…3), as the paper reports for Figure 3. The end points x = 0 and 1 are
pinned to 0 by the boundary conditions (55): G is only positive semi-definite there and no fit reaches y_0, y_10
(handled as unreachable components by kdtheory.self_distillation).

Figure claim ``mobahi.fig2.improves_then_underfits`` — Sec. 4: "the regularization induced by self-distillation
initially improves the quality of the fit, but after that point additional rounds of self-distillation
over-regularize and lead to underfitting". Measured as the RMS distance to sin(2πx) on [0, 1] of each round's
function, over independent noise draws (seeds), with a confidence interval.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import greens as gr
from kdtheory import self_distillation as sd
from verification.claims import claim, combine, observed
from verification.self_distillation import FIG2_EPS, FIG2_K, FIG2_SEED, FIG2_SIGMA, fig2_data
from verification.stats import compare_samples
from paper_figs import verdicts_for

CLAIM = "mobahi.fig2.improves_then_underfits"
FIGURE = {"id": "mobahi_fig2", "paper": "002",
          "title": "Green's function of ∫(f'')², noisy samples with the unregularised fit, four rounds of "
                   "self-distillation (ε = 0.04)",
          "claims": ["mobahi.eq57", "mobahi.prop1", "mobahi.prop4", "mobahi.trivial_bound", CLAIM]}

SEED, SIGMA, EPS, K = FIG2_SEED, FIG2_SIGMA, FIG2_EPS, FIG2_K
_SIZES = {"quick": {"grid": 201, "n_seeds": 40}, "full": {"grid": 1001, "n_seeds": 400}}
data = fig2_data  # the training set of Figure 2 (one home: verification.self_distillation)


def _rounds(seed: int, xs: np.ndarray, rounds: int = 4):
    """(functions (T, m), path) of the self-distillation rounds of Fig. 2(c) on the data of ``seed``."""
    x, y = data(seed)
    G = gr.gram(x)
    gx = gr.spline_green(xs[:, None], x[None, :]) / K
    path = sd.self_distill(G, y, EPS, rounds)
    return sd.round_functions(gx, G, path), path


@claim(CLAIM, paper="002", kind="figure", where="Sec. 4, Fig. 2(c)",
       statement="Self-distillation initially improves the fit (round 1 closer to sin(2πx) than round 0), then "
                 "additional rounds over-regularize and underfit (the last of the four rounds is farther than "
                 "round 1); RMS distance to sin(2πx) on [0, 1], over noise draws")
def _check_fig2(rng, size, n_seeds=None):
    cfg = _SIZES[size]
    n = cfg["n_seeds"] if n_seeds is None else int(n_seeds)
    xs = np.linspace(0, 1, cfg["grid"])
    truth = np.sin(2 * np.pi * xs)
    gain, later, skipped, errs0 = [], [], 0, None
    for seed in range(n):
        try:
            fs, path = _rounds(seed, xs)
        except ValueError:  # eps = 0.04 below this draw's reachable floor (labels at x = 0, 1)
            skipped += 1
            continue
        err = np.sqrt(np.mean((fs - truth) ** 2, axis=1))
        if seed == SEED:
            errs0 = err
        if len(err) < 2:
            skipped += 1
            continue
        gain.append(float(err[0] - err[1]))
        later.append(float(err[-1] - err[1]))
    fs0, path0 = _rounds(SEED, xs)
    x0, y0 = data(SEED)
    curves = {"xs": xs.tolist(), "truth": truth.tolist(), "rounds": fs0.tolist(), "c": path0.c.tolist(),
              "collapsed_at": path0.collapsed_at, "x": x0.tolist(), "y": y0.tolist(),
              "interpolant": sd.interpolant(gr.spline_green(xs[:, None], x0[None, :]) / K, gr.gram(x0), y0).tolist(),
              "rms_to_truth_seed0": None if errs0 is None else errs0.tolist()}
    det = {"curves": curves, "seeds": n, "seeds_skipped": skipped,
           "note": "seeds skipped: eps = 0.04 infeasible (reachable floor) or collapse before round 1"}
    parts = {}
    for name, s, what in (("initial_improvement", gain, "RMS(round 0) − RMS(round 1)"),
                          ("later_underfitting", later, "RMS(last round) − RMS(round 1)")):
        v = compare_samples(s, 0.0, ">=", details={"measured_is": what})
        if v.status != "holds":
            lo, hi = v.details["interval"]
            v = observed(False, predicted=0.0, measured=v.measured, relation=">=",
                         reason=f"{what}: mean {v.measured:.3g}, 95% CI [{lo:.3g}, {hi:.3g}] over {len(s)} draws "
                                f"— not positive", details=v.details)
        parts[name] = v
    return combine(parts, details=det)


def make(size: str = "quick", verdicts=None) -> Figure:
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts[CLAIM]
    cur = v.details["curves"]
    xs = np.array(cur["xs"])

    fig = Figure(figsize=(13, 3.8))
    ax = fig.subplots(1, 3)
    for t in (0.2, 0.4, 0.6, 0.8):
        ax[0].plot(xs, gr.spline_green(xs, t), label=f"t = {t}")
    ax[0].set_title("(a) Green's function g(x, t), eq. (57)")
    ax[0].set_xlabel("x")
    ax[0].legend(fontsize=8)

    ax[1].plot(xs, cur["truth"], color="tab:orange", label="sin(2πx)")
    ax[1].plot(xs, cur["interpolant"], color="tab:blue", label="unregularised fit (c → 0)")
    ax[1].scatter(cur["x"], cur["y"], color="tab:blue", zorder=3, label="noisy samples")
    ax[1].set_title(f"(b) K = {K} samples, σ = {SIGMA}")
    ax[1].legend(fontsize=8)

    ax[2].plot(xs, cur["truth"], color="k", ls="--", lw=1, label="sin(2πx)")
    rms = cur["rms_to_truth_seed0"] or [float("nan")] * len(cur["rounds"])
    for t, f in enumerate(cur["rounds"]):
        ax[2].plot(xs, f, label=f"round {t} (RMS to truth {rms[t]:.3f})")
    ax[2].scatter(cur["x"], cur["y"], color="k", s=10, zorder=3)
    p = v.details["parts"]
    g, u = p["initial_improvement"], p["later_underfitting"]
    ax[2].set_title(f"(c) ε = {EPS}, collapse at t = {cur['collapsed_at']}; over {v.details['seeds']} draws:\n"
                    f"round 0→1 RMS gain {g['measured']:.3f} ({g['status']}), "
                    f"last−round 1 {u['measured']:.3f} ({u['status']})", fontsize=7)
    ax[2].legend(fontsize=7)
    fig.tight_layout()
    return fig
