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

from . import kernel_regime, label_distribution, linear_transfer, self_distillation, variance_reduction
from ._core import generators, gram_matrices, orthogonal_matrices, spectra
from .assertions import assert_claim
from .kernel_regime import *  # noqa: F401,F403  (names listed in each module's __all__)
from .label_distribution import *  # noqa: F401,F403
from .linear_transfer import *  # noqa: F401,F403
from .self_distillation import *  # noqa: F401,F403
from .variance_reduction import *  # noqa: F401,F403

_GENERIC = ["assert_claim", "generators", "gram_matrices", "orthogonal_matrices", "spectra"]
_PAPER_MODULES = (variance_reduction, kernel_regime, self_distillation, linear_transfer, label_distribution)
__all__ = _GENERIC + [name for mod in _PAPER_MODULES for name in mod.__all__]
if len(set(__all__)) != len(__all__):  # a name exported twice would silently shadow another paper's strategy
    _dup = sorted({n for n in __all__ if __all__.count(n) > 1})
    raise ImportError(f"kdtheory.testing: public names exported by more than one module: {_dup}")
