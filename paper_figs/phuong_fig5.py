"""Figure 5 of Phuong & Lampert (paper 003): expected transfer risk vs monotonicity index (eq. 34).

Polynomial-angle task of Sec. 5.1 with κ = 1, d = 100, n = 5; learners: gradient-descent distillation (ŵ,
Thm 1), the hard-target learner (max-margin separator of the hard labels, the limit direction of gradient
descent on the logistic loss) and the reduced-bias learners w_δ, δ ∈ {1/16, 1/8, 1/4, 1/2, 1} (Sec. 5.2).
The monotonicity index is the fraction of (X, x) pairs for which adding x lowers ᾱ(w*, w); w_δ uses the same
Gaussian draw for X and [X, x]. Risks are exact per student (quadrature), averaged over the transfer sets.

The figure's statements are figure claims measured on the data drawn: the negative correlation between
monotonicity and risk (with a bootstrap interval over transfer sets), and the caption's "w_δ … listed in order
from left to right" (δ = 1/16 leftmost). We find the opposite order — δ = 1 has the lowest index and is drawn
leftmost — which is reported as not reproduced.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import linear_transfer as lt
from paper_figs import verdicts_for
from verification.claims import claim, observed
from verification.stats import proportion_interval

FIGURE = {
    "id": "phuong_fig5",
    "paper": "003",
    "title": "Expected transfer risk vs monotonicity index of distillation, hard-target and reduced-bias learners",
    "claims": ["phuong.mono_distillation", "phuong.mono_hard_lower", "phuong.lemma1",
               "phuong.fig5.negative_correlation", "phuong.fig5.w_delta_order"],
}

D, N, KAPPA = 100, 5, 1.0
DELTAS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
_SIZES = {"quick": 150, "full": 1000}  # transfer sets
_BOOT = 1000


def data(size="quick", rng=None, n_seeds=None):
    """Per learner: mean risk with a 95% t interval, the monotonicity index with its Clopper–Pearson interval,
    and a bootstrap (over transfer sets) of the correlation between the two across learners."""
    m = n_seeds or _SIZES[size]
    rng = np.random.default_rng(5) if rng is None else rng
    task = lt.polynomial_task(D, KAPPA)
    w_star = task.w_star
    sets = task.sample_sets(m, N, rng)
    extra = task.sample_sets(m, 1, rng)[:, :, 0]
    gs = rng.standard_normal((m, D))
    learners = {"distillation": lambda X, k: lt.student_solution(X, w_star),
                "hard target": lambda X, k: lt.hard_target_solution(X, w_star)}
    for delta in DELTAS:
        learners[f"w_δ, δ={delta:g}"] = (lambda dl: lambda X, k: lt.reduced_bias_solution(X, w_star, dl, gs[k]))(delta)
    names, R, H = list(learners), [], []
    for name in names:
        learn = learners[name]
        W = np.array([learn(sets[k], k) for k in range(m)])
        R.append(lt.transfer_risk(W, task))
        # per-set indicator of eq. (34): adding x lowers the angle (the index is its mean)
        W1 = np.array([learn(np.column_stack([sets[k], extra[k]]), k) for k in range(m)])
        H.append(lt.unsigned_angle(W1, w_star[None, :]) < lt.unsigned_angle(W, w_star[None, :]))
    R, H = np.array(R), np.array(H, dtype=float)
    out = {}
    for i, name in enumerate(names):
        se = float(R[i].std(ddof=1) / np.sqrt(m))
        k = int(H[i].sum())
        _, lo, hi = proportion_interval(k, m)
        out[name] = {"risk": float(R[i].mean()), "se": se, "mono": k / m, "mono_lo": lo, "mono_hi": hi}
    idx = rng.integers(0, m, size=(_BOOT, m))
    rb, hb = R[:, idx].mean(-1), H[:, idx].mean(-1)  # (learners, boot)
    rc, hc = rb - rb.mean(0), hb - hb.mean(0)
    corr = (rc * hc).sum(0) / np.sqrt((rc**2).sum(0) * (hc**2).sum(0))
    point = float(np.corrcoef(R.mean(1), H.mean(1))[0, 1])
    return {"learners": out, "sets": m, "corr": point,
            "corr_ci": [float(np.quantile(corr, 0.025)), float(np.quantile(corr, 0.975))]}


@claim("phuong.fig5.negative_correlation", paper="003", where="Sec. 5.3, Fig. 5", kind="figure",
       rng_key="phuong.fig5",
       statement="Across the seven learners, monotonicity index and expected transfer risk are negatively correlated "
                 "(Pearson; the 95% bootstrap interval over transfer sets lies below 0)")
def _check_corr(rng, size, n_seeds=None):
    r = data(size, rng, n_seeds)
    lo, hi = r["corr_ci"]
    return observed(hi < 0, predicted=0.0, measured=r["corr"], relation="<=",
                    reason=f"Pearson correlation {r['corr']:.3f}, 95% bootstrap CI [{lo:.3f}, {hi:.3f}] "
                           f"over {r['sets']} transfer sets", details={"data": r})


@claim("phuong.fig5.w_delta_order", paper="003", where="Fig. 5 caption", kind="figure", rng_key="phuong.fig5",
       statement="Caption: the w_δ, δ ∈ {1/16, 1/8, 1/4, 1/2, 1}, appear in that order from left to right "
                 "(monotonicity index increasing with δ, disjoint 95% intervals between neighbours)")
def _check_order(rng, size, n_seeds=None):
    r = data(size, rng, n_seeds)
    L = [r["learners"][f"w_δ, δ={d:g}"] for d in DELTAS]
    mono = [x["mono"] for x in L]
    up = all(b["mono_lo"] > a["mono_hi"] for a, b in zip(L, L[1:]))
    down = all(b["mono"] < a["mono"] for a, b in zip(L, L[1:]))
    reason = f"monotonicity index by δ = {[f'{d:g}' for d in DELTAS]}: {[round(x, 3) for x in mono]}"
    if not up:
        reason += ("; it decreases with δ, so δ = 1 is drawn leftmost — the reverse of the caption's order"
                   if down else "; not increasing in δ")
    return observed(up, predicted=mono[0], measured=mono[-1], relation=">=", reason=reason, details={"data": r})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    vc = verdicts["phuong.fig5.negative_correlation"]
    vo = verdicts["phuong.fig5.w_delta_order"]
    r = vc.details["data"]
    fig = Figure(figsize=(6.4, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    colors = {"distillation": "C0", "hard target": "C1"}
    for name, x in r["learners"].items():
        c = colors.get(name, "C2")
        ax.errorbar(x["mono"], x["risk"], yerr=1.96 * x["se"], xerr=[[x["mono"] - x["mono_lo"]], [x["mono_hi"] - x["mono"]]],
                    fmt="o", color=c, capsize=3, label=name if name in colors or name.endswith("=0.0625") else None)
        if name not in colors:
            ax.annotate(name.split(",")[1].strip(), (x["mono"], x["risk"]), fontsize=7, xytext=(4, 3),
                        textcoords="offset points")
    ax.set_xlabel("monotonicity index m(w)  (eq. 34), 95% CI")
    ax.set_ylabel("expected transfer risk (95% CI)")
    ax.set_title(f"κ = {KAPPA:g}, d = {D}, n = {N}, {r['sets']} transfer sets\n"
                 f"negative correlation: {vc.status} ({vc.details['reason']})\n"
                 f"caption's left-to-right order of w_δ: {vo.status} ({vo.details['reason']})", fontsize=6.5, wrap=True)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, [lab if not lab.startswith("w_δ") else "w_δ (reduced bias)" for lab in labels], fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
