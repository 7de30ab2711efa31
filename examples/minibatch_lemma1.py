"""Worked example (docs/extending.md): a user adds a mini-batch variant of Lemma 1 of paper 000.

Statement
---------
Lemma 1 of Safaryan et al. minimises N(λ) = λ²‖∇f(θ)‖² + cγ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖² for a single
sample ξ. With a mini-batch B of b samples drawn uniformly *with replacement*, the stochastic
direction is the batch mean g_B(λ) = (1/b) Σ_{j∈B} (∇f_j(x*) − λ∇f_j(θ)), whose second moment is

    E‖g_B(λ)‖² = (1 − 1/b) ‖m(λ)‖² + (1/b) E‖g_ξ(λ)‖²,   m(λ) = ∇f(x*) − λ∇f(θ),

so N_b(λ) = λ²‖∇f(θ)‖² + cγ E‖g_B(λ)‖² is again a quadratic A λ² − 2B λ + const with

    A = ‖∇f(θ)‖² + cγ[(1 − 1/b)‖∇f(θ)‖² + E‖∇f_ξ(θ)‖²/b],
    B = cγ[(1 − 1/b)⟨∇f(x*), ∇f(θ)⟩ + E⟨∇f_ξ(x*), ∇f_ξ(θ)⟩/b],      λ*_b = B / A.

For b = 1 this is eq. (33); since ∇f(x*) = 0 at a minimiser, λ*_b = C/(S₁ + ‖∇f(θ)‖²(b/(cγ) + b − 1))
with C = E⟨∇f_ξ(x*), ∇f_ξ(θ)⟩, S₁ = E‖∇f_ξ(θ)‖²: a larger batch leaves less noise to cancel, so the
teacher's bias weighs more and the optimal weight shrinks.

Run ``python examples/minibatch_lemma1.py``: it property-tests the formulas with the public
strategies of :mod:`kdtheory.testing`, runs the new Claim through :func:`kdtheory.testing.assert_claim`,
registers it and runs it through ``kdverify run --claim``.
"""

from __future__ import annotations

import itertools
import sys
import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kdtheory import validation as V
from kdtheory import variance_reduction as vr
from kdtheory.testing import Problem, assert_claim, gradient_pairs, gram_matrices, teachers
from verification.claims import Claim, compare, register, registry

CLAIM_ID = "safaryan.user.minibatch_lemma1"


# ----------------------------------------------------------------------------- 1. the new bound


def _pair(grads_opt, grads_teacher):
    g0 = V.as_array("grads_opt", grads_opt, ndim=2)
    g1 = V.as_array("grads_teacher", grads_teacher, ndim=2)
    V.same_shape(("grads_opt", "grads_teacher"), g0, g1)
    if g0.shape[0] == 0:
        raise ValueError("grads_opt must have at least one row")
    return g0, g1


def minibatch_noise(lam, grads_opt, grads_teacher, b) -> float:
    """E‖(1/b) Σ_{j∈B} (∇f_j(x*) − λ∇f_j(θ))‖² for a uniform batch of b samples drawn with replacement."""
    g0, g1 = _pair(grads_opt, grads_teacher)
    lam = V.scalar("lam", lam)
    b = V.count("b", b)
    g = g0 - lam * g1
    m = g.mean(axis=0)
    return float((1 - 1 / b) * (m @ m) + np.mean(np.sum(g * g, axis=1)) / b)


def minibatch_neighborhood(lam, grads_opt, grads_teacher, gamma, c=1.0, b=1) -> float:
    """N_b(λ) = λ²‖∇f(θ)‖² + cγ E‖g_B(λ)‖² (Lemma 1 of paper 000 with a batch of b samples)."""
    g0, g1 = _pair(grads_opt, grads_teacher)
    gamma, c = V.positive("gamma", gamma), V.positive("c", c)
    lam = V.scalar("lam", lam)
    mt = g1.mean(axis=0)
    return float(lam**2 * (mt @ mt) + c * gamma * minibatch_noise(lam, g0, g1, b))


