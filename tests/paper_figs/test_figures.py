"""Every figure module renders at quick size, draws something, and cites registered claims."""

import inspect
import io

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import paper_figs  # noqa: E402
from verification.claims import load_all  # noqa: E402
from verification.papers import papers  # noqa: E402

FIGS = paper_figs.discover()


def _registered_ids():
    ids = set(load_all())
    try:
        ids |= set(load_all(network=True))
    except ImportError:
        pass
    return ids


# Rendering is tested, not the verdicts (the registry battery runs every claim at quick size): the network
# figures' experiments run smaller here — the quick defaults (4–32 seeds, hundreds of epochs) are what their
# intervals need and cost minutes each; drawing depends on neither the seed count nor the epochs.
_SMALLER = {"gpu_validation.experiments.mobahi": {"rounds": 3, "epochs": 8, "hidden": 16, "n_train": 120},
            "gpu_validation.experiments.soteacher": {"epochs": 30, "student_epochs": 10}}


@pytest.mark.parametrize("fid", sorted(FIGS))
def test_figure_renders_and_cites_claims(fid, monkeypatch):
    import importlib

    mod = FIGS[fid]
    assert mod.FIGURE["id"] == fid and mod.FIGURE["paper"] in papers()
    opts = {}
    if fid.startswith("gpu_"):
        opts = {"n_seeds": 2}
        for name, over in _SMALLER.items():
            exp = importlib.import_module(name)
            monkeypatch.setitem(exp._SIZES, "quick", {**exp._SIZES["quick"], **over})
    fig = paper_figs.render(mod, "quick", paper_figs.figure_verdicts(mod.FIGURE, "quick", **opts)
                            if "verdicts" in inspect.signature(mod.make).parameters else None)
    try:
        assert isinstance(fig, Figure)
        axes = [ax for ax in fig.axes if ax.has_data()]
        assert axes, f"{fid}: no axes with data"
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=50)
        assert buf.tell() > 1000
    finally:
        plt.close(fig)
    missing = set(mod.FIGURE["claims"]) - _registered_ids()
    assert not missing, f"{fid} cites unregistered claims {sorted(missing)}"
