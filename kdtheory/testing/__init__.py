"""Public hypothesis strategies for property-testing knowledge-distillation bounds.

One submodule per paper module plus generic ones; everything public is re-exported here:

* generic (:mod:`kdtheory.testing._core`): :func:`gram_matrices` (SPD / PSD with a chosen condition
  number), :func:`spectra`, :func:`orthogonal_matrices`, :func:`generators`;
* :func:`assert_claim` (:mod:`kdtheory.testing.assertions`): run your own Claim through the battery
  every registered claim goes through;
* per paper: ``variance_reduction`` (000), ``kernel_regime`` (001), ``self_distillation`` (002),
  ``linear_transfer`` (003), ``label_distribution`` (004) — see each module's ``__all__``.

All strategies take keyword-only arguments and raise clear errors for invalid ones (checked when
the strategy is built, before hypothesis draws anything). See ``docs/extending.md``.
"""

from __future__ import annotations

import importlib

from ._core import generators, gram_matrices, orthogonal_matrices, spectra
from .assertions import assert_claim

__all__ = ["assert_claim", "generators", "gram_matrices", "orthogonal_matrices", "spectra"]

# Per-paper strategy modules, re-exported by name. Imported guardedly while they are being written:
# only the module itself being absent is tolerated (an error inside a module still surfaces).
_PAPER_MODULES = ("variance_reduction", "kernel_regime", "self_distillation", "linear_transfer", "label_distribution")
for _name in _PAPER_MODULES:
    try:
        _mod = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_name}":
            raise
        continue
    for _attr in getattr(_mod, "__all__", ()):
        if _attr in globals() and globals()[_attr] is not getattr(_mod, _attr):
            raise ImportError(f"kdtheory.testing: {_name}.{_attr} clashes with an existing public name")
        globals()[_attr] = getattr(_mod, _attr)
        __all__.append(_attr)
for _leftover in ("_name", "_mod", "_attr", "_exc"):
    globals().pop(_leftover, None)
del _leftover
