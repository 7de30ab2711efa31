"""kdtheory.testing: the generic strategies deliver what they promise, assert_claim catches bad claims,
the per-paper strategies are re-exported, and the docs' worked example runs."""

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kdtheory.testing as T
from kdtheory.testing import assert_claim, generators, gram_matrices, orthogonal_matrices, spectra
from verification.claims import Claim, Verdict, compare, erratum, skipped

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ gram_matrices and friends

@given(G=gram_matrices(min_n=2, max_n=7, min_condition=1.0, max_condition=1e6, scale=3.0))
def test_gram_matrices_are_spd_with_the_drawn_spectrum(G):
    assert np.array_equal(G, G.T)
    w = np.linalg.eigvalsh(G)
    assert w[0] > 0
    assert w[-1] == pytest.approx(3.0, rel=1e-9)
    assert w[-1] / w[0] <= 1e6 * (1 + 1e-6)


@given(kappa=st.floats(1.0, 1e8), data=st.data())
def test_gram_matrices_hit_a_chosen_condition_number(kappa, data):
    G = data.draw(gram_matrices(min_n=2, max_n=6, condition_number=kappa))
    assert np.linalg.cond(G) == pytest.approx(kappa, rel=1e-13 * kappa + 1e-9)
    np.linalg.cholesky(G)  # positive definite: a Cholesky factor exists


@given(data=st.data(), kappa=st.floats(1.0, 1e4), n=st.integers(2, 7))
def test_semidefinite_gram_matrices_have_the_requested_rank_and_nonzero_spectrum(data, kappa, n):
    r = data.draw(st.integers(2 if kappa > 1 else 1, n))
    G = data.draw(gram_matrices(n=n, condition_number=kappa, semidefinite=True, rank=r))
    w = np.linalg.eigvalsh(G)
    tol = 1e-10 * w[-1]
    assert w[0] >= -tol  # PSD up to round-off
    nz = w[w > tol]
    assert nz.size == r
    assert nz[-1] / nz[0] == pytest.approx(kappa, rel=1e-8 * kappa + 1e-9)


@given(G=gram_matrices(min_n=3, max_n=6, semidefinite=True, max_condition=10.0))
def test_semidefinite_gram_matrices_can_be_singular_and_stay_psd(G):
    w = np.linalg.eigvalsh(G)
    assert w[0] >= -1e-12 * max(1.0, w[-1])


@given(w=spectra(min_n=1, max_n=9, min_condition=1.0, max_condition=1e5, scale=2.0))
def test_spectra_are_ascending_with_exact_ends(w):
    assert np.all(np.diff(w) >= 0)
    assert w[-1] == 2.0 and w[0] > 0
    assert w[-1] / w[0] <= 1e5 * (1 + 1e-12)


@given(Q=orthogonal_matrices(n=5))
def test_orthogonal_matrices_are_orthogonal(Q):
    np.testing.assert_allclose(Q.T @ Q, np.eye(5), atol=1e-12)


@settings(max_examples=10)
@given(g=generators())
def test_generators_are_numpy_generators(g):
    assert isinstance(g, np.random.Generator)
    assert 0.0 <= g.random() < 1.0


@pytest.mark.parametrize("kw,exc,match", [
    (dict(n=0), ValueError, "n must be"),
    (dict(n=2.5), TypeError, "n must be an integer"),
    (dict(min_n=5, max_n=3), ValueError, "max_n"),
    (dict(condition_number=0.5), ValueError, "condition_number"),
    (dict(condition_number=1e13), ValueError, "condition_number"),
    (dict(condition_number=float("nan")), ValueError, "condition_number"),
    (dict(min_condition=10.0, max_condition=2.0), ValueError, "max_condition"),
    (dict(scale=0.0), ValueError, "scale"),
    (dict(scale="1"), TypeError, "scale"),
    (dict(rank=2), ValueError, "rank is only meaningful"),
    (dict(semidefinite=True, n=3, rank=4), ValueError, "rank"),
    (dict(semidefinite=True, n=3, rank=1, condition_number=5.0), ValueError, "rank 1"),
    (dict(n=1, condition_number=5.0), ValueError, "1x1"),
    (dict(semidefinite="yes"), TypeError, "semidefinite"),
])
def test_gram_matrices_reject_bad_arguments_when_built(kw, exc, match):
    with pytest.raises(exc, match=match):
        gram_matrices(**kw)


def test_other_generic_strategies_reject_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        orthogonal_matrices(n=0)
    with pytest.raises(ValueError, match="1x1"):
        spectra(n=1, condition_number=3.0)
    with pytest.raises(ValueError, match="underflows"):
        spectra(n=2, condition_number=1e12, scale=1e-300)


def test_every_per_paper_strategy_is_reexported():
    for name in ("variance_reduction", "kernel_regime", "self_distillation", "linear_transfer", "label_distribution"):
        try:
            mod = importlib.import_module(f"kdtheory.testing.{name}")
        except ModuleNotFoundError:
            continue
        for attr in getattr(mod, "__all__", ()):
            assert attr in T.__all__ and getattr(T, attr) is getattr(mod, attr), (name, attr)
    for attr in T.__all__:
        assert callable(getattr(T, attr)), attr


