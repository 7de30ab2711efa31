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

#: ``inconclusive``: a random measurement whose confidence interval straddles the relation (more samples
#: would decide it; ``details`` says how many). ``not_reproduced``: an empirical statement of a paper (a
#: figure's or a network's) that is not observed in our setting; ``details["reason"]`` says why. Neither
#: fails a run: only ``violated`` does (a refuted theorem, a crashed check).
STATUSES = ("holds", "violated", "erratum", "skipped", "inconclusive", "not_reproduced")
#: Severity order used by :func:`combine`: the worst part decides.
SEVERITY = ("violated", "inconclusive", "not_reproduced", "erratum", "holds", "skipped")
SIZES = ("quick", "full")
KINDS = ("theory", "network", "figure")

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
    tightness: float | None = None
    resolution: float | None = None
    vacuous: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        # "" is the placeholder of a check that lets the runner stamp its id (Claim.run)
        if not isinstance(self.claim_id, str):
            raise ValueError("claim_id must be a string")
        for name in ("tightness", "resolution"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer))):
                raise TypeError(f"{name} must be a real number or None, got {type(v).__name__}")
        if not isinstance(self.vacuous, (bool, np.bool_)):
            raise TypeError(f"vacuous must be a bool, got {type(self.vacuous).__name__}")

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
            "tightness": _jsonable(None if self.tightness is None else float(self.tightness)),
            "resolution": _jsonable(None if self.resolution is None else float(self.resolution)),
            "vacuous": bool(self.vacuous),
            "details": _jsonable(self.details),
            "seconds": round(float(self.seconds), 4),
        }


_MISSING = object()


def _with_id(fname: str, args: tuple, names: tuple[str, ...], kw: dict) -> tuple[str, list]:
    """Split the optional leading claim id off ``args`` and bind the rest to ``names`` (positional or
    keyword). The runner stamps the id of a verdict built without one (:meth:`Claim.run`)."""
    claim_id = ""
    if args and isinstance(args[0], str):
        claim_id, args = args[0], args[1:]
    if len(args) > len(names):
        raise TypeError(f"{fname}() takes at most {len(names)} positional values after the optional claim id")
    vals = list(args) + [kw.pop(n, _MISSING) for n in names[len(args):]]
    for n, v in zip(names, vals):
        if v is _MISSING:
            raise TypeError(f"{fname}() missing required argument {n!r}")
    for n in names[: len(args)]:
        if n in kw:
            raise TypeError(f"{fname}() got multiple values for argument {n!r}")
    return claim_id, vals


def _finite_positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def bound_tightness(predicted: float, measured: float, relation: str) -> tuple[float | None, float | None]:
    """Tightness and resolution of a bound check "measured <relation> predicted".

    Upper bound (``<=``): tightness = measured/predicted (1 = tight), resolution = 1 − tightness: a
    predicted side lowered by more than that fraction would be flagged. Lower bound (``>=``):
    tightness = predicted/measured, resolution = measured/predicted − 1. ``(None, None)`` when a side is
    not a positive finite number (a gap compared with 0 carries no scale).
    """
    p, m = float(predicted), float(measured)
    if relation == "<=" and _finite_positive(p) and math.isfinite(m) and m >= 0:
        t = m / p
        return t, max(1.0 - t, 0.0)
    if relation == ">=" and _finite_positive(p) and _finite_positive(m):
        t = p / m
        return t, max(m / p - 1.0, 0.0)
    return None, None


