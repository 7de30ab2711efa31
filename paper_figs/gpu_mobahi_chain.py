"""Paper 002, Figures 4 and 6 (left) in miniature: ℓ2 self-distillation rounds on an MLP (digits, clean and 30%
noisy labels), and the test-accuracy gap to early stopping at equal training loss."""

from paper_figs import _mobahi_net as _net
from verification.claims import claim
from paper_figs import verdicts_for

FIGURE = {"id": "gpu_mobahi_chain", "paper": "002",
          "title": "Self-distillation with the ℓ2 loss on the digits: training accuracy (original labels) and test "
                   "accuracy per round, clean and noisy labels; self-distilled minus early-stopped test accuracy at "
                   "equal training loss",
          "claims": ["mobahi.net.train_acc_falls", "mobahi.net.test_acc_rises_then_falls", "mobahi.net.not_early_stopping",
                     "mobahi.net.noisy_rises_then_falls", "mobahi.fig.fig4", "mobahi.fig.fig4_noisy", "mobahi.fig.fig6_l2"]}

_IDS = ("mobahi.fig.fig4", "mobahi.fig.fig4_noisy", "mobahi.fig.fig6_l2")


@claim("mobahi.fig.fig4", paper="002", where="Sec. 5, Fig. 4", kind="figure", rng_key=_net.CHAIN_KEY,
       statement="Fig. 4 (ℓ2 loss): 'both of these phenomena are observed' — training accuracy on y_0 drops every "
                 "round, and test accuracy first goes up, then down; on the clean-label chain the figure draws")
def _fig4(rng, size, device="auto", n_seeds=None):
    return _net.rounds_verdict(rng, size, device, n_seeds, "l2", noisy=False)


@claim("mobahi.fig.fig4_noisy", paper="002", where="Sec. 5, Fig. 4", kind="figure", rng_key=_net.NOISY_KEY,
       statement="Fig. 4's two phenomena (ℓ2 loss) on the 30%-noisy-label chain the figure draws")
def _fig4_noisy(rng, size, device="auto", n_seeds=None):
    return _net.rounds_verdict(rng, size, device, n_seeds, "l2", noisy=True)


@claim("mobahi.fig.fig6_l2", paper="002", where="Sec. 5, Fig. 6 (left)", kind="figure", rng_key=_net.CHAIN_KEY,
       statement="Fig. 6 (left, ℓ2): at equal training loss the self-distilled and the early-stopped models' test "
                 "accuracies differ ('different regularization effects'), per round as the figure draws them")
def _fig6_l2(rng, size, device="auto", n_seeds=None):
    return _net.early_stopping_verdict(rng, size, device, n_seeds, "l2")


def make(size="quick", verdicts=None):
    verdicts = verdicts_for(FIGURE, size, verdicts)
    return _net.make_figure(verdicts, _IDS, "l2", "Figs. 4 and 6 (left) in miniature, ℓ2 loss")
