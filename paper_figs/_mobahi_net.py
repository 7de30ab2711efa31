"""Shared by gpu_mobahi_chain (Figs. 4, 6 left: ℓ2) and gpu_mobahi_ce (Figs. 5, 6 right: cross-entropy).

The figure claims of both modules are measured on the runs of ``gpu_validation.experiments.mobahi`` (the same
memoised experiments, generators and sizes as the network claims), so a figure draws the report's numbers. No
torch import here at module import time.
"""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np

#: rng_keys of the two experiments (equal to mobahi.CHAIN_KEY / NOISY_KEY; a test checks it)
CHAIN_KEY = "mobahi.net.l2_chain"
NOISY_KEY = "mobahi.net.l2_chain_noisy"
LOSS_NAME = {"l2": "ℓ2 loss", "ce": "cross-entropy"}


def rounds_verdict(rng, size, device, n_seeds, loss, noisy):
    """Fig. 4 / Fig. 5: 'training accuracy drops each round' and 'test accuracy first goes up, then down', both
    parts deciding (``combine``), on the clean (``noisy=False``) or the noisy-label chain; curves in details."""
    from gpu_validation.experiments import mobahi
    from verification.claims import combine

    cfg = mobahi._noisy_cfg(size, n_seeds) if noisy else mobahi._cfg(size, n_seeds)
    m, rows, _ = mobahi._chain(rng, cfg, device, "digits", None)
    parts = {"train_acc_falls": mobahi._falls_every_round(m, rows, loss),
             "test_acc_rises_then_falls": mobahi._rises_then_falls(m, rows, loss)}
    reason = "; ".join(f"{k}: {p.status}" + (f" — {p.details['reason']}" if p.details.get("reason") else "")
                       for k, p in parts.items())
    v = combine(parts, details={**mobahi._summary(m, loss), "noisy": noisy, "reason": reason,
                                "part_status": {k: p.status for k, p in parts.items()}})
    if v.status == "violated" and not v.details.get("nan_stopped_runs") and not any(
            p.details.get("nan_stopped_runs") for p in parts.values()):
        # a figure's statement seen contradicted is not reproduced (violated stays for diverged runs)
        v = dataclasses.replace(v, status="not_reproduced")
    return v


def early_stopping_verdict(rng, size, device, n_seeds, loss):
    """Fig. 6: the test-accuracy gap SD − ES at equal training loss, per round (details: every round's interval)."""
    from gpu_validation.experiments import mobahi

    m, es = mobahi._early_stopping(rng, mobahi._cfg(size, n_seeds), device, "digits", None)
    return mobahi._not_early_stopping(m, es, loss)


def _status_text(v, width=70):
    txt = f"{v.status}: {v.details.get('reason', '')}"
    return "\n".join(textwrap.wrap(txt, width)[:4])


def draw_rounds(ax, v, label):
    d = v.details
    rounds = np.arange(len(d["train_acc"]))
    ax.errorbar(rounds, d["train_acc"], yerr=d["train_acc_std"], marker="o", capsize=2, label="train (y₀)")
    ax.errorbar(rounds, d["test_acc"], yerr=d["test_acc_std"], marker="s", capsize=2, label="test")
    ax.set_xticks(rounds)
    ax.set_xlabel("self-distillation round")
    ax.set_ylabel("accuracy (mean ± std over seeds)")
    ps = d.get("part_status", {})
    ax.set_title(f"{label}, {d['seeds']} seeds\ntrain acc drops every round: {ps.get('train_acc_falls')}\n"
                 f"test acc rises then falls: {ps.get('test_acc_rises_then_falls')}", fontsize=7)
    ax.legend(fontsize=7)


def draw_early_stopping(ax, v, loss):
    rows = [p for p in v.details["early_stopping"] if p.get("gap_interval")]
    t = np.array([p["round"] for p in rows])
    gap = np.array([p["gap"] for p in rows])
    lo = np.array([p["gap_interval"][0] for p in rows])
    hi = np.array([p["gap_interval"][1] for p in rows])
    ax.errorbar(t, gap, yerr=[gap - lo, hi - gap], marker="o", capsize=3, color="C2")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(t, [f"{p['round']}\n{p['level']:.3f}" for p in rows], fontsize=7)
    ax.set_xlabel(f"round t / its training loss on y₀ ({LOSS_NAME[loss]})", fontsize=8)
    ax.set_ylabel("test acc: self-distilled − early-stopped", fontsize=8)
    conf = v.details.get("confidence_per_round", 0.95)
    ax.set_title(f"equal training loss (Fig. 6), {100 * conf:.2f}% intervals per round\n"
                 f"SD and ES differ: {v.status}", fontsize=7)


def make_figure(verdicts, ids, loss, title):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.6), layout="constrained")
    axes = fig.subplots(1, 3)
    clean, noisy, es = (verdicts[i] for i in ids)
    draw_rounds(axes[0], clean, f"{LOSS_NAME[loss]}, clean labels")
    draw_rounds(axes[1], noisy, f"{LOSS_NAME[loss]}, 30% label noise")
    draw_early_stopping(axes[2], es, loss)
    for ax, v in zip(axes, (clean, noisy, es)):
        ax.text(0.01, 0.01, _status_text(v, 60), transform=ax.transAxes, fontsize=5, va="bottom")
    fig.suptitle(f"{title} — measured: clean chain {clean.status}, noisy chain {noisy.status}, "
                 f"SD ≠ early stopping {es.status}", fontsize=9)
    return fig
