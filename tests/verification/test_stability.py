"""``kdverify stability``: statuses over seeds 0–4 on cheap claims; a seed-dependent claim is caught."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from verification.claims import load_all
from verification.cli import main
from verification.stability import is_stable, parse_seeds

from ._toy import PYTHON, env_with, write_toy_package

load_all()  # at collection, before any test swaps the registry (test_report_cli's dummies)

# cheap claims (< 0.05 s each at quick size) whose measured side is drawn from the claim's generator
CHEAP = ["mobahi.prop2", "rahbar.thm1_conditions", "safaryan.prop1.least_squares", "safaryan.assumption3.minibatch_exact",
         "safaryan.lemma2", "phuong.lemmaC1", "rahbar.final_error", "safaryan.prop1.logistic"]


def test_parse_seeds_and_is_stable():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("7, 0-2,1") == [0, 1, 2, 7]
    for bad in ("", "a", "-1", "4-2", "1.5"):
        with pytest.raises(ValueError, match="seed"):
            parse_seeds(bad)
    assert is_stable(["holds", "inconclusive", "holds"]) and is_stable(["inconclusive", "violated"])
    assert not is_stable(["holds", "violated"]) and not is_stable(["holds", "skipped", "inconclusive"])


def test_cheap_claims_are_stable_over_seeds_0_to_4(tmp_path):
    args = ["stability", "--seeds", "0-4", "--out", str(tmp_path)] + [a for c in CHEAP for a in ("--claim", c)]
    r = CliRunner().invoke(main, args)
    assert (tmp_path / "stability.json").exists(), (r.output, r.exception)
    rep = json.loads((tmp_path / "stability.json").read_text())
    assert rep["seeds"] == [0, 1, 2, 3, 4] and [row["claim_id"] for row in rep["claims"]] == sorted(
        CHEAP, key=lambda c: [row["claim_id"] for row in rep["claims"]].index(c))
    assert r.exit_code == 0, f"unstable over seeds 0-4: {rep['unstable']}\n{r.output}"
    assert rep["unstable"] == []


def test_a_seed_dependent_claim_is_unstable_and_listed(tmp_path):
    root = write_toy_package(tmp_path / "site")
    r = subprocess.run([PYTHON, "-m", "verification.cli", "stability", "--seeds", "0-4", "--jobs", "2",
                        "--module", "toy_kd.bad", "--claim", "toy.coin", "--claim", "toy.bound",
                        "--claim", "toy.raises", "--out", str(tmp_path / "out")],
                       env=env_with(root), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    rep = json.loads((tmp_path / "out" / "stability.json").read_text())
    coin = next(row for row in rep["claims"] if row["claim_id"] == "toy.coin")
    assert list(coin["statuses"].values()) == ["violated", "holds", "violated", "holds", "holds"], coin
    assert r.returncode == 1 and rep["unstable"] == ["toy.coin"], r.stdout + r.stderr
    assert "unstable" in r.stdout and "toy.coin" in r.stdout
    raises = next(row for row in rep["claims"] if row["claim_id"] == "toy.raises")
    assert raises["stable"] and "boom" in raises["errors"]["0"]  # violated at every seed: stable, not hidden
