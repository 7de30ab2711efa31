"""tools/mutate.py: the mutants it plants are real, deterministic and outside validation guards."""

import ast
import json
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("kd_mutate", ROOT / "tools" / "mutate.py")
M = importlib.util.module_from_spec(spec)
sys.modules["kd_mutate"] = M
spec.loader.exec_module(M)


def _toy(tmp_path, body):
    (tmp_path / "kdtheory").mkdir()
    (tmp_path / "kdtheory" / "toy.py").write_text(body)
    return tmp_path


def test_operators_on_a_toy_formula(tmp_path):
    root = _toy(tmp_path, "def f(x, lam):\n"
                          "    if x < 0:\n        raise ValueError('x must be >= 1')\n"
                          "    return (1 - lam) * x ** 2 / 3 + x[0]\n")
    ms = M.enumerate_mutants("toy", root)
    ops = sorted({m.op for m in ms})
    assert {"const*2", "const/2", "add->sub", "mul->div", "div->mul", "pow->mul", "one_minus_x->x",
            "swap_operands", "drop_denominator", "drop_left_factor", "drop_right_factor", "sub->add"} <= set(ops)
    # nothing inside the guard (the 0 and the message) and nothing in the subscript x[0] is mutated
    assert all(m.line == 4 for m in ms)
    srcs = {m.id: M.mutated_source(m, root) for m in ms}
    assert len(set(srcs.values())) == len(ms)  # every mutant is a different program
    for s in srcs.values():
        ast.parse(s)
    assert M.enumerate_mutants("toy", root) == ms  # deterministic


def test_default_values_are_not_mutated(tmp_path):
    root = _toy(tmp_path, "def f(x, *, nodes=8, tol=0.5):\n    return x * nodes\n")
    assert {m.snippet for m in M.enumerate_mutants("toy", root)} == {"x * nodes"}


def test_one_minus_lambda_mutant_changes_the_value(tmp_path):
    root = _toy(tmp_path, "def g(lam, x):\n    return (1 - lam) * x\n")
    m = next(m for m in M.enumerate_mutants("toy", root) if m.op == "one_minus_x->x")
    ns = {}
    exec(M.mutated_source(m, root), ns)
    assert ns["g"](0.25, 4.0) == 1.0  # λ·x instead of (1 − λ)·x = 3


@pytest.mark.parametrize("module", M.FORMULA_MODULES)
def test_every_formula_module_has_mutants_that_compile(module):
    ms = M.enumerate_mutants(module)
    assert ms, module
    for m in ms[:: max(1, len(ms) // 5)]:
        compile(M.mutated_source(m), f"{module}-mutant", "exec")


def test_segment_matches_ast_get_source_segment():
    src = (ROOT / "kdtheory" / "linear_transfer.py").read_text()
    tree = ast.parse(src)
    lines = [ln.encode() for ln in src.splitlines(keepends=True)]
    nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.BinOp, ast.Constant, ast.UnaryOp))][:400:7]
    assert nodes
    for n in nodes:
        assert M._segment(lines, n) == ast.get_source_segment(src, n)


# ------------------------------------------------------------------ end-to-end on a toy tree (forked children)

_CLAIMS = '''
import sys
from kdtheory.toy import f

class V:
    def __init__(self, status):
        self.status = status

class Claim:
    kind = "theory"
    rng_name = "toy.f"
    def __init__(self, check):
        self.check = check
    def run(self, rng, size):
        return self.check()

def check_f():
    return V("holds" if f(3.0) == 7.0 else "violated")

def load_all():
    {LOAD}
    return {"toy.f": Claim(check_f)}

def claim_rng(seed, name):
    return None
'''


def _toy_tree(tmp_path, load="pass", formula="def f(x):\n    return 2 * x + 1\n\ndef g(x):\n    return x / 3\n"):
    for d in ("kdtheory", "verification", "tests/kdtheory", "tools"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "kdtheory" / "__init__.py").write_text("")
    (tmp_path / "kdtheory" / "toy.py").write_text(formula)
    (tmp_path / "verification" / "__init__.py").write_text("")
    (tmp_path / "verification" / "claims.py").write_text(_CLAIMS.replace("{LOAD}", load))
    (tmp_path / "tests" / "kdtheory" / "test_toy.py").write_text(
        "from kdtheory.toy import f\n\ndef test_f_at_zero():\n    assert f(0.0) == 1.0\n")
    return tmp_path


