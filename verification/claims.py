"""Claims, Verdicts and the one registry every consumer reads.

A :class:`Claim` is one checkable statement of a paper; its ``check(rng, size)`` measures it and
returns a :class:`Verdict` (predicted vs measured, a relation, a status and a margin). The
registry is filled by the per-paper modules of :mod:`verification` (and, for networks, of
:mod:`gpu_validation.experiments`), which register their claims at import time with
:func:`claim` (decorator) or :func:`register` (explicit call). :func:`load_all` imports them.

Conventions shared by every claim
---------------------------------
* ``margin`` is signed so that ``margin >= 0`` means the relation holds:
  ``<=``: predicted − measured; ``>=``: measured − predicted; ``==``: tolerance − |measured − predicted|.
* ``status`` is one of :data:`STATUSES`. ``erratum`` means the formula *as printed* is refuted by a
  concrete counterexample stored in ``details``; the corrected formula is a separate claim that holds.
* ``size`` is ``"quick"`` (seconds; what pytest and ``make verify`` run) or ``"full"``.
* Every random draw comes from the ``rng`` passed in, which the runner derives from the global seed
  and the claim's ``rng_key`` (its id unless set), so one claim gives the same verdict alone or inside
  a full run. Claims that measure one experiment share an ``rng_key``, so they receive equal
  generators and can reuse one run of it (see ``gpu_validation.experiments._common.memo``).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

STATUSES = ("holds", "violated", "erratum", "skipped")
SIZES = ("quick", "full")
KINDS = ("theory", "network")

# The paper manifest (one record per paper, verification/papers/): PAPERS is a live view
# key -> (seed file, citation) that includes papers registered by plugins.
from .papers import PAPERS, paper_key  # noqa: E402,F401  (re-exported: the historical home of both)


def _jsonable(x: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats into plain JSON values."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(x, complex):
        return {"re": _jsonable(x.real), "im": _jsonable(x.imag)}
    if x is None or isinstance(x, (int, str)):
        return x
    return repr(x)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What one check measured.

    ``predicted`` is the bound or closed form, ``measured`` the simulation/network value; both are
    scalars (a check that compares curves reduces them to the worst point and keeps the curves in
    ``details``). ``relation`` reads "measured <relation> predicted" (``"<="``, ``">="``, ``"=="``,
    ``"argmin"``, ``"~"`` …).
    """

    claim_id: str
    predicted: Any
    measured: Any
    relation: str
    status: str
    margin: float
    details: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if not isinstance(self.claim_id, str) or not self.claim_id:
            raise ValueError("claim_id must be a non-empty string")

    @property
    def ok(self) -> bool:
        """True unless the claim is violated (``erratum`` and ``skipped`` are not failures)."""
        return self.status != "violated"

    def with_seconds(self, seconds: float) -> "Verdict":
        return dataclasses.replace(self, seconds=float(seconds))

    def to_dict(self) -> dict:
        """Plain-JSON form with a fixed key order."""
        return {
            "claim_id": self.claim_id,
            "status": self.status,
            "relation": self.relation,
            "predicted": _jsonable(self.predicted),
            "measured": _jsonable(self.measured),
            "margin": _jsonable(self.margin),
            "details": _jsonable(self.details),
            "seconds": round(float(self.seconds), 4),
        }


