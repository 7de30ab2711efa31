"""Figure 5 of Phuong & Lampert (paper 003): expected transfer risk vs monotonicity index (eq. 34).

Polynomial-angle task of Sec. 5.1 with κ = 1, d = 100, n = 5; learners: gradient-descent distillation (ŵ,
Thm 1), the hard-target learner (max-margin separator of the hard labels, the limit direction of gradient
descent on the logistic loss) and the reduced-bias learners w_δ, δ ∈ {1/16, 1/8, 1/4, 1/2, 1} (Sec. 5.2).
The monotonicity index is the fraction of (X, x) pairs for which adding x lowers ᾱ(w*, w); w_δ uses the same
Gaussian draw for X and [X, x]. Risks are exact per student (quadrature), averaged over the transfer sets.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import linear_transfer as lt

FIGURE = {
    "id": "phuong_fig5",
    "paper": "003",
    "title": "Expected transfer risk vs monotonicity index of distillation, hard-target and reduced-bias learners",
    "claims": ["phuong.mono_distillation", "phuong.mono_hard_lower", "phuong.lemma1"],
}

D, N, KAPPA = 100, 5, 1.0
DELTAS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)


def data(size="quick", seed=5):
    m = 150 if size == "quick" else 1000
    rng = np.random.default_rng(seed)
    task = lt.polynomial_task(D, KAPPA)
    w_star = task.w_star
    sets = task.sample_sets(m, N, rng)
    extra = task.sample_sets(m, 1, rng)[:, :, 0]
    gs = rng.standard_normal((m, D))
    learners = {"distillation": lambda X, k: lt.student_solution(X, w_star),
                "hard target": lambda X, k: lt.hard_target_solution(X, w_star)}
    for delta in DELTAS:
        learners[f"w_δ, δ={delta:g}"] = (lambda dl: lambda X, k: lt.reduced_bias_solution(X, w_star, dl, gs[k]))(delta)
    out = {}
    for name, learn in learners.items():
        W = np.array([learn(sets[k], k) for k in range(m)])
        risk = lt.transfer_risk(W, task)
        mono = lt.monotonicity_index(learn, sets, extra, w_star)
        out[name] = {"risk": float(risk.mean()), "se": float(risk.std(ddof=1) / np.sqrt(m)), "mono": mono}
    return out, m


def make(size="quick"):
    res, m = data(size)
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    colors = {"distillation": "C0", "hard target": "C1"}
    for name, r in res.items():
        c = colors.get(name, "C2")
        ax.errorbar(r["mono"], r["risk"], yerr=1.96 * r["se"], fmt="o", color=c, capsize=3,
                    label=name if name in colors or name.endswith("=0.0625") else None)
        if name not in colors:
            ax.annotate(name.split(",")[1].strip(), (r["mono"], r["risk"]), fontsize=7, xytext=(4, 3),
                        textcoords="offset points")
    ax.set_xlabel("monotonicity index m(w)  (eq. 34)")
    ax.set_ylabel("expected transfer risk")
    ax.set_title(f"κ = {KAPPA:g}, d = {D}, n = {N}, {m} transfer sets")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, [lab if not lab.startswith("w_δ") else "w_δ (reduced bias)" for lab in labels], fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
