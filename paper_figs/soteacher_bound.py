"""Paper 004 (SoTeacher), Thm 3.6: the bound of eq. (4) against the measured ERM error as N grows, K ∈ {2, 10, 100}."""

import math

import numpy as np
from matplotlib.figure import Figure

from verification.claims import claim, observed
from paper_figs import verdicts_for

FIGURE = {"id": "soteacher_bound", "paper": "004",
          "title": "Thm 3.6: eq. (4) and the measured error of the cell-wise ERM (1-norm, (1−δ)-quantile over inputs of "
                   "D̃ and label draws) as N grows, for K = 2, 10, 100",
          "claims": ["soteacher.thm36", "soteacher.prop33_coverage", "soteacher.fig.bound_vs_n"]}

_R, _L_STAR, _KAPPA, _DELTA = 0.25, 0.05, 2.0, 0.05
_MAX_ERROR = 2.0  # the largest possible 1-norm distance of two distributions


@claim("soteacher.fig.bound_vs_n", paper="004", where="Thm 3.6, Sec. 3.2 (discussion of eq. 4)", kind="figure",
       statement="The ERM error on D̃ shrinks as N grows and is smaller for fewer classes ('the bound will be tighter if "
                 "K is small'), and stays below eq. (4)")
def _check_bound_vs_n(rng, size):
    from kdtheory import label_distribution as LD
    from scipy import special

    from verification.label_distribution import erm_errors

    Ns = [1000, 3000, 9000, 27000] if size == "quick" else [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000]
    reps = 20 if size == "quick" else 100
    curves = {}
    for K in (2, 10, 100):
        W = rng.normal(size=(K, 2))  # one p* = softmax(Wx + b) per K, with Lipschitz constant L*, for every N
        W *= _L_STAR / LD.softmax_affine_lipschitz(W)
        b0 = rng.normal(size=K)
        bounds, meas = [], []
        for N in Ns:
            X = rng.random((N, 2))
            P = special.softmax(X @ W.T + b0, axis=1)
            res = erm_errors(rng, N=N, K=K, r=_R, L_star=_L_STAR, kappa=_KAPPA, reps=reps, norm=1, X=X, P=P)
            bounds.append(LD.erm_bound(N, K, res["m"], _KAPPA, _DELTA, 0.0, _R, _L_STAR, 1))
            meas.append(float(np.quantile(res["errors"], 1 - _DELTA)))
        curves[str(K)] = {"bound": bounds, "measured": meas,
                          "vacuous": [b >= _MAX_ERROR for b in bounds]}
    shrinks = all(np.all(np.diff(c["measured"]) < 0) for c in curves.values())
    k_order = all(curves["2"]["measured"][i] < curves["10"]["measured"][i] < curves["100"]["measured"][i]
                  for i in range(len(Ns)))
    ratio = max(m / b for c in curves.values() for m, b in zip(c["measured"], c["bound"]))
    below = ratio <= 1.0
    vac = [f"K={k}, N={n}" for k, c in curves.items() for n, v in zip(Ns, c["vacuous"]) if v]
    reason = (f"measured quantile shrinks with N for every K: {shrinks}; ordered K=2 < 10 < 100 at every N: {k_order}; "
              f"largest measured/eq. (4) = {ratio:.3f}; eq. (4) is vacuous (≥ 2, the largest possible 1-norm error) at "
              f"{', '.join(vac) if vac else 'no point'}")
    return observed(shrinks and k_order and below, predicted=1.0, measured=ratio, relation="<=", reason=reason,
                    tightness=ratio,
                    details={"N": Ns, "curves": curves, "r": _R, "L_star": _L_STAR, "kappa": _KAPPA, "delta": _DELTA,
                             "reps": reps, "vacuous_points": vac})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts["soteacher.fig.bound_vs_n"]
    d = v.details
    Ns = np.array(d["N"], dtype=float)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for (K, c), colour in zip(d["curves"].items(), ("C0", "C1", "C2")):
        b, m = np.array(c["bound"]), np.array(c["measured"])
        vac = np.array(c["vacuous"], dtype=bool)
        ax1.loglog(Ns, b, "-", color=colour, label=f"eq. (4), K={K}")
        if vac.any():
            ax1.loglog(Ns[vac], b[vac], "x", color=colour, ms=8, label=f"vacuous (≥ 2), K={K}")
        ax1.loglog(Ns, m, "o--", color=colour, label=f"measured, K={K}")
        k = int(K)
        ax2.semilogx(Ns, m * np.sqrt(Ns / k), "o--", color=colour, label=f"measured·sqrt(N/K), K={K}")
        ax2.semilogx(Ns, (b - 2 * d["L_star"] * d["r"]) * np.sqrt(Ns / k), "-", color=colour,
                     label=f"(eq. (4) − 2L*r)·sqrt(N/K), K={K}")
    ax1.axhline(_MAX_ERROR, color="grey", lw=0.8, ls=":")
    ax1.text(Ns[0], 2.1, "max possible 1-norm error (above: vacuous)", fontsize=7, color="grey")
    ax1.set_xlabel("N (training inputs)")
    ax1.set_ylabel("‖f*(x) − p*(x)‖₁")
    ax1.legend(fontsize=6, ncol=2)
    ax2.set_xlabel("N")
    ax2.set_ylabel("error · sqrt(N/K)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=6)
    fig.suptitle(f"Thm 3.6 (r={d['r']}, L*={d['L_star']}, κ={d['kappa']}, δ={d['delta']}, L=0): {v.status} — "
                 f"largest measured/eq. (4) = {v.measured:.2f}; vacuous at {len(d['vacuous_points'])} point(s)",
                 fontsize=9)
    return fig