def compare(
    *args: Any,
    rtol: float = 0.0,
    atol: float = 0.0,
    details: Mapping | None = None,
    tightness: float | None = None,
    resolution: float | None = None,
    vacuous: bool = False,
    **kw: Any,
) -> Verdict:
    """Build a Verdict from a scalar comparison "measured <relation> predicted".

    Called as ``compare(predicted=..., measured=..., relation=...)`` (the runner stamps the claim id) or,
    in the older form, ``compare("claim.id", predicted, measured, relation)``.

    ``relation`` is ``"<="``, ``">="`` or ``"=="``; the tolerance ``atol + rtol·|predicted|`` is added
    in favour of the claim for all three (a bound checked by simulation carries simulation error),
    and is included in ``margin``, so ``margin >= 0`` exactly when the verdict ``holds``.
    A NaN on either side is ``violated`` (it never travels on silently).

    ``tightness``/``resolution`` default to :func:`bound_tightness` for a bound and, for ``"=="``, to no
    tightness and resolution = tolerance/|predicted| (the tolerance itself when predicted is 0).
    ``vacuous`` marks a bound that is above the trivial bound (it holds but says nothing).
    """
    claim_id, (predicted, measured, relation) = _with_id("compare", args, ("predicted", "measured", "relation"), kw)
    if kw:
        raise TypeError(f"compare() got unexpected keyword arguments {sorted(kw)}")
    if relation not in ("<=", ">=", "=="):
        raise ValueError(f"relation must be '<=', '>=' or '==', got {relation!r}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    p, m = float(predicted), float(measured)
    det = dict(details or {})
    if math.isnan(p) or math.isnan(m):
        det["reason"] = "NaN in predicted or measured"
        return Verdict(claim_id, p, m, relation, "violated", float("nan"), det, vacuous=bool(vacuous))
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
    if relation == "==":
        auto_t, auto_r = None, (tol / abs(p) if p != 0 and math.isfinite(p) else tol)
    else:
        auto_t, auto_r = bound_tightness(p, m, relation)
    return Verdict(claim_id, p, m, relation, "holds" if margin >= 0 else "violated", margin, det,
                   tightness=auto_t if tightness is None else float(tightness),
                   resolution=auto_r if resolution is None else float(resolution), vacuous=bool(vacuous))


def erratum(
    *args: Any,
    counterexample: Mapping,
    refuted: bool,
    corrected_by: str | None = None,
    details: Mapping | None = None,
    **kw: Any,
) -> Verdict:
    """Verdict of an erratum claim: the printed formula is refuted by ``counterexample``.

    Called as ``erratum(printed=..., measured=..., relation=..., counterexample=..., refuted=...)``
    (older form: a leading claim id). ``refuted`` says whether the counterexample actually refutes the
    printed formula; if it does not, the erratum itself is wrong and the verdict is ``violated``.
    ``margin`` is how far the printed formula misses, as ``compare`` would report it (negative when
    refuted). The corrected claim is named once, by the claim (``@claim(..., corrected_by=...)``); the
    runner copies it into ``details["corrected_by"]``. (``corrected_by=`` here is still accepted.)
    """
    claim_id, (printed, measured, relation) = _with_id("erratum", args, ("printed", "measured", "relation"), kw)
    if kw:
        raise TypeError(f"erratum() got unexpected keyword arguments {sorted(kw)}")
    if not counterexample:
        raise ValueError("an erratum needs a concrete counterexample (a non-empty mapping)")
    if not isinstance(refuted, (bool, np.bool_)):
        raise TypeError(f"refuted must be a bool, got {type(refuted).__name__}")
    base = compare(printed, measured, relation) if relation in ("<=", ">=", "==") else None
    det = {"counterexample": dict(counterexample), **dict(details or {})}
    if corrected_by:
        det["corrected_by"] = corrected_by
    margin = base.margin if base is not None else float("nan")
    return Verdict(claim_id, printed, measured, relation, "erratum" if refuted else "violated", margin, det)


def skipped(*args: Any, **details: Any) -> Verdict:
    """A claim that could not be checked here (a missing optional extra, an inaccurate solver):
    ``skipped(reason, **details)`` or, older form, ``skipped("claim.id", reason, **details)``."""
    if len(args) == 2:
        claim_id, reason = args
    elif len(args) == 1:
        claim_id, reason = "", args[0]
    else:
        raise TypeError("skipped() takes the reason (optionally after the claim id)")
    return Verdict(claim_id, float("nan"), float("nan"), "n/a", "skipped", float("nan"), {"reason": reason, **details})


def combine(parts: Mapping[str, Verdict], *, details: Mapping | None = None) -> Verdict:
    """One verdict from a claim made of several parts, in which every part decides.

    The status is the worst part's (order :data:`SEVERITY`: violated > inconclusive > not_reproduced >
    erratum > holds > skipped); predicted, measured, relation and margin are those of the deciding part
    (the worst part; among equally bad parts, the one with the smallest margin relative to its scale:
    |predicted|, else its tolerance). Every part's relation,
    predicted, measured, margin, status, tightness and resolution go into ``details["parts"]``, so no part
    is computed and then ignored. Tightness is the largest of the parts' (the tightest check), resolution
    the largest (the coarsest check bounds what the claim as a whole resolves).
    """
    if not isinstance(parts, Mapping) or not parts:
        raise ValueError("combine needs a non-empty mapping of part name -> Verdict")
    for name, v in parts.items():
        if not isinstance(v, Verdict):
            raise TypeError(f"part {name!r} is a {type(v).__name__}, not a Verdict")

    def key(item):
        # margins of parts are in different units: compare them relative to the part's scale
        # (|predicted|, else its tolerance, else 1), so the part closest to failing decides
        v = item[1]
        if not isinstance(v.margin, (int, float)) or math.isnan(v.margin):
            return (SEVERITY.index(v.status), -math.inf)
        try:
            scale = abs(float(v.predicted))
        except (TypeError, ValueError):
            scale = 0.0
        if not (scale > 0 and math.isfinite(scale)):
            scale = float(v.details.get("tolerance", 0.0) or 1.0)
        return (SEVERITY.index(v.status), v.margin / scale)

    name, worst = min(parts.items(), key=key)
    table = {}
    for n, v in parts.items():
        d = v.to_dict()
        table[n] = {k: d[k] for k in ("status", "relation", "predicted", "measured", "margin", "tightness",
                                      "resolution", "vacuous")}
        if v.details:
            table[n]["details"] = v.details
    det = {"parts": table, "deciding_part": name, **dict(details or {})}
    ts = [float(v.tightness) for v in parts.values() if v.tightness is not None]
    rs = [float(v.resolution) for v in parts.values() if v.resolution is not None]
    return Verdict("", worst.predicted, worst.measured, worst.relation, worst.status, worst.margin, det,
                   tightness=max(ts) if ts else None, resolution=max(rs) if rs else None,
                   vacuous=any(v.vacuous for v in parts.values()))


def observed(
    statement_holds: bool,
    *,
    predicted: Any,
    measured: Any,
    relation: str,
    reason: str,
    details: Mapping | None = None,
    tightness: float | None = None,
    resolution: float | None = None,
) -> Verdict:
    """Verdict of an empirical statement of a paper (a figure's or a network's): ``holds`` when it is
    observed in our setting, else ``not_reproduced`` — never ``holds`` by default. ``reason`` says what
    was observed (and, when not reproduced, why); it is stored in ``details["reason"]``."""
    if not isinstance(statement_holds, (bool, np.bool_)):
        raise TypeError(f"statement_holds must be a bool, got {type(statement_holds).__name__}")
    if not isinstance(reason, str) or not reason:
        raise ValueError("observed() needs a non-empty reason")
    det = {**dict(details or {}), "reason": reason}
    try:
        margin = float(measured) - float(predicted) if relation == ">=" else float(predicted) - float(measured)
    except (TypeError, ValueError):
        margin = float("nan")
    if relation not in (">=", "<="):
        margin = float("nan")
    return Verdict("", predicted, measured, relation, "holds" if statement_holds else "not_reproduced", margin,
                   det, tightness=tightness, resolution=resolution)


@dataclasses.dataclass(frozen=True)
class Claim:
    """One checkable statement of a paper.

    ``check(rng, size)`` returns a :class:`Verdict`; the runner stamps the claim's id on it (a check
    that names an id must name its own). Checks may accept keyword options — ``n_seeds`` (the number of
    independent seeds/repetitions of a random measurement, ``kdverify run --seeds N``; ``None`` means the
    claim's own default for its size), and for network claims ``device``, ``dataset``, ``data_dir``; the
    runner passes only the options the function's signature names. ``rng_key`` (default: the id) names the
    generator the runner derives for the check: claims of one experiment share it.

    ``kind`` is ``"theory"`` (a formula checked by an independent route), ``"network"`` (a real network,
    :mod:`gpu_validation`) or ``"figure"`` (a paper's statement about one of its figures, measured on the
    data the figure module draws). ``corrected_by`` names, for an erratum claim (the formula *as printed*),
    the claim of the corrected formula; it is written once, here, and copied into the erratum's details.
    """

    id: str
    paper: str
    where: str
    statement: str
    check: Callable[..., Verdict]
    kind: str = "theory"
    corrected_by: str | None = None  # for an erratum claim: the id of the corrected claim
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
        if self.corrected_by is not None and (not isinstance(self.corrected_by, str) or "." not in self.corrected_by):
            raise ValueError(f"corrected_by must be a claim id like 'paper.name', got {self.corrected_by!r}")

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
        if verdict.claim_id not in ("", self.id):
            raise ValueError(f"claim {self.id}: check returned a verdict for {verdict.claim_id!r}")
        changes: dict[str, Any] = {"claim_id": self.id, "seconds": float(seconds)}
        if verdict.status == "erratum" and self.corrected_by:
            changes["details"] = {**verdict.details, "corrected_by": self.corrected_by}
        return dataclasses.replace(verdict, **changes)


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
    corrected_by: str | None = None,
    tags: Iterable[str] = (),
    rng_key: str | None = None,
    corrects: str | None = None,
) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Decorator form of :func:`register`: ``@claim("mobahi.prop4", paper="002", where=..., statement=...)``.

    ``corrects=`` is the old, backwards-reading name of ``corrected_by=`` and is still accepted."""
    if corrects is not None:
        if corrected_by is not None and corrected_by != corrects:
            raise ValueError("give corrected_by= only (corrects= is its old name)")
        corrected_by = corrects

    def deco(fn: Callable[..., Verdict]) -> Callable[..., Verdict]:
        register(Claim(id, PAPERS[paper_key(paper)][0], where, statement, fn, kind, corrected_by, tuple(tags),
                       rng_key))
        return fn

    return deco


_THEORY_PACKAGES = ("verification",)
_NETWORK_PACKAGES = ("gpu_validation.experiments",)
_FIGURE_PACKAGES = ("paper_figs",)
_NOT_CLAIM_MODULES = {"claims", "report", "cli", "simulate", "oracles", "stats", "search", "papers", "plugins",
                      "executors", "stability"}


def load_all(*, network: bool = False, figures: bool = False, modules: Iterable[str] = (),
             plugins: bool = True) -> dict[str, Claim]:
    """Import every claim module so the registry is complete; return the registry.

    Theory claims live in ``verification/<paper module>.py``; network claims in
    ``gpu_validation/experiments/*.py`` and are imported only with ``network=True`` (they need torch);
    figure claims (``kind="figure"``) in the ``paper_figs`` modules, imported with ``figures=True``
    (importing a figure module never imports torch; its checks may).
    Third-party claims join too (:mod:`verification.plugins`): the modules named in ``modules``
    (``kdverify --module my_pkg.claims``) and, unless ``plugins=False``, every module of the
    ``kdtheory.claims`` entry-point group of the installed distributions.
    """
    pkgs = (list(_THEORY_PACKAGES) + (list(_NETWORK_PACKAGES) if network else [])
            + (list(_FIGURE_PACKAGES) if figures else []))
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
