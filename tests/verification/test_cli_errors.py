"""Every CLI usage error is one line on stderr, exit code 2, no traceback, and comes before any work.

Run as a user runs it: ``python -m verification.cli`` in a subprocess (so an uncaught exception would show as a
traceback, which CliRunner would swallow), with no claim run and no report written.
"""

import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def kdverify(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "verification.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=300)


def assert_usage_error(res, *words):
    """Exit 2, exactly one line on stderr starting 'Error:', naming each of ``words``, no traceback."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    lines = [ln for ln in res.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.mark.parametrize("args, words", [
    (["run", "--paper", ""], ["--paper", "non-empty"]),
    (["list", "--paper", "999"], ["--paper", "999", "000"]),
    (["run", "--claim", "safaryan.lema1"], ["--claim", "safaryan.lema1", "safaryan.lemma1.lambda_star"]),
])
def test_bad_selection_is_one_line(args, words):
    assert_usage_error(kdverify(*args), *words)


def test_unknown_claim_lists_near_matches_only():
    line = assert_usage_error(kdverify("run", "--claim", "mobahi.prop44"), "mobahi.prop4")
    assert "safaryan" not in line and "phuong" not in line  # near matches, not every id of some paper


@pytest.mark.parametrize("cmd", ["run", "figs", "gpu"])
@pytest.mark.parametrize("out, words", [
    ("/proc/forbidden", ["--out", "/proc/forbidden", "not writable"]),
    ("/dev/null/x", ["--out", "/dev/null/x", "/dev/null is not a folder"]),
    ("", ["--out", "empty"]),
])
def test_unwritable_out_is_refused_before_any_claim_runs(cmd, out, words, tmp_path):
    if out.startswith("/proc") and not Path("/proc").is_dir():
        pytest.skip("no /proc here")
    # --claim of a slow claim: if the check came after the run, this test would take seconds, not fail fast
    extra = ["--claim", "safaryan.thm4"] if cmd == "run" else []
    res = kdverify(cmd, "--out", out, *extra, cwd=tmp_path)
    assert_usage_error(res, *words)
    assert list(tmp_path.iterdir()) == []  # `--out ''` wrote nothing into the current folder


def test_out_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "report.txt"
    f.write_text("x")
    assert_usage_error(kdverify("run", "--out", str(f), "--claim", "safaryan.thm4"), "is not a folder")
    assert f.read_text() == "x"


# ------------------------------------------------------------------ gpu: a data set that is absent or broken
def _idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    path.write_bytes(struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
                     + arr.tobytes())


def _mnist(root):
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("t10k", 4)):
        _idx(root / f"{split}-images-idx3-ubyte", rng.integers(0, 256, size=(n, 28, 28)))
        _idx(root / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n))


def _cifar(root):
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, size=(3, 3072)).astype(np.uint8), b"labels": list(rng.integers(0, 10, 3))}
        (root / name).write_bytes(pickle.dumps(d))


def _bad_data(kind, tmp_path):
    d = tmp_path / "data"
    if kind == "nonexistent":
        return "mnist", d / "nonexistent", ["is not a directory"]
    d.mkdir()
    if kind == "empty":
        return "mnist", d, ["MNIST files missing", "train-images-idx3-ubyte"]
    if kind == "corrupt_idx":
        _mnist(d)
        (d / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x09\x03garbage")
        return "mnist", d, ["train-images-idx3-ubyte", "magic"]
    _cifar(d)
    raw = (d / "data_batch_1").read_bytes()
    (d / "data_batch_1").write_bytes(raw[: len(raw) // 2])
    return "cifar10", d, ["data_batch_1", "not a CIFAR-10 python batch"]


@pytest.mark.parametrize("kind", ["nonexistent", "empty", "corrupt_idx", "truncated_cifar"])
def test_missing_or_broken_data_set_is_a_usage_error_with_no_report(kind, tmp_path):
    pytest.importorskip("torch")
    dataset, data_dir, words = _bad_data(kind, tmp_path)
    out = tmp_path / "reports"
    res = kdverify("gpu", "--dataset", dataset, "--data-dir", str(data_dir), "--device", "cpu", "--out", str(out))
    assert_usage_error(res, f"--dataset {dataset}", *words)
    assert not out.exists() and "violated" not in res.stdout  # nothing ran, no report
