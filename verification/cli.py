"""``kdverify``: run the claims, list them, regenerate the figures, validate on networks.

    kdverify run  [--paper P] [--claim ID ...] [--kind theory|figure|all] [--size quick|full] [--seed S]
                  [--seeds N] [--out reports/]
    kdverify list [--paper P] [--kind theory|network|all]
    kdverify figs [--only ID ...] [--size quick|full] [--out figures/]
    kdverify gpu  [--device auto|cpu|cuda] [--dataset digits|mnist|cifar10] [--data-dir DIR] [--size ...]

``run``, ``gpu`` and ``figs`` exit with code 1 when any claim is ``violated`` (an ``erratum`` is not a
failure: the corrected claim beside it must hold; nor are ``inconclusive`` and ``not_reproduced``, which
the report lists with their intervals and reasons).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import claims as _claims
from . import report as _report

SIZE = click.Choice(list(_claims.SIZES))
SEEDS_HELP = ("Independent seeds (repetitions) per random claim; each such claim reports a confidence interval "
              "over them. Default: the claim's own choice for the size.")


def _console():
    from rich.console import Console

    # a pipe or a CI log gets a wide table instead of rich's 80-column default
    return Console(highlight=False, width=None if sys.stdout.isatty() else 150)


def _run_with_progress(selected, *, seed, size, console, label, **options):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=len(selected), current="")
        verdicts = []
        for c in selected:
            bar.update(task, current=c.id)
            verdicts += _claims.run_claims([c], seed=seed, size=size, **options)
            bar.advance(task)
    return verdicts


def _write(report, out: Path, stem: str, console) -> None:
    j = _report.write_json(report, out / f"{stem}.json")
    m = _report.write_markdown(report, out / f"{stem}.md")
    console.print(f"wrote {j} and {m}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kdtheory")
def main() -> None:
    """kdtheory: check knowledge-distillation bounds against simulations and networks."""


@main.command()
@click.option("--paper", default=None, help="000…004, a seed file name or a module name (e.g. self_distillation).")
@click.option("--claim", "claim_ids", multiple=True, help="Claim id (repeatable; 'prefix*' matches a prefix).")
@click.option("--kind", type=click.Choice(["theory", "figure", "all"]), default="theory", show_default=True,
              help="theory claims, the figures' statements (figure claims), or both.")
@click.option("--size", type=SIZE, default="quick", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seeds", "n_seeds", type=click.IntRange(min=2), default=None, help=SEEDS_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
def run(paper, claim_ids, kind, size, seed, n_seeds, out) -> None:
    """Run theory claims; print the table; write OUT/verification.json and .md."""
    console = _console()
    _claims.load_all(figures=kind != "theory")
    kinds = ("theory", "figure") if kind == "all" else (kind,)
    try:
        selected = [c for k in kinds for c in _claims.select(paper=paper, ids=claim_ids or None, kind=k)]
    except (KeyError, ValueError) as exc:
        raise click.BadParameter(str(exc).strip('"')) from None
    if not selected:
        console.print("no claims match the selection")
        sys.exit(0)
    opts = {} if n_seeds is None else {"n_seeds": n_seeds}
    verdicts = _run_with_progress(selected, seed=seed, size=size, console=console, label="claims", **opts)
    rep = _report.build_report(selected, verdicts, seed=seed, size=size, kind=kind,
                               options={"paper": paper, "claims": list(claim_ids), "seeds": n_seeds})
    _report.print_table(rep, console)
    _write(rep, out, "verification", console)
    sys.exit(1 if rep["summary"]["violated"] else 0)


@main.command(name="list")
@click.option("--paper", default=None)
@click.option("--kind", type=click.Choice(["theory", "network", "figure", "all"]), default="all", show_default=True)
def list_(paper, kind) -> None:
    """Every claim with paper, equation and one-line statement."""
    from rich.table import Table

    console = _console()
    _claims.load_all(figures=kind in ("figure", "all"))
    note = ""
    if kind in ("network", "all"):
        try:
            _claims.load_all(network=True)
        except ImportError as exc:
            note = f"(network claims not listed: {exc})"
    sel = _claims.select(paper=paper, kind=None if kind == "all" else kind)
    t = Table(header_style="bold")
    for col in ("claim", "paper", "where", "kind", "statement"):
        t.add_column(col, overflow="fold")
    for c in sel:
        t.add_row(c.id + (f" [yellow](as printed; corrected by {c.corrected_by})[/]" if c.corrected_by else ""), c.paper_key,
                  c.where, c.kind, c.statement)
    console.print(t)
    console.print(f"{len(sel)} claims {note}")


@main.command()
@click.option("--only", "only", multiple=True, help="Figure id (repeatable).")
@click.option("--size", type=SIZE, default="quick", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("figures"), show_default=True)
def figs(only, size, out) -> None:
    """Regenerate every registered figure to OUT/<id>.png and write OUT/index.md."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import paper_figs

    console = _console()
    mods = paper_figs.discover()
    unknown = sorted(set(only) - set(mods))
    if unknown:
        raise click.BadParameter(f"unknown figure id(s) {unknown}; known: {sorted(mods)}", param_hint="--only")
    chosen = {k: m for k, m in mods.items() if not only or k in only}
    out.mkdir(parents=True, exist_ok=True)
    rows, failed, fclaims, fverdicts = [], [], [], []
    for fid, mod in chosen.items():
        t0 = time.perf_counter()
        try:
            claims = paper_figs.figure_claims(mod.FIGURE)
            verdicts = _claims.run_claims(claims, seed=0, size=size)
            fclaims += claims
            fverdicts += verdicts
            fig = paper_figs.render(mod, size, {c.id: v for c, v in zip(claims, verdicts)})
            fig.savefig(out / f"{fid}.png", dpi=110, bbox_inches="tight")
            plt.close(fig)
        except Exception as exc:  # one broken figure must not hide the others
            failed.append(fid)
            console.print(f"[red]figure {fid} failed: {type(exc).__name__}: {exc}[/]")
            continue
        secs = time.perf_counter() - t0
        rows.append((fid, mod.FIGURE, secs, list(zip(claims, verdicts))))
        console.print(f"{fid}.png  ({secs:.1f} s)  {mod.FIGURE['title']}")
    rep = _report.build_report(fclaims, fverdicts, seed=0, size=size, kind="figure", options={"only": list(only)})
    lines = ["# kdtheory figures", "", f"Regenerated with `kdverify figs --size {size}`.", ""]
    s = rep["summary"]
    lines += ["Figure statements: " + (", ".join(f"{s[k]} {k}" for k in _claims.STATUSES if s[k]) or "none checked")
              + ".", ""]
    for fid, meta, _, cv in rows:
        cites = ", ".join(f"`{c}`" for c in meta["claims"]) or "-"
        doc = (chosen[fid].__doc__ or "").strip().splitlines()
        lines += [f"## {fid} (paper {meta['paper']})", "", meta["title"], "",
                  f"![{fid}]({fid}.png)", "", f"Claims: {cites}", ""]
        for c, v in cv:
            reason = v.details.get("reason", "")
            lines.append(f"- `{c.id}` **{v.status}**: {c.statement}" + (f" — {reason}" if reason else ""))
        if cv:
            lines.append("")
        if doc:
            lines += [doc[0], ""]
    (out / "index.md").write_text("\n".join(lines))
    _report.write_json(rep, out / "figures.json")
    console.print(f"wrote {len(rows)} figures, {out / 'index.md'} and {out / 'figures.json'}")
    sys.exit(1 if failed or rep["summary"]["violated"] else 0)


