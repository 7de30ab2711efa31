"""tools/mutate.py: the mutants it plants are real, deterministic and outside validation guards."""

import ast
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
