"""Pinned closed forms of kdtheory.symbolic, typed here independently from the paper (000, Lemma 1 and Prop. 1)
and derived by hand, so that a mutant of the derivation code cannot pass (tools/mutate.py survivors)."""

import sympy as sp

from kdtheory import symbolic as S

lam, g, v, p, s, cg = (S.SYMBOLS[k] for k in ("lambda", "g", "v", "p", "s", "cgamma"))


def test_optimal_lambda_closed_form():
    # dN/dλ = 2λg + cγ(−2p + 2λm) = 0  ⇒  λ* = cγ p / (g + cγ m), m = g + v   (eq. 33)
    assert sp.simplify(S.derive_optimal_lambda() - cg * p / (g + cg * (g + v))) == 0


def test_ratio_closed_form_and_a_rational_point():
    # N(0) = cγ s and N(λ*) = cγ s − (cγ p)² / (g + cγ m)  ⇒  N(λ*)/N(0) = 1 − cγ p² / (s (g + cγ m))
    expected = 1 - cg * p**2 / (s * (g + cg * (g + v)))
    assert sp.simplify(S.ratio_expr() - expected) == 0
    # g = 1, v = 2, p = 1, s = 3, cγ = 1/2: 1 − (1/2)/(3 · (1 + 3/2)) = 1 − 1/15 = 14/15
    point = {g: 1, v: 2, p: 1, s: 3, cg: sp.Rational(1, 2)}
    assert sp.nsimplify(S.ratio_expr().subs(point)) == sp.Rational(14, 15)


def test_neighborhood_at_a_rational_point():
    # N(λ) = λ²g + cγ(s − 2λp + λ²(g + v)); λ = 1/2, g = 1, v = 2, p = 1, s = 3, cγ = 2:
    # 1/4 + 2 (3 − 1 + 3/4) = 1/4 + 11/2 = 23/4
    val = S.neighborhood_expr().subs({lam: sp.Rational(1, 2), g: 1, v: 2, p: 1, s: 3, cg: 2})
    assert sp.nsimplify(val) == sp.Rational(23, 4)


def test_prop1_printed_convention_residual_closed_form():
    # Algorithm 1's weights λℓ(φ_x, b) + (1−λ)ℓ(φ_x, φ_θ) leave the residual a(1 − 2λ)(b − φ_θ) times the
    # loss's factor: least squares: d/dx = 2aλ(xa − b) + 2a(1−λ)(xa − θa), minus 2a(xa − b) − 2aλ(θa − b)
    # = 2a(1 − 2λ)(b − aθ); cross-entropy with σ: a(1 − 2λ)(b − σ(aθ)).
    a, b, th = sp.symbols("a b theta", real=True)
    ls = S.prop1_residual("least_squares", "algorithm1")
    assert sp.simplify(ls - 2 * a * (1 - 2 * lam) * (b - a * th)) == 0
    lg = S.prop1_residual("logistic", "algorithm1")
    assert sp.simplify(lg - a * (1 - 2 * lam) * (b - 1 / (1 + sp.exp(-a * th)))) == 0
    # and at a rational point: a = 2, b = 1, θ = 1/4, λ = 1/4: 2·2·(1/2)·(1 − 1/2) = 1
    assert ls.subs({a: 2, b: 1, th: sp.Rational(1, 4), lam: sp.Rational(1, 4)}) == 1


def test_lemma1_inequality_gap_at_a_point():
    u, w = sp.symbols("u v", nonnegative=True)
    gap = S.lemma1_inequality_gap()
    # u²(v + 1)² at u = 1/2, v = 3: 1/4 · 16 = 4
    assert gap.subs({u: sp.Rational(1, 2), w: 3}) == 4
