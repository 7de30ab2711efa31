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
from verification.claims import Claim, Verdict, claim_rng, compare, erratum, skipped

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


# ------------------------------------------------------------------ every kind the issue lists: bad arguments

_PROBLEM = T.Problem("least_squares", np.ones((3, 2)), np.ones(3), np.zeros(2))

BAD_ARGUMENTS = [
    # (strategy, kwargs, exception, message fragment) -- raised when the strategy is built
    (gram_matrices, dict(condition_number=0.5), ValueError, "condition_number"),
    (T.green_gram_matrices, dict(min_gap=0.0), ValueError, "min_gap"),
    (T.green_gram_matrices, dict(min_points=5, max_points=3), ValueError, "max_points"),
    (T.green_gram_matrices, dict(max_points=60, min_gap=0.05), ValueError, "cannot be"),
    (T.least_squares_problems, dict(n_samples=(True, 5)), TypeError, "n_samples"),
    (T.least_squares_problems, dict(n_samples=(5, 3)), ValueError, "n_samples"),
    (T.least_squares_problems, dict(noise="a"), TypeError, "noise"),
    (T.least_squares_problems, dict(noise=-1.0), ValueError, "noise"),
    (T.least_squares_problems, dict(scales=1.0), TypeError, "scales"),
    (T.least_squares_problems, dict(scales=("a",)), TypeError, "scales"),
    (T.least_squares_problems, dict(scales=(0.0, 1.0)), ValueError, "scales"),
    (T.least_squares_problems, dict(rank_deficient="yes"), TypeError, "rank_deficient"),
    (T.logistic_problems, dict(n_features=(0, 2)), ValueError, "n_features"),
    (T.softmax_problems, dict(n_classes=(1, 3)), ValueError, "n_classes"),
    (T.glm_problems, dict(models="logistic"), TypeError, "models"),
    (T.glm_problems, dict(models=("ridge",)), ValueError, "models"),
    (T.gradient_pairs, dict(dim=(0, 2)), ValueError, "dim"),
    (T.gradient_pairs, dict(centred="yes"), TypeError, "centred"),
    (T.gradient_pairs, dict(allow_zero=1), TypeError, "allow_zero"),
    (T.networks, dict(units=(0, 3)), ValueError, "units"),
    (T.networks, dict(activations=("sigmoid",)), ValueError, "activation"),
    (T.networks, dict(output_weights="ones"), ValueError, "output_weights"),
    (T.networks, dict(regime="singular", dims=(4, 6), samples=(1, 3)), ValueError, "singular"),
    (T.networks, dict(activations="sigmoid"), ValueError, "unknown activation 'sigmoid'"),
    (T.networks, dict(activations=("tanh", 3)), TypeError, "activations"),
    (T.networks, dict(activations=3), TypeError, "activations"),
    (T.networks, dict(activations=()), ValueError, "activations"),
    (T.networks, dict(weight_scale=("a", 1.0)), TypeError, "weight_scale"),
    (T.networks, dict(weight_scale=1.0), TypeError, "weight_scale"),
    (T.networks, dict(weight_scale=(0.0, 1.0)), ValueError, "weight_scale"),
    (T.distillation_problems, dict(lam=(-1.0, 1.0)), ValueError, "lam"),
    (T.distillation_problems, dict(teacher_distance=(None, 1.0)), TypeError, "teacher_distance"),
    (T.angular_tasks, dict(min_kappa=2.0, max_kappa=1.0), ValueError, "max_kappa"),
    (T.angular_tasks, dict(max_c=0.5), ValueError, "max_c"),
    (T.angular_tasks, dict(margin="yes"), TypeError, "margin"),
    (T.categorical_distributions, dict(min_classes=1), ValueError, "min_classes"),
    (T.categorical_distributions, dict(min_prob=0.2, max_classes=10), ValueError, "min_prob"),
    (T.categorical_distributions, dict(min_prob="0.1"), TypeError, "min_prob"),
    (T.categorical_distributions, dict(allow_zeros="no"), TypeError, "allow_zeros"),
    (T.categorical_distributions, dict(classes=1), ValueError, "classes"),
    (T.categorical_distributions, dict(classes=3.0), TypeError, "classes"),
    (T.categorical_distributions, dict(classes=4, min_prob=0.3), ValueError, r"1/classes"),
    (T.categorical_distributions, dict(allow_zeros=0), TypeError, "allow_zeros"),
    (T.point_sets, dict(clustered="yes"), TypeError, "clustered"),
    (T.point_sets, dict(clustered=1), TypeError, "clustered"),
    (T.logits, dict(max_abs="x"), TypeError, "max_abs"),
    (T.logits, dict(max_abs=True), TypeError, "max_abs"),
    (T.logits, dict(max_abs=0.0), ValueError, "max_abs"),
    (T.logits, dict(max_abs=float("inf")), ValueError, "max_abs"),
]


@pytest.mark.parametrize("strategy,kw,exc,match", BAD_ARGUMENTS,
                         ids=[f"{s.__name__}-{'-'.join(kw)}" for s, kw, _, _ in BAD_ARGUMENTS])
