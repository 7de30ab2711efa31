"""Figure 4 of Phuong & Lampert (paper 003): transfer risk vs the optimisation-bias parameter δ.

Learners w_δ = ŵ + δ(‖ŵ‖/‖q‖)q (Sec. 5.2), q Gaussian orthogonal to the data span; δ = 0 is the gradient-descent
distillation solution (Thm 1). The paper uses MNIST 0 vs 1 (d = 784, n = 100); no download is allowed here, so
we use the handwritten digits shipped with scikit-learn (8×8 images, 0 vs 1), with a constant feature appended
so that the logistic-regression teacher (fit on split A, no separate intercept) is homogeneous: d = 65.
Transfer sets are drawn from split B (duplicates removed, so X has full rank), risk (disagreement with the
teacher) is measured on the held-out split C.

Choice of n: n = 8 < d = 65. For n ≥ d the student recovers w* exactly and every w_δ equals ŵ (the orthogonal
complement of the data span is empty), so δ could have no effect; n must be well below d — and below the
≈ 40 directions in which the 0/1 images actually vary — for the bias to matter. n/d = 8/65 ≈ 0.12 matches the
paper's ratio 100/784 ≈ 0.13.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from kdtheory import linear_transfer as lt

FIGURE = {
    "id": "phuong_fig4",
    "paper": "003",
    "title": "Transfer risk of distillation variants w_δ with reduced optimisation bias (digits 0 vs 1)",
    "claims": ["phuong.thm1_gd", "phuong.lemma1"],
}

N = 8
DELTAS = tuple(range(0, 100, 10))


def digits_task(seed=0):
    """(w_star, X_pool, X_test): the teacher and the transfer/test splits (columns = points, d = 65)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    dig = load_digits()
    keep = dig.target <= 1
    Z = np.column_stack([dig.data[keep] / 16.0, np.ones(keep.sum())])
    y = dig.target[keep]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    a, b, c = np.array_split(perm, 3)
    teacher = LogisticRegression(fit_intercept=False, C=1.0, max_iter=2000).fit(Z[a], y[a])
    w_star = teacher.coef_[0]
    pool = np.unique(Z[b], axis=0)  # drop duplicate images (they would make X rank-deficient)
    return w_star, pool.T, Z[c].T


def data(size="quick", seed=0):
    reps = 40 if size == "quick" else 500
    w_star, pool, test = digits_task(seed)
    rng = np.random.default_rng(seed + 1)
    risks = np.zeros((reps, len(DELTAS)))
    for r in range(reps):
        X = pool[:, rng.choice(pool.shape[1], N, replace=False)]
        g = rng.standard_normal(X.shape[0])
        for j, delta in enumerate(DELTAS):
            w = lt.reduced_bias_solution(X, w_star, delta, g)
            risks[r, j] = lt.empirical_transfer_risk(w, test, w_star)
    return {"delta": np.array(DELTAS), "risk": risks.mean(0), "se": risks.std(0, ddof=1) / np.sqrt(reps),
            "reps": reps, "d": pool.shape[0], "n": N, "test_points": test.shape[1]}


def make(size="quick"):
    r = data(size)
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(r["delta"], r["risk"], yerr=1.96 * r["se"], fmt="o-", capsize=3, color="C0",
                label=f"E[R(w_δ)] over {r['reps']} transfer sets (95% CI)")
    ax.set_xlabel("δ (0 = gradient-descent distillation solution)")
    ax.set_ylabel("transfer risk on held-out digits")
    ax.set_title(f"Digits 0 vs 1 (d = {r['d']}, n = {r['n']}, {r['test_points']} test images)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
