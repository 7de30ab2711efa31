"""Third-party claims: modules named on the command line and the ``kdtheory.claims`` entry points.

A plugin is an ordinary module that registers claims with :func:`verification.claims.claim` (or
``register``) when it is imported, after registering its own paper record if it verifies a paper the
manifest does not know (:mod:`verification.papers`)::

    # my_pkg/claims.py
    from verification.claims import claim, compare
    from verification.papers import Paper, register_paper

    PAPER = register_paper(Paper(key="toy", seed_file="toy_2026.txt", citation="Doe — a toy bound",
                                 prefix="toy", topic=("my_pkg.formulas",)))

    @claim("toy.bound", paper="toy", where="Thm. 1", statement="x <= 1")
    def check_bound(rng, size):
        return compare("toy.bound", 1.0, float(rng.random()), "<=")

It joins the registry, ``kdverify run|list|gpu|stability``, the reports and
:func:`kdtheory.testing.assert_claim` in two ways:

* ``kdverify run --module my_pkg.claims`` (repeatable; the module must be importable, e.g. on
  ``PYTHONPATH``), or ``load_all(modules=["my_pkg.claims"])``;
* installed: the distribution declares an entry point in the group ``kdtheory.claims`` whose value is
  the module (``my_pkg.claims``) or a callable that registers claims (``my_pkg.claims:register``)::

      [project.entry-points."kdtheory.claims"]
      toy = "my_pkg.claims"

  :func:`verification.claims.load_all` loads every such entry point (``plugins=False`` skips them),
  so an installed plugin's claims also run in the suite's registry battery.

A plugin that fails to import raises :class:`PluginError` naming the module or entry point: a claim
that silently goes missing from a report is worse than a run that stops.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from types import ModuleType

from .papers import Paper, register_paper

__all__ = ["ENTRY_POINT_GROUP", "PluginError", "entry_points", "load_module", "load_plugins", "loaded_modules"]

#: The entry-point group an installed distribution declares its claim modules in.
ENTRY_POINT_GROUP = "kdtheory.claims"

_LOADED: list[str] = []  # modules given by name (in load order); workers of a parallel run import them too
_EP_DONE: set[tuple[str, str]] = set()


class PluginError(ImportError):
    """A plugin module or entry point could not be imported or registered its claims wrongly."""


def load_module(name: str) -> ModuleType:
    """Import a claim module by its dotted name and register its ``PAPER`` record, if it has one."""
    if not isinstance(name, str) or not name.strip() or name.strip() != name:
        raise ValueError(f"module must be a dotted module name, got {name!r}")
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        raise PluginError(f"claim module {name!r} could not be imported: {exc}") from exc
    except Exception as exc:  # a bug in the plugin: say which plugin
        raise PluginError(f"claim module {name!r} raised on import: {type(exc).__name__}: {exc}") from exc
    rec = getattr(mod, "PAPER", None)
    if isinstance(rec, Paper):
        register_paper(rec)
    if name not in _LOADED:
        _LOADED.append(name)
    return mod


def entry_points() -> list[importlib.metadata.EntryPoint]:
    """The installed ``kdtheory.claims`` entry points, sorted by name then value (a stable load order)."""
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return sorted(eps, key=lambda ep: (ep.name, ep.value))


_installed = entry_points  # load_plugins' keyword shadows the name


def _load_entry_point(ep: importlib.metadata.EntryPoint) -> None:
    dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
    what = f"entry point {ep.name!r} = {ep.value!r} (group {ENTRY_POINT_GROUP}, distribution {dist})"
    try:
        obj = ep.load()
    except Exception as exc:
        raise PluginError(f"{what} could not be loaded: {type(exc).__name__}: {exc}") from exc
    if isinstance(obj, ModuleType):
        rec = getattr(obj, "PAPER", None)
        if isinstance(rec, Paper):
            register_paper(rec)
    elif callable(obj):
        try:
            obj()
        except Exception as exc:
            raise PluginError(f"{what} raised: {type(exc).__name__}: {exc}") from exc
    else:
        raise PluginError(f"{what} is neither a module nor a callable but {type(obj).__name__}")


def load_plugins(modules: Iterable[str] = (), *, entry_points: bool = True) -> list[str]:
    """Import the named claim modules and (unless ``entry_points=False``) every installed entry point.

    Idempotent: a module or entry point is imported once per process. Returns the names of the
    modules loaded by name so far (what a worker process must import to see the same registry).
    """
    if isinstance(modules, str):
        modules = [modules]
    for name in modules:
        load_module(name)
    if entry_points:
        for ep in _installed():
            key = (ep.name, ep.value)
            if key in _EP_DONE:
                continue
            _load_entry_point(ep)
            _EP_DONE.add(key)
    return list(_LOADED)


def loaded_modules() -> list[str]:
    """The claim modules loaded by name in this process (in load order)."""
    return list(_LOADED)
