"""Independent oracles: exact worst cases computed without :mod:`kdtheory`.

Pure library code (``verification.claims.load_all`` skips this package): the claims that use it live
in :mod:`verification.pep`. The oracles need the optional extra ``oracles`` (PEPit + cvxpy, pinned in
``constraints/oracles.txt``); :func:`available` says whether it is installed, and every entry point
raises :class:`OracleUnavailable` (never ``ImportError``) when it is not. Values they produced are
committed in ``verification/oracles/golden/*.json`` so code that does not install the extra can still
be checked against them (:func:`load_golden`).
"""

from __future__ import annotations

from .golden import GOLDEN_DIR, golden_files, load_golden
from .pep_kd import (
    QUANTITIES,
    OracleUnavailable,
    PEPResult,
    available,
    kd_sgd_bound_ratio,
    kd_sgd_worst_case,
    oracle_versions,
)

__all__ = [
    "GOLDEN_DIR", "QUANTITIES", "OracleUnavailable", "PEPResult", "available", "golden_files",
    "kd_sgd_bound_ratio", "kd_sgd_worst_case", "load_golden", "oracle_versions",
]
