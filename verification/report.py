"""Reports of a run: a rich table on the terminal, a JSON file and a Markdown file.

The JSON report is deterministic for a given seed and size, byte for byte, apart from the timing
fields (``seconds`` of each claim and the ``timing`` block: date, host, total seconds), so that two
reports can be diffed and show only what changed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .claims import PAPERS, STATUSES, Claim, Verdict, _jsonable, rng_seed

STATUS_STYLE = {"holds": "green", "violated": "bold red", "erratum": "yellow", "skipped": "dim",
                "inconclusive": "magenta", "not_reproduced": "cyan"}


def fmt(x: Any) -> str:
    """Short human form of a number (4 significant digits) or of anything else."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        if isinstance(x, float) and math.isnan(x):
            return "-"
        return f"{x:.4g}"
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return str(x)[:40]


def build_report(
    claims: Sequence[Claim],
    verdicts: Sequence[Verdict],
    *,
    seed: int,
    size: str,
    kind: str = "theory",
    options: Mapping[str, Any] | None = None,
) -> dict:
    """Assemble the report dict (fixed key order) from claims and their verdicts (same order).

    Each row records ``rng_seed``: the entropy of the generator its check received
    (``numpy.random.default_rng(rng_seed)``, from the claim's ``rng_key`` or id), so a single claim can be
    re-run by hand.
    """
    if len(claims) != len(verdicts):
        raise ValueError(f"claims ({len(claims)}) and verdicts ({len(verdicts)}) must pair up")
    from kdtheory import __version__

    rows = []
    for c, v in zip(claims, verdicts):
        if c.id != v.claim_id:
            raise ValueError(f"verdict for {v.claim_id!r} paired with claim {c.id!r}")
        d = v.to_dict()
        rows.append({
            "claim_id": c.id,
            "paper": c.paper_key,
            "seed_file": c.paper,
            "where": c.where,
            "statement": c.statement,
            "kind": c.kind,
            "corrected_by": c.corrected_by,
            "rng_seed": rng_seed(seed, c.rng_name),
            "status": d["status"],
            "relation": d["relation"],
            "predicted": d["predicted"],
            "measured": d["measured"],
            "margin": d["margin"],
            "tightness": d["tightness"],
            "resolution": d["resolution"],
            "vacuous": d["vacuous"],
            "details": d["details"],
            "seconds": d["seconds"],
        })
    summary = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    summary["total"] = len(rows)
    summary["vacuous"] = sum(bool(r["vacuous"]) for r in rows)
    return {
        "kdtheory_version": __version__,
        "kind": kind,
        "seed": int(seed),
        "size": size,
        "options": _jsonable(dict(options or {})),
        "papers": {k: v[0] for k, v in PAPERS.items()},
        "summary": summary,
        "papers_summary": paper_summary(rows),
        "claims": rows,
        "timing": {
            "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(),
            "total_seconds": round(sum(v.seconds for v in verdicts), 3),
        },
    }


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def paper_summary(rows: Sequence[Mapping]) -> dict:
    """Per paper: the count of each status, how many verdicts report a tightness, their median and
    minimum tightness and the median resolution (the smallest relative error of a predicted side the
    paper's checks would flag), and the number of vacuous bounds."""
    out: dict = {}
    for key in sorted({r["paper"] for r in rows}):
        rs = [r for r in rows if r["paper"] == key]
        tight = sorted(t for t in (_num(r.get("tightness")) for r in rs) if t is not None)
        res = sorted(t for t in (_num(r.get("resolution")) for r in rs) if t is not None)
        out[key] = {
            **{s: sum(r["status"] == s for r in rs) for s in STATUSES},
            "total": len(rs),
            "with_tightness": len(tight),
            "median_tightness": _median(tight),
            "min_tightness": tight[0] if tight else None,
            "median_resolution": _median(res),
            "vacuous": sum(bool(r.get("vacuous")) for r in rs),
        }
    return out