def test_public_strategies_follow_the_house_style():
    """Every public strategy (generic and per paper) is documented, takes its options keyword-only, and
    builds a hypothesis SearchStrategy from its defaults."""
    import inspect

    from hypothesis.strategies import SearchStrategy

    for name in T.__all__:
        f = getattr(T, name)
        if name == "assert_claim" or inspect.isclass(f):
            continue
        assert (f.__doc__ or "").strip(), f"{name} has no docstring"
        params = inspect.signature(f).parameters.values()
        positional_options = [p.name for p in params if p.default is not p.empty and p.kind is not p.KEYWORD_ONLY]
        assert not positional_options, f"{name}: options must be keyword-only, got positional {positional_options}"
        if all(p.default is not p.empty for p in params):
            assert isinstance(f(), SearchStrategy), name


# ------------------------------------------------------------------ assert_claim

PAPER = "000_e7b664afac902525.txt"


def _claim(fn, cid="safaryan.user.test", **kw):
    return Claim(cid, PAPER, "test", "a test claim", fn, **kw)


def test_assert_claim_passes_a_good_claim_and_returns_its_verdict():
    def check(rng, size):
        x = rng.standard_normal(1000 if size == "quick" else 10_000)
        return compare("safaryan.user.test", 1.0, float(np.mean(x**2)), "==", atol=0.3)

    v = assert_claim(_claim(check))
    assert isinstance(v, Verdict) and v.status == "holds"


def test_assert_claim_accepts_skipped():
    assert assert_claim(_claim(lambda rng, size: skipped("safaryan.user.test", "nothing here"))).status == "skipped"


def test_assert_claim_rejects_a_violated_claim():
    with pytest.raises(AssertionError, match="violated"):
        assert_claim(_claim(lambda rng, size: compare("safaryan.user.test", 1.0, 2.0, "<=")))


def test_assert_claim_rejects_a_nondeterministic_claim():
    state = {"calls": 0}

    def check(rng, size):
        state["calls"] += 1  # ignores rng: a different number each run
        return compare("safaryan.user.test", 10.0, float(state["calls"]), "<=")

    with pytest.raises(AssertionError, match="not deterministic"):
        assert_claim(_claim(check))
    state["calls"] = 0
    assert assert_claim(_claim(check), check_determinism=False).status == "holds"


def test_assert_claim_rejects_an_erratum_without_a_correction():
    def check(rng, size):
        return erratum("safaryan.user.test", 1.0, 2.0, "<=", counterexample={"x": 1}, refuted=True)

    with pytest.raises(AssertionError, match="corrects"):
        assert_claim(_claim(check))
    assert assert_claim(_claim(check, corrects="safaryan.user.other")).status == "erratum"


def test_assert_claim_rejects_a_wrong_id_and_a_raising_check():
    with pytest.raises(ValueError, match="verdict for"):
        assert_claim(_claim(lambda rng, size: compare("safaryan.user.other", 1.0, 0.0, "<=")))

    def boom(rng, size):
        raise RuntimeError("bad check")

    with pytest.raises(RuntimeError, match="bad check"):
        assert_claim(_claim(boom))


def test_assert_claim_rejects_bad_arguments():
    c = _claim(lambda rng, size: skipped("safaryan.user.test", "x"))
    with pytest.raises(ValueError, match="size"):
        assert_claim(c, size="huge")
    with pytest.raises(ValueError, match="seed"):
        assert_claim(c, seed=-1)
    with pytest.raises(TypeError, match="claim must be"):
        assert_claim(3)
    with pytest.raises(KeyError, match="no claim"):
        assert_claim("safaryan.no_such_claim")


def test_assert_claim_runs_a_registered_claim_by_id():
    from verification.claims import load_all

    load_all()
    assert assert_claim("safaryan.pep.golden").status == "holds"


# ------------------------------------------------------------------ the worked example of docs/extending.md

def _load_example():
    spec = importlib.util.spec_from_file_location("minibatch_lemma1", ROOT / "examples" / "minibatch_lemma1.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_bound_reduces_to_lemma1_and_its_claim_passes_the_battery():
    ex = _load_example()
    ex.test_batch_of_one_is_lemma1()
    ex.test_noise_matches_enumeration_of_all_batches()
    ex.test_optimum_shrinks_the_neighbourhood_and_larger_batches_help()
    ex.test_agrees_with_batch_equivalent_gradients()
    v = assert_claim(ex.CLAIM)
    assert v.status == "holds" and v.details["lam_star_b"] < v.details["lam_star_b1"]


def test_example_runs_end_to_end_through_kdverify(tmp_path):
    """The script as a user runs it (a subprocess, so its claim stays out of this session's registry)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "minibatch_lemma1.py")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "safaryan.user.minibatch_lemma1" in p.stdout and "1 holds" in p.stdout


def test_example_docs_code_is_the_example_file():
    """docs/extending.md shows the example's code; every code line it quotes is in the file."""
    doc = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    src = (ROOT / "examples" / "minibatch_lemma1.py").read_text(encoding="utf-8")
    blocks = doc.split("```python")[1:]
    assert blocks, "docs/extending.md has no python blocks"
    quoted = [ln for b in blocks for ln in b.split("```")[0].splitlines()
              if ln.strip() and not ln.strip().startswith("#") and "..." not in ln and not ln.startswith(">>>")]
    missing = [ln for ln in quoted if ln.rstrip() not in src and ln.strip() not in src]
    assert not missing, f"lines in docs/extending.md not in examples/minibatch_lemma1.py: {missing[:5]}"
