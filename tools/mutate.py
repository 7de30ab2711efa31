"""Mutation testing of kdtheory's formula code: how much of it do the claims and tests actually guard?

    python tools/mutate.py [--sample N] [--modules variance_reduction,...] [--jobs J] [--seed S]
                           [--timeout SECONDS] [--out reports/mutation.json]

(`make mutate` runs the sampled mode.) Each mutant is one plausible mistake planted in one function of a
formula module of :mod:`kdtheory` — a numeric constant ×2 or ÷2 (a wrong constant, a wrong exponent), ``+``
↔ ``−``, ``*`` ↔ ``/``, a dropped factor or denominator, swapped operands of ``−`` and ``/``, ``1 − x`` → ``x``
(λ ↔ 1 − λ), a dropped unary minus. For each mutant the tool runs, in a fresh process on a scratch copy of
the tree, the theory claims and the tests that cover the mutated function (statically: they reference it or
a kdtheory function that calls it), and records

* ``killed``: a covering claim's status changed from its unmutated status, or a covering test failed (or the
  run crashed or timed out);
* ``survived``: every covering claim and test behaved as before — the checks would also pass for this mistake;
* ``not_covered``: no claim or test references the function;
* ``equivalent``: a survivor listed, with the reason, in ``tools/mutation_equivalents.json`` (it computes the
  same function, or changes only a tolerance or a numerical detail that no check can or should see).

It writes ``reports/mutation.json`` (totals, per module and per function, every survivor with its location)
and prints a per-module table. It prints a progress line from the start (each baseline claim, each mutant),
rewrites the report after every mutant (``"complete": false`` until the end) and never dies silently: an error
prints its traceback and exits 2; SIGTERM/Ctrl-C remove the children and scratch trees.

How it runs: every covering claim is first run once, alone, on the unmutated tree (its status and cost; a
claim that crashes or times out there, or is slower than ``--max-claim-seconds``, is not used for killing).
A test that fails for a mutant is re-run once on the unmutated tree: if it fails there too it is dropped and
the mutant re-run without it, so a broken test never counts as a kill. Mutants run in children forked from
a parent that has imported numpy/scipy/sympy/pytest (never kdtheory itself), on ``--jobs`` scratch copies of
the tree; ``--no-fork`` uses a fresh interpreter per mutant. ``--root`` picks the tree measured (default:
the checkout holding this file). The report's ``cpu_seconds_*`` fields give the CPU the run used, which is
what to extrapolate from on a loaded machine. Mutants are sampled with a fixed seed, so two runs on the same code plant
the same mutants. Validation guards (``raise``/``assert`` statements and ``if`` blocks that only raise),
subscripts, keyword arguments, default values of parameters and tolerances below 1e-6 are not
mutated: their mistakes are not formula mistakes. This is a tool run by hand, not a test: it is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as cf
import copy
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMULA_MODULES = ("variance_reduction", "kernel_regime", "greens", "self_distillation", "linear_transfer",
                   "label_distribution", "symbolic")
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.json"
# test files that run every claim (the registry battery) or need torch are not used for coverage
_SKIP_TESTS = ("test_registry.py", "test_packaging.py")
_TEST_DIRS = ("tests/kdtheory", "tests/verification")


# ----------------------------------------------------------------------------- mutation sites


@dataclasses.dataclass(frozen=True)
class Mutant:
    module: str        # kdtheory module name
    function: str      # qualified name inside the module
    index: int         # position of the site in the function's deterministic walk
    op: str            # operator name
    snippet: str       # source of the original node
    line: int

    @property
    def id(self) -> str:
        return f"{self.module}:{self.function}:{self.op}:{self.snippet}:{self.index}"


def _is_guard(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.Raise, ast.Assert)):
        return True
    if isinstance(stmt, ast.If):
        return all(isinstance(s, (ast.Raise, ast.Assert)) for s in stmt.body) and not stmt.orelse
    return False


def _excluded_nodes(fn: ast.AST) -> set[int]:
    """ids of nodes inside validation guards, subscripts, keyword arguments and docstrings."""
    out: set[int] = set()
    for node in ast.walk(fn):
        roots = []
        if isinstance(node, ast.stmt) and _is_guard(node):
            roots.append(node)
        elif isinstance(node, ast.Subscript):
            roots.append(node.slice)
        elif isinstance(node, ast.keyword):
            roots.append(node.value)
        elif isinstance(node, ast.arguments):  # default values: a caller's choice (quadrature nodes, iterations)
            roots.extend(d for d in (*node.defaults, *node.kw_defaults) if d is not None)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id in ("V", "validation", "_validate"):
            roots.append(node)
        for r in roots:
            out.update(id(n) for n in ast.walk(r))
    return out


def _sites(fn: ast.AST) -> list[tuple[ast.AST, str]]:
    """(node, operator) pairs of a function, in a deterministic order."""
    excluded = _excluded_nodes(fn)
    out = []
    for node in ast.walk(fn):
        if id(node) in excluded:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            v = node.value
            if v != 0 and abs(v) >= 1e-6:
                out += [(node, "const*2"), (node, "const/2")]
        elif isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                out.append((node, "add->sub"))
            elif isinstance(node.op, ast.Sub):
                out += [(node, "sub->add"), (node, "swap_operands")]
                if isinstance(node.left, ast.Constant) and node.left.value == 1:
                    out.append((node, "one_minus_x->x"))
            elif isinstance(node.op, ast.Mult):
                out += [(node, "mul->div"), (node, "drop_right_factor"), (node, "drop_left_factor")]
            elif isinstance(node.op, ast.Div):
                out += [(node, "div->mul"), (node, "drop_denominator"), (node, "swap_operands")]
            elif isinstance(node.op, ast.Pow):
                out.append((node, "pow->mul"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            out.append((node, "drop_minus"))
    return out


def _mutate_node(node: ast.AST, op: str) -> ast.AST:
    new = copy.deepcopy(node)
    if op == "const*2":
        new.value = node.value * 2
    elif op == "const/2":
        new.value = node.value / 2 if isinstance(node.value, float) or node.value % 2 else node.value // 2
    elif op == "add->sub":
        new.op = ast.Sub()
    elif op == "sub->add":
        new.op = ast.Add()
    elif op == "mul->div":
        new.op = ast.Div()
    elif op == "div->mul":
        new.op = ast.Mult()
    elif op == "pow->mul":
        new.op = ast.Mult()
    elif op == "swap_operands":
        new.left, new.right = copy.deepcopy(node.right), copy.deepcopy(node.left)
    elif op == "drop_right_factor" or op == "drop_denominator":
        return copy.deepcopy(node.left)
    elif op == "drop_left_factor":
        return copy.deepcopy(node.right)
    elif op == "one_minus_x->x":
        return copy.deepcopy(node.right)
    elif op == "drop_minus":
        return copy.deepcopy(node.operand)
    else:  # pragma: no cover
        raise ValueError(op)
    return new


def _functions(tree: ast.Module) -> dict[str, ast.AST]:
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out[f"{node.name}.{sub.name}"] = sub
    return out


def _segment(lines: list[bytes], node: ast.AST) -> str | None:
    """``ast.get_source_segment`` on pre-split lines (it re-splits the whole source per call: quadratic)."""
    try:
        l0, l1, c0, c1 = node.lineno - 1, node.end_lineno - 1, node.col_offset, node.end_col_offset
    except AttributeError:
        return None
    if l1 is None or c1 is None:
        return None
    if l0 == l1:
        return lines[l0][c0:c1].decode()
    return (lines[l0][c0:] + b"".join(lines[l0 + 1:l1]) + lines[l1][:c1]).decode()


def enumerate_mutants(module: str, root: Path = ROOT) -> list[Mutant]:
    src = (root / "kdtheory" / f"{module}.py").read_text()
    tree = ast.parse(src)
    lines = [ln.encode() for ln in src.splitlines(keepends=True)]
    out = []
    for qual, fn in _functions(tree).items():
        for i, (node, op) in enumerate(_sites(fn)):
            snippet = _segment(lines, node) or ast.unparse(node)
            out.append(Mutant(module, qual, i, op, " ".join(snippet.split())[:60], getattr(node, "lineno", 0)))
    return out


def mutated_source(m: Mutant, root: Path = ROOT) -> str:
    """The module's source with mutant ``m`` planted (the module is re-emitted by ``ast.unparse``)."""
    src = (root / "kdtheory" / f"{m.module}.py").read_text()
    tree = ast.parse(src)
    fn = _functions(tree)[m.function]
    node, op = _sites(fn)[m.index]
    assert op == m.op, (m, op)
    replacement = _mutate_node(node, op)

    class Swap(ast.NodeTransformer):
        def generic_visit(self, n):
            if n is node:
                return replacement
            return super().generic_visit(n)

        def visit(self, n):
            if n is node:
                return replacement
            return super().visit(n)

    tree = ast.fix_missing_locations(Swap().visit(tree))
    return ast.unparse(tree)


