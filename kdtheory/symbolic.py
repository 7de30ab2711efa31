"""Symbolic (sympy) derivations for paper 000 (Safaryan, Peste, Alistarh): λ*, the ratio identity (15),
the elementary inequality closing Lemma 1, and Prop. 1 for scalar models.

Statement
---------
With the moments of the stochastic gradients as symbols — ``g = ‖∇f(θ)‖²``, ``m = E‖∇f_ξ(θ)‖²``,
``p = E⟨∇f_ξ(x*), ∇f_ξ(θ)⟩``, ``s = σ*² = E‖∇f_ξ(x*)‖²`` — Lemma 1's neighbourhood is the quadratic
``N(λ) = λ²g + cγ(s − 2λp + λ²m)``. Solving ``dN/dλ = 0`` gives (33); substituting it back and writing
``ρ = p/√(s(m − g))`` (ρ of (32) with ∇f(x*) = 0) and ``β = g/m`` gives (15) identically.

Source
------
Paper 000, Lemma 1 (App. C.1), eqs. (13)–(15), (31)–(33); Prop. 1 (eq. 5) and App. B.1.

Other papers keep their sympy in their own modules; this module holds paper 000's derivations only.
"""

from __future__ import annotations

import functools

import sympy as sp

__all__ = [
    "SYMBOLS", "neighborhood_expr", "derive_optimal_lambda", "ratio_expr", "ratio_identity_residual",
    "lemma1_inequality_gap", "prop1_residual",
]

lam, g, p, c, gamma = sp.symbols("lambda g p c gamma", real=True)
v, s = sp.symbols("v s", positive=True)      # v = m − g = Var(θ) > 0, s = σ*² > 0
g_nn = sp.Symbol("g", nonnegative=True)
m = g_nn + v                                  # E‖∇f_ξ(θ)‖² = ‖∇f(θ)‖² + Var(θ)
cg = sp.Symbol("cgamma", positive=True)       # the product c·γ > 0

#: The symbols used: λ, ‖∇f(θ)‖² (g ≥ 0), Var(θ) = m − g (v > 0), p, σ*² (s > 0), cγ (> 0).
SYMBOLS = {"lambda": lam, "g": g_nn, "v": v, "p": p, "s": s, "cgamma": cg}


def neighborhood_expr() -> sp.Expr:
    """N(λ) = λ²‖∇f(θ)‖² + cγ E‖∇f_ξ(x*) − λ∇f_ξ(θ)‖² expanded in the moments (Lemma 1)."""
    return lam**2 * g_nn + cg * (s - 2 * lam * p + lam**2 * m)


@functools.lru_cache(maxsize=None)
def derive_optimal_lambda() -> sp.Expr:
    """Solve dN/dλ = 0 for λ (the unique stationary point of the convex quadratic N): eq. (33)."""
    sol = sp.solve(sp.Eq(sp.diff(neighborhood_expr(), lam), 0), lam)
    if len(sol) != 1:
        raise ArithmeticError(f"expected a unique stationary point, got {sol}")
    return sp.simplify(sol[0])


def ratio_expr() -> sp.Expr:
    """N(λ*)/N(0) with λ* from :func:`derive_optimal_lambda`, simplified."""
    N = neighborhood_expr()
    return sp.simplify(N.subs(lam, derive_optimal_lambda()) / N.subs(lam, 0))


@functools.lru_cache(maxsize=None)
def ratio_identity_residual() -> sp.Expr:
    """N(λ*)/N(0) − [1 − ρ²(1 − β)/(1 + β/(cγ))] simplified; (15) holds iff this is 0.

    ρ = p/√(σ*²·Var(θ)) (the *corrected* (32): Var = Cov(θ, θ), no extra square root), β = g/m (31).
    """
    rho = p / sp.sqrt(s * v)
    beta = g_nn / m
    rhs = 1 - rho**2 * (1 - beta) / (1 + beta / cg)
    return sp.simplify(sp.together(ratio_expr() - rhs))


def lemma1_inequality_gap() -> sp.Expr:
    """(2 + v)u − [1 − (1 − u)²/(1 + uv)] put over its denominator 1 + uv: returns the numerator,
    which factors as u²(v + 1)² ≥ 0 — the inequality used in the last step of Lemma 1's proof."""
    u, w = sp.symbols("u v", nonnegative=True)
    expr = (2 + w) * u - (1 - (1 - u) ** 2 / (1 + u * w))
    num, den = sp.fraction(sp.together(expr))
    return sp.factor(sp.expand(num * sp.sign(den)))


def prop1_residual(model: str = "least_squares", convention: str = "eq4") -> sp.Expr:
    """Residual ``∂/∂x [distillation loss] − (∇f(x) − λ∇f(θ))`` for a scalar-parameter model, simplified.

    ``model``: ``least_squares`` (ℓ(t, t') = (t − t')², φ_x(a) = x·a) or ``logistic``
    (cross-entropy, φ_x(a) = σ(x·a)). ``convention``: ``eq4`` — loss (4),
    (1−λ)ℓ(φ_x, b) + λℓ(φ_x, φ_θ) — gives 0 (Prop. 1); ``algorithm1`` — the weights as printed in
    Sec. 3.2 / Algorithm 1, λℓ(φ_x, b) + (1−λ)ℓ(φ_x, φ_θ) — does not.
    """
    x, th, a, b = sp.symbols("x theta a b", real=True)
    if model == "least_squares":
        def ell(t, tp):
            return (t - tp) ** 2
        phi = lambda z: z * a  # noqa: E731
    elif model == "logistic":
        def ell(q, tp):  # cross-entropy ℓ(q, t') = −t' log q − (1 − t') log(1 − q)
            return -tp * sp.log(q) - (1 - tp) * sp.log(1 - q)
        phi = lambda z: 1 / (1 + sp.exp(-z * a))  # noqa: E731
    else:
        raise ValueError(f"model must be 'least_squares' or 'logistic', got {model!r}")
    if convention == "eq4":
        L = (1 - lam) * ell(phi(x), b) + lam * ell(phi(x), phi(th))
    elif convention == "algorithm1":
        L = lam * ell(phi(x), b) + (1 - lam) * ell(phi(x), phi(th))
    else:
        raise ValueError(f"convention must be 'eq4' or 'algorithm1', got {convention!r}")
    f = lambda z: ell(phi(z), b)  # noqa: E731
    grad_f = lambda z: sp.diff(f(sp.Symbol("z_")), sp.Symbol("z_")).subs(sp.Symbol("z_"), z)  # noqa: E731
    res = sp.diff(L, x) - (grad_f(x) - lam * grad_f(th))
    return sp.simplify(sp.expand(sp.simplify(res)))
