"""The paper manifest: one :class:`Paper` record per paper, and every list of papers derived from it.

A record names a paper's short ``key`` ("000" …), its ``seed_file`` (under ``../shared/seeds/``), a short
``citation``, the claim-id ``prefix`` of its claims (``"safaryan"`` → ``safaryan.*``) and its ``topic``
modules in :mod:`kdtheory`. Everything that enumerates papers reads this manifest: :data:`PAPERS`
(re-exported by :mod:`verification.claims`), :func:`paper_key` and its aliases, the registry test's
prefix set, the figure and experiment tests, and the README table (checked by a test against
:func:`markdown_table`).

Where records come from
-----------------------
* the suite's own papers: one module per paper in this package (``verification/papers/<prefix>.py``)
  defining ``PAPER = Paper(...)``; adding a paper is adding such a file (plus its topic and claim modules);
* a third-party plugin (see :mod:`verification.plugins`) registers its own record before its claims:
  ``PAPER = register_paper(Paper(key="toy", ...))`` at the top of its claim module.

Aliases accepted by :func:`paper_key`: the key, the seed file name (and any name starting with
``<key>_``), the prefix, the last component of each topic module (``"self_distillation"``, ``"greens"``)
and the record's extra ``aliases``.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import threading
from collections.abc import Iterator, Mapping

__all__ = ["PAPERS", "Paper", "markdown_table", "paper_key", "papers", "register_paper"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class Paper:
    """One paper of the manifest.

    ``key``: short key used on the command line and in reports (``"000"``); ``seed_file``: the seed's
    file name, stored in each claim's ``paper`` field; ``citation``: authors — title, one line;
    ``prefix``: the first component of every claim id of the paper; ``topic``: the :mod:`kdtheory`
    (or, for a plugin, the plugin's own) modules holding its formulas; ``aliases``: extra names
    :func:`paper_key` accepts.
    """

    key: str
    seed_file: str
    citation: str
    prefix: str
    topic: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("key", "prefix"):
            v = getattr(self, name)
            if not isinstance(v, str) or not _NAME.match(v):
                raise ValueError(f"Paper.{name} must be a name of letters, digits and '_', got {v!r}")
        for name in ("seed_file", "citation"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip() or "\n" in v:
                raise ValueError(f"Paper.{name} must be a non-empty one-line string, got {v!r}")
        for name in ("topic", "aliases"):
            v = getattr(self, name)
            if isinstance(v, str):
                object.__setattr__(self, name, (v,))
            elif not isinstance(v, (tuple, list)) or not all(isinstance(t, str) and t for t in v):
                raise TypeError(f"Paper.{name} must be a tuple of non-empty strings, got {v!r}")
            else:
                object.__setattr__(self, name, tuple(v))

    def names(self) -> set[str]:
        """Every lower-case name :func:`paper_key` maps to this paper."""
        out = {self.key, self.seed_file, self.seed_file.rsplit(".", 1)[0], self.prefix}
        out |= {t.rsplit(".", 1)[-1] for t in self.topic}
        out |= set(self.aliases)
        return {n.lower() for n in out}


_PAPERS: dict[str, Paper] = {}
_LOCK = threading.RLock()
_DISCOVERED = False


def register_paper(paper: Paper) -> Paper:
    """Add a record to the manifest and return it; registering an equal record again is a no-op.

    A different record with the same key, or one whose names collide with another paper's, is an error.
    """
    if not isinstance(paper, Paper):
        raise TypeError(f"register_paper expects a Paper, got {type(paper).__name__}")
    with _LOCK:
        old = _PAPERS.get(paper.key)
        if old is not None:
            if old == paper:
                return old
            raise ValueError(f"paper key {paper.key!r} is registered twice: {old} and {paper}")
        for other in _PAPERS.values():
            clash = paper.names() & other.names()
            if clash:
                raise ValueError(f"paper {paper.key!r} shares the names {sorted(clash)} with paper {other.key!r}")
        _PAPERS[paper.key] = paper
        return paper


def _discover() -> None:
    """Import the record modules of this package once (cheap: they define only ``PAPER``)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    with _LOCK:
        if _DISCOVERED:
            return
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            mod = importlib.import_module(f"{__name__}.{info.name}")
            rec = getattr(mod, "PAPER", None)
            if not isinstance(rec, Paper):
                raise ValueError(f"{mod.__name__} must define PAPER = Paper(...)")
            register_paper(rec)
        _DISCOVERED = True


def papers() -> dict[str, Paper]:
    """The manifest: key -> :class:`Paper`, sorted by key (the suite's records and registered plugins)."""
    _discover()
    return {k: _PAPERS[k] for k in sorted(_PAPERS)}


def get_paper(paper: str) -> Paper:
    """The record of a paper given any of its names (see :func:`paper_key`)."""
    return papers()[paper_key(paper)]


def paper_key(paper: str) -> str:
    """Return the short key of a paper given its key, seed file name, claim prefix or a topic module name."""
    if not isinstance(paper, str) or not paper.strip():
        raise TypeError(f"paper must be a non-empty string, got {paper!r}")
    p = paper.strip().lower()
    recs = papers()
    for key, rec in recs.items():
        if p in rec.names():
            return key
    for key in recs:
        if p.startswith(key.lower() + "_"):
            return key
    raise ValueError(f"unknown paper {paper!r}; expected one of {sorted(recs)}, a seed file name, "
                     f"a claim prefix ({', '.join(r.prefix for r in recs.values())}) or a topic module name")


class _PapersView(Mapping):
    """Live read-only view key -> (seed file, citation): the historical form of ``claims.PAPERS``."""

    def __getitem__(self, key: str) -> tuple[str, str]:
        rec = papers()[key]
        return (rec.seed_file, rec.citation)

    def __iter__(self) -> Iterator[str]:
        return iter(papers())

    def __len__(self) -> int:
        return len(papers())

    def __repr__(self) -> str:
        return f"PAPERS({dict(self)!r})"


#: key -> (seed file name, short citation), for every paper of the manifest (plugins included).
PAPERS: Mapping[str, tuple[str, str]] = _PapersView()


def markdown_table() -> str:
    """The README's "What the suite checks" table, generated from the manifest."""
    lines = ["| paper (`../shared/seeds/`) | module | claims |", "|---|---|---|"]
    for rec in papers().values():
        mods = ", ".join(f"`{t}`" for t in rec.topic) or "-"
        lines.append(f"| {rec.key} {rec.citation} | {mods} | `{rec.prefix}.*` |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - `python -m verification.papers` prints the README table
    print(markdown_table())
