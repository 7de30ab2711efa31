"""Fig. 3 of Rahbar et al.: perfect teacher vs imperfect teacher (early weights) vs no student initialisation.

Figure claim ``rahbar.fig3.perfect_best``: "initializing and training the student with the perfect teacher yields
the best results in terms of ... quality (training and test loss)" (final losses over seeds, kernel regime of
``_rahbar_common``; λ = 0.01 throughout).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from paper_figs import _rahbar_common as C
from verification.claims import claim, combine
from paper_figs import verdicts_for

NAMES = ["with_teacher", "imperfect", "no_init"]
CID = "rahbar.fig3.perfect_best"
FIGURE = {"id": "rahbar_fig3", "paper": "001",
          "title": "Perfect vs imperfect vs no-initialisation teacher (λ = 0.01): training and test loss (digits 0/1)",
          "claims": ["rahbar.thm1_conditions", "rahbar.thm3_modal", "rahbar.final_error", CID]}


@claim(CID, paper="001", kind="figure", where="Sec. 4.2, Fig. 3",
       statement="the student of the perfect teacher, initialised at it, ends with the lowest training and test loss")
def _perfect_best(rng, size, n_seeds=None):
    e = C.experiment(size, n_seeds=n_seeds)
    parts = C.final_loss_parts(e, ("imperfect", "no_init"), "with_teacher", "perfect")
    rc, fg, _ = C.regime(e, NAMES)
    return combine(parts, details={"curves": C.curves(e, NAMES), "relative_weight_change": rc, "function_gap": fg})


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    v = verdicts[CID]
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    cur = dict(v.details["curves"])
    C.LABELS.setdefault("with_teacher", "perfect teacher")
    C.draw(axes, cur, NAMES, ["C1", "C4", "C5"])
    lines = C.verdict_lines(v, {"test_vs_imperfect": "perfect below imperfect (test)",
                                "test_vs_no_init": "perfect below no initialisation (test)",
                                "train_vs_imperfect": "perfect below imperfect (train)"})
    return C.finish(fig, axes, "Rahbar et al. Fig. 3: quality of the teacher and of the initialisation", lines)
