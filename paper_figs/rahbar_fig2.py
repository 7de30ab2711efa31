"""Fig. 2 of Rahbar et al.: students with λ → 0 (lottery ticket), λ = 0.01 and λ → ∞, and the teacher.

λ → ∞ with the student initialised at the teacher: loss (2) is 0 at initialisation and the weights do not
move (Sec. 4.1): drawn as that constant. Figure claim ``rahbar.fig2.finite_lambda_best``: "the student with a
finite regularization (λ = 0.01) outperforms the two other students in ... the quality of the results"
(final training and test loss vs λ → 0 and λ → ∞, over seeds, in the kernel regime of ``_rahbar_common``).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C
from verification.claims import claim, combine
from paper_figs import verdicts_for

NAMES = ["lottery", "with_teacher", "frozen", "teacher"]
CID = "rahbar.fig2.finite_lambda_best"
FIGURE = {"id": "rahbar_fig2", "paper": "001",
          "title": "Students with λ → 0, λ = 0.01, λ → ∞ and the teacher: training and test loss (digits 0/1)",
          "claims": ["rahbar.poles_monotone", "rahbar.thm2_expectation", "rahbar.final_error", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.1, Fig. 2",
       statement="λ = 0.01 ends with a lower training and test loss than λ → 0 (lottery ticket) and λ → ∞")
def _finite_lambda_best(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    parts = C.final_loss_parts(e, ("lottery", "frozen"), "with_teacher", "(λ = 0.01)")
    rc, fg, _ = C.regime(e, ["lottery", "with_teacher", "teacher"])
    return combine(parts, details={"curves": C.curves(e, NAMES), "relative_weight_change": rc, "function_gap": fg})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts[CID]
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    C.draw(axes, v.details["curves"], NAMES, ["C0", "C1", "C3", "C2"])
    lines = C.verdict_lines(v, {"train_vs_lottery": "λ = 0.01 below λ → 0 (train)",
                                "test_vs_lottery": "λ = 0.01 below λ → 0 (test)",
                                "test_vs_frozen": "λ = 0.01 below λ → ∞ (test)"})
    return C.finish(fig, axes, "Rahbar et al. Fig. 2: the regularisation λ between labels and teacher", lines)
