"""Set-up invariants: torch is never an open range anywhere the set-up installs from."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_torch_is_pinned_everywhere():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = list(py["project"]["dependencies"])
    for extra in py["project"].get("optional-dependencies", {}).values():
        specs += extra
    torch_specs = [s for s in specs if re.match(r"^torch\b", s)]
    assert torch_specs, "the gpu extra must name torch"
    assert all(re.fullmatch(r"torch==2\.13\.0", s.replace(" ", "")) for s in torch_specs), torch_specs
    make = (ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in make
    assert not re.search(r"pip install[^\n]*\btorch\b(?!==)", make.replace("$(TORCH_PIN)", "torch==2.13.0"))


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _pins(name):
    lines = (ROOT / "constraints" / name).read_text().splitlines()
    pins = {}
    for ln in lines:
        ln = ln.split("#")[0].strip()
        if ln:
            m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", ln)
            assert m, f"constraints/{name}: not an exact pin: {ln!r}"
            pins[m[1].lower().replace("_", "-")] = m[2]
    return pins


def test_constraints_pin_exactly_what_the_package_needs():
    """constraints/ci.txt pins every requirement of the package and its test extra, exactly and inside
    pyproject's open ranges; constraints/oracles.txt adds the oracle extra (same pins as the extra); no torch
    in either (the Makefile pins it, and keeps a user's own torch); make verify and make test install with both."""
    from packaging.requirements import Requirement

    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    ci, orc = _pins("ci.txt"), _pins("oracles.txt")
    assert "torch" not in ci and "torch" not in orc and "kdtheory" not in ci
    assert not set(ci) & set(orc), "a package pinned twice"
    extras = py["project"]["optional-dependencies"]
    for spec, pins in [(s, ci) for s in py["project"]["dependencies"] + extras["test"]] + \
                      [(s, {**ci, **orc}) for s in extras["oracles"]]:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} (from {spec!r}) is not pinned"
        assert req.specifier.contains(pins[name], prereleases=True), (spec, pins[name])
    make = (ROOT / "Makefile").read_text()
    assert "-c constraints/ci.txt" in make and "-c constraints/oracles.txt" in make
    assert "ORACLES ?= 1" in make and "[test,oracles,dask]" in make and "-c constraints/dask.txt" in make
    dask = _pins("dask.txt")
    for spec in extras["dask"]:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in dask and req.specifier.contains(dask[name], prereleases=True), (spec, dask.get(name))
    for name in set(dask) & set(ci):  # shared dependencies must agree, or pip refuses the two -c files
        assert dask[name] == ci[name], (name, dask[name], ci[name])
    for target in ("verify:", "test:"):
        assert re.search(rf"^{target} \$\(STAMP\)", make, re.M), target
