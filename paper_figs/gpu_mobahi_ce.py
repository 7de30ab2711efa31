"""Paper 002, Figures 5 and 6 (right) in miniature: self-distillation with the cross-entropy loss on the previous
round's soft predictions (MLP, digits, clean and 30% noisy labels), and the test-accuracy gap to early stopping at
equal training loss (cross-entropy on y_0)."""

from paper_figs import _mobahi_net as _net
from verification.claims import claim
from paper_figs import verdicts_for

FIGURE = {"id": "gpu_mobahi_ce", "paper": "002",
          "title": "Self-distillation with the cross-entropy loss on the digits: training accuracy (original labels) "
                   "and test accuracy per round, clean and noisy labels; self-distilled minus early-stopped test "
                   "accuracy at equal training loss",
          "claims": ["mobahi.net.ce_train_acc_falls", "mobahi.net.ce_test_acc_rises_then_falls",
                     "mobahi.net.ce_noisy_rises_then_falls", "mobahi.net.ce_not_early_stopping",
                     "mobahi.fig.fig5", "mobahi.fig.fig5_noisy", "mobahi.fig.fig6_ce"]}

_IDS = ("mobahi.fig.fig5", "mobahi.fig.fig5_noisy", "mobahi.fig.fig6_ce")


@claim("mobahi.fig.fig5", paper="002", where="Sec. 5, Fig. 5", kind="figure", rng_key=_net.CHAIN_KEY,
       statement="Fig. 5 (cross-entropy): 'similar phenomena' to Fig. 4 — training accuracy on y_0 drops every round, "
                 "and test accuracy first goes up, then down; on the clean-label chain the figure draws")
def _fig5(rng, size, device="auto", n_seeds=None):
    return _net.rounds_verdict(rng, size, device, n_seeds, "ce", noisy=False)


@claim("mobahi.fig.fig5_noisy", paper="002", where="Sec. 5, Fig. 5", kind="figure", rng_key=_net.NOISY_KEY,
       statement="Fig. 5's phenomena (cross-entropy) on the 30%-noisy-label chain the figure draws")
def _fig5_noisy(rng, size, device="auto", n_seeds=None):
    return _net.rounds_verdict(rng, size, device, n_seeds, "ce", noisy=True)


@claim("mobahi.fig.fig6_ce", paper="002", where="Sec. 5, Fig. 6 (right)", kind="figure", rng_key=_net.CHAIN_KEY,
       statement="Fig. 6 (right, cross-entropy): at equal training loss the self-distilled and the early-stopped "
                 "models' test accuracies differ, per round as the figure draws them")
def _fig6_ce(rng, size, device="auto", n_seeds=None):
    return _net.early_stopping_verdict(rng, size, device, n_seeds, "ce")


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    return _net.make_figure(verdicts, _IDS, "ce", "Figs. 5 and 6 (right) in miniature, cross-entropy loss")