def minibatch_optimal_lambda(grads_opt, grads_teacher, gamma, c=1.0, b=1) -> float:
    """λ*_b = B/A minimising N_b (reduces to eq. (33) for b = 1); 1 when N_b does not depend on λ."""
    g0, g1 = _pair(grads_opt, grads_teacher)
    gamma, c = V.positive("gamma", gamma), V.positive("c", c)
    b = V.count("b", b)
    m0, mt = g0.mean(axis=0), g1.mean(axis=0)
    A = mt @ mt + c * gamma * ((1 - 1 / b) * (mt @ mt) + np.mean(np.sum(g1 * g1, axis=1)) / b)
    B = c * gamma * ((1 - 1 / b) * (m0 @ mt) + np.mean(np.sum(g0 * g1, axis=1)) / b)
    return 1.0 if A == 0 else float(B / A)


# ----------------------------------------------------------------------------- 2. property tests


@settings(max_examples=25, deadline=None)
@given(pair=gradient_pairs(n_samples=(1, 12), dim=(1, 4), scales=(1e-3, 1.0, 1e3)),
       gamma=st.floats(1e-3, 1.0), c=st.floats(0.01, 10.0))
def test_batch_of_one_is_lemma1(pair, gamma, c):
    """b = 1 is Lemma 1: the same λ* and N(λ) as kdtheory's eq. (33) implementation."""
    g0, g1 = pair
    lam = minibatch_optimal_lambda(g0, g1, gamma, c, b=1)
    assert np.isclose(lam, vr.optimal_lambda(g0, g1, gamma, c), rtol=1e-8, atol=1e-10)
    ref = vr.neighborhood(lam, g0, g1, gamma, c)
    assert np.isclose(minibatch_neighborhood(lam, g0, g1, gamma, c, 1), ref, rtol=1e-8, atol=1e-12 * (1 + abs(ref)))


@settings(max_examples=25, deadline=None)
@given(pair=gradient_pairs(n_samples=(1, 4), dim=(1, 3), scales=(1.0,)), lam=st.floats(-2.0, 2.0),
       b=st.integers(1, 3))
