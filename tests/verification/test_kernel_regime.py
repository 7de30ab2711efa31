"""Simulator of verification.kernel_regime checked against kdtheory's exact linearised solution."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kdtheory import kernel_regime as kr
from kdtheory.testing.kernel_regime import distillation_problems
from verification.kernel_regime import _slope, simulate_two_layer


@pytest.mark.parametrize("act,lam", [("tanh", 0.5), ("relu", 0.0), ("softplus", 2.0)])
@settings(max_examples=10)
@given(data=st.data())
def test_linearised_branch_converges_to_exact_solution_as_step_shrinks(act, lam, data):
    prob = data.draw(distillation_problems(lam=(lam, lam), teacher_distance=(0.3, 0.3), units=(4, 4),
                                           samples=(3, 3), dims=(5, 5), activations=act, weight_scale=(1.0, 1.0)))
    W, a, X, _ = prob.net
    m = W.shape[0]
    F0, phi, y = prob.F0, prob.phi, prob.y
    sol = kr.linearised_solution(kr.gram_blocks(W, X, act), a, lam, y, phi, F0)
    errs = []
    for lr in (0.02, 0.01):
        run = simulate_two_layer(W, a, X, y, phi, lam, act, lr=lr, steps=int(2.0 / lr))
        errs.append(float(np.max(np.abs(run.f_lin[0] - sol.f(run.t)))))
    # Euler is first order: halving the step halves the error
    assert errs[1] < 0.6 * errs[0] and errs[1] < 1e-2
    np.testing.assert_allclose(run.f[0, 0], a @ F0 / math.sqrt(m), atol=1e-12)


def test_nonlinear_gd_approaches_linearisation_with_width():
    rng = np.random.default_rng(1)
    n, d = 3, 6
    X = kr.normalize_columns(rng.standard_normal((d, n)))
    y = rng.choice([-1.0, 1.0], n)
    gaps = []
    for m in (10, 1000):
        W = rng.standard_normal((2, m, d))
        a = np.ones((2, m))
        F0 = np.tanh(W @ X)
        run = simulate_two_layer(W, a, X, y + np.einsum("sk,skn->sn", a / math.sqrt(m), F0), F0, 1.0, "tanh",
                                 lr=0.2, steps=100)
        gaps.append(float(np.mean(np.abs(run.f - run.f_lin))))
    assert gaps[1] < gaps[0] / 4  # 100× wider: ≈ 10× closer (m^(-1/2))


def test_slope_fit_recovers_a_known_exponent_and_its_error():
    ms = np.repeat([10, 100, 1000], 4)
    rng = np.random.default_rng(2)
    vals = 3.0 * ms ** -0.5 * np.exp(0.01 * rng.standard_normal(ms.size))
    s, se = _slope(ms, vals)
    assert abs(s + 0.5) < 4 * se + 1e-3 and 0 < se < 0.01
