"""Reproduced figures: one module per figure.

Every module here (name not starting with ``_``) defines

* ``FIGURE``: a dict with keys ``id`` (file stem, e.g. ``"safaryan_fig2"``), ``paper`` ("000" … "004"),
  ``title`` (what the paper's figure shows) and ``claims`` (ids of every claim the figure cites: theory or
  network claims, and the module's own figure claims);
* figure claims: the paper's statements about the figure, registered in the module with
  ``@claim(..., kind="figure")`` and measured on the very data the figure draws (the check computes the
  data and keeps the curves in ``details``); a statement not observed here is ``not_reproduced``
  (:func:`verification.claims.observed`), with the reason;
* ``make(size="quick", verdicts=None) -> matplotlib.figure.Figure``: draws from the verdicts of its figure
  claims (``verdicts``: claim id -> Verdict; when ``None``, :func:`figure_verdicts` runs them with seed 0).
  It runs no experiment of its own, and its title states what was measured, never a hoped-for conclusion.

``kdverify figs`` runs the figure claims, renders every module to ``figures/<id>.png`` and writes
``figures/index.md`` (each figure claim's status and reason) and ``figures/figures.json``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Mapping
from types import ModuleType


def discover() -> dict[str, ModuleType]:
    """Import every figure module and return them by figure id (sorted)."""
    out: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        meta = getattr(mod, "FIGURE", None)
        if meta is None or not callable(getattr(mod, "make", None)):
            continue
        missing = {"id", "paper", "title", "claims"} - set(meta)
        if missing:
            raise ValueError(f"{mod.__name__}.FIGURE lacks keys {sorted(missing)}")
        if meta["id"] in out:
            raise ValueError(f"figure id {meta['id']!r} is defined twice")
        out[meta["id"]] = mod
    return out


def figure_claims(meta: Mapping) -> list:
    """The registered ``kind="figure"`` claims a figure cites (``FIGURE["claims"]``), in citation order."""
    from verification.claims import load_all

    reg = load_all(figures=True)
    return [reg[c] for c in meta["claims"] if c in reg and reg[c].kind == "figure"]


def figure_verdicts(meta: Mapping, size: str = "quick", *, seed: int = 0, **options) -> dict:
    """Run a figure's figure claims (seed ``seed``) and return ``{claim id: Verdict}`` for ``make``."""
    from verification.claims import run_claims

    claims = figure_claims(meta)
    return {c.id: v for c, v in zip(claims, run_claims(claims, seed=seed, size=size, **options))}


def verdicts_for(meta: Mapping, size: str, verdicts: Mapping | None) -> Mapping:
    """What ``make(size, verdicts)`` draws from: the verdicts passed in, else a run of the figure's figure
    claims (:func:`figure_verdicts`, seed 0) — the first line of every figure module's ``make``."""
    return figure_verdicts(meta, size) if verdicts is None else verdicts


def render(mod: ModuleType, size: str = "quick", verdicts: Mapping | None = None):
    """``mod.make(size, verdicts)``; a legacy ``make(size)`` without figure claims is called as it is."""
    params = inspect.signature(mod.make).parameters
    if "verdicts" in params:
        return mod.make(size, verdicts=figure_verdicts(mod.FIGURE, size) if verdicts is None else verdicts)
    return mod.make(size)