# ----------------------------------------------------------------------------- static coverage


def _names(node: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
    return out


def _ref_key(qual: str) -> str:
    """The name code uses to reach a function: its own name, or its class's for a dunder method
    (``SplineGram.__init__`` runs wherever ``SplineGram(...)`` is written)."""
    parts = qual.split(".")
    return parts[-2] if len(parts) > 1 and parts[-1].startswith("__") and parts[-1].endswith("__") else parts[-1]


def kdtheory_callers(root: Path = ROOT) -> dict[str, set[str]]:
    """name -> names of kdtheory functions that reference it, transitively (names across modules may
    collide: an over-approximation, which only makes coverage larger)."""
    refs: dict[str, set[str]] = {}
    for path in sorted((root / "kdtheory").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for qual, fn in _functions(tree).items():
            refs.setdefault(_ref_key(qual), set()).update(_names(fn))
    callers: dict[str, set[str]] = defaultdict(set)
    for f, used in refs.items():
        for u in used:
            if u in refs and u != f:
                callers[u].add(f)
    closed: dict[str, set[str]] = {}
    for f in refs:
        seen, todo = set(), [f]
        while todo:
            g = todo.pop()
            for c in callers.get(g, ()):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        closed[f] = seen
    return closed


def _module_function_names(tree: ast.Module) -> dict[str, set[str]]:
    """top-level function (and class) name -> names it references, closed over the module's own functions."""
    direct = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            direct[node.name] = _names(node)
    closed = {}
    for f in direct:
        seen, todo, names = {f}, [f], set()
        while todo:
            g = todo.pop()
            names |= direct[g]
            for u in direct[g]:
                if u in direct and u not in seen:
                    seen.add(u)
                    todo.append(u)
        closed[f] = names
    return closed


def claim_names(root: Path = ROOT) -> dict[str, set[str]]:
    """theory claim id -> names its check references (with its module's helpers)."""
    sys.path.insert(0, str(root))
    from verification.claims import load_all  # noqa: E402

    out = {}
    per_file: dict[str, dict[str, set[str]]] = {}
    for cid, c in load_all().items():
        if c.kind != "theory":
            continue
        fn = getattr(c.check, "__wrapped__", c.check)
        path = getattr(sys.modules.get(fn.__module__), "__file__", None)
        if path is None:
            continue
        if path not in per_file:
            per_file[path] = _module_function_names(ast.parse(Path(path).read_text()))
        out[cid] = per_file[path].get(fn.__name__, set())
    return out


def test_names(root: Path = ROOT) -> dict[str, set[str]]:
    """pytest node id (file::function) -> names the test references (with its module's helpers)."""
    out = {}
    for d in _TEST_DIRS:
        for path in sorted((root / d).glob("test_*.py")):
            if path.name in _SKIP_TESTS:
                continue
            tree = ast.parse(path.read_text())
            closed = _module_function_names(tree)
            rel = path.relative_to(root).as_posix()
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    out[f"{rel}::{node.name}"] = closed[node.name]
    return out


# ----------------------------------------------------------------------------- running

# Heavy third-party modules imported once in the parent so that every forked mutant run starts warm (a fresh
# interpreter spends ~3 s of CPU importing scipy and sympy alone). kdtheory, verification and tests are never
# imported in the parent: each child imports them from its scratch tree, mutated.
_PRELOAD = ("numpy", "scipy", "scipy.linalg", "scipy.optimize", "scipy.stats", "scipy.special", "scipy.integrate",
            "scipy.interpolate", "sympy", "matplotlib", "matplotlib.pyplot", "hypothesis", "pytest")
_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HYPOTHESIS_PROFILE": "ci",
        "CI": "true", "MPLBACKEND": "Agg"}
_OWN = ("kdtheory", "verification", "tests", "paper_figs", "gpu_validation", "examples", "conftest")


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def log(msg: str) -> None:
    """Progress line on stdout, flushed (a run piped into a log file is never silent)."""
    print(f"[mutate {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class _Failures:
    """pytest plugin: node ids of failed tests (setup, call or teardown), collection errors included."""

    def __init__(self):
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid)

    def pytest_collectreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid or "<collection>")


