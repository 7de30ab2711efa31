"""The one battery of generic checks every registered theory claim goes through (scipy.stats style).

Each claim runs at ``size="quick"`` with the seed-0 generator the CLI would give it; it must not be
``violated``, its verdict must be well-formed and JSON-clean, its margin must agree with its status,
an erratum must carry a counterexample and name a corrected claim, and (when cheap) a second run
with the same seed must give the same verdict.
"""

import json
import math

import pytest

from verification.claims import STATUSES, Verdict, claim_rng, load_all, registry, select
from verification.papers import papers

load_all()
THEORY = select(kind="theory")


@pytest.mark.parametrize("c", THEORY, ids=lambda c: c.id)
def test_claim_quick(c):
    v = c.run(claim_rng(0, c.rng_name), "quick")
    assert isinstance(v, Verdict) and v.claim_id == c.id
    assert v.status in STATUSES
    assert v.status != "violated", (
        f"{c.id} ({c.where}) violated: predicted={v.predicted} measured={v.measured} "
        f"relation={v.relation} margin={v.margin} details={v.details}"
    )
    d = v.to_dict()
    json.dumps(d, allow_nan=False)  # NaN never travels into the report
    if v.status == "holds" and isinstance(v.margin, float) and math.isfinite(v.margin) and v.relation in ("<=", ">=", "=="):
        assert v.margin >= 0, "a verdict that holds must have margin >= 0"
    if v.status == "erratum":
        assert v.details.get("counterexample"), "an erratum needs a concrete counterexample"
        assert c.corrected_by, "an erratum claim must name its corrected claim (corrected_by=...)"
        assert c.corrected_by in registry(), f"corrected claim {c.corrected_by!r} is not registered"
    if v.seconds < 0.5:
        again = c.run(claim_rng(0, c.rng_name), "quick").to_dict()
        d.pop("seconds"), again.pop("seconds")
        assert again == d, "same seed, different verdict: the check is not deterministic"


def test_registry_metadata():
    reg = registry()
    for cid, c in reg.items():
        assert cid == c.id
        assert c.where.strip() and c.statement.strip(), f"{cid} lacks where/statement"
        assert "\n" not in c.statement, f"{cid}: statement must be one line"
        prefix = cid.split(".")[0]
        assert prefix == papers()[c.paper_key].prefix, f"{cid}: prefix is not its paper's ({c.paper_key})"
        if c.corrected_by is not None:
            assert c.corrected_by in reg, f"{cid} corrects unknown claim {c.corrected_by}"
