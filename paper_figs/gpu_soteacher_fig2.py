"""Paper 004, Fig. 2 in miniature: the student's accuracy as λ_LR, λ_CR^max and the λ_CR schedule vary.

The paper (Sec. 5.3, Fig. 2) sweeps the SoTeacher hyper-parameters around its reported setting (▲) against the
standard teacher (■) and says (i) every setting's student is better than the standard teacher's ("both Lipschitz
and consistency regularizations can benefit the teacher training in terms of the student generalization
consistently for different hyperparameter settings") and (ii) Fig. 2(a): "as Lipschitz regularization becomes
stronger, the teacher accuracy constantly decreases while the student accuracy increases and converges".

The recipes are trained in the very run of the table claims (``gpu_validation.experiments.soteacher._run``, one
vmapped ensemble, rng_key ``soteacher.net.ece``; :func:`gpu_validation.experiments.soteacher.settings`), so the
figure costs only its bootstraps. Every point is a difference to the standard teacher's (or, for the teacher's
accuracy trend, to the λ_LR = 0 recipe) with its 95 % two-level bootstrap interval over seeds and test examples.
"""

import numpy as np
from matplotlib.figure import Figure

from verification.claims import claim, combine
from paper_figs import verdicts_for

FIGURE = {"id": "gpu_soteacher_fig2", "paper": "004",
          "title": "SoTeacher hyper-parameter sweeps (λ_LR, λ_CR^max, λ_CR schedule) on the digits: student and "
                   "teacher accuracy minus the standard teacher's, 95 % two-level bootstrap intervals",
          "claims": ["soteacher.net.student_acc", "soteacher.fig.sweep"]}


def _axes(recipes):
    """The three sweeps of Fig. 2 as ordered lists of (x value, recipe name), from the run's recipes."""
    lr = sorted((v[0], k) for k, v in recipes.items() if k in ("soteacher", "no_lr") or k.startswith("lr="))
    cr = sorted((v[1], k) for k, v in recipes.items() if k in ("soteacher", "no_cr") or k.startswith("cr="))
    sch = [(v[2], k) for k, v in recipes.items() if k == "soteacher" or k.startswith("schedule=")]
    return {"lambda_lr": lr, "lambda_cr_max": cr, "schedule": sch}


@claim("soteacher.fig.sweep", paper="004", where="Sec. 5.3, Fig. 2", kind="figure", rng_key="soteacher.net.ece",
       statement="Every swept SoTeacher setting (λ_LR, λ_CR^max, λ_CR schedule; both regularisers on) gives a "
                 "student more accurate than the standard teacher's, and (Fig. 2a) the largest λ_LR lowers the "
                 "teacher's accuracy and raises the student's relative to λ_LR = 0 (each a 95 % two-level bootstrap "
                 "interval over seeds and test examples; inconclusive where an interval contains 0)")
def _check_sweep(rng, size, device="auto", n_seeds=None):
    from gpu_validation.experiments import soteacher

    # the tables' run (same configuration and seeds: one memoised run serves both)
    m = soteacher._run(rng, soteacher._with_seeds(soteacher._SIZES, size, n_seeds), device, "digits", None)
    recipes = {k: tuple(v) for k, v in m["recipes"].items()}
    brng = np.random.default_rng([soteacher.seed_from(rng), 13])
    swept = [k for k, v in recipes.items() if v[0] > 0 and v[1] > 0]  # both regularisers on (▲ and its sweeps)
    parts = {f"student_acc[{k}] − standard": soteacher.difference_verdict(m, "student_acc", ">=", brng, a=k)
             for k in swept}
    curves = {}
    for k in recipes:
        if k == "standard":
            continue
        v_s = parts.get(f"student_acc[{k}] − standard") or soteacher.difference_verdict(m, "student_acc", ">=", brng, a=k)
        v_t = soteacher.difference_verdict(m, "teacher_acc", "<=", brng, a=k)
        curves[k] = {"student_acc_minus_standard": [v_s.measured, *v_s.details["interval"]],
                     "teacher_acc_minus_standard": [v_t.measured, *v_t.details["interval"]]}
    lr_axis = _axes(recipes)["lambda_lr"]
    top, zero = lr_axis[-1][1], "no_lr"
    if top != zero:  # Fig. 2(a): the strongest LR against λ_LR = 0 (CR on in both)
        parts[f"teacher_acc[{top}] − no_lr"] = soteacher.difference_verdict(m, "teacher_acc", "<=", brng, a=top, b=zero)
        parts[f"student_acc[{top}] − no_lr"] = soteacher.difference_verdict(m, "student_acc", ">=", brng, a=top, b=zero)
    out = combine(parts)
    side = {n: ("paper's side" if v.status == "holds" else "opposite side" if v.status == "not_reproduced"
                else "straddles 0") for n, v in parts.items()}
    out.details.update({
        "curves": curves, "axes": _axes(recipes), "recipes": {k: list(v) for k, v in recipes.items()},
        "seeds": m["seeds"], "n_test": m["n_test"], "side": side, "regime": soteacher.regime(m),
        "table": {k: {c: m["table"][k][c] for c in ("teacher_acc", "student_acc", "temperature")} for k in recipes},
        "reason": "; ".join(f"{n}: {v.measured:+.4f} [{v.details['interval'][0]:+.4f}, {v.details['interval'][1]:+.4f}] "
                            f"({side[n]})" for n, v in parts.items()) + ". " + soteacher.regime(m)})
    return out


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts["soteacher.fig.sweep"]
    d = v.details
    curves, axes_def = d["curves"], d["axes"]
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (key, label) in zip(axes, (("lambda_lr", "λ_LR (CR on; 0 = no-LR)"),
                                       ("lambda_cr_max", "λ_CR^max (LR on; 0 = no-CR)"),
                                       ("schedule", "λ_CR schedule (LR and CR on)"))):
        pts = axes_def[key]
        x = np.arange(len(pts))
        for off, col, name in ((-0.1, "student_acc_minus_standard", "student"),
                               (0.1, "teacher_acc_minus_standard", "teacher")):
            vals = np.array([curves[k][col] for _, k in pts], dtype=float)
            ax.errorbar(x + off, vals[:, 0], yerr=[vals[:, 0] - vals[:, 1], vals[:, 2] - vals[:, 0]], fmt="o-" if
                        key != "schedule" else "o", capsize=3, label=f"{name} − standard")
        star = [i for i, (_, k) in enumerate(pts) if k == "soteacher"]
        ax.plot([i - 0.1 for i in star], [curves["soteacher"]["student_acc_minus_standard"][0]] * len(star), "^",
                ms=11, mfc="none", color="k", label="reported setting (▲)")  # on the student's point
        ax.axhline(0.0, color="grey", lw=1, ls="--")  # the standard teacher (■)
        ax.set_xticks(x, [f"{xv:g}" if not isinstance(xv, str) else xv for xv, _ in pts], fontsize=8)
        ax.set_xlabel(label, fontsize=8)
        ax.set_ylabel("accuracy − standard teacher's (test)", fontsize=8)
        ax.legend(fontsize=7)
    n_good = sum(s == "paper's side" for s in d["side"].values())
    fig.suptitle(f"Fig. 2 miniature (digits, {len(d['seeds'])} seeds, 95 % two-level bootstrap) — {v.status}: "
                 f"{n_good}/{len(d['side'])} parts on the paper's side of 0", fontsize=9)
    return fig