def test_toy_run_scores_and_writes_the_report(tmp_path, capsys):
    root = _toy_tree(tmp_path / "tree")
    out = tmp_path / "mutation.json"
    code = M.main(["--root", str(root), "--modules", "toy", "--sample", "0", "--jobs", "2", "--timeout", "120",
                   "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    rep = json.loads(out.read_text())
    assert rep["complete"] is True
    mod = rep["modules"]["toy"]
    # f: 2*x+1 has 6 mutants (2, 1 each x2 and /2, +->-, * ->/, two dropped factors) all visible at x=3 or 0
    assert mod["functions"]["f"]["survived"] == 0 and mod["functions"]["f"]["killed"] >= 6
    g = mod["functions"]["g"]
    assert g["not_covered"] >= 1 and g["killed"] == g["survived"] == 0  # nothing references g
    assert rep["baseline"]["claims"]["toy.f"]["status"] == "holds"
    assert "baseline claim [1/1] toy.f: holds (" in printed  # progress is printed as it goes
    # the tree itself is untouched and no scratch copy is left behind
    assert (root / "kdtheory" / "toy.py").read_text().startswith("def f(x):\n    return 2 * x + 1")


def test_a_broken_tree_fails_loudly_not_silently(tmp_path, capsys):
    root = _toy_tree(tmp_path / "tree", load="raise ImportError('no such claim module')")
    code = M.main(["--root", str(root), "--modules", "toy", "--sample", "0", "--jobs", "1", "--out",
                   str(tmp_path / "m.json")])
    printed = capsys.readouterr().out
    assert code == 2
    assert "FAILED" in printed and "no such claim module" in printed


def test_baseline_failures_do_not_count_as_kills(tmp_path, capsys):
    # a test failing on the unmutated tree must not make every mutant 'killed': it is confirmed once on the
    # unmutated tree, dropped, and the mutant re-run without it (here h is covered by tests only)
    root = _toy_tree(tmp_path / "tree", formula="def f(x):\n    return 2 * x + 1\n\ndef h(x):\n    return x - 5\n\n"
                                                 "def k(x):\n    return x * 4\n")
    (root / "tests" / "kdtheory" / "test_broken.py").write_text(
        "from kdtheory.toy import h\n\ndef test_always_fails():\n    assert h(0.0) == 99\n")
    (root / "tests" / "kdtheory" / "test_toy_h.py").write_text(
        "from kdtheory.toy import h\n\ndef test_h():\n    assert h(10.0) == 5.0\n")
    out = tmp_path / "m.json"
    (root / "tests" / "kdtheory" / "test_weak.py").write_text(
        "from kdtheory.toy import k\n\ndef test_k_at_zero():\n    assert k(0.0) == 0.0\n")
    assert M.main(["--root", str(root), "--modules", "toy", "--sample", "0", "--jobs", "1", "--out", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["baseline"]["failing_tests"] == ["tests/kdtheory/test_broken.py::test_always_fails"]
    h = rep["modules"]["toy"]["functions"]["h"]
    assert h["killed"] == 4 and h["survived"] == h["error"] == 0  # x+5, 5-x, x-10, x-2: all caught by test_h
    assert "fails on the unmutated tree too: dropped" in capsys.readouterr().out
    k = rep["modules"]["toy"]["functions"]["k"]  # k(0) = 0 sees x/4, 4x/2, 8x but not x ↦ 4
    assert k["survived"] == 4 and k["killed"] == 1
    assert {s["id"].split(":")[2] for s in rep["survivors"]} == {"mul->div", "drop_right_factor", "const*2", "const/2"}


def test_unknown_module_is_an_argument_error(tmp_path):
    root = _toy_tree(tmp_path / "tree")
    with pytest.raises(SystemExit) as e:
        M.main(["--root", str(root), "--modules", "nosuch"])
    assert e.value.code == 2


def test_runner_times_out_and_reports_dead_children(tmp_path):
    root = _toy_tree(tmp_path / "tree")
    r = M.Runner([root])
    r.submit("slow", {"claims": ["toy.f"], "baseline": None}, 0.01,
             prepare=lambda rt: (rt / "verification" / "claims.py").write_text(
                 "import time\ntime.sleep(30)\n"))
    key, res = r.wait_one()
    assert key == "slow" and res.get("timeout") and "timeout" in res["killed_by"]
    r.close()


def test_rerun_runs_only_the_survivors_of_a_report(tmp_path):
    root = _toy_tree(tmp_path / "tree", formula="def f(x):\n    return 2 * x + 1\n\ndef k(x):\n    return x * 4\n")
    (root / "tests" / "kdtheory" / "test_weak.py").write_text(
        "from kdtheory.toy import k\n\ndef test_k_at_zero():\n    assert k(0.0) == 0.0\n")
    first = tmp_path / "first.json"
    assert M.main(["--root", str(root), "--modules", "toy", "--sample", "0", "--jobs", "1", "--out", str(first)]) == 0
    survivors = {s["id"] for s in json.loads(first.read_text())["survivors"]}
    assert len(survivors) == 4
    # strengthen the check: k(1) = 4 kills them all
    (root / "tests" / "kdtheory" / "test_weak.py").write_text(
        "from kdtheory.toy import k\n\ndef test_k_at_one():\n    assert k(1.0) == 4.0\n")
    second = tmp_path / "second.json"
    assert M.main(["--root", str(root), "--modules", "toy", "--rerun", str(first), "--jobs", "1",
                   "--out", str(second)]) == 0
    rep = json.loads(second.read_text())
    assert rep["summary"]["killed"] == 4 and rep["summary"]["survived"] == 0


def test_every_listed_equivalent_is_a_mutant_with_a_reason():
    # an entry whose id no longer names a mutant (the function changed) is stale: re-triage it
    eq = json.loads((ROOT / "tools" / "mutation_equivalents.json").read_text())
    ids = {m.id for mod in M.FORMULA_MODULES for m in M.enumerate_mutants(mod)}
    assert [e for e in eq if e not in ids] == []
    assert all(isinstance(r, str) and len(r) > 20 for r in eq.values())
