"""Public hypothesis strategies for property-testing knowledge-distillation bounds.

One submodule per paper module plus generic ones; everything public is re-exported here:

* generic (:mod:`kdtheory.testing._core`): :func:`gram_matrices` (SPD / PSD with a chosen condition
  number), :func:`spectra`, :func:`orthogonal_matrices`, :func:`generators`;
* :func:`assert_claim` (:mod:`kdtheory.testing.assertions`): run your own Claim through the battery
  every registered claim goes through;
* per paper, one submodule per topic module of the paper manifest (``verification.papers``), discovered
  and re-exported automatically: ``variance_reduction`` (000), ``kernel_regime`` (001), ``self_distillation`` (002),
  ``linear_transfer`` (003), ``label_distribution`` (004) — see each module's ``__all__``.

All strategies take keyword-only arguments and raise clear errors for invalid ones (checked when
the strategy is built, before hypothesis draws anything). See ``docs/extending.md``.
"""

from __future__ import annotations

import importlib as _importlib
import pkgutil as _pkgutil

from ._core import generators, gram_matrices, orthogonal_matrices, spectra
from .assertions import assert_claim

_GENERIC = ["assert_claim", "generators", "gram_matrices", "orthogonal_matrices", "spectra"]
# Every public submodule (one per topic module of a paper of the manifest, plus ``assertions``) is
# imported and its ``__all__`` re-exported here: adding a paper's strategies is adding its module.
_PAPER_MODULES = tuple(
    _importlib.import_module(f"{__name__}.{_info.name}")
    for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda i: i.name)
    if not _info.name.startswith("_") and _info.name != "assertions"
)
__all__ = list(_GENERIC)
for _mod in _PAPER_MODULES:
    globals()[_mod.__name__.rsplit(".", 1)[1]] = _mod
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
    __all__ += list(_mod.__all__)
if len(set(__all__)) != len(__all__):  # a name exported twice would silently shadow another paper's strategy
    _dup = sorted({n for n in __all__ if __all__.count(n) > 1})
    raise ImportError(f"kdtheory.testing: public names exported by more than one module: {_dup}")
