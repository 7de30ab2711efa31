"""Reproduced figures: one module per figure.

Every module here (name not starting with ``_``) defines

* ``FIGURE``: a dict with keys ``id`` (file stem, e.g. ``"safaryan_fig2"``), ``paper`` ("000" … "004"),
  ``title`` (what the paper's figure shows) and ``claims`` (ids of the claims the figure illustrates);
* ``make(size="quick") -> matplotlib.figure.Figure``: builds the figure deterministically (fixed seed),
  importing every formula from :mod:`kdtheory` and every simulator from :mod:`verification.simulate`.

``kdverify figs`` renders every such module to ``figures/<id>.png`` and writes ``figures/index.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
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