def work(root: str, spec: dict) -> dict:
    """Run one spec in the current interpreter on the tree at ``root``: the claims (stopping at the first whose
    status differs from ``spec["baseline"]``), then the tests (``-x``; without a baseline: all of them, and the
    failing node ids are returned). Never raises: an import or run error is returned in ``killed_by``."""
    for name in [k for k in sys.modules if k.split(".")[0] in _OWN]:  # a parent that imported them (a test)
        del sys.modules[name]
    sys.path.insert(0, root)
    os.chdir(root)
    out: dict = {"killed_by": None, "statuses": {}, "seconds": {}}
    baseline = spec.get("baseline")
    try:
        from verification.claims import claim_rng, load_all
        reg = load_all()
        for cid in spec.get("claims", ()):
            t0 = time.perf_counter()
            try:
                v = reg[cid].run(claim_rng(0, reg[cid].rng_name), "quick")
                st = v.status
            except Exception as exc:
                st = "crashed: " + type(exc).__name__
            out["statuses"][cid] = st
            out["seconds"][cid] = time.perf_counter() - t0
            if baseline is not None and st != baseline.get(cid):
                out["killed_by"] = f"claim {cid}: {baseline.get(cid)} -> {st}"
                return out
        if spec.get("tests"):
            import pytest
            plugin = _Failures()
            t0 = time.perf_counter()
            args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", *spec["tests"]]
            code = pytest.main((["-x"] if baseline is not None else []) + args, plugins=[plugin])
            out["tests_exit"] = int(code)
            out["tests_failed"] = plugin.failed
            out["tests_seconds"] = time.perf_counter() - t0
            if baseline is not None and int(code) != 0:
                out["killed_by"] = f"tests (pytest exit {int(code)}: {', '.join(plugin.failed[:2])})"
    except BaseException as exc:  # noqa: BLE001 - a mutant may raise anything at import time
        out["killed_by"] = "import/run error: " + type(exc).__name__ + ": " + str(exc)[:200]
        out["error"] = True
    return out


