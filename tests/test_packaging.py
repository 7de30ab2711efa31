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
