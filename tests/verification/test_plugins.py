"""Third-party claims: a toy paper as a separate package joins list, run, the report and assert_claim.

Everything runs in subprocesses (the toy claims must not enter this process's registry): once with
``--module toy_kd.claims`` on PYTHONPATH, once as an "installed" distribution through a ``.dist-info``
directory declaring the ``kdtheory.claims`` entry point.
"""

import json
import subprocess

import pytest

from ._toy import CLAIMS, PYTHON, REPO, env_with, write_toy_package


def _kdverify(args, env, cwd):
    return subprocess.run([PYTHON, "-m", "verification.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _battery(code, env, cwd):
    return subprocess.run([PYTHON, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_module_option_list_run_report_and_battery(tmp_path):
    root = write_toy_package(tmp_path / "site")
    env = env_with(root)
    r = _kdverify(["list", "--kind", "theory", "--module", "toy_kd.claims", "--paper", "toy"], env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "toy.bound" in r.stdout and "toy.shared_b" in r.stdout and "3 claims" in r.stdout
    r = _kdverify(["run", "--module", "toy_kd.claims", "--claim", "toy.*", "--claim", "mobahi.prop1",
                   "--out", str(tmp_path / "rep")], env, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads((tmp_path / "rep" / "verification.json").read_text())
    rows = {row["claim_id"]: row for row in rep["claims"]}
    assert {"toy.bound", "toy.shared_a", "toy.shared_b"} <= set(rows)
    assert any(k.startswith("mobahi.") for k in rows)  # alongside the suite's own claims
    assert rows["toy.bound"]["paper"] == "toy" and rows["toy.bound"]["seed_file"] == "toy_0000.txt"
    assert rows["toy.bound"]["status"] == "holds" and rep["papers"]["toy"] == "toy_0000.txt"
    assert rows["toy.shared_a"]["rng_seed"] == rows["toy.shared_b"]["rng_seed"]  # one rng_key
    assert "toy.bound" in (tmp_path / "rep" / "verification.md").read_text()
    # without --module the toy paper is unknown: a clear error, not a traceback
    r = _kdverify(["list", "--paper", "toy"], env, tmp_path)
    assert r.returncode == 2 and "unknown paper 'toy'" in r.stderr + r.stdout
    r = _kdverify(["list", "--module", "toy_kd.nonexistent"], env, tmp_path)
    assert r.returncode == 2 and "toy_kd.nonexistent" in r.stderr
    code = ("from verification.claims import load_all\nfrom kdtheory.testing import assert_claim\n"
            "load_all(modules=['toy_kd.claims'])\nv = assert_claim('toy.bound')\nprint(v.status, v.claim_id)\n")
    r = _battery(code, env, tmp_path)
    assert r.returncode == 0 and "holds toy.bound" in r.stdout, r.stderr
    # the battery rejects a bad plugin claim
    code = ("from verification.claims import load_all\nfrom kdtheory.testing import assert_claim\n"
            "load_all(modules=['toy_kd.bad'])\nassert_claim('toy.raises')\n")
    r = _battery(code, env, tmp_path)
    assert r.returncode != 0 and "boom from toy.raises" in r.stderr


def test_installed_entry_point_joins_registry_report_and_battery(tmp_path):
    root = write_toy_package(tmp_path / "site", entry_point=True)
    env = env_with(root)
    r = _kdverify(["list", "--kind", "theory", "--paper", "toy"], env, tmp_path)  # no --module: the entry point
    assert r.returncode == 0, r.stderr
    assert "toy.bound" in r.stdout
    r = _kdverify(["run", "--claim", "toy.bound", "--out", str(tmp_path / "rep")], env, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads((tmp_path / "rep" / "verification.json").read_text())
    assert [row["claim_id"] for row in rep["claims"]] == ["toy.bound"] and rep["claims"][0]["status"] == "holds"
    code = ("from verification.plugins import entry_points\nprint([e.value for e in entry_points()])\n"
            "from kdtheory.testing import assert_claim\nprint(assert_claim('toy.bound').status)\n")
    r = _battery(code, env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "toy_kd.claims" in r.stdout and "holds" in r.stdout


@pytest.mark.parametrize("value,message", [("toy_kd.missing", "could not be loaded"),
                                           ("toy_kd.claims:nothing", "could not be loaded")])
def test_broken_entry_point_is_named(tmp_path, value, message):
    root = write_toy_package(tmp_path / "site", entry_point=True)
    (root / "toy_kd-0.1.dist-info" / "entry_points.txt").write_text(f"[kdtheory.claims]\ntoy = {value}\n")
    r = _kdverify(["list"], env_with(root), tmp_path)
    assert r.returncode == 2
    assert message in r.stderr and "kdtheory.claims" in r.stderr and "toy-kd" in r.stderr


def test_extending_doc_shows_the_toy_plugin():
    doc = (REPO / "docs" / "extending.md").read_text(encoding="utf-8")
    block = doc.split("```py\n# my_pkg/claims.py\n")[1].split("```")[0]
    lines = [ln.replace("my_pkg", "toy_kd") for ln in block.splitlines() if ln.strip()]
    assert lines and all(ln in CLAIMS for ln in lines), [ln for ln in lines if ln not in CLAIMS]
