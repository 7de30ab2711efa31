"""Paper 004, Tables 1–4 in miniature: teacher recipes vs ECE, NLL, student accuracy and fidelity."""

import numpy as np
from matplotlib.figure import Figure

FIGURE = {"id": "gpu_soteacher_tables", "paper": "004",
          "title": "Standard vs SoTeacher (LR + CR), no-LR and no-CR teachers on the digits: teacher ECE/NLL "
                   "(before/after temperature scaling), student accuracy and fidelity, mean ± std over seeds",
          "claims": ["soteacher.net.ece"]}


def make(size="quick"):
    from paper_figs._gpu_common import network_claim_rng
    from gpu_validation.experiments import soteacher

    # the claim's own configuration and generator (seed 0): the figure draws the run the report measures
    cfg, rng = size, network_claim_rng("soteacher.net.ece")
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, 4)
    try:
        m = soteacher._run(rng, cfg, "auto", "digits", None)
    except ImportError as exc:
        axes[0].text(0.5, 0.5, str(exc), ha="center", va="center", wrap=True)
        return fig
    t = m["table"]
    methods = list(soteacher.METHODS)
    x = np.arange(len(methods))
    for ax, (a, b, title) in zip(axes, (("ece", "ece_ts", "ECE (before / after TS)"),
                                        ("nll", "nll_ts", "NLL (before / after TS)"),
                                        ("teacher_acc", "student_acc", "accuracy (teacher / student)"),
                                        ("fidelity", None, "student fidelity"))):
        ax.bar(x - 0.2 if b else x, [t[k][a][0] for k in methods], 0.4, yerr=[t[k][a][1] for k in methods], label=a)
        if b:
            ax.bar(x + 0.2, [t[k][b][0] for k in methods], 0.4, yerr=[t[k][b][1] for k in methods], label=b)
            ax.legend(fontsize=7)
        ax.set_xticks(x, methods, rotation=30, fontsize=8)
        ax.set_title(title, fontsize=9)
    fig.suptitle("SoTeacher miniature (digits, small CNN teachers, MLP students)")
    return fig
