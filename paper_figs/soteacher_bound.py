"""Paper 004 (SoTeacher), Thm 3.6: the bound of eq. (4) against the measured ERM error as N grows, K ∈ {2, 10, 100}."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "soteacher_bound", "paper": "004",
          "title": "Thm 3.6: eq. (4) and the measured error of the cell-wise ERM (1-norm, (1−δ)-quantile over inputs of "
                   "D̃ and label draws) as N grows, for K = 2, 10, 100; both follow the sqrt(K/N) shape",
          "claims": ["soteacher.thm36", "soteacher.prop33_coverage"]}


def make(size="quick"):
    from kdtheory import label_distribution as LD
    from verification.label_distribution import erm_errors, synthetic_problem

    rng = np.random.default_rng(4)
    Ns = [1000, 3000, 9000, 27000] if size == "quick" else [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000]
    reps = 5 if size == "quick" else 40
    r, L_star, kappa, delta = 0.25, 0.05, 2.0, 0.05
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for K, colour in zip((2, 10, 100), ("C0", "C1", "C2")):
        bounds, meas = [], []
        for N in Ns:
            X, P, _ = synthetic_problem(rng, N=N, K=K, L_star=L_star)
            res = erm_errors(rng, N=N, K=K, r=r, L_star=L_star, kappa=kappa, reps=reps, norm=1, X=X, P=P)
            bounds.append(LD.erm_bound(N, K, res["m"], kappa, delta, 0.0, r, L_star, 1))
            meas.append(float(np.quantile(res["errors"], 1 - delta)))
        Ns_a = np.array(Ns, dtype=float)
        ax1.loglog(Ns_a, bounds, "-", color=colour, label=f"eq. (4), K={K}")
        ax1.loglog(Ns_a, meas, "o--", color=colour, label=f"measured, K={K}")
        ax2.semilogx(Ns_a, np.array(meas) * np.sqrt(Ns_a / K), "o--", color=colour, label=f"measured·sqrt(N/K), K={K}")
        ax2.semilogx(Ns_a, (np.array(bounds) - 2 * L_star * r) * np.sqrt(Ns_a / K), "-", color=colour,
                     label=f"(eq. (4) − 2L*r)·sqrt(N/K), K={K}")
    ax1.axhline(2.0, color="grey", lw=0.8, ls=":")
    ax1.text(Ns[0], 2.1, "max possible 1-norm error", fontsize=7, color="grey")
    ax1.set_xlabel("N (training inputs)")
    ax1.set_ylabel("‖f*(x) − p*(x)‖₁")
    ax1.legend(fontsize=7, ncol=2)
    ax2.set_xlabel("N")
    ax2.set_ylabel("error · sqrt(N/K)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=6)
    fig.suptitle(f"Thm 3.6 (r={r}, L*={L_star}, κ={kappa}, δ={delta}, L=0): bound and measured error ∝ sqrt(K/N)")
    return fig
