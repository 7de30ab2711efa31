"""Every figure module renders at quick size, draws something, and cites registered claims."""

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


@pytest.mark.parametrize("fid", sorted(FIGS))
def test_figure_renders_and_cites_claims(fid):
    mod = FIGS[fid]
    assert mod.FIGURE["id"] == fid and mod.FIGURE["paper"] in papers()
    fig = paper_figs.render(mod, "quick")
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