def compare(
    claim_id: str,
    predicted: float,
    measured: float,
    relation: str,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    details: Mapping | None = None,
) -> Verdict:
    """Build a Verdict from a scalar comparison "measured <relation> predicted".

    ``relation`` is ``"<="``, ``">="`` or ``"=="``; the tolerance ``atol + rtol·|predicted|`` is added
    in favour of the claim for all three (a bound checked by simulation carries simulation error),
    and is included in ``margin``, so ``margin >= 0`` exactly when the verdict ``holds``.
    A NaN on either side is ``violated`` (it never travels on silently).
    """
    if relation not in ("<=", ">=", "=="):
        raise ValueError(f"relation must be '<=', '>=' or '==', got {relation!r}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    p, m = float(predicted), float(measured)
    det = dict(details or {})
    if math.isnan(p) or math.isnan(m):
        det["reason"] = "NaN in predicted or measured"
        return Verdict(claim_id, p, m, relation, "violated", float("nan"), det)
    tol = atol + rtol * (abs(p) if math.isfinite(p) else 0.0)
    if relation == "<=":
        margin = p - m
    elif relation == ">=":
        margin = m - p
    else:
        margin = -abs(m - p) if math.isfinite(m - p) else (0.0 if m == p else -math.inf)
    if tol:
        det.setdefault("tolerance", tol)
    margin = margin + tol
    return Verdict(claim_id, p, m, relation, "holds" if margin >= 0 else "violated", margin, det)


def erratum(
    claim_id: str,
    printed: float,
    measured: float,
    relation: str,
    *,
    counterexample: Mapping,
    refuted: bool,
    corrected_by: str | None = None,
    details: Mapping | None = None,
) -> Verdict:
    """Verdict of an erratum claim: the printed formula is refuted by ``counterexample``.

    ``refuted`` says whether the counterexample actually refutes the printed formula; if it does not,
    the erratum itself is wrong and the verdict is ``violated``. ``margin`` is how far the printed
    formula misses, as ``compare`` would report it (negative when refuted).
    """
    if not counterexample:
        raise ValueError("an erratum needs a concrete counterexample (a non-empty mapping)")
    base = compare(claim_id, printed, measured, relation) if relation in ("<=", ">=", "==") else None
    det = {"counterexample": dict(counterexample), **dict(details or {})}
    if corrected_by:
        det["corrected_by"] = corrected_by
    margin = base.margin if base is not None else float("nan")
    return Verdict(claim_id, printed, measured, relation, "erratum" if refuted else "violated", margin, det)


def skipped(claim_id: str, reason: str, **details: Any) -> Verdict:
    """A claim that could not be checked here (a missing optional extra, an inaccurate solver)."""
    return Verdict(claim_id, float("nan"), float("nan"), "n/a", "skipped", float("nan"), {"reason": reason, **details})


@dataclasses.dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper.

    ``check(rng, size)`` returns a :class:`Verdict` with ``claim_id == id``. Network claims
    (``kind="network"``) may also accept keyword options (``device``, ``dataset``, ``data_dir``);
    the runner passes only the options the function's signature names. ``rng_key`` (default: the id)
    names the generator the runner derives for the check: claims of one experiment share it.
    """

    id: str
    paper: str
    where: str
    statement: str
    check: Callable[..., Verdict]
    kind: str = "theory"
    corrects: str | None = None  # for an erratum claim: the id of the corrected claim
    tags: tuple[str, ...] = ()
    rng_key: str | None = None  # the generator is derived from this key instead of the id

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or "." not in self.id:
            raise ValueError(f"claim id must look like 'paper.name', got {self.id!r}")
        if self.rng_key is not None and (not isinstance(self.rng_key, str) or not self.rng_key):
            raise ValueError(f"rng_key must be None or a non-empty string, got {self.rng_key!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not callable(self.check):
            raise TypeError("check must be callable")

    @property
    def paper_key(self) -> str:
        return paper_key(self.paper)

    @property
    def rng_name(self) -> str:
        """The key the runner derives this claim's generator from: ``rng_key``, else the id."""
        return self.rng_key or self.id

    def run(self, rng: np.random.Generator, size: str = "quick", **options: Any) -> Verdict:
        """Run the check, time it, and validate what it returned."""
        if size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}, got {size!r}")
        params = inspect.signature(self.check).parameters
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        kw = {k: v for k, v in options.items() if accepts_any or k in params}
        t0 = time.perf_counter()
        verdict = self.check(rng, size, **kw)
        seconds = time.perf_counter() - t0
        if not isinstance(verdict, Verdict):
            raise TypeError(f"claim {self.id}: check returned {type(verdict).__name__}, not a Verdict")
        if verdict.claim_id != self.id:
            raise ValueError(f"claim {self.id}: check returned a verdict for {verdict.claim_id!r}")
        return verdict.with_seconds(seconds)


_REGISTRY: dict[str, Claim] = {}


def register(c: Claim) -> Claim:
    """Add a claim to the registry; a second claim with the same id is an error."""
    if not isinstance(c, Claim):
        raise TypeError(f"register expects a Claim, got {type(c).__name__}")
    old = _REGISTRY.get(c.id)
    if old is not None and old is not c:
        # re-importing the same module (e.g. under a test runner) registers an equal claim again
        if (old.check.__module__, old.check.__qualname__) != (c.check.__module__, c.check.__qualname__):
            raise ValueError(f"claim id {c.id!r} is registered twice")
    paper_key(c.paper)
    _REGISTRY[c.id] = c
    return c


