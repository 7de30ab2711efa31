"""Seed stability: does a claim's status survive a change of the global seed?

``kdverify stability --seeds 0-4`` runs the selected claims at every seed (each claim × seed an
independent task, so ``--jobs``/``--dask`` spread them) and calls a claim *unstable* when its status
changes between seeds other than to or from ``inconclusive``: ``holds`` at one seed and ``violated``
(or ``not_reproduced``, ``skipped`` …) at another is unstable; ``holds`` / ``inconclusive`` is not —
an interval that straddles the relation at one seed is the honest answer of a random measurement.
The command exits with code 1 when any claim is unstable and lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

__all__ = ["TOLERATED", "parse_seeds", "is_stable", "stability_report"]

#: Statuses a claim may move to or from between seeds without being unstable.
TOLERATED = frozenset({"inconclusive"})


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` → [0, 1, 2, 3, 4]; ``"0,2,7"``, ``"3"`` and mixes (``"0-2,9"``) too; sorted, unique."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"seeds must look like '0-4' or '0,2,7', got {text!r}")
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m:
            raise ValueError(f"seeds must look like '0-4' or '0,2,7' (non-negative integers), got {text!r}")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"seed range {part!r} is empty (end < start)")
        if hi - lo > 10_000:
            raise ValueError(f"seed range {part!r} has more than 10000 seeds")
        out.update(range(lo, hi + 1))
    return sorted(out)


def is_stable(statuses: Sequence[str]) -> bool:
    """True when the statuses, ``inconclusive`` left aside, are all the same."""
    return len(set(statuses) - TOLERATED) <= 1


def stability_report(claims: Sequence, by_seed: Mapping[int, Sequence]) -> dict:
    """Per claim its status at each seed and whether it is stable; ``unstable``: the ids that are not.

    ``by_seed`` maps each seed to the verdicts of ``claims`` (same order), as
    :func:`verification.executors.run_seeds` returns them.
    """
    seeds = sorted(by_seed)
    rows = []
    for k, c in enumerate(claims):
        vs = [by_seed[s][k] for s in seeds]
        if any(v.claim_id != c.id for v in vs):
            raise ValueError(f"verdicts do not pair up with claim {c.id!r}")
        statuses = [v.status for v in vs]
        row = {"claim_id": c.id, "paper": c.paper_key, "statuses": dict(zip(map(str, seeds), statuses)),
               "stable": is_stable(statuses)}
        errors = {str(s): v.details["error"] for s, v in zip(seeds, vs) if "error" in v.details}
        if errors:
            row["errors"] = errors
        rows.append(row)
    return {"seeds": seeds, "claims": rows, "unstable": [r["claim_id"] for r in rows if not r["stable"]]}