@dataclasses.dataclass
class _Job:
    pid: int
    root: Path
    deadline: float
    key: object
    timeout: float


class Runner:
    """Runs specs in forked children (``fork=True``, the parent preloaded with :data:`_PRELOAD`) or in fresh
    interpreters, at most ``jobs`` at a time, each on its own scratch tree, each killed after its timeout."""

    def __init__(self, roots: list[Path], fork: bool | None = None):
        self.free = list(roots)
        self.fork = hasattr(os, "fork") if fork is None else fork
        self.running: dict[int, _Job] = {}

    def submit(self, key, spec: dict, timeout: float, prepare=None) -> None:
        root = self.free.pop()
        if prepare is not None:
            prepare(root)
        res = root / ".mutate-result.json"
        res.unlink(missing_ok=True)
        if self.fork:
            pid = os.fork()
            if pid == 0:  # child: never returns
                code = 0
                try:
                    import signal
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    os.setpgid(0, 0)
                    fd = os.open(root / ".mutate-log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                    os.dup2(fd, 1)
                    os.dup2(fd, 2)
                    r = work(str(root), spec)
                    tmp = res.with_suffix(".tmp")
                    tmp.write_text(json.dumps(r))
                    os.replace(tmp, res)
                except BaseException:  # noqa: BLE001
                    code = 3
                finally:
                    os._exit(code)
        else:
            env = {**os.environ, "PYTHONPATH": str(root), **_ENV}
            code = ("import json,sys; sys.path.insert(0, sys.argv[1]); import runpy; "
                    "m = runpy.run_path(sys.argv[3]); r = m['work'](sys.argv[1], json.loads(sys.argv[2])); "
                    "open(sys.argv[4], 'w').write(json.dumps(r))")
            with open(root / ".mutate-log.txt", "w") as logf:
                p = subprocess.Popen([sys.executable, "-c", code, str(root), json.dumps(spec), __file__, str(res)],
                                     cwd=root, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
            pid = p.pid
            self._popen = getattr(self, "_popen", {})
            self._popen[pid] = p
        self.running[pid] = _Job(pid, root, time.monotonic() + timeout, key, timeout)

    def _finish(self, job: _Job, status: int | None) -> tuple[object, dict]:
        self.free.append(job.root)
        res = job.root / ".mutate-result.json"
        if status is None:
            return job.key, {"killed_by": f"timeout after {job.timeout:.0f} s", "timeout": True}
        if res.exists():
            try:
                return job.key, json.loads(res.read_text())
            except ValueError:
                pass
        tail = ""
        try:
            tail = (job.root / ".mutate-log.txt").read_text()[-300:]
        except OSError:
            pass
        return job.key, {"killed_by": f"worker died (wait status {status}): {tail}", "error": True}

    def wait_one(self) -> tuple[object, dict]:
        """Block until one running spec finishes (or times out); return its key and result."""
        while True:
            for pid, job in list(self.running.items()):
                try:
                    done, status, usage = os.wait4(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status, usage = pid, -1, None
                if done:
                    del self.running[pid]
                    key, r = self._finish(job, status)
                    if usage is not None:
                        r["cpu_seconds"] = usage.ru_utime + usage.ru_stime
                    return key, r
                if time.monotonic() > job.deadline:
                    self._kill(pid)
                    del self.running[pid]
                    return self._finish(job, None)
            time.sleep(0.05)

    def _kill(self, pid: int) -> None:
        import signal
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError, OSError):
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def close(self) -> None:
        for pid in list(self.running):
            self._kill(pid)
        self.running.clear()


def run_all(runner: Runner, items: list, spec_of, timeout_of, on_result, prepare_of=None) -> None:
    """Submit every item (spec_of(item) -> spec or None to skip), keeping the runner's roots busy; ``items`` is
    consumed, and on_result may append to it."""
    queue = items
    while queue or runner.running:
        while queue and runner.free:
            item = queue.pop(0)
            spec = spec_of(item)
            if spec is None:
                on_result(item, None)
                continue
            runner.submit(item, spec, timeout_of(item), prepare_of(item) if prepare_of else None)
        if runner.running:
            key, r = runner.wait_one()
            on_result(key, r)


def _scratch_copy(root: Path = ROOT) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="kdmutate-"))
    for name in ("kdtheory", "verification", "tests", "paper_figs", "gpu_validation", "examples", "docs",
                 "benchmarks", "tools", "pyproject.toml", "README.md", "conftest.py", "setup.cfg", "pytest.ini"):
        src = root / name
        if src.is_dir():
            shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
        elif src.exists():
            shutil.copy2(src, tmp / name)
    if not (tmp / "kdtheory").is_dir():
        raise RuntimeError(f"scratch copy of {root} has no kdtheory/ (is --root a kdtheory checkout?)")
    return tmp


