"""``assert_claim``: run a user's own Claim through the battery every registered claim goes through.

The same checks as the suite's generic registry test (``tests/verification/test_registry.py``):
the check returns a well-formed :class:`~verification.claims.Verdict` for the claim's id, with a
valid status; it is not ``violated``; its report form is JSON-clean (no NaN leaks); a verdict that
``holds`` has ``margin >= 0``; an ``erratum`` carries a concrete counterexample and names the claim
that corrects it; and the same seed gives the same verdict (apart from timing).
"""

from __future__ import annotations

import json
import math
import numbers

import numpy as np

__all__ = ["assert_claim"]


def assert_claim(claim, size: str = "quick", seed: int = 0, *, check_determinism: bool = True):
    """Run ``claim`` at ``size`` with the generator the CLI gives it for ``seed``; assert the battery.

    ``claim`` is a :class:`verification.claims.Claim` or the id of a registered one (the registry is
    completed with :func:`~verification.claims.load_all` first, so an installed plugin's claim id works).
    Returns the :class:`~verification.claims.Verdict` (so a test can assert more on ``verdict.details``).
    Raises ``AssertionError`` with the verdict's numbers when a check fails, and
    ``TypeError``/``ValueError`` for invalid arguments. ``check_determinism=False`` skips the
    second run (for an expensive ``size="full"`` check).
    """
    from verification.claims import SIZES, STATUSES, Claim, Verdict, claim_rng, get, load_all, registry

    if isinstance(claim, str):
        if claim not in registry():  # the suite's claims and installed plugins (kdtheory.claims entry points)
            load_all()
        claim = get(claim)
    if not isinstance(claim, Claim):
        raise TypeError(f"claim must be a verification.claims.Claim or a registered claim id, got {type(claim).__name__}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    if not isinstance(check_determinism, (bool, np.bool_)):
        raise TypeError(f"check_determinism must be a bool, got {type(check_determinism).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")

    v = claim.run(claim_rng(int(seed), claim.rng_name), size)
    where = f"{claim.id} ({claim.where})"
    assert isinstance(v, Verdict) and v.claim_id == claim.id, f"{where}: check returned {v!r}"
    assert v.status in STATUSES, f"{where}: unknown status {v.status!r}"
    assert v.status != "violated", (
        f"{where} violated: predicted={v.predicted} measured={v.measured} relation={v.relation} "
        f"margin={v.margin} details={v.details}"
    )
    d = v.to_dict()
    try:
        json.dumps(d, allow_nan=False)
    except (TypeError, ValueError) as exc:  # pragma: no cover - to_dict already converts
        raise AssertionError(f"{where}: verdict is not JSON-clean: {exc}") from None
    if (v.status == "holds" and v.relation in ("<=", ">=", "==") and isinstance(v.margin, float)
            and math.isfinite(v.margin)):
        assert v.margin >= 0, f"{where}: a verdict that holds must have margin >= 0, got {v.margin}"
    if v.status == "erratum":
        assert v.details.get("counterexample"), f"{where}: an erratum needs a concrete counterexample in details"
        assert claim.corrected_by, f"{where}: an erratum claim must name its corrected claim (corrected_by=...)"
        reg = registry()
        if claim.id in reg:  # a registered erratum must point at a registered correction
            assert claim.corrected_by in reg, f"{where}: corrected claim {claim.corrected_by!r} is not registered"
    if check_determinism:
        again = claim.run(claim_rng(int(seed), claim.rng_name), size).to_dict()
        d.pop("seconds")
        again.pop("seconds")
        assert again == d, f"{where}: same seed, different verdict (the check is not deterministic)"
    return v
