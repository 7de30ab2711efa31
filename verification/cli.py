"""``kdverify``: run the claims, list them, regenerate the figures, validate on networks.

    kdverify run  [--paper P] [--claim ID ...] [--kind theory|figure|all] [--size quick|full] [--seed S]
                  [--seeds N] [--out reports/] [--jobs N | --dask ADDRESS|local] [--module my_pkg.claims ...]
    kdverify list [--paper P] [--kind theory|network|all] [--module my_pkg.claims ...]
    kdverify stability [--seeds 0-4] [--paper P] [--claim ID ...] [--jobs N | --dask ...] [--module ...]
    kdverify figs [--only ID ...] [--size quick|full] [--out figures/] [--jobs N | --dask ADDRESS|local]
    kdverify gpu  [--device auto|cpu|cuda] [--dataset digits|mnist|cifar10] [--data-dir DIR] [--size ...]

``run``, ``gpu`` and ``figs`` exit with code 1 when any claim is ``violated`` (an ``erratum`` is not a
failure: the corrected claim beside it must hold; nor are ``inconclusive`` and ``not_reproduced``, which
the report lists with their intervals and reasons). ``--jobs N`` runs the claims on N local processes
and ``--dask`` on a Dask cluster (:mod:`verification.executors`); the report is the same either way.
``--module`` adds a third-party claim module (:mod:`verification.plugins`); installed plugins of the
``kdtheory.claims`` entry-point group are always loaded. ``stability`` exits 1 when a claim's status
changes between seeds other than to or from ``inconclusive``.
"""

from __future__ import annotations

import difflib
import sys
import tempfile
import time
from pathlib import Path

import click

from . import claims as _claims
from . import report as _report

SIZE = click.Choice(list(_claims.SIZES))
SEEDS_HELP = ("Independent seeds (repetitions) per random claim; each such claim reports a confidence interval "
              "over them. Default: the claim's own choice for the size.")


class UsageError(click.ClickException):
    """A usage error: one line ``Error: …`` on stderr, exit code 2, raised before any claim runs."""

    exit_code = 2


def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).strip().strip('"').split())


class OutDir(click.ParamType):
    """``--out``: a folder we can write in, checked when the option is parsed, i.e. before any work.

    It may not exist yet (it is created when the report is written), but its nearest existing ancestor
    must be a folder in which a file can be created (a probe file is created there and removed at once).
    """

    name = "folder"

    def convert(self, value, param, ctx):
        if isinstance(value, Path):
            value = str(value)
        opt = "--out"
        if not value or not value.strip():
            raise UsageError(f"{opt} is empty: name a folder (e.g. {opt} reports)")
        path = Path(value)
        probe_in = path
        while not probe_in.exists() and probe_in != probe_in.parent:
            probe_in = probe_in.parent
        if not probe_in.is_dir():
            what = "is" if probe_in == path else f"cannot be created: {probe_in} is"
            raise UsageError(f"{opt} {value}: {what} not a folder")
        try:
            with tempfile.TemporaryFile(dir=probe_in, prefix=".kdverify-probe-"):
                pass
        except OSError as exc:
            where = "" if probe_in == path else f" (nothing can be created in {probe_in})"
            raise UsageError(f"{opt} {value}: not writable{where}: {exc.strerror or exc}") from None
        return path


OUT_DIR = OutDir()


def _select(*, paper=None, ids=(), kinds=("theory",)):
    """``claims.select`` over ``kinds`` (None: every kind) with its errors as one-line usage errors; an unknown
    id lists its near matches, an id of another kind names the command that runs it."""
    reg = _claims.registry()
    every = kinds is None
    kinds = tuple(sorted({c.kind for c in reg.values()})) if every else tuple(kinds)
    known = sorted(c.id for c in reg.values() if c.kind in kinds)
    for i in ids:
        if not i.endswith("*") and i not in known:
            if i in reg:  # registered, of another kind
                cmd = {"theory": "run", "network": "gpu", "figure": "run --kind figure"}.get(reg[i].kind, reg[i].kind)
                raise UsageError(f"--claim: {i!r} is a {reg[i].kind} claim: run it with `kdverify {cmd}`")
            raise UsageError(f"--claim: no claim {i!r}; " + _near_matches(i, known))
    try:
        if every:
            return _claims.select(paper=paper, ids=list(ids) or None, kind=None)
        return [c for k in kinds for c in _claims.select(paper=paper, ids=list(ids) or None, kind=k)]
    except (KeyError, ValueError, TypeError) as exc:
        raise UsageError(("--paper: " if paper is not None else "") + _one_line(exc)) from None