@main.command()
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--dataset", type=click.Choice(["digits", "mnist", "cifar10"]), default="digits", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--claim", "claim_ids", multiple=True, help="Network claim id (repeatable).")
@click.option("--size", type=SIZE, default="quick", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seeds", "n_seeds", type=click.IntRange(min=2), default=None, help=SEEDS_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
def gpu(device, dataset, data_dir, claim_ids, size, seed, n_seeds, out) -> None:
    """Run the network validations; write OUT/gpu_validation.json and .md."""
    console = _console()
    try:
        import torch  # noqa: F401
    except ImportError:
        console.print("[red]torch is not installed: `pip install torch==2.13.0` (CPU) or your CUDA build, "
                      "or `pip install -e .[gpu]`[/]")
        sys.exit(2)
    from gpu_validation.device import resolve_device

    try:
        dev = resolve_device(device)
    except (ValueError, RuntimeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--device") from None
    _claims.load_all(network=True)
    try:
        selected = _claims.select(ids=claim_ids or None, kind="network")
    except (KeyError, ValueError) as exc:
        raise click.BadParameter(str(exc).strip('"')) from None
    if not selected:
        console.print("no network validations are registered yet; nothing to run")
        sys.exit(0)
    console.print(f"device: {dev}; dataset: {dataset}" + (f" from {data_dir}" if data_dir else ""))
    options = {"device": str(device), "dataset": dataset, "data_dir": str(data_dir) if data_dir else None}
    if n_seeds is not None:
        options["n_seeds"] = n_seeds
    verdicts = _run_with_progress(selected, seed=seed, size=size, console=console, label="networks", **options)
    rep = _report.build_report(selected, verdicts, seed=seed, size=size, kind="network",
                               options={**options, "resolved_device": str(dev)})
    _report.print_table(rep, console)
    _write(rep, out, "gpu_validation", console)
    sys.exit(1 if rep["summary"]["violated"] else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
