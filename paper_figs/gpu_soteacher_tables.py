"""Paper 004, Tables 1, 3 and 4 in miniature: teacher recipes vs ECE, NLL, student accuracy and fidelity."""

import numpy as np
from matplotlib.figure import Figure

from verification.claims import claim, observed
from paper_figs import verdicts_for

FIGURE = {"id": "gpu_soteacher_tables", "paper": "004",
          "title": "Standard vs SoTeacher (LR + CR), no-LR and no-CR teachers on the digits: teacher ECE/NLL "
                   "(before/after temperature scaling), student accuracy and fidelity, mean ± std over seeds",
          "claims": ["soteacher.net.ece", "soteacher.net.nll", "soteacher.net.ece_ts", "soteacher.net.nll_ts",
                     "soteacher.net.student_acc", "soteacher.net.fidelity", "soteacher.fig.tables"]}

_COLUMNS = ("ece", "nll", "ece_ts", "nll_ts", "student_acc", "fidelity")
_DIRECTION = {"ece": -1, "nll": -1, "ece_ts": -1, "nll_ts": -1, "student_acc": 1, "fidelity": 1}


@claim("soteacher.fig.tables", paper="004", where="Sec. 5.2, Tables 1, 3, 4", kind="figure", rng_key="soteacher.net.ece",
       statement="In the miniature, the SoTeacher teacher has lower ECE and NLL (before and after temperature scaling) "
                 "and its student is more accurate and more faithful than the standard teacher's (every column's "
                 "two-level bootstrap interval of SoTeacher − Standard on the paper's side of 0)")
def _check_tables(rng, size, device="auto"):
    from gpu_validation.experiments import soteacher

    m = soteacher._run(rng, size, device, "digits", None)
    brng = np.random.default_rng([soteacher.seed_from(rng), 7])
    diffs = {}
    for c in _COLUMNS:
        point, reps = soteacher.paired_bootstrap(m, c, brng, m["boot"])
        diffs[c] = {"difference": point, "interval": [float(x) for x in np.quantile(reps, [0.025, 0.975])]}
    side = {c: ("paper's side" if (d["interval"][1] < 0 if _DIRECTION[c] < 0 else d["interval"][0] > 0) else
                "opposite side" if (d["interval"][0] > 0 if _DIRECTION[c] < 0 else d["interval"][1] < 0) else
                "straddles 0") for c, d in diffs.items()}
    reason = ("; ".join(f"{c}: {d['difference']:+.4f} [{d['interval'][0]:+.4f}, {d['interval'][1]:+.4f}] ({side[c]})"
                        for c, d in diffs.items()) + ". " + soteacher.regime(m))
    n_good = sum(s == "paper's side" for s in side.values())
    return observed(n_good == len(_COLUMNS), predicted=len(_COLUMNS), measured=n_good, relation=">=", reason=reason,
                    details={"table": {k: m["table"][k] for k in soteacher.METHODS}, "methods": list(soteacher.METHODS),
                             "differences": diffs, "temperature_interval": soteacher.temperature_interval(m),
                             "side": side, "seeds": m["seeds"], "n_test": m["n_test"]})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts["soteacher.fig.tables"]
    t, methods = v.details["table"], v.details["methods"]
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 4)
    x = np.arange(len(methods))
    for ax, (a, b, title, ylab) in zip(axes, (("ece", "ece_ts", "ECE (before / after TS)", "expected calibration error"),
                                              ("nll", "nll_ts", "NLL (before / after TS)", "test NLL (nats)"),
                                              ("teacher_acc", "student_acc", "accuracy (teacher / student)", "test accuracy"),
                                              ("fidelity", None, "student fidelity", "top-1 agreement with teacher"))):
        vals = []
        for off, key in ((-0.2, a), (0.2, b)) if b else ((0.0, a),):
            mean = np.array([t[k][key][0] for k in methods])
            sd = np.array([t[k][key][1] for k in methods])
            ax.bar(x + off, mean, 0.4, yerr=sd, label=key, capsize=2)
            vals += list(mean - sd) + list(mean + sd)
        lo, hi = min(vals), max(vals)
        pad = 0.15 * (hi - lo) + 1e-3
        ax.set_ylim(max(0.0, lo - pad), hi + pad)  # zoomed: 1 pp differences stay visible
        ax.set_xticks(x, methods, rotation=30, fontsize=8)
        ax.set_ylabel(ylab, fontsize=8)
        ax.set_title(title, fontsize=9)
        if b:
            ax.legend(fontsize=7)
    n_good = sum(s == "paper's side" for s in v.details["side"].values())
    T, lo, hi = v.details["temperature_interval"]
    fig.suptitle(f"SoTeacher miniature (digits; mean ± std over {len(v.details['seeds'])} seeds; y-axes zoomed) — "
                 f"{v.status}: {n_good}/6 columns on the paper's side of 0 (two-level bootstrap)\nstandard teacher's "
                 f"fitted T = {T:.2f} [{lo:.2f}, {hi:.2f}] ({'over' if lo > 1 else 'under' if hi < 1 else 'neither over nor under'}"
                 f"-confident)", fontsize=9)
    return fig
