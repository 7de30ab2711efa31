"""The paper manifest: records, aliases, collisions, and the README table derived from it."""

import re
from pathlib import Path

import pytest

from verification import claims as C
from verification.papers import PAPERS, Paper, markdown_table, paper_key, papers, register_paper

ROOT = Path(__file__).resolve().parents[2]


def test_every_record_module_defines_a_paper_and_aliases_resolve():
    recs = papers()
    assert list(recs) == sorted(recs) and len(recs) >= 5
    for key, rec in recs.items():
        assert isinstance(rec, Paper) and rec.key == key
        for name in rec.names():
            assert paper_key(name) == key
        assert paper_key(rec.seed_file.upper()) == key  # case-insensitive
        assert C.PAPERS[key] == (rec.seed_file, rec.citation)
    assert C.paper_key is paper_key and C.PAPERS is PAPERS
    assert paper_key("greens") == paper_key("self_distillation") == paper_key("mobahi") == "002"


def test_unknown_and_bad_names():
    with pytest.raises(ValueError, match="unknown paper"):
        paper_key("999")
    with pytest.raises(TypeError):
        paper_key("")
    with pytest.raises(ValueError, match="prefix"):
        Paper(key="x", seed_file="x.txt", citation="c", prefix="bad.prefix")
    with pytest.raises(ValueError, match="one-line"):
        Paper(key="x", seed_file="x.txt", citation="two\nlines", prefix="x")


def test_register_is_idempotent_and_rejects_collisions():
    rec = papers()["003"]
    assert register_paper(rec) is rec  # equal record again: no-op
    with pytest.raises(ValueError, match="registered twice"):
        register_paper(Paper(key="003", seed_file="other.txt", citation="c", prefix="other"))
    with pytest.raises(ValueError, match="shares the names"):
        register_paper(Paper(key="zz9", seed_file="zz9.txt", citation="c", prefix="phuong"))
    assert "zz9" not in papers()


def test_every_registered_claim_belongs_to_a_manifest_paper():
    for c in C.load_all().values():
        assert c.id.split(".")[0] == papers()[c.paper_key].prefix


def test_readme_table_is_the_manifest():
    text = (ROOT / "README.md").read_text()
    table = markdown_table()
    assert table in text, (
        "README's paper table differs from the manifest; regenerate it with `python -m verification.papers`:\n"
        + table)
    rows = [ln for ln in text.splitlines() if re.match(r"^\| \S+ .*\| `\w+\.\*` \|$", ln)]
    assert len(rows) == len(papers())


def test_kdtheory_testing_reexports_every_strategy_module():
    import pkgutil

    import kdtheory.testing as T

    subs = [i.name for i in pkgutil.iter_modules(T.__path__) if not i.name.startswith("_") and i.name != "assertions"]
    for name in subs:
        mod = getattr(T, name)
        for n in mod.__all__:
            assert getattr(T, n) is getattr(mod, n) and n in T.__all__