def _median(xs: Sequence[float]) -> float | None:
    if not xs:
        return None
    n = len(xs)
    return float(xs[n // 2]) if n % 2 else float((xs[n // 2 - 1] + xs[n // 2]) / 2)


def to_json(report: Mapping) -> str:
    """The report as pretty JSON text (insertion order is the stable key order)."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _temp_beside(path: Path, text: str) -> Path:
    """Write ``text`` completely (flushed and fsynced) to a new temporary file in ``path``'s folder.

    The same folder, so that ``os.replace`` onto ``path`` is a rename within one file system (atomic); a
    name starting with '.' and ending in '.tmp', unique per process and call, created exclusively (mode
    from the umask, like the file it replaces). On any error the temporary file is removed.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Replace ``path`` by ``text`` atomically: a reader sees the old file or the new one, never an empty or
    truncated one, also when the writer is killed midway (a temporary file in the same folder, then
    ``os.replace``)."""
    return write_texts_atomic({path: text})[0]


def write_texts_atomic(texts: Mapping[str | Path, str]) -> list[Path]:
    """Replace several files together: every temporary file is written completely first, then each is
    ``os.replace``d onto its target in the given order (put the file readers poll last). Nothing is replaced
    when any write fails, so the targets are all the old run's or all the new one's unless the process dies
    between two renames (write_reports: the Markdown's digest then says which JSON it belongs to)."""
    paths = [Path(p) for p in texts]
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
    temps: list[Path] = []
    try:
        for p, text in zip(paths, texts.values()):
            temps.append(_temp_beside(p, text))
        for tmp, p in zip(temps, paths):
            os.replace(tmp, p)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)  # already renamed: nothing left; after an error: the orphans
    return paths


def write_json(report: Mapping, path: str | Path) -> Path:
    """Write the report as pretty JSON, atomically (see ``write_text_atomic``)."""
    return write_text_atomic(path, to_json(report))


def _cell(text) -> str:
    """Text for one Markdown table cell: '|' escaped, line breaks removed."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Mapping) -> str:
    """The report as a Markdown page: summary, one table row per claim, then the errata."""
    s = report["summary"]
    lines = [
        f"# kdtheory verification report ({report['kind']})",
        "",
        f"seed {report['seed']}, size `{report['size']}`, kdtheory {report['kdtheory_version']}, "
        f"generated {report['timing']['generated']}.",
        "",
        "**" + ", ".join(f"{s[k]} {k}" for k in STATUSES) + f"** of {s['total']} claims.",
        "",
    ]
    ps = report.get("papers_summary") or {}
    if ps:
        lines += ["| paper | " + " | ".join(STATUSES) + " | vacuous | median tightness | min tightness "
                  "| median resolution |", "|---" * (len(STATUSES) + 5) + "|"]
        for key, row in ps.items():
            lines.append(f"| {key} | " + " | ".join(str(row[k]) for k in STATUSES)
                         + f" | {row['vacuous']} | {fmt(row['median_tightness'])} | {fmt(row['min_tightness'])} "
                           f"| {fmt(row['median_resolution'])} |")
        lines.append("")
    lines += [
        "| claim | where | predicted | relation | measured | status | margin | tightness | resolution | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["claims"]:
        lines.append(  # a '|' inside a cell (e.g. "f_n(x|theta,lam)") would split the row: escape it
            f"| `{r['claim_id']}` | {_cell(r['where'])} | {fmt(r['predicted'])} | {r['relation']} | "
            f"{measured_text(r)} | {status_text(r)} | {fmt(r['margin'])} | {fmt(r.get('tightness'))} | "
            f"{fmt(r.get('resolution'))} | {r['seconds']:.2f} |"
        )
    errata = [r for r in report["claims"] if r["status"] == "erratum"]
    if errata:
        lines += ["", "## Errata (printed formula refuted; corrected claim beside it)", ""]
        for r in errata:
            ce = r["details"].get("counterexample", {})
            lines.append(f"- `{r['claim_id']}` ({r['where']}): {r['statement']}  ")
            lines.append(f"  counterexample: `{json.dumps(ce, ensure_ascii=False)[:400]}`"
                         + (f"; corrected by `{r['corrected_by']}`" if r.get("corrected_by") else ""))
    notrep = [r for r in report["claims"] if r["status"] in ("not_reproduced", "inconclusive")]
    if notrep:
        lines += ["", "## Not reproduced or inconclusive", ""]
        for r in notrep:
            d = r["details"]
            extra = d.get("reason", "")
            if r["status"] == "inconclusive":
                extra = (f"interval {d.get('interval')}, n = {d.get('n')}, n to decide ≈ {d.get('n_to_decide')}"
                         + (f"; {extra}" if extra else ""))
            lines.append(f"- `{r['claim_id']}` ({r['status']}): {_cell(extra)[:400]}")
    bad = [r for r in report["claims"] if r["status"] == "violated"]
    if bad:
        lines += ["", "## Violated", ""]
        for r in bad:
            lines.append(f"- `{r['claim_id']}`: {json.dumps(r['details'], ensure_ascii=False)[:400]}")
    lines += ["", "Statements:", ""]
    lines += [f"- `{r['claim_id']}` — {r['statement']}" for r in report["claims"]]
    return "\n".join(lines) + "\n"


def write_markdown(report: Mapping, path: str | Path) -> Path:
    """Write the report as Markdown, atomically (see ``write_text_atomic``)."""
    return write_text_atomic(path, to_markdown(report))


def json_digest(json_text: str) -> str:
    """The short content digest that pairs a Markdown report with its JSON (``write_reports``)."""
    return hashlib.sha256(json_text.encode("utf-8")).hexdigest()[:16]


def write_reports(report: Mapping, out: str | Path, stem: str) -> tuple[Path, Path]:
    """Write ``OUT/<stem>.json`` and ``OUT/<stem>.md`` of one run together, atomically.

    Both are written to temporary files first; then the Markdown replaces its file and the JSON last, so a
    reader that sees the new JSON finds that run's Markdown beside it. The Markdown ends with an HTML comment
    ``<!-- <stem>.json sha256:… -->`` holding ``json_digest`` of the JSON it was written with: a reader can
    check that the two files it read belong together.
    """
    out = Path(out)
    jtext = to_json(report)
    mtext = to_markdown(report) + f"\n<!-- {stem}.json sha256:{json_digest(jtext)} -->\n"
    md, js = write_texts_atomic({out / f"{stem}.md": mtext, out / f"{stem}.json": jtext})
    return js, md


def measured_text(row: Mapping) -> str:
    """The measured value, with its confidence interval when the check reports one."""
    iv = (row.get("details") or {}).get("interval")
    m = fmt(row["measured"])
    if isinstance(iv, (list, tuple)) and len(iv) == 2 and all(isinstance(x, (int, float)) for x in iv):
        return f"{m} [{iv[0]:.3g}, {iv[1]:.3g}]"
    return m


def status_text(row: Mapping) -> str:
    """The status of a row, marked ``(vacuous)`` for a bound that holds but is above the trivial bound."""
    return row["status"] + (" (vacuous)" if row.get("vacuous") else "")


def print_table(report: Mapping, console=None) -> None:
    """The rich table: claim, where, predicted, measured, relation, status, margin, tightness,
    resolution, seconds; then the summary and a per-paper line."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    t = Table(title=f"kdtheory {report['kind']} claims (seed {report['seed']}, size {report['size']})",
              show_lines=False, header_style="bold")
    for col, just in (("claim", "left"), ("where", "left"), ("predicted", "right"), ("measured", "right"),
                      ("rel", "center"), ("status", "left"), ("margin", "right"), ("tight", "right"),
                      ("resol", "right"), ("s", "right")):
        if col == "where":
            t.add_column(col, justify=just, overflow="ellipsis", no_wrap=True, max_width=28)
        else:
            t.add_column(col, justify=just, no_wrap=True)
    for r in report["claims"]:
        st = r["status"]
        t.add_row(r["claim_id"], r["where"], fmt(r["predicted"]), measured_text(r), r["relation"],
                  f"[{STATUS_STYLE[st]}]{status_text(r)}[/]", fmt(r["margin"]), fmt(r.get("tightness")),
                  fmt(r.get("resolution")), f"{r['seconds']:.2f}")
    console.print(t)
    s = report["summary"]
    console.print(", ".join(f"[{STATUS_STYLE[k]}]{s[k]} {k}[/]" for k in STATUSES if s[k] or k in ("holds", "violated"))
                  + f" of {s['total']}" + (f" ({s['vacuous']} vacuous)" if s.get("vacuous") else ""))
    ps = report.get("papers_summary") or {}
    if len(ps) > 1:
        for key, row in ps.items():
            console.print(f"  paper {key}: " + ", ".join(f"{row[k]} {k}" for k in STATUSES if row[k])
                          + f"; median tightness {fmt(row['median_tightness'])} over {row['with_tightness']}")


def strip_timing(report: Mapping) -> dict:
    """The report without its timing fields: what must be identical for the same seed."""
    out = {k: v for k, v in report.items() if k != "timing"}
    out["claims"] = [{k: v for k, v in r.items() if k != "seconds"} for r in report["claims"]]
    return out


def statuses(report: Mapping) -> Iterable[str]:
    return (r["status"] for r in report["claims"])
