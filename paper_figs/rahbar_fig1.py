"""Fig. 1 of Rahbar et al.: training and test loss of no teacher / student with teacher (λ = 0.01) / teacher.

Run in the kernel regime (see ``paper_figs._rahbar_common``: centred digits 0 vs 1, ReLU, w ~ N(0, I), teacher
m̄ units, students m̄/5, seeds batched). Caption statements as figure claims, decided over seeds:

* ``rahbar.fig1.teacher_helps`` — "the student with access to the teacher performs better than the student
  without" (final training and test loss);
* ``rahbar.fig1.faster`` — "the convergence rate is significantly faster for the student with teacher"
  (training loss at t = T/10);
* ``rahbar.fig1.teacher_best`` — "teacher shows the best performance" (final test loss vs both students);
* ``rahbar.fig1.kernel_regime`` — ours: the runs are in the kernel regime (relative weight change and distance
  to the linearised dynamics ≤ 0.25).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C
from verification.claims import claim, combine
from paper_figs import verdicts_for

NAMES = ["no_teacher", "with_teacher", "teacher"]
IDS = ["rahbar.fig1.teacher_helps", "rahbar.fig1.faster", "rahbar.fig1.teacher_best", "rahbar.fig1.kernel_regime"]
FIGURE = {"id": "rahbar_fig1", "paper": "001",
          "title": "Dynamics of knowledge transfer, λ = 0.01: no teacher vs student with teacher vs teacher "
                   "(digits 0/1, kernel regime)",
          "claims": ["rahbar.thm1_conditions", "rahbar.thm3_modal", "rahbar.poles_monotone", *IDS]}


def _details(e):
    return {"curves": C.curves(e, NAMES), "setup": {k: e[k] for k in ("lr", "steps", "m_teacher", "m_student")}}


@claim(IDS[0], paper="001", kind="figure", where="Sec. 4.1, Fig. 1",
       statement="the student with the teacher ends with a lower training and test loss than the student without")
def _teacher_helps(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    parts = {f"final_{k}_loss": C.loss_statement(e["no_teacher"][k][:, -1], e["with_teacher"][k][:, -1],
                                            f"final {k} loss: no teacher − with teacher") for k in ("train", "test")}
    return combine(parts, details=_details(e))


@claim(IDS[1], paper="001", kind="figure", where="Sec. 4.1, Fig. 1",
       statement="the student with the teacher converges faster (lower training loss at t = T/10)")
def _faster(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    i = len(e["t"]) // 10
    return combine({"train_loss_at_T/10": C.loss_statement(e["no_teacher"]["train"][:, i], e["with_teacher"]["train"][:, i],
                                                      "training loss at T/10: no teacher − with teacher")},
                   details=_details(e))


@claim(IDS[2], paper="001", kind="figure", where="Sec. 4.1, Fig. 1",
       statement="the teacher has the lowest final test loss (below both students)")
def _teacher_best(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    parts = {f"vs_{nm}": C.loss_statement(e[nm]["test"][:, -1], e["teacher"]["test"][:, -1],
                                     f"final test loss: {nm} − teacher") for nm in ("no_teacher", "with_teacher")}
    return combine(parts, details=_details(e))


@claim(IDS[3], paper="001", kind="figure", where="Sec. 4 set-up (ours: the regime the theory covers)",
       statement="every run of Fig. 1 stays in the kernel regime: ‖W_T − W_0‖/‖W_0‖ <= 0.25 and "
                 "sup_t‖f − f_lin‖/‖y − f(0)‖ <= 0.25")
def _kernel_regime(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    return combine({"regime": C.regime_claim(e, NAMES)}, details=_details(e))


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    cur = verdicts[IDS[0]].details["curves"]
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    C.draw(axes, cur, NAMES, ["C0", "C1", "C2"])
    lines = (C.verdict_lines(verdicts[IDS[0]], {"final_test_loss": "teacher helps (test)"})
             + C.verdict_lines(verdicts[IDS[1]], {"train_loss_at_T/10": "faster with teacher"})
             + C.verdict_lines(verdicts[IDS[2]], {"vs_with_teacher": "teacher best"})
             + [f"kernel regime: {verdicts[IDS[3]].status.replace('_', ' ')}"])
    return C.finish(fig, axes, "Rahbar et al. Fig. 1 (λ = 0.01), measured over seeds", lines)