def claim(
    id: str,
    *,
    paper: str,
    where: str,
    statement: str,
    kind: str = "theory",
    corrects: str | None = None,
    tags: Iterable[str] = (),
    rng_key: str | None = None,
) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Decorator form of :func:`register`: ``@claim("mobahi.prop4", paper="002", where=..., statement=...)``."""

    def deco(fn: Callable[..., Verdict]) -> Callable[..., Verdict]:
        register(Claim(id, PAPERS[paper_key(paper)][0], where, statement, fn, kind, corrects, tuple(tags), rng_key))
        return fn

    return deco


_THEORY_PACKAGES = ("verification",)
_NETWORK_PACKAGES = ("gpu_validation.experiments",)
_NOT_CLAIM_MODULES = {"claims", "report", "cli", "simulate", "oracles", "papers", "plugins", "executors",
                      "stability"}


def load_all(*, network: bool = False, modules: Iterable[str] = (), plugins: bool = True) -> dict[str, Claim]:
    """Import every claim module so the registry is complete; return the registry.

    Theory claims live in ``verification/<paper module>.py``; network claims in
    ``gpu_validation/experiments/*.py`` and are imported only with ``network=True`` (they need torch).
    Third-party claims join too (:mod:`verification.plugins`): the modules named in ``modules``
    (``kdverify --module my_pkg.claims``) and, unless ``plugins=False``, every module of the
    ``kdtheory.claims`` entry-point group of the installed distributions.
    """
    pkgs = list(_THEORY_PACKAGES) + (list(_NETWORK_PACKAGES) if network else [])
    for pkg_name in pkgs:
        pkg = importlib.import_module(pkg_name)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if info.name.startswith("_") or info.name in _NOT_CLAIM_MODULES:
                continue
            importlib.import_module(f"{pkg_name}.{info.name}")
    from . import plugins as _plugins

    _plugins.load_plugins(modules, entry_points=plugins)
    return dict(_REGISTRY)


def registry() -> dict[str, Claim]:
    """The claims registered so far (call :func:`load_all` first for all of them)."""
    return dict(_REGISTRY)


def get(claim_id: str) -> Claim:
    """Look a claim up by id, with a helpful error listing near matches."""
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        near = [k for k in _REGISTRY if claim_id.split(".")[0] in k][:10]
        raise KeyError(f"no claim {claim_id!r}; known ids with that prefix: {near}") from None


def by_paper(paper: str, *, kind: str | None = "theory") -> list[Claim]:
    """Claims of one paper (key, seed file or module name), sorted by id."""
    key = paper_key(paper)
    return sorted(
        (c for c in _REGISTRY.values() if c.paper_key == key and (kind is None or c.kind == kind)),
        key=lambda c: c.id,
    )


def select(
    *, paper: str | None = None, ids: Iterable[str] | None = None, kind: str | None = "theory"
) -> list[Claim]:
    """Claims filtered by paper and/or ids (ids may end with '*' as a prefix match), sorted by paper then id."""
    out = [c for c in _REGISTRY.values() if kind is None or c.kind == kind]
    if paper is not None:
        key = paper_key(paper)
        out = [c for c in out if c.paper_key == key]
    if ids:
        ids = list(ids)
        for i in ids:
            if not i.endswith("*") and i not in _REGISTRY:
                get(i)  # raises with near matches
        out = [c for c in out if any(c.id == i or (i.endswith("*") and c.id.startswith(i[:-1])) for i in ids)]
    return sorted(out, key=lambda c: (c.paper_key, c.id))


def rng_seed(seed: int, claim_id: str) -> list[int]:
    """The entropy of the generator a claim receives: the global seed and a hash of the claim id
    (pass ``Claim.rng_name``, i.e. its ``rng_key`` when it has one)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return [int(seed), zlib.crc32(claim_id.encode())]


def claim_rng(seed: int, claim_id: str) -> np.random.Generator:
    """The generator a claim receives: a function of the global seed and the key only
    (``Claim.rng_name``: the claim's ``rng_key``, else its id)."""
    return np.random.default_rng(rng_seed(seed, claim_id))


def run_claims(
    claims: Iterable[Claim],
    *,
    seed: int = 0,
    size: str = "quick",
    progress: Callable[[Claim], None] | None = None,
    **options: Any,
) -> list[Verdict]:
    """Run claims in order; an exception inside a check becomes a ``violated`` verdict with the error."""
    out = []
    for c in claims:
        t0 = time.perf_counter()
        try:
            v = c.run(claim_rng(seed, c.rng_name), size, **options)
        except Exception as exc:  # the report must show a crashing check, not hide it
            v = Verdict(c.id, float("nan"), float("nan"), "n/a", "violated", float("nan"),
                        {"error": f"{type(exc).__name__}: {exc}"}, time.perf_counter() - t0)
        out.append(v)
        if progress is not None:
            progress(c)
    return out