def _coverage_names(root: Path) -> dict:
    """claim and test name maps, computed in a child (the parent must not import kdtheory)."""
    code = ("import json,sys,runpy; sys.path.insert(0, sys.argv[1]); m = runpy.run_path(sys.argv[2]); "
            "from pathlib import Path; r = Path(sys.argv[1]); "
            "json.dump({'claims': {k: sorted(v) for k, v in m['claim_names'](r).items()}, "
            "'tests': {k: sorted(v) for k, v in m['test_names'](r).items()}}, open(sys.argv[3], 'w'))")
    res = root / ".mutate-coverage.json"
    env = {**os.environ, "PYTHONPATH": str(root), **_ENV}
    p = subprocess.run([sys.executable, "-c", code, str(root), __file__, str(res)], cwd=root, env=env,
                       capture_output=True, text=True, timeout=900)
    if p.returncode != 0 or not res.exists():
        raise RuntimeError(f"could not list the claims and tests of {root} (exit {p.returncode}):\n{p.stderr[-2000:]}")
    out = json.loads(res.read_text())
    res.unlink()
    return {"claims": {k: set(v) for k, v in out["claims"].items()}, "tests": {k: set(v) for k, v in out["tests"].items()}}


KEYS = ("killed", "survived", "equivalent", "not_covered", "error")


def _score(c: dict):
    denom = c["killed"] + c["survived"]
    return round(c["killed"] / denom, 3) if denom else None


def build_report(args, modules, all_mutants, results, equivalents, t_start, complete, baseline) -> dict:
    report = {"complete": complete, "sample": args.sample, "seed": args.seed, "root": str(args.root),
              "mutants_in_modules": {k: len(v) for k, v in all_mutants.items()},
              "seconds": round(time.perf_counter() - t_start, 1),
              "cpu_seconds_children": round(sum(os.times()[2:4]), 1),
              "cpu_seconds_mutants": round(sum(r.get("cpu_seconds", 0.0) for r in results.values()), 1),
              "baseline": {**baseline, "failing_tests": sorted(baseline["failing_tests"])}, "summary": {}, "modules": {}, "survivors": [], "errors": [],
              "stale_equivalents": sorted({e for e in equivalents if e.split(":")[0] in all_mutants}
                                          - {m.id for ms in all_mutants.values() for m in ms})}
    tot = dict.fromkeys(KEYS, 0)
    for mod in modules:
        mods = dict.fromkeys(KEYS, 0)
        funcs: dict[str, dict] = {}
        for m, r in results.items():
            if m.module != mod:
                continue
            mods[r["result"]] += 1
            tot[r["result"]] += 1
            f = funcs.setdefault(m.function, dict.fromkeys(KEYS, 0))
            f[r["result"]] += 1
            if r["result"] == "survived":
                report["survivors"].append({"id": m.id, "line": m.line, "claims": r["claims"], "tests": r["tests"]})
            elif r["result"] == "error":
                report["errors"].append({"id": m.id, "line": m.line, "error": r.get("killed_by")})
        for f in funcs.values():
            f["score"] = _score(f)
        report["modules"][mod] = {**mods, "score": _score(mods), "functions": dict(sorted(funcs.items()))}
    report["summary"] = {**tot, "score": _score(tot)}
    return report


