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
and prints a per-module table. Mutants are sampled with a fixed seed, so two runs on the same code plant
the same mutants. Validation guards (``raise``/``assert`` statements and ``if`` blocks that only raise),
subscripts, keyword arguments and tolerances below 1e-6 are not mutated: their mistakes are not formula
mistakes. This is a tool run by hand, not a test: it is not part of ``make test``.
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


def enumerate_mutants(module: str, root: Path = ROOT) -> list[Mutant]:
    src = (root / "kdtheory" / f"{module}.py").read_text()
    tree = ast.parse(src)
    out = []
    for qual, fn in _functions(tree).items():
        for i, (node, op) in enumerate(_sites(fn)):
            snippet = ast.get_source_segment(src, node) or ast.unparse(node)
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


def kdtheory_callers(root: Path = ROOT) -> dict[str, set[str]]:
    """name -> names of kdtheory functions that reference it, transitively (names across modules may
    collide: an over-approximation, which only makes coverage larger)."""
    refs: dict[str, set[str]] = {}
    for path in sorted((root / "kdtheory").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for qual, fn in _functions(tree).items():
            refs.setdefault(qual.split(".")[-1], set()).update(_names(fn))
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


_WORKER = r"""
import json, os, sys, time
root = sys.argv[1]; spec = json.loads(sys.argv[2])
sys.path.insert(0, root); os.chdir(root)
out = {"killed_by": None, "statuses": {}, "seconds": {}}
try:
    from verification.claims import load_all, claim_rng
    reg = load_all()
    for cid in spec["claims"]:
        c = reg[cid]
        t0 = time.perf_counter()
        try:
            v = c.run(claim_rng(0, c.rng_name), "quick")
            st = v.status
        except Exception as exc:
            st = "crashed: " + type(exc).__name__
        out["statuses"][cid] = st
        out["seconds"][cid] = time.perf_counter() - t0
        if spec.get("baseline") is not None and st != spec["baseline"].get(cid):
            out["killed_by"] = "claim " + cid + ": " + str(spec["baseline"].get(cid)) + " -> " + st
            break
    if out["killed_by"] is None and spec["tests"]:
        import pytest
        code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *spec["tests"]])
        out["tests_exit"] = int(code)
        if spec.get("baseline") is not None and int(code) != 0:
            out["killed_by"] = "tests (pytest exit %d)" % int(code)
except Exception as exc:
    out["killed_by"] = "import/run error: " + type(exc).__name__ + ": " + str(exc)[:200]
print("@@MUTATE@@" + json.dumps(out))
"""


def _run_worker(root: Path, spec: dict, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "HYPOTHESIS_PROFILE": "ci", "CI": "true", "MPLBACKEND": "Agg"}
    try:
        p = subprocess.run([sys.executable, "-c", _WORKER, str(root), json.dumps(spec)], cwd=root, env=env,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"killed_by": f"timeout after {timeout:.0f} s"}
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("@@MUTATE@@"):
            return json.loads(line[len("@@MUTATE@@"):])
    return {"killed_by": f"worker died (exit {p.returncode}): {p.stderr[-300:]}"}


def _scratch_copy() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="kdmutate-"))
    for name in ("kdtheory", "verification", "tests", "paper_figs", "gpu_validation", "examples", "docs",
                 "pyproject.toml", "README.md"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.exists():
            shutil.copy2(src, tmp / name)
    return tmp


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=100, help="mutants to run in all (0 = every mutant)")
    ap.add_argument("--modules", default=",".join(FORMULA_MODULES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per mutant (a timeout counts as killed)")
    ap.add_argument("--max-claims", type=int, default=4, help="covering claims run per mutant (fastest first)")
    ap.add_argument("--max-tests", type=int, default=10, help="covering tests run per mutant")
    ap.add_argument("--out", default=str(ROOT / "reports" / "mutation.json"))
    args = ap.parse_args(argv)
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    unknown = set(modules) - set(FORMULA_MODULES)
    if unknown:
        ap.error(f"unknown modules {sorted(unknown)}; known: {', '.join(FORMULA_MODULES)}")
    if args.sample < 0 or args.jobs < 1 or args.timeout <= 0:
        ap.error("--sample must be >= 0, --jobs >= 1 and --timeout > 0")
    t_start = time.perf_counter()
    equivalents = json.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}

    all_mutants = {m: enumerate_mutants(m) for m in modules}
    rng = random.Random(args.seed)
    total = sum(len(v) for v in all_mutants.values())
    chosen: list[Mutant] = []
    if args.sample == 0 or args.sample >= total:
        chosen = [m for v in all_mutants.values() for m in v]
    else:  # stratified: each module gets a share proportional to its size, at least 3
        for mod, ms in all_mutants.items():
            k = min(len(ms), max(3, round(args.sample * len(ms) / total)))
            chosen += rng.sample(ms, k)
    callers = kdtheory_callers()
    cnames, tnames = claim_names(), test_names()

    def covering(m: Mutant) -> tuple[list[str], list[str]]:
        fname = m.function.split(".")[-1]
        targets = {fname} | callers.get(fname, set())
        cl = sorted(c for c, names in cnames.items() if names & targets)
        ts = sorted(t for t, names in tnames.items() if names & targets)
        return cl, ts

    cover = {m: covering(m) for m in chosen}
    # baseline statuses and costs of every covering claim, once, on the unmutated tree
    needed = sorted({c for cl, _ in cover.values() for c in cl})
    base_root = _scratch_copy()
    t0 = time.perf_counter()
    r = _run_worker(base_root, {"claims": needed, "tests": [], "baseline": None}, max(args.timeout, 60.0 * len(needed)))
    base_statuses = {c: r.get("statuses", {}).get(c, "crashed") for c in needed}
    cost = r.get("seconds", {})
    print(f"baseline: {len(needed)} covering claims in {time.perf_counter() - t0:.0f} s", flush=True)

    roots = [base_root] + [_scratch_copy() for _ in range(args.jobs - 1)]
    results: dict[Mutant, dict] = {}

    def run_one(m: Mutant, root: Path) -> dict:
        cl, ts = cover[m]
        if not cl and not ts:
            return {"result": "not_covered"}
        cl = sorted(cl, key=lambda c: cost.get(c, 1e9))[: args.max_claims]
        ts = ts[: args.max_tests]
        target = root / "kdtheory" / f"{m.module}.py"
        original = (ROOT / "kdtheory" / f"{m.module}.py").read_text()
        target.write_text(mutated_source(m))
        try:
            r = _run_worker(root, {"claims": cl, "tests": ts, "baseline": {c: base_statuses[c] for c in cl}},
                            args.timeout)
        finally:
            target.write_text(original)
        if r.get("killed_by"):
            return {"result": "killed", "killed_by": r["killed_by"], "claims": cl, "tests": len(ts)}
        res = "equivalent" if m.id in equivalents else "survived"
        return {"result": res, "claims": cl, "tests": len(ts), **({"reason": equivalents[m.id]} if res == "equivalent" else {})}

    queue = list(chosen)
    free = list(roots)
    done = 0
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {}
        while queue or futs:
            while queue and free:
                m = queue.pop(0)
                root = free.pop()
                futs[pool.submit(run_one, m, root)] = (m, root)
            fin, _ = cf.wait(futs, return_when=cf.FIRST_COMPLETED)
            for f in fin:
                m, root = futs.pop(f)
                free.append(root)
                results[m] = f.result()
                done += 1
                print(f"[{done}/{len(chosen)}] {results[m]['result']:11s} {m.id}", flush=True)
    for r in roots:
        shutil.rmtree(r, ignore_errors=True)

    report = {"sample": args.sample, "seed": args.seed, "mutants_in_modules": {k: len(v) for k, v in all_mutants.items()},
              "seconds": round(time.perf_counter() - t_start, 1), "summary": {}, "modules": {}, "survivors": []}
    keys = ("killed", "survived", "equivalent", "not_covered")

    def score(c):
        denom = c["killed"] + c["survived"]
        return round(c["killed"] / denom, 3) if denom else None

    tot = dict.fromkeys(keys, 0)
    for mod in modules:
        mods = {k: 0 for k in keys}
        funcs: dict[str, dict] = {}
        for m, r in results.items():
            if m.module != mod:
                continue
            mods[r["result"]] += 1
            tot[r["result"]] += 1
            f = funcs.setdefault(m.function, dict.fromkeys(keys, 0))
            f[r["result"]] += 1
            if r["result"] == "survived":
                report["survivors"].append({"id": m.id, "line": m.line, "claims": r["claims"], "tests": r["tests"]})
        for f in funcs.values():
            f["score"] = score(f)
        report["modules"][mod] = {**mods, "score": score(mods), "functions": dict(sorted(funcs.items()))}
    report["summary"] = {**tot, "score": score(tot)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"\n{'module':20s} {'killed':>7s} {'survived':>8s} {'equiv':>6s} {'uncov':>6s} {'score':>6s}")
    for mod, r in report["modules"].items():
        print(f"{mod:20s} {r['killed']:7d} {r['survived']:8d} {r['equivalent']:6d} {r['not_covered']:6d} "
              f"{r['score'] if r['score'] is not None else '-':>6}")
    s = report["summary"]
    print(f"{'all':20s} {s['killed']:7d} {s['survived']:8d} {s['equivalent']:6d} {s['not_covered']:6d} {s['score']:>6}")
    print(f"wrote {out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
