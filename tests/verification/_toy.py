"""A toy third-party paper, written as a separate package into a temporary folder by the tests.

``toy_kd.claims`` declares its own paper record and two claims that hold; ``toy_kd.bad`` a claim whose
status depends on the seed, one whose check raises; ``toy_kd.deadly`` one that kills its process.
``write_toy_package(root, entry_point=True)`` also writes a ``.dist-info`` directory whose
``entry_points.txt`` declares ``toy_kd.claims`` in the ``kdtheory.claims`` group, so that the folder on
``sys.path`` behaves like an installed distribution (no pip install needed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FORMULAS = '''"""Toy formulas: the mean of n uniforms is at most 1."""


def mean_bound(n):
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return 1.0
'''

CLAIMS = '''"""Claims of the toy paper (a plugin: its own paper record, registered before its claims)."""
from toy_kd.formulas import mean_bound
from verification.claims import claim, compare
from verification.papers import Paper, register_paper

PAPER = register_paper(Paper(key="toy", seed_file="toy_0000.txt", citation="Doe — a toy bound",
                             prefix="toy", topic=("toy_kd.formulas",)))


@claim("toy.bound", paper="toy", where="Thm. 1", statement="the mean of n uniforms is at most 1")
def check_bound(rng, size):
    n = {"quick": 100, "full": 10_000}[size]
    return compare(predicted=mean_bound(n), measured=float(rng.random(n).mean()), relation="<=")


@claim("toy.shared_a", paper="toy", where="Thm. 2", statement="two claims of one experiment", rng_key="toy.exp")
def check_a(rng, size):
    return compare("toy.shared_a", 1.0, float(rng.random()), "<=")


@claim("toy.shared_b", paper="toy", where="Thm. 2", statement="two claims of one experiment", rng_key="toy.exp")
def check_b(rng, size):
    return compare("toy.shared_b", 1.0, float(rng.random()), "<=")
'''

BAD = '''"""Toy claims that misbehave: a seed-dependent status and a check that raises."""
import toy_kd.claims  # noqa: F401  (the paper record)
from verification.claims import claim, compare


@claim("toy.coin", paper="toy", where="Coin", statement="a uniform draw is at most 0.7")
def check_coin(rng, size):  # at seeds 0-4 the draws are 0.856, 0.612, 0.909, 0.616, 0.684
    return compare("toy.coin", 0.7, float(rng.random()), "<=")


@claim("toy.raises", paper="toy", where="Bug", statement="a check that raises")
def check_raises(rng, size):
    raise RuntimeError("boom from toy.raises")
'''

DEADLY = '''"""A toy claim whose check kills its process (a segfault, the OOM killer)."""
import os

import toy_kd.claims  # noqa: F401
from verification.claims import claim


@claim("toy.dies", paper="toy", where="Crash", statement="a check that kills its worker")
def check_dies(rng, size):
    os._exit(7)
'''


def placeholder(rng, size):  # pragma: no cover - never called: a parent-side stand-in's check
    raise AssertionError("the toy claims run in workers only")


def write_toy_package(root: Path, *, entry_point: bool = False) -> Path:
    """Write ``toy_kd`` (and, with ``entry_point``, its ``.dist-info``) under ``root``; return ``root``."""
    pkg = Path(root) / "toy_kd"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text('"""A toy kdtheory plugin."""\n')
    (pkg / "formulas.py").write_text(FORMULAS)
    (pkg / "claims.py").write_text(CLAIMS)
    (pkg / "bad.py").write_text(BAD)
    (pkg / "deadly.py").write_text(DEADLY)
    if entry_point:
        info = Path(root) / "toy_kd-0.1.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-kd\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("[kdtheory.claims]\ntoy = toy_kd.claims\n")
    return Path(root)


def env_with(*paths: Path) -> dict:
    """The environment for a subprocess (or a spawned worker) that must import the repo and ``paths``."""
    env = dict(os.environ)
    parts = [str(p) for p in paths] + [str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


PYTHON = sys.executable