def write_report(report: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=100, help="mutants to run in all (0 = every mutant)")
    ap.add_argument("--modules", default=None, help="comma-separated (default: the formula modules the tree has)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per mutant (a timeout counts as killed)")
    ap.add_argument("--max-claims", type=int, default=4, help="covering claims run per mutant (fastest first)")
    ap.add_argument("--max-tests", type=int, default=10, help="covering tests run per mutant")
    ap.add_argument("--max-claim-seconds", type=float, default=60.0,
                    help="covering claims whose unmutated quick run takes longer are not run (listed in the report)")
    ap.add_argument("--root", default=str(ROOT), help="the kdtheory tree to measure (default: the one holding this tool)")
    ap.add_argument("--no-fork", action="store_true", help="a fresh interpreter per mutant (slower; no preloading)")
    ap.add_argument("--rerun", default=None, metavar="REPORT",
                    help="run only the survivors of an earlier report (after strengthening a check)")
    ap.add_argument("--out", default=None, help="default: <root>/reports/mutation.json")
    args = ap.parse_args(argv)
    args.root = Path(args.root).resolve()
    if args.modules is None:
        args.modules = ",".join(m for m in FORMULA_MODULES if (args.root / "kdtheory" / f"{m}.py").is_file())
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    if args.sample < 0 or args.jobs < 1 or args.timeout <= 0:
        ap.error("--sample must be >= 0, --jobs >= 1 and --timeout > 0")
    if not (args.root / "kdtheory").is_dir():
        ap.error(f"--root {args.root} has no kdtheory/ package")
    unknown = [m for m in modules if not (args.root / "kdtheory" / f"{m}.py").is_file()]
    if unknown:
        ap.error(f"unknown modules {unknown} (no kdtheory/<module>.py in {args.root}); formula modules: "
                 f"{', '.join(FORMULA_MODULES)}")
    out = Path(args.out) if args.out else args.root / "reports" / "mutation.json"
    roots: list[Path] = []
    saved_env = {k: os.environ.get(k) for k in _ENV}
    import signal

    def _terminate(signum, frame):  # SIGTERM (a timeout, kill): clean up the children and scratch trees too
        raise KeyboardInterrupt(f"signal {signum}")

    old_term = signal.signal(signal.SIGTERM, _terminate) if threading_main() else None
    try:
        return _main(args, modules, out, roots)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except Exception:  # noqa: BLE001 - never die silently
        import traceback
        log("FAILED:\n" + traceback.format_exc())
        return 2
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _main(args, modules, out: Path, roots: list) -> int:
    t_start = time.perf_counter()
    os.environ.update(_ENV)
    log(f"measuring {args.root} (modules {', '.join(modules)}; sample {args.sample}, jobs {args.jobs}) -> {out}")
    eq_path = args.root / "tools" / "mutation_equivalents.json"
    equivalents = json.loads(eq_path.read_text()) if eq_path.exists() else {}
    all_mutants = {m: enumerate_mutants(m, args.root) for m in modules}
    rng = random.Random(args.seed)
    total = sum(len(v) for v in all_mutants.values())
    chosen: list[Mutant] = []
    if args.rerun:
        wanted = {sv["id"] for sv in json.loads(Path(args.rerun).read_text())["survivors"]}
        chosen = [m for v in all_mutants.values() for m in v if m.id in wanted]
        missing = wanted - {m.id for m in chosen}
        if missing:
            log(f"{len(missing)} survivors of {args.rerun} are no mutants of these modules now: {sorted(missing)[:3]}")
    elif args.sample == 0 or args.sample >= total:
        chosen = [m for v in all_mutants.values() for m in v]
    else:  # stratified: each module gets a share proportional to its size, at least 3
        for mod, ms in all_mutants.items():
            k = min(len(ms), max(3, round(args.sample * len(ms) / total)))
            chosen += rng.sample(ms, k)
    log(f"{total} mutation sites; running {len(chosen)} mutants")
    roots.append(_scratch_copy(args.root))
    callers = kdtheory_callers(args.root)
    names = _coverage_names(roots[0])
    cnames, tnames = names["claims"], names["tests"]
    log(f"coverage map: {len(cnames)} theory claims, {len(tnames)} tests")

    def covering(m: Mutant) -> tuple[list[str], list[str]]:
        fname = _ref_key(m.function)
        targets = {fname} | callers.get(fname, set())
        cl = sorted(c for c, n in cnames.items() if n & targets)
        # the mutated module's own pinned and unit tests first: generic names (kappa, matvec, d_max) also match
        # other modules' tests, which would otherwise fill the --max-tests slots alphabetically
        own = (f"tests/kdtheory/test_pinned_{m.module}.py::", f"tests/kdtheory/test_{m.module}.py::")
        ts = sorted((t for t, n in tnames.items() if n & targets),
                    key=lambda t: (next((i for i, o in enumerate(own) if t.startswith(o)), len(own)), t))
        return cl, ts

    cover = {m: covering(m) for m in chosen}
    roots.extend(_scratch_copy(args.root) for _ in range(args.jobs - 1))
    if not args.no_fork and hasattr(os, "fork"):
        for mod in _PRELOAD:
            try:
                __import__(mod)
            except Exception:  # noqa: BLE001 - a missing optional module only costs speed
                pass
    runner = Runner(roots, fork=False if args.no_fork else None)
    try:
        return _run(args, modules, out, runner, all_mutants, chosen, cover, equivalents, t_start)
    finally:
        runner.close()


