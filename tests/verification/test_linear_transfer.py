"""Paper-003 specifics the generic registry battery does not cover: the erratum's documented numbers, the
c = 1 case of Cor. 2's proof step, and exact zero risk beyond a π/4 margin."""

import math

import numpy as np
import pytest

from kdtheory import linear_transfer as lt
from verification.claims import claim_rng, get, load_all

load_all()


def test_cor2_erratum_counterexample_matches_docs():
    v = get("phuong.cor2_proof_step").run(claim_rng(0, "phuong.cor2_proof_step"), "quick")
    assert v.status == "erratum"
    ex = v.details["counterexample"]["example"]
    assert ex["beta"] == pytest.approx(1.3523, abs=1e-4)
    assert ex["p(beta)"] == pytest.approx(0.2782, abs=1e-4)
    assert ex["p(pi/2-beta)"] == 1.0
    assert ex["thm3_at_proof_beta"] == pytest.approx(1.2782, abs=1e-4)
    assert ex["printed_rhs"] == pytest.approx(0.3996, abs=1e-4)
    assert ex["thm3_min_over_beta"] == 1.0
    assert v.details["c_equal_1_always_holds"] is True


def test_proof_beta_gives_the_printed_rate_when_c_is_1():
    # (1 − n^(−1/n))^κ ≤ ((log n)/n)^κ and (n^(−1/n))^(nκ) = n^(−κ): the two terms of (23)
    for n in (2, 10, 1000, 10**6):
        b = lt.corollary2_proof_beta(n)
        for kappa in (0.5, 1.0, 3.0):
            t1, t2 = lt.corollary2_proof_terms(n, kappa)
            assert t1 <= (math.log(n) / n) ** kappa * (1 + 1e-12)
            assert t2 == pytest.approx(n ** -kappa, rel=1e-9)
            assert b == pytest.approx(math.pi / 2 * math.exp(-math.log(n) / n))


def test_margin_beyond_quarter_pi_gives_exactly_zero_risk():
    task = lt.margin_task(30, 0.9)
    rng = np.random.default_rng(0)
    phi = lt.sample_student_angles(task, 3, 200, rng)
    assert np.all(phi <= lt.HALF_PI - 0.9 + 1e-12)
    assert np.all(lt.transfer_risk_from_angle(phi, task) == 0.0)
    assert lt.corollary1_bound(task, 3, lt.HALF_PI - 0.9) == 0.0


def test_thm_d1_claim_uses_the_worst_student_in_the_eps_ball():
    # the claim perturbs ŵ to the largest angle with w* inside ‖ŵ_ε − ŵ‖ ≤ η‖ŵ‖: φ + arcsin η. Independent route:
    # maximise the angle over the ball numerically (SLSQP from several starts) in R³.
    from scipy import optimize

    rng = np.random.default_rng(4)
    for phi, eta in [(0.3, 0.05), (1.0, 0.2), (0.05, 0.4)]:
        w_star = np.array([1.0, 0.0, 0.0])
        w_hat = 2.0 * np.array([math.cos(phi), math.sin(phi), 0.0])
        eps = eta * np.linalg.norm(w_hat)
        best = 0.0
        for _ in range(5):
            e0 = rng.standard_normal(3)
            res = optimize.minimize(lambda e: -float(lt.signed_angle(w_star, w_hat + e)), eps * e0 / np.linalg.norm(e0) / 2,
                                    method="SLSQP", constraints=[{"type": "ineq", "fun": lambda e: eps**2 - e @ e}],
                                    options={"ftol": 1e-14, "maxiter": 500})
            best = max(best, -res.fun)
        assert best == pytest.approx(phi + math.asin(eta), abs=1e-6)
        assert best > phi + math.atan(eta) + eta**3 / 4  # arctan η (perpendicular ε-step) is not the worst: asin − atan ≈ η³/2


def test_turned_away_student_is_in_the_ball_at_the_largest_angle():
    # the asymmetric Thm D.1 route turns ŵ away from w* by arcsin η in the plane of (w*, ŵ): the direction is at
    # angle φ + arcsin η from w* and, scaled by ‖ŵ‖cos(arcsin η), lies on the ε-ball around ŵ
    from verification import linear_transfer as vl

    task = lt.window_task(5, [1.3, 0.4], 0.05, [0.3, 0.7], sides=[1, -1], tilt=0.3)
    rng = np.random.default_rng(2)
    W = lt.student_solutions(task.sample_sets(20, 2, rng), task.w_star)
    eta = 0.07
    V = vl._turned_away(eta)(W, task)
    phi = lt.signed_angle(W, task.w_star[None, :])
    assert np.allclose(lt.signed_angle(V, task.w_star[None, :]), phi + math.asin(eta), atol=1e-10)
    nw = np.linalg.norm(W, axis=1, keepdims=True)
    tangent = V * nw * math.cos(math.asin(eta))
    assert np.allclose(np.linalg.norm(tangent - W, axis=1), eta * nw[:, 0], rtol=1e-10)


@pytest.mark.parametrize("mutant", ["2n", "half"])
def test_thm3_claim_kills_planted_mutants(monkeypatch, mutant):
    # Thm 3's bound with exponent 2n, or halved, is false on the searched asymmetric task and (2n) on the
    # smoothed two-angle task: the claim must report violated
    orig = lt._thm3_objective

    def mutated(p, n, tight):
        f = orig(p, 2 * n if mutant == "2n" else n, tight)
        return f if mutant == "2n" else (lambda b: 0.5 * f(b))
    monkeypatch.setattr(lt, "_thm3_objective", mutated)
    v = get("phuong.thm3").run(claim_rng(0, "phuong.thm3"), "quick")
    assert v.status == "violated"
    parts = v.details["parts"]
    assert parts["searched_asymmetric"]["status"] == "violated"
    if mutant == "2n":
        assert parts["two_angle_d5_n3"]["status"] == "violated"
    else:  # on a rotationally symmetric task E R ≤ ½·bound: the halved bound still holds there
        assert parts["two_angle_d5_n3"]["status"] == "holds"


def test_thm2_claim_kills_a_wrong_exponent_in_73(monkeypatch):
    orig = lt.deep_norm_bound
    monkeypatch.setattr(lt, "deep_norm_bound",
                        lambda r0, W, N: W * (1.0 - (r0 / W) ** (2.0 / N)) ** (-1.0 / (2.0 * (N - 1))) if N >= 2 else orig(r0, W, N))
    v = get("phuong.thm2_deep").run(claim_rng(0, "phuong.thm2_deep"), "quick")
    assert v.status == "violated" and v.details["deciding_part"] == "norm_73"