def _near_matches(given: str, known: list[str], *, n: int = 5) -> str:
    """Ids near ``given``: its children (``safaryan.lemma1`` → ``safaryan.lemma1.*``) first, then by
    difflib's similarity to the whole id or to its first components (``safaryan.lema1`` is near
    ``safaryan.lemma1.bound``), best first; at most ``n`` shown."""
    depth = given.count(".") + 1

    def score(k: str) -> float:
        if k.startswith(given + "."):
            return 2.0
        head = ".".join(k.split(".")[:depth])
        return max(difflib.SequenceMatcher(None, given, k).ratio(), difflib.SequenceMatcher(None, given, head).ratio())

    scored = sorted(((score(k), k) for k in known), key=lambda t: (-t[0], t[1]))
    near = [k for sc, k in scored if sc >= 0.8]
    if not near:
        return "no similar id (`kdverify list` shows them all)"
    more = f" (and {len(near) - n} more)" if len(near) > n else ""
    return "did you mean " + ", ".join(near[:n]) + more + "?"


def _console():
    from rich.console import Console

    # a pipe or a CI log gets a wide table instead of rich's 80-column default
    return Console(highlight=False, width=None if sys.stdout.isatty() else 150)


def _scale_options(f):
    """--jobs, --dask and --module, shared by the commands that run claims."""
    f = click.option("--module", "modules", multiple=True, metavar="MODULE",
                     help="Import this third-party claim module too (repeatable), e.g. my_pkg.claims.")(f)
    f = click.option("--dask", "dask", default=None, metavar="ADDRESS",
                     help="Run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' "
                          "for an in-process LocalCluster of --jobs workers.")(f)
    f = click.option("--jobs", "jobs", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Run the claims on this many local processes (claims sharing an rng_key together).")(f)
    return f


def _load(modules, *, network=False, figures=False):
    from .plugins import PluginError

    try:
        _claims.load_all(network=network, figures=figures, modules=modules)
    except PluginError as exc:
        raise UsageError(("--module: " if modules else "plugin: ") + _one_line(exc)) from None


def _executor(jobs, dask):
    from . import executors

    try:
        return executors.make_executor(jobs, dask)
    except (ImportError, ValueError) as exc:
        raise UsageError(("--dask: " if dask else "--jobs: ") + _one_line(exc)) from None


def _run_with_progress(selected, *, seed, size, console, label, executor=None, seeds=None, gpu=False, **options):
    """Run ``selected`` at ``seed`` (a list of verdicts) or, with ``seeds``, at each (seed -> verdicts)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from . import executors

    todo = list(seeds) if seeds is not None else [seed]
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=len(selected) * len(todo), current="")

        def advance(t):
            bar.update(task, current=t.label)
            bar.advance(task, len(t.claim_ids))

        try:
            out = executors.run_seeds(selected, todo, size=size, executor=executor, progress=advance, gpu=gpu,
                                      **options)
        except RuntimeError as exc:  # e.g. a Dask cluster without the GPU workers the tasks need
            console.print(f"[red]{exc}[/]")
            sys.exit(2)
    return out if seeds is not None else out[seed]


def _write(report, out: Path, stem: str, console) -> None:
    try:
        j, m = _report.write_reports(report, out, stem)  # JSON and Markdown of this run, atomically
    except OSError as exc:  # --out was writable when checked; the disk filled or it changed since
        click.echo(f"Error: cannot write the report to {out}: {_one_line(exc)}", err=True)
        sys.exit(2)
    console.print(f"wrote {j} and {m}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kdtheory")
def main() -> None:
    """kdtheory: check knowledge-distillation bounds against simulations and networks."""


@main.command()
@click.option("--paper", default=None,
              help="A paper of the manifest: key (000), seed file name, claim prefix "
              "(mobahi) or topic module (self_distillation).")
@click.option("--claim", "claim_ids", multiple=True, help="Claim id (repeatable; 'prefix*' matches a prefix).")
@click.option("--kind", type=click.Choice(["theory", "figure", "all"]), default="theory", show_default=True,
              help="theory claims, the figures' statements (figure claims), or both.")
@click.option("--size", type=SIZE, default="quick", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seeds", "n_seeds", type=click.IntRange(min=2), default=None, help=SEEDS_HELP)
@click.option("--out", type=OUT_DIR, default="reports", show_default=True)
@_scale_options
def run(paper, claim_ids, kind, size, seed, n_seeds, out, jobs, dask, modules) -> None:
    """Run theory claims; print the table; write OUT/verification.json and .md."""
    console = _console()
    _load(modules, figures=kind != "theory")
    executor = _executor(jobs, dask)
    kinds = ("theory", "figure") if kind == "all" else (kind,)
    selected = _select(paper=paper, ids=claim_ids, kinds=kinds)
    if not selected:
        console.print("no claims match the selection")
        sys.exit(0)
    opts = {} if n_seeds is None else {"n_seeds": n_seeds}
    verdicts = _run_with_progress(selected, seed=seed, size=size, console=console, label="claims",
                                  executor=executor, **opts)
    rep = _report.build_report(selected, verdicts, seed=seed, size=size, kind=kind,
                               options={"paper": paper, "claims": list(claim_ids), "seeds": n_seeds})
    rep["timing"]["executor"] = executor.describe()  # timing block: the report is otherwise executor-free
    _report.print_table(rep, console)
    _write(rep, out, "verification", console)
    sys.exit(1 if rep["summary"]["violated"] else 0)


@main.command(name="list")
@click.option("--paper", default=None)
@click.option("--kind", type=click.Choice(["theory", "network", "figure", "all"]), default="all", show_default=True)
@click.option("--module", "modules", multiple=True, metavar="MODULE", help="Also list this claim module's claims.")
def list_(paper, kind, modules) -> None:
    """Every claim with paper, equation and one-line statement."""
    from rich.table import Table

    console = _console()
    _load(modules, figures=kind in ("figure", "all"))
    note = ""
    if kind in ("network", "all"):
        try:
            _claims.load_all(network=True)
        except ImportError as exc:
            note = f"(network claims not listed: {exc})"
    sel = _select(paper=paper, kinds=None if kind == "all" else (kind,))
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
@click.option("--out", type=OUT_DIR, default="figures", show_default=True)
@click.option("--dask", "dask", default=None, metavar="ADDRESS",
              help="Run the figure claims on a Dask cluster (an address or 'local'); drawing stays here.")
@click.option("--jobs", "jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run the figure claims on this many local processes; drawing stays in this process.")
def figs(only, size, out, jobs, dask) -> None:
    """Regenerate every registered figure to OUT/<id>.png and write OUT/index.md."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import paper_figs

    console = _console()
    mods = paper_figs.discover()
    unknown = sorted(set(only) - set(mods))
    if unknown:
        raise UsageError(f"--only: unknown figure id(s) {unknown}; known: {sorted(mods)}")
    chosen = {k: m for k, m in mods.items() if not only or k in only}
    out.mkdir(parents=True, exist_ok=True)
    executor = _executor(jobs, dask)
    # every figure claim once (two figures may cite one), on the executor; then each figure is drawn from them
    per_fig = {fid: paper_figs.figure_claims(mod.FIGURE) for fid, mod in chosen.items()}
    fclaims = list({c.id: c for cs in per_fig.values() for c in cs}.values())
    t0 = time.perf_counter()
    fverdicts = _run_with_progress(fclaims, seed=0, size=size, console=console, label="figure claims",
                                   executor=executor) if fclaims else []
    by_id = {c.id: v for c, v in zip(fclaims, fverdicts)}
    n_claims = max(len(fclaims), 1)
    claim_secs = (time.perf_counter() - t0) / n_claims  # shown per figure as its share of the claims' run
    rows, failed = [], []
    for fid, mod in chosen.items():
        t1 = time.perf_counter()
        cv = [(c, by_id[c.id]) for c in per_fig[fid]]
        try:
            fig = paper_figs.render(mod, size, {c.id: v for c, v in cv})
            fig.savefig(out / f"{fid}.png", dpi=110, bbox_inches="tight")
            plt.close(fig)
        except Exception as exc:  # one broken figure must not hide the others
            failed.append(fid)
            console.print(f"[red]figure {fid} failed: {type(exc).__name__}: {exc}[/]")
            continue
        secs = time.perf_counter() - t1 + claim_secs * len(cv)
        rows.append((fid, mod.FIGURE, secs, cv))
        console.print(f"{fid}.png  ({secs:.1f} s)  {mod.FIGURE['title']}")
    rep = _report.build_report(fclaims, fverdicts, seed=0, size=size, kind="figure", options={"only": list(only)})
    rep["timing"]["executor"] = executor.describe()
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
    # index.md and figures.json of this run together, atomically (the JSON replaced last)
    _report.write_texts_atomic({out / "index.md": "\n".join(lines), out / "figures.json": _report.to_json(rep)})
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
@click.option("--out", type=OUT_DIR, default="reports", show_default=True)
@_scale_options
def gpu(device, dataset, data_dir, claim_ids, size, seed, n_seeds, out, jobs, dask, modules) -> None:
    """Run the network validations; write OUT/gpu_validation.json and .md."""
    console = _console()
    if dataset != "digits":  # digits ships with scikit-learn; a file data set may be absent or broken
        from gpu_validation import data as _gdata

        try:  # read once up front: a missing or unreadable file is a usage error, not 12 violated claims
            _gdata.load(dataset, data_dir, seed=seed)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--dataset {dataset}: {_one_line(exc)}") from None
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
        raise UsageError(f"--device {device}: {_one_line(exc)}") from None
    _load(modules, network=True)
    executor = _executor(jobs, dask)
    selected = _select(ids=claim_ids, kinds=("network",))
    if not selected:
        console.print("no network validations are registered yet; nothing to run")
        sys.exit(0)
    console.print(f"device: {dev}; dataset: {dataset}" + (f" from {data_dir}" if data_dir else ""))
    options = {"device": str(device), "dataset": dataset, "data_dir": str(data_dir) if data_dir else None}
    if n_seeds is not None:
        options["n_seeds"] = n_seeds
    verdicts = _run_with_progress(selected, seed=seed, size=size, console=console, label="networks",
                                  executor=executor, gpu=device == "cuda", **options)
    rep = _report.build_report(selected, verdicts, seed=seed, size=size, kind="network",
                               options={**options, "resolved_device": str(dev)})
    rep["timing"]["executor"] = executor.describe()
    _report.print_table(rep, console)
    _write(rep, out, "gpu_validation", console)
    sys.exit(1 if rep["summary"]["violated"] else 0)


@main.command()
@click.option("--seeds", "seeds_text", default="0-4", show_default=True, help="Global seeds: '0-4', '0,2,7'.")
@click.option("--paper", default=None)
@click.option("--claim", "claim_ids", multiple=True, help="Claim id (repeatable; 'prefix*' matches a prefix).")
@click.option("--kind", type=click.Choice(["theory", "figure", "network"]), default="theory", show_default=True)
@click.option("--size", type=SIZE, default="quick", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="For --kind network.")
@click.option("--out", type=OUT_DIR, default="reports", show_default=True)
@_scale_options
def stability(seeds_text, paper, claim_ids, kind, size, device, out, jobs, dask, modules) -> None:
    """Run claims at every seed; exit 1 when a status changes (other than to/from inconclusive)."""
    import json

    from rich.table import Table

    from .stability import parse_seeds, stability_report

    console = _console()
    try:
        seeds = parse_seeds(seeds_text)
    except ValueError as exc:
        raise UsageError(f"--seeds: {_one_line(exc)}") from None
    _load(modules, network=kind == "network", figures=kind == "figure")
    executor = _executor(jobs, dask)
    selected = _select(paper=paper, ids=claim_ids, kinds=(kind,))
    if not selected:
        console.print("no claims match the selection")
        sys.exit(0)
    options = {"device": device} if kind == "network" else {}
    by_seed = _run_with_progress(selected, seed=seeds[0], seeds=seeds, size=size, console=console,
                                 label=f"{len(seeds)} seeds", executor=executor, gpu=device == "cuda", **options)
    rep = stability_report(selected, by_seed)
    rep = {"kind": kind, "size": size, **rep}
    t = Table(title=f"status by seed ({kind}, size {size})", header_style="bold")
    t.add_column("claim")
    for s in seeds:
        t.add_column(str(s))
    t.add_column("stable")
    for r in rep["claims"]:
        t.add_row(r["claim_id"], *r["statuses"].values(), "yes" if r["stable"] else "[bold red]NO[/]")
    console.print(t)
    _report.write_text_atomic(out / "stability.json", json.dumps(rep, indent=2, ensure_ascii=False) + "\n")
    if rep["unstable"]:
        console.print(f"[bold red]{len(rep['unstable'])} unstable:[/] " + ", ".join(rep["unstable"]))
    else:
        console.print(f"all {len(selected)} claims stable over seeds {seeds_text}")
    console.print(f"wrote {out / 'stability.json'}")
    sys.exit(1 if rep["unstable"] else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
