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