def _run(args, modules, out, runner, all_mutants, chosen, cover, equivalents, t_start) -> int:
    # 1. baseline: every covering claim once on the unmutated tree, one per child, in parallel
    needed = sorted({c for cl, _ in cover.values() for c in cl})
    base: dict[str, dict] = {}
    t0 = time.perf_counter()

    def on_base_claim(cid, r):
        st = r.get("statuses", {}).get(cid) if not r.get("killed_by") else None
        base[cid] = {"status": st or ("timeout" if r.get("timeout") else "error"),
                     "seconds": round(r.get("seconds", {}).get(cid, float("inf")), 2),
                     "cpu_seconds": round(r.get("cpu_seconds", 0.0), 2),
                     **({"error": r["killed_by"]} if r.get("killed_by") else {})}
        log(f"baseline claim [{len(base)}/{len(needed)}] {cid}: {base[cid]['status']} ({base[cid]['seconds']} s)")

    run_all(runner, list(needed), lambda c: {"claims": [c], "baseline": None},
            lambda c: max(args.timeout, args.max_claim_seconds * 2), on_base_claim)
    broken = [c for c, b in base.items() if b["status"] in ("timeout", "error")]
    if needed and len(broken) == len(needed):
        raise RuntimeError("every baseline claim failed on the unmutated tree, e.g. "
                           f"{needed[0]}: {base[needed[0]].get('error')}")
    slow = [c for c, b in base.items() if b["status"] not in ("timeout", "error") and b["seconds"] > args.max_claim_seconds]
    usable = {c for c in base if c not in broken and c not in slow}
    if broken or slow:
        log(f"not used for killing: broken {broken}, slower than {args.max_claim_seconds:.0f} s {slow}")
    # 2. tests get no eager baseline (it would cost as much as the mutants): a test that kills a mutant is
    #    re-run once on the unmutated tree; if it fails there too it is dropped and the mutant re-run without it
    per_mutant_tests = {m: ts[: args.max_tests] for m, (_, ts) in cover.items()}
    failing: set[str] = set()
    passing: set[str] = set()
    log(f"baseline done in {time.perf_counter() - t0:.0f} s")
    base_statuses = {c: b["status"] for c, b in base.items()}
    baseline_report = {"claims": base, "failing_tests": failing, "slow_claims": slow, "broken_claims": broken}

    # 3. the mutants
    results: dict[Mutant, dict] = {}
    plan: dict[Mutant, tuple[list[str], list[str]]] = {}
    for m in chosen:
        cl, _ = cover[m]
        cl = sorted((c for c in cl if c in usable), key=lambda c: base[c]["seconds"])[: args.max_claims]
        ts = [t for t in per_mutant_tests[m] if t not in failing and t.split("::")[0] not in failing]
        plan[m] = (cl, ts)

    sources: dict[Mutant, str] = {}
    planting: dict[Mutant, str] = {}
    originals = {mod: (args.root / "kdtheory" / f"{mod}.py").read_text() for mod in modules}

    def spec_of(m):
        cl, ts = plan[m]
        if not cl and not ts:
            return None
        try:  # planted lazily: the parent works on the next mutant while the children run
            sources[m] = mutated_source(m, args.root)
        except Exception as exc:  # noqa: BLE001 - a mutant that cannot be planted is reported, not fatal
            planting[m] = f"could not plant: {type(exc).__name__}: {exc}"
            return None
        return {"claims": cl, "tests": ts, "baseline": {c: base_statuses[c] for c in cl}}

    def prepare_of(m):
        def prepare(root: Path):
            for mod, src in originals.items():  # whatever the root's previous mutant was, only m is planted
                (root / "kdtheory" / f"{mod}.py").write_text(sources.pop(m) if mod == m.module else src)
            shutil.rmtree(root / "kdtheory" / "__pycache__", ignore_errors=True)
        return prepare

    waiting: dict[str, list] = defaultdict(list)  # test id -> (mutant, result) awaiting its confirmation

    def finish(m, r):
        cl, ts = plan[m]
        if m in planting:
            res = {"result": "error", "killed_by": planting[m]}
        elif r is None:
            res = {"result": "not_covered"}
        elif r.get("error") and not (r.get("killed_by") or "").startswith("import/run error"):
            res = {"result": "error", "killed_by": r.get("killed_by")}
        elif r.get("killed_by"):
            res = {"result": "killed", "killed_by": r["killed_by"], "claims": cl, "tests": len(ts)}
        elif m.id in equivalents:
            res = {"result": "equivalent", "claims": cl, "tests": len(ts), "reason": equivalents[m.id]}
        else:
            res = {"result": "survived", "claims": cl, "tests": len(ts)}
        res["cpu_seconds"] = round(r.get("cpu_seconds", 0.0), 2) if r else 0.0
        results[m] = res
        log(f"[{len(results)}/{len(chosen)}] {res['result']:11s} {m.id}"
            + (f"  <- {res['killed_by'][:80]}" if res.get("killed_by") else ""))
        write_report(build_report(args, modules, all_mutants, results, equivalents, t_start, False, baseline_report), out)

    def replan(m):
        cl, ts = plan[m]
        plan[m] = (cl, [t for t in ts if t not in failing])
        queue.insert(0, ("m", m))

    def on_result(item, r):
        kind, x = item
        if kind == "t":  # a confirmation run of test x on the unmutated tree
            if r.get("killed_by") or r.get("tests_exit", 0) != 0:
                failing.add(x)
                log(f"test {x} fails on the unmutated tree too: dropped")
                for m, _ in waiting.pop(x, []):
                    replan(m)
            else:
                passing.add(x)
                for m, rm in waiting.pop(x, []):
                    finish(m, rm)
            return
        m = x
        failed = [f.split("[")[0] for f in (r or {}).get("tests_failed", ())]
        if r and (r.get("killed_by") or "").startswith("tests") and failed:
            t = failed[0]
            if t in failing:
                return replan(m)
            if t not in passing:
                if t not in waiting:
                    queue.insert(0, ("t", t))
                waiting[t].append((m, r))
                return
        finish(m, r)

    def spec_of_item(item):
        kind, x = item
        return {"tests": [x], "baseline": None} if kind == "t" else spec_of(x)

    def prepare_of_item(item):
        kind, x = item
        if kind == "m":
            return prepare_of(x)

        def clean(root: Path):
            for mod, src in originals.items():
                (root / "kdtheory" / f"{mod}.py").write_text(src)
            shutil.rmtree(root / "kdtheory" / "__pycache__", ignore_errors=True)
        return clean

    queue = [("m", m) for m in chosen]
    run_all(runner, queue, spec_of_item, lambda item: args.timeout, on_result, prepare_of_item)
    report = build_report(args, modules, all_mutants, results, equivalents, t_start, True, baseline_report)
    write_report(report, out)
    print(f"\n{'module':20s} {'killed':>7s} {'survived':>8s} {'equiv':>6s} {'uncov':>6s} {'error':>6s} {'score':>6s}")
    for mod, r in report["modules"].items():
        print(f"{mod:20s} {r['killed']:7d} {r['survived']:8d} {r['equivalent']:6d} {r['not_covered']:6d} "
              f"{r['error']:6d} {r['score'] if r['score'] is not None else '-':>6}")
    s = report["summary"]
    print(f"{'all':20s} {s['killed']:7d} {s['survived']:8d} {s['equivalent']:6d} {s['not_covered']:6d} "
          f"{s['error']:6d} {s['score'] if s['score'] is not None else '-':>6}")
    if report["stale_equivalents"]:
        print(f"stale entries in mutation_equivalents.json (no such mutant now): {len(report['stale_equivalents'])}")
    base_cpu = sum(b.get("cpu_seconds", 0.0) for b in report["baseline"]["claims"].values())
    print(f"wrote {out} ({report['seconds']} s wall; CPU: baseline claims {base_cpu:.0f} s, mutants "
          f"{report['cpu_seconds_mutants']} s, all children {report['cpu_seconds_children']} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