def test_noise_matches_enumeration_of_all_batches(pair, lam, b):
    """Independent route: average ‖batch mean‖² over all N^b ordered batches (with replacement)."""
    g0, g1 = pair
    g = g0 - lam * g1
    exact = np.mean([np.sum(g[list(idx)].mean(axis=0) ** 2)
                     for idx in itertools.product(range(g.shape[0]), repeat=b)])
    assert np.isclose(minibatch_noise(lam, g0, g1, b), exact, rtol=1e-10, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(G=gram_matrices(min_n=1, max_n=4, max_condition=1e3), seed=st.integers(0, 2**32 - 1),
       b=st.integers(1, 8), gamma=st.floats(1e-3, 0.5), data=st.data())
def test_optimum_shrinks_the_neighbourhood_and_larger_batches_help(G, seed, b, gamma, data):
    """On least-squares data with a feature covariance G of chosen condition number and a teacher at a
    drawn distance: λ*_b minimises N_b, and min_λ N_b(λ) does not increase with b (the per-sample second
    moment dominates ‖mean‖², Jensen)."""
    rng = np.random.default_rng(seed)
    d = G.shape[0]
    w, Q = np.linalg.eigh(G)
    A = rng.standard_normal((12, d)) @ (Q * np.sqrt(np.clip(w, 0, None))) @ Q.T
    y = A @ rng.standard_normal(d) + 0.3 * rng.standard_normal(12)
    prob = Problem("least_squares", A, y, vr.minimizer("least_squares", A, y))
    theta = data.draw(teachers(prob, distance=(0.0, 1.0)))
    g0, g1 = prob.grads(prob.x_star), prob.grads(theta)
    lam_b = minibatch_optimal_lambda(g0, g1, gamma, 1.0, b)
    n_b = minibatch_neighborhood(lam_b, g0, g1, gamma, 1.0, b)
    for dl in (-0.1, 0.1):
        assert n_b <= minibatch_neighborhood(lam_b + dl, g0, g1, gamma, 1.0, b) * (1 + 1e-12) + 1e-15
    nxt = minibatch_neighborhood(minibatch_optimal_lambda(g0, g1, gamma, 1.0, b + 1), g0, g1, gamma, 1.0, b + 1)
    assert nxt <= n_b * (1 + 1e-10) + 1e-15


@settings(max_examples=25, deadline=None)
@given(pair=gradient_pairs(n_samples=(1, 12), dim=(1, 4), scales=(1e-3, 1.0, 1e3)),
       gamma=st.floats(1e-3, 1.0), b=st.integers(1, 16))
def test_agrees_with_batch_equivalent_gradients(pair, gamma, b):
    """A second route already in kdtheory: Lemma 1's λ* on gradients rescaled to the batch's moments."""
    g0, g1 = pair
    e0 = vr.batch_equivalent_gradients(g0, b)
    e1 = vr.batch_equivalent_gradients(g1, b)
    assert np.isclose(minibatch_optimal_lambda(g0, g1, gamma, 1.0, b), vr.optimal_lambda(e0, e1, gamma),
                      rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------------------- 3. the Claim


def check_minibatch_lemma1(rng: np.random.Generator, size: str):
    """Monte-Carlo check: the closed-form E‖g_B(λ*_b)‖² against sampled batches on a least-squares problem."""
    n, d, batches = (40, 3, 20_000) if size == "quick" else (200, 5, 400_000)
    b = int(rng.integers(2, 9))
    A = rng.standard_normal((n, d))
    y = A @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    x_star = np.linalg.lstsq(A, y, rcond=None)[0]
    theta = x_star + 0.2 * rng.standard_normal(d)
    g0 = vr.per_sample_gradients("least_squares", x_star, A, y)
    g1 = vr.per_sample_gradients("least_squares", theta, A, y)
    gamma = 0.05
    lam = minibatch_optimal_lambda(g0, g1, gamma, 1.0, b)
    g = g0 - lam * g1
    idx = rng.integers(0, n, size=(batches, b))
    sq = np.sum(g[idx].mean(axis=1) ** 2, axis=1)
    predicted = minibatch_noise(lam, g0, g1, b)
    se = float(sq.std(ddof=1) / np.sqrt(batches))
    return compare(CLAIM_ID, predicted, float(sq.mean()), "==", atol=5 * se,
                   details={"b": b, "lam_star_b": lam, "lam_star_b1": vr.optimal_lambda(g0, g1, gamma),
                            "batches": batches, "standard_error": se, "n": n, "d": d})


CLAIM = Claim(
    id=CLAIM_ID, paper="000_e7b664afac902525.txt", where="Lemma 1 (mini-batch variant, user extension)",
    statement="with a batch of b samples drawn with replacement, E||g_B(λ)||² = (1-1/b)||m(λ)||² + E||g_ξ(λ)||²/b "
              "at λ = λ*_b (Monte Carlo)",
    check=check_minibatch_lemma1,
)


def main(argv=None) -> int:
    for test in (test_batch_of_one_is_lemma1, test_noise_matches_enumeration_of_all_batches,
                 test_optimum_shrinks_the_neighbourhood_and_larger_batches_help,
                 test_agrees_with_batch_equivalent_gradients):
        test()
        print(f"property test passed: {test.__name__}")
    v = assert_claim(CLAIM, size="quick", seed=0)
    print(f"assert_claim: {v.claim_id} {v.status} (margin {v.margin:.3g}, b = {v.details['b']}, "
          f"λ*_b = {v.details['lam_star_b']:.4f} vs λ*_1 = {v.details['lam_star_b1']:.4f})")
    if CLAIM_ID not in registry():
        register(CLAIM)
    from verification.cli import main as kdverify

    with tempfile.TemporaryDirectory() as out:
        try:
            kdverify(["run", "--claim", CLAIM_ID, "--out", out], standalone_mode=False)
        except SystemExit as exc:  # kdverify exits 1 when a claim is violated
            return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