def test_every_kind_of_strategy_rejects_bad_arguments_when_built(strategy, kw, exc, match):
    with pytest.raises(exc, match=match):
        strategy(**kw)


@settings(max_examples=15)
@given(data=st.data())
def test_networks_take_one_activation_as_a_name_or_an_activation_object(data):
    """A single name is one activation (not its characters); an Activation object is used as given."""
    from kdtheory import kernel_regime as kr

    assert data.draw(T.networks(activations="relu")).activation == "relu"
    custom = kr.Activation("cube", lambda z: z ** 3, lambda z: 3 * z ** 2)
    net = data.draw(T.networks(activations=custom))
    assert net.activation is custom
    W, _, X, _ = net
    np.testing.assert_allclose(kr.unit_outputs(W, X, net.activation), (W @ X) ** 3, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(distance=(1.0, 0.5)), ValueError, "distance"),
    (dict(distance=("a", "b")), TypeError, "distance"),
    (dict(distance=[0.0, 1.0]), TypeError, "distance"),
    (dict(distance=(0.0, float("inf"))), ValueError, "distance"),
    (dict(relative="x"), TypeError, "relative"),
])
def test_teachers_reject_bad_arguments_when_built(kw, exc, match):
    with pytest.raises(exc, match=match):
        T.teachers(_PROBLEM, **kw)
    with pytest.raises(TypeError, match="problem must be"):
        T.teachers("not a problem")


def test_the_strategies_cover_every_kind_the_issue_lists():
    """Gram matrices with a chosen κ, Green's Gram matrices on [0, 1], LS/logistic/softmax problems with x*,
    teachers at a distance, two-layer networks (W, a, X, activation), angular tasks, categorical label
    distributions: each is public in kdtheory.testing."""
    for name in ("gram_matrices", "green_gram_matrices", "least_squares_problems", "logistic_problems",
                 "softmax_problems", "teachers", "networks", "angular_tasks", "categorical_distributions"):
        assert name in T.__all__, name


# ------------------------------------------------------------------ paper-000 strategies deliver what they promise

@settings(max_examples=15)
@given(prob=T.glm_problems(), data=st.data())
def test_problem_instances_come_with_their_minimiser(prob, data):
    """Independent of how x* was computed: the mean per-sample gradient vanishes there (first-order
    condition) and the loss is no smaller at random nearby points (zeroth order)."""
    from kdtheory import variance_reduction as vr

    g = prob.grads(prob.x_star)
    assert g.shape[0] == prob.n_samples
    scale = max(1.0, float(np.max(np.abs(prob.grads(np.zeros_like(prob.x_star))))))
    assert np.max(np.abs(g.mean(axis=0))) <= 1e-6 * scale
    f0 = vr.loss(prob.model, prob.x_star, prob.A, prob.b)
    rng = data.draw(generators())
    for _ in range(3):
        x = prob.x_star + 1e-2 * rng.standard_normal(prob.x_star.shape)
        assert vr.loss(prob.model, x, prob.A, prob.b) >= f0 - 1e-9 * max(1.0, abs(f0))


@settings(max_examples=15)
@given(prob=T.least_squares_problems(n_samples=(4, 12), n_features=(1, 3)), data=st.data(),
       lo=st.floats(0.0, 1.0), width=st.floats(0.0, 2.0), relative=st.booleans())
def test_teachers_lie_at_the_chosen_distance(prob, data, lo, width, relative):
    theta = data.draw(T.teachers(prob, distance=(lo, lo + width), relative=relative))
    unit = max(1.0, float(np.linalg.norm(prob.x_star))) if relative else 1.0
    r = float(np.linalg.norm(theta - prob.x_star)) / unit
    assert theta.shape == prob.x_star.shape
    assert lo * (1 - 1e-9) - 1e-12 <= r <= (lo + width) * (1 + 1e-9) + 1e-12


@given(pair=T.gradient_pairs(n_samples=(1, 10), dim=(1, 4)))
def test_gradient_pairs_are_centred_at_the_optimum(pair):
    g0, g1 = pair
    assert g0.shape == g1.shape and g0.ndim == 2
    s = max(float(np.max(np.abs(g0))), np.finfo(float).tiny)
    assert np.max(np.abs(g0.mean(axis=0))) <= 1e-12 * s * g0.shape[0]
    assert np.all(np.isfinite(g0)) and np.all(np.isfinite(g1))


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


def test_assert_claim_draws_from_the_same_generator_as_the_runner():
    # a claim with an rng_key (claims of one experiment share it) must see the generator run_claims gives it,
    # not one derived from its id: the measured value (the first draw) identifies the generator
    from verification.claims import run_claims

    def check(rng, size):
        return compare("safaryan.user.test", 0.0, float(rng.uniform()), "==", atol=1.0)

    c = _claim(check, rng_key="safaryan.user.shared")
    by_runner = run_claims([c], seed=3)[0].measured
    assert assert_claim(c, seed=3).measured == by_runner
    assert _claim(check).run(claim_rng(3, "safaryan.user.test"), "quick").measured != by_runner


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

    with pytest.raises(AssertionError, match="corrected"):
        assert_claim(_claim(check))
    assert assert_claim(_claim(check, corrected_by="safaryan.user.other")).status == "erratum"


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
