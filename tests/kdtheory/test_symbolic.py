"""Tests for kdtheory.symbolic (paper 000): sympy derivations against the numeric formulas."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from kdtheory import symbolic as S
from kdtheory import variance_reduction as vr
from kdtheory.testing import variance_reduction as kst


def test_lambda_star_solves_first_order_condition():
    lam = S.derive_optimal_lambda()
    N = S.neighborhood_expr()
    assert sp.simplify(sp.diff(N, S.SYMBOLS["lambda"]).subs(S.SYMBOLS["lambda"], lam)) == 0
    assert sp.diff(N, S.SYMBOLS["lambda"], 2).is_positive  # convex: the stationary point is the minimum


def test_ratio_identity_is_exactly_zero():
    assert S.ratio_identity_residual() == 0


def test_ratio_identity_fails_with_printed_rho():
    """The residual check can fail: with the printed (32), Var = √Cov, the identity is not 0."""
    s, v, p, g, cg = (S.SYMBOLS[k] for k in ("s", "v", "p", "g", "cgamma"))
    rho_printed = p / sp.sqrt(sp.sqrt(s) * sp.sqrt(v))
    m = g + v
    rhs = 1 - rho_printed**2 * (1 - g / m) / (1 + g / m / cg)
    res = sp.simplify(S.ratio_expr() - rhs)
    assert res != 0
    assert float(res.subs({s: 4, v: 9, p: 1, g: 1, cg: 0.5})) != pytest.approx(0.0)


@given(kst.gradient_pairs(scales=(1.0,), allow_zero=False), st.floats(1e-3, 10), st.floats(0.1, 10))
def test_sympy_lambda_matches_numeric(pair, gamma, c):
    g0, g1 = pair
    f = sp.lambdify((S.SYMBOLS["g"], S.SYMBOLS["v"], S.SYMBOLS["p"], S.SYMBOLS["cgamma"]), S.derive_optimal_lambda())
    gt = float(np.sum(g1.mean(0) ** 2))
    m = float(np.mean(np.sum(g1 * g1, axis=1)))
    p = float(np.mean(np.sum(g0 * g1, axis=1)))
    if m == 0:
        return
    assert f(gt, m - gt, p, c * gamma) == pytest.approx(vr.optimal_lambda(g0, g1, gamma, c), rel=1e-9, abs=1e-12)


def test_lemma1_inequality_numerator():
    u, v = sp.symbols("u v", nonnegative=True)
    assert sp.simplify(S.lemma1_inequality_gap() - u**2 * (v + 1) ** 2) == 0


@pytest.mark.parametrize("model", ["least_squares", "logistic"])
def test_prop1_symbolic(model):
    assert S.prop1_residual(model, "eq4") == 0
    assert S.prop1_residual(model, "algorithm1") != 0


def test_prop1_bad_arguments():
    with pytest.raises(ValueError, match="model"):
        S.prop1_residual("probit")
    with pytest.raises(ValueError, match="convention"):
        S.prop1_residual("logistic", "other")
