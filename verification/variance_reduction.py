"""Claims of paper 000 (Safaryan, Peste, Alistarh — KD performs partial variance reduction).

Each claim checks a statement of the paper by a route independent of the formula it tests:
finite differences and direct differentiation of the loss (4) for Prop. 1; numeric minimisation of
N(λ) and sympy for Lemma 1; vectorised SGD simulations (verification.simulate) for Theorems 1–4.
Errata (printed formula refuted by a concrete counterexample) sit beside their corrected claims.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from kdtheory import symbolic as sym
from kdtheory import variance_reduction as vr
from verification import simulate as sim
from verification.claims import claim, combine, compare, erratum, observed
from verification.search import BUDGETS, worst_case, worst_of
from verification.stats import compare_samples

PAPER = "000"


# ---------------------------------------------------------------------------------------------
# problem instances (data only: every formula comes from kdtheory.variance_reduction)


def _ls_problem(rng, N=50, p=4, noise=1.0):
    """A least-squares instance (lifted inputs) with its minimiser and exact constants."""
    A = vr.lift(rng.normal(size=(N, p)))
    b = A @ rng.normal(size=p + 1) + noise * rng.normal(size=N)
    return A, b, vr.minimizer("least_squares", A, b)


def _teacher(rng, x_star, dist):
    u = rng.normal(size=np.shape(x_star))
    return x_star + dist * u / np.linalg.norm(u)


def _glm_instance(rng, model, N=30, p=3, K=3):
    A = vr.lift(rng.normal(size=(N, p)))
    if model == "least_squares":
        b = A @ rng.normal(size=p + 1) + rng.normal(size=N)
        x = rng.normal(size=p + 1)
    elif model == "logistic":
        b = (rng.random(N) < 0.5).astype(float)
        x = rng.normal(size=p + 1)
    else:
        b = rng.integers(0, K, size=N)
        x = rng.normal(size=(p + 1, K))
    return A, b, x


def _fd_jacobian(fun, x, h):
    """Central finite differences of a vector-valued fun (N,) w.r.t. every entry of x → (N, *x.shape)."""
    flat = x.ravel()
    cols = []
    for i in range(flat.size):
        e = np.zeros_like(flat)
        e[i] = h
        cols.append((fun((flat + e).reshape(x.shape)) - fun((flat - e).reshape(x.shape))) / (2 * h))
    return np.stack(cols, axis=1).reshape((-1,) + x.shape)


# ---------------------------------------------------------------------------------------------
# Proposition 1


def _prop1_fd(model, rng, size):
    n_inst = 4 if size == "quick" else 20
    worst, rows = 0.0, []
    for _ in range(n_inst):
        A, b, x = _glm_instance(rng, model)
        theta = x + rng.normal(size=x.shape)
        lam = float(rng.random())
        eq5 = vr.distillation_gradient(vr.per_sample_gradients(model, x, A, b),
                                       vr.per_sample_gradients(model, theta, A, b), lam)
        fd = _fd_jacobian(lambda z: vr.distillation_losses(model, z, theta, lam, A, b), x, 1e-5)
        err = float(np.max(np.abs(fd - eq5)) / max(np.max(np.abs(eq5)), 1e-12))
        rows.append({"lam": lam, "rel_err": err})
        worst = max(worst, err)
    return compare(f"safaryan.prop1.{model}", 0.0, worst, "==", atol=1e-6,
                   details={"route": "central finite differences (h=1e-5) of the per-sample loss (4)",
                            "instances": rows, "N": 30, "d": 4})


for _model in vr.MODELS:
    def _make(model):
        @claim(f"safaryan.prop1.{model}", paper=PAPER, where="Prop. 1, eq. (5); Sec. 3.3, App. B.1-B.2",
               statement=f"{model}: gradient of the distillation loss (4) equals grad f_n(x) - lam grad f_n(theta) "
                         "(checked by finite differences of (4))")
        def _check(rng, size):
            return _prop1_fd(model, rng, size)
        return _check
    _make(_model)


@claim("safaryan.prop1_exact", paper=PAPER, where="Prop. 1, eq. (5)",
       statement="for least squares, logistic and soft-max, eq. (5) equals the analytic gradient of (4) to machine precision")
def _prop1_exact(rng, size):
    n_inst = 5 if size == "quick" else 50
    worst, per_model = 0.0, {}
    for model in vr.MODELS:
        w = 0.0
        for _ in range(n_inst):
            A, b, x = _glm_instance(rng, model)
            theta = x + rng.normal(size=x.shape) * 3
            lam = float(rng.random())
            true = vr.distillation_loss_gradient(model, x, theta, lam, A, b)
            eq5 = vr.distillation_gradient(vr.per_sample_gradients(model, x, A, b),
                                           vr.per_sample_gradients(model, theta, A, b), lam)
            w = max(w, float(np.max(np.abs(true - eq5)) / max(np.max(np.abs(true)), 1e-300)))
        per_model[model] = w
        worst = max(worst, w)
    return compare(0.0, worst, "==", atol=1e-12,
                   details={"max_rel_diff_by_model": per_model,
                            "route": "differentiate (4) with the teacher's outputs as fixed labels",
                            "symbolic_residual_eq4": {m: str(sym.prop1_residual(m, "eq4")) for m in ("least_squares", "logistic")}})


@claim("safaryan.alg1_convention", paper=PAPER, where="Sec. 3.2 definition of f_n(x|theta,lam); Algorithm 1, line 6",
       statement="as printed, f_n(x|theta,lam) = lam f_n(x) + (1-lam) f_n(x|theta), whose gradient is NOT eq. (5)",
       corrected_by="safaryan.prop1_exact")
def _alg1_convention(rng, size):
    # scalar least-squares counterexample (lifted input ā = [a, 1] with a = 0 ⇒ one active coordinate)
    A = np.array([[0.0, 1.0]])
    b = np.array([0.0])
    x = np.array([0.0, 1.0])
    theta = np.array([0.0, 0.5])
    lam = 0.25
    eq5 = vr.distillation_gradient(vr.per_sample_gradients("least_squares", x, A, b),
                                   vr.per_sample_gradients("least_squares", theta, A, b), lam)
    # the printed convention weights the label loss by lam: that is loss (4) with weight 1 - lam
    fd = _fd_jacobian(lambda z: vr.distillation_losses("least_squares", z, theta, 1 - lam, A, b), x, 1e-6)
    printed, measured = float(eq5[0, 1]), float(fd[0, 1])
    sym_res = str(sym.prop1_residual("least_squares", "algorithm1"))
    return erratum(printed, measured, "==",
                   counterexample={"x": x.tolist(), "theta": theta.tolist(), "a_bar": A[0].tolist(), "b": 0.0,
                                   "lam": lam, "eq5_gradient": printed, "gradient_of_printed_loss": measured,
                                   "symbolic_residual": sym_res},
                   refuted=abs(printed - measured) > 1e-6,
                   details={"explanation": "with the Sec. 3.2/Alg. 1 weights the gradient is grad f_n(x) - (1-lam) grad f_n(theta); "
                                           "eq. (2)-(4) put lam on the teacher term, which gives (5)"})


# ---------------------------------------------------------------------------------------------
# Assumption 3: expected smoothness for mini-batch sampling


def _batches(N, B, sampling):
    from itertools import combinations, product
    return [list(c) for c in (product(range(N), repeat=B) if sampling == "with_replacement" else combinations(range(N), B))]


@claim("safaryan.assumption3.minibatch_exact", paper=PAPER, where="Assumption 3, eq. (10); mini-batch sampling",
       statement="least squares: the mini-batch expected smoothness calL equals the top generalized eigenvalue of "
                 "(E[H_B^2], H), E over every batch enumerated (the tight constant of (10))")
def _assumption3_exact(rng, size):
    from scipy import linalg
    n = 4 if size == "quick" else 16
    worst, rows = 0.0, []
    for i in range(n):
        N, p = int(rng.integers(5, 9)), int(rng.integers(1, 4))
        A = vr.lift(rng.normal(size=(N, p)) * float(10 ** rng.uniform(-1, 1)))
        b = rng.normal(size=N)
        B, sampling = int(rng.integers(1, 4)), vr.SAMPLINGS[i % 2]
        k = vr.expected_smoothness("least_squares", A, b, batch_size=B, sampling=sampling)
        Hn = 2.0 * A[:, :, None] * A[:, None, :]
        HB = [Hn[c].mean(axis=0) for c in _batches(N, B, sampling)]
        Q = np.mean([h @ h for h in HB], axis=0)
        top = float(linalg.eigh(Q, vr.least_squares_hessian(A), eigvals_only=True)[-1])
        rows.append({"N": N, "d": p + 1, "batch": B, "sampling": sampling, "calL": k.calL, "enumerated": top,
                     "single_sample_calL": vr.expected_smoothness("least_squares", A, b).calL})
        worst = max(worst, abs(k.calL - top) / top)
    return compare(0.0, worst, "==", atol=1e-8,
                   details={"measured": "max relative difference, closed form vs enumeration over every batch",
                            "instances": rows})


@claim("safaryan.assumption3.minibatch_bound", paper=PAPER, where="Assumption 3, eq. (10); Gower et al. (2019) Prop. 3.8",
       statement="logistic and soft-max: E||grad f_B(x) - grad f_B(x*)||^2 <= 2 calL (f(x) - f*) for the mini-batch calL, "
                 "E over every batch enumerated, at random points x")
def _assumption3_bound(rng, size):
    n = 4 if size == "quick" else 16
    worst, rows = 0.0, []
    for i in range(n):
        model = ("logistic", "softmax")[i % 2]
        N = int(rng.integers(5, 8))
        A = vr.lift(rng.normal(size=(N, 2)))
        b = rng.uniform(0.05, 0.95, size=N) if model == "logistic" else rng.dirichlet(np.ones(3), size=N)
        xs = vr.minimizer(model, A, b)
        B, sampling = int(rng.integers(1, 4)), vr.SAMPLINGS[(i // 2) % 2]
        k = vr.expected_smoothness(model, A, b, batch_size=B, sampling=sampling, x_star=xs if model == "logistic" else None)
        g_star = vr.per_sample_gradients(model, xs, A, b)
        fstar = vr.loss(model, xs, A, b)
        for r in (0.3, 1.0, 3.0):
            x = xs + r * rng.normal(size=xs.shape)
            D = (vr.per_sample_gradients(model, x, A, b) - g_star).reshape(N, -1)
            lhs = float(np.mean([np.sum(D[c].mean(axis=0) ** 2) for c in _batches(N, B, sampling)]))
            ratio = lhs / (2 * k.calL * (vr.loss(model, x, A, b) - fstar))
            rows.append({"model": model, "batch": B, "sampling": sampling, "r": r, "ratio": ratio})
            worst = max(worst, ratio)
    return compare(1.0, worst, "<=",
                   details={"measured": "max over instances of E||grad f_B(x) - grad f_B(x*)||^2 / (2 calL (f(x) - f*))",
                            "instances": rows[:12]})


# ---------------------------------------------------------------------------------------------
# Lemma 1


def _lemma1_instances(rng, n):
    """Per-sample gradient pairs (at x*, at θ) from the three models plus unstructured ones."""
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            A, b, xs = _ls_problem(rng, N=40, p=3)
            th = _teacher(rng, xs, rng.uniform(0.05, 2.0))
            out.append((vr.per_sample_gradients("least_squares", xs, A, b), vr.per_sample_gradients("least_squares", th, A, b)))
        elif kind == 1:
            A = vr.lift(rng.normal(size=(40, 3)))
            b = (rng.random(40) < 0.5).astype(float)
            xs = vr.minimizer("logistic", A, b)
            th = _teacher(rng, xs, rng.uniform(0.05, 2.0))
            out.append((vr.per_sample_gradients("logistic", xs, A, b), vr.per_sample_gradients("logistic", th, A, b)))
        elif kind == 2:
            A = vr.lift(rng.normal(size=(40, 3)))
            y = rng.integers(0, 3, size=40)
            xs = vr.minimizer("softmax", A, y, K=3)
            th = _teacher(rng, xs, rng.uniform(0.05, 2.0))
            out.append((vr.per_sample_gradients("softmax", xs, A, y), vr.per_sample_gradients("softmax", th, A, y)))
        else:
            g0 = rng.normal(size=(25, 6))
            g0 -= g0.mean(axis=0)
            out.append((g0, 0.7 * g0 + rng.normal(size=(25, 6)) + rng.normal(size=6)))
    return out


@claim("safaryan.lemma1.lambda_star", paper=PAPER, where="Lemma 1, eq. (33) (eq. (14) for c = 1)",
       statement="the closed-form lam* equals the numerical minimiser of N(lam) over the real line")
def _lemma1_lambda_star(rng, size):
    insts = _lemma1_instances(rng, 8 if size == "quick" else 40)
    worst, rows = 0.0, []
    for g0, g1 in insts:
        gamma = float(10 ** rng.uniform(-3, 0))
        c = float(10 ** rng.uniform(-1, 1))
        cf = vr.optimal_lambda(g0, g1, gamma, c)
        res = optimize.minimize_scalar(lambda t: vr.neighborhood(t, g0, g1, gamma, c), bracket=(-1.0, 2.0),
                                       method="brent", tol=1e-12)
        err = abs(cf - float(res.x)) / max(1.0, abs(cf))
        rows.append({"gamma": gamma, "c": c, "closed_form": cf, "numeric": float(res.x)})
        worst = max(worst, err)
    return compare(0.0, worst, "==", atol=1e-6,
                   details={"route": "scipy Brent minimisation of N(lam)", "instances": rows[:8]})


@claim("safaryan.lemma1.ratio_identity", paper=PAPER, where="Lemma 1, eq. (15), with (31)-(32)",
       statement="N(lam*)/N(0) = 1 - rho^2 (1-beta)/(1 + beta/(c gamma)) for per-sample gradients at the exact x*")
def _lemma1_ratio(rng, size):
    insts = _lemma1_instances(rng, 8 if size == "quick" else 40)
    worst, rows = 0.0, []
    for g0, g1 in insts:
        gamma = float(10 ** rng.uniform(-3, 0))
        c = float(10 ** rng.uniform(-1, 1))
        direct = vr.reduction_ratio(g0, g1, gamma, c)
        formula = vr.reduction_ratio_formula(vr.rho(g0, g1), vr.beta(g1), gamma, c)
        rows.append({"direct": direct, "formula_15": formula, "rho": vr.rho(g0, g1), "beta": vr.beta(g1)})
        worst = max(worst, abs(direct - formula))
    return compare(0.0, worst, "==", atol=1e-9,
                   details={"route": "direct N(lam*)/N(0) vs the closed form (15) through rho and beta",
                            "instances": rows[:8]})


@claim("safaryan.lemma1.symbolic", paper=PAPER, where="Lemma 1, eqs. (33) and (15)",
       statement="sympy: solving dN/dlam = 0 gives (33), and N(lam*)/N(0) minus the right side of (15) simplifies to 0")
def _lemma1_symbolic(rng, size):
    import sympy as sp
    residual = sym.ratio_identity_residual()
    lam_expr = sym.derive_optimal_lambda()
    S = sym.SYMBOLS
    f = sp.lambdify((S["g"], S["v"], S["p"], S["cgamma"]), lam_expr, "math")
    worst = 0.0
    for g0, g1 in _lemma1_instances(rng, 4):
        gamma, c = 0.05, 1.3
        gt = float(np.sum(g1.reshape(len(g1), -1).mean(0) ** 2))
        m = float(np.mean(np.sum(g1.reshape(len(g1), -1) ** 2, axis=1)))
        pp = float(np.mean(np.sum(g0.reshape(len(g0), -1) * g1.reshape(len(g1), -1), axis=1)))
        lam_sym = f(gt, m - gt, pp, c * gamma)
        worst = max(worst, abs(lam_sym - vr.optimal_lambda(g0, g1, gamma, c)) / max(1.0, abs(lam_sym)))
    measured = worst if residual == 0 else math.inf
    return compare(0.0, measured, "==", atol=1e-10,
                   details={"lambda_star_sympy": str(lam_expr), "ratio_identity_residual": str(residual),
                            "lemma1_last_inequality_numerator": str(sym.lemma1_inequality_gap())})


@claim("safaryan.lemma1.bound", paper=PAPER, where="Lemma 1 (last display of App. C.1)",
       statement="N(lam*)/N(0) <= min(1, (2 calL/(sigma* sigma(theta)) + 2L/(c gamma sigma(theta)^2)) (f(theta) - f*))")
def _lemma1_bound(rng, size):
    n = 6 if size == "quick" else 30
    worst = None
    rows = []
    for i in range(n):
        model = "least_squares" if i % 2 == 0 else "logistic"
        if model == "least_squares":
            A, b, xs = _ls_problem(rng, N=40, p=3)
        else:
            A = vr.lift(rng.normal(size=(40, 3)))
            b = (rng.random(40) < 0.5).astype(float)
            xs = vr.minimizer("logistic", A, b)
        k = vr.expected_smoothness(model, A, b, x_star=xs)
        for dist in (1e-3, 1e-2, 0.1, 1.0):
            th = _teacher(rng, xs, dist * (1 + np.linalg.norm(xs)))
            g0, g1 = vr.per_sample_gradients(model, xs, A, b), vr.per_sample_gradients(model, th, A, b)
            gamma = float(10 ** rng.uniform(-3, -1))
            c = float(rng.choice([1.0, vr.lemma1_c(1, mu=k.mu) if k.mu > 0 else 0.25, vr.lemma1_c(2, mu=1.0, L=k.L)]))
            ratio = vr.reduction_ratio(g0, g1, gamma, c)
            gap = vr.loss(model, th, A, b) - vr.loss(model, xs, A, b)
            bound = vr.reduction_ratio_bound(max(gap, 0.0), math.sqrt(vr.sigma_sq(g0)), math.sqrt(vr.sigma_sq(g1)),
                                             k.L, k.calL, gamma, c)
            rows.append({"model": model, "dist": dist, "ratio": ratio, "bound": bound, "ratio_over_bound": ratio / bound})
            if bound < 1.0 and (worst is None or ratio / bound > worst["ratio_over_bound"]):
                worst = rows[-1]
    capped = sum(r["bound"] >= 1.0 for r in rows)
    return compare(1.0, worst["ratio_over_bound"], "<=", atol=1e-12,
                   details={"measured": "max of ratio / bound over instances where the bound is below its cap 1",
                            "instances_capped_at_1": capped, "worst": worst, "instances": rows[:12]})


@claim("safaryan.lemma1.optimal_teacher", paper=PAPER, where="Sec. 4.2 Part 3; App. C.1",
       statement="the optimal teacher theta = x* gives rho = 1, beta = 0, lam* = 1 and N(lam*) = 0")
def _lemma1_opt_teacher(rng, size):
    worst_ratio, worst_lam, rows = 0.0, 0.0, []
    for model in vr.MODELS:
        A, b, x = _glm_instance(rng, model, N=40)
        xs = vr.minimizer(model, A, b, K=3) if model != "least_squares" else vr.minimizer(model, A, b)
        g = vr.per_sample_gradients(model, xs, A, b)
        for gamma in (1e-3, 0.1, 1.0):
            r = vr.reduction_ratio(g, g, gamma)
            lam = vr.optimal_lambda(g, g, gamma)
            worst_ratio = max(worst_ratio, r)
            worst_lam = max(worst_lam, abs(lam - 1))
            rows.append({"model": model, "gamma": gamma, "ratio": r, "lam_star": lam, "rho": vr.rho(g, g), "beta": vr.beta(g)})
    return compare(0.0, max(worst_ratio, worst_lam), "==", atol=1e-8,
                   details={"instances": rows})


@claim("safaryan.eq32_rho_printed", paper=PAPER, where="eq. (32)",
       statement="as printed, Var(x) := sqrt(Cov(x, x)) makes rho = Cov/sqrt(Var Var) leave [-1, 1] and breaks (15)",
       corrected_by="safaryan.lemma1.ratio_identity")
def _eq32(rng, size):
    g0 = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])  # centred: x* exact
    g1 = g0.copy()                                                      # teacher θ = x*
    printed = vr.rho_printed(g0, g1)
    corrected = vr.rho(g0, g1)
    return erratum(printed, corrected, "==",
                   counterexample={"grads_opt": g0.tolist(), "grads_teacher": g1.tolist(),
                                   "Cov": 9.0, "rho_printed": printed, "rho_corrected": corrected},
                   refuted=printed > 1.0 + 1e-12,
                   details={"explanation": "with Var := sqrt(Cov) the printed rho = Cov/(Cov_xx Cov_yy)^(1/4) scales like the "
                                           "gradients; the proof of Lemma 1 uses rho = Cov/sqrt(Cov_xx Cov_yy)"})


# ---------------------------------------------------------------------------------------------
# Theorems 1 and 2: stationary error of iteration (7) vs the explicit bounds (35), (36)


def _stationary_run(rng, size, A, b, xs, theta, lams, gamma, mu, observer, batch_size=1, n_seeds=None):
    oracle = sim.glm_oracle("least_squares", A, b)
    tg = vr.per_sample_gradients("least_squares", theta, A, b)
    window = int(math.ceil(1.0 / (gamma * mu)))
    burn, tail = (5, 15) if size == "quick" else (10, 100)
    seeds = n_seeds or (200 if size == "quick" else 1000)
    res = sim.simulate_distillation(oracle, xs, tg, lams, gamma, (burn + tail) * window, n_seeds=seeds, rng=rng,
                                    batch_size=batch_size, observers={"e": observer}, window=window,
                                    observe_every=max(1, window // 8))
    return res.tail_per_seed("e", tail), seeds, (burn + tail) * window


def _theorem12_instance(rng, size, which, A, b, xs, k, theta, n_seeds=None):
    g0 = vr.per_sample_gradients("least_squares", xs, A, b)
    g1 = vr.per_sample_gradients("least_squares", theta, A, b)
    if which == 1:
        gamma, c = vr.theorem1_step_max(k.calL), vr.lemma1_c(1, mu=k.mu)
        observer = sim.dist_sq_observer(xs)
    else:
        gamma, c = vr.theorem2_step_max(k.mu, k.L, k.calL), vr.lemma1_c(2, mu=k.mu, L=k.L)
        observer = sim.quadratic_gap_observer(A, xs)
    lam_star = vr.optimal_lambda(g0, g1, gamma, c)
    grid = np.linspace(0, 1, 11)
    lams = np.unique(np.concatenate([grid, [lam_star]]))
    per_seed, seeds, steps = _stationary_run(rng, size, A, b, xs, theta, lams, gamma, k.mu, observer, n_seeds=n_seeds)
    mean, sem = per_seed.mean(axis=0), per_seed.std(axis=0, ddof=1) / math.sqrt(seeds)
    if which == 1:
        pred = np.array([vr.theorem1_bound(steps, gamma, k.mu, k.calL, 0.0, g0, g1, lam=float(l)) for l in lams])
    else:
        pred = np.array([vr.theorem2_bound(steps, gamma, k.mu, k.L, k.calL, 0.0, g0, g1, lam=float(l)) for l in lams])
    i = int(np.argmax(mean / pred))   # the λ closest to its bound decides, with a 95% interval over seeds
    on_grid = np.isin(lams, grid)
    return {"verdict": compare_samples(per_seed[:, i], float(pred[i]), "<="), "worst_lambda": float(lams[i]),
            "lams": lams.round(4).tolist(), "measured_mean": mean.tolist(), "measured_sem": sem.tolist(),
            "bound": pred.tolist(), "lambda_star_lemma1": lam_star,
            "lambda_star_eq14_c1": vr.optimal_lambda(g0, g1, gamma, 1.0),
            "empirical_best_lambda_on_grid": float(lams[on_grid][np.argmin(mean[on_grid])]),
            "sgd_lambda0": float(mean[lams == 0][0]), "at_lambda_star": float(mean[lams == lam_star][0]),
            "gamma": gamma, "mu": k.mu, "L": k.L, "calL": k.calL, "seeds": seeds, "steps": steps}


def _theorem12(rng, size, which, n_seeds=None):
    """Teachers near and far from x*; for Thm 2 also a rank-deficient design (PL, not strongly convex)."""
    A, b, xs = _ls_problem(rng, N=50, p=4, noise=1.0)
    k = vr.expected_smoothness("least_squares", A, b)
    cases = {f"full_rank_teacher_dist_{r}": (A, b, xs, k, _teacher(rng, xs, r)) for r in (0.1, 0.5)}
    if which == 2:
        a = rng.normal(size=(50, 3))
        Ad = vr.lift(np.hstack([a, a[:, :1]]))  # duplicated feature: singular Hessian
        bd = Ad @ rng.normal(size=5) + rng.normal(size=50)
        xsd = vr.minimizer("least_squares", Ad, bd)
        kd = vr.expected_smoothness("least_squares", Ad, bd, pl=True)
        cases["rank_deficient_PL_teacher_dist_0.5"] = (Ad, bd, xsd, kd, _teacher(rng, xsd, 0.5))
    runs = {name: _theorem12_instance(rng, size, which, *args, n_seeds=n_seeds) for name, args in cases.items()}
    parts = {name: r.pop("verdict") for name, r in runs.items()}
    return combine(parts, details={"runs": runs,
                                   "measured": "stationary tail mean per seed; 95% interval over seeds at the lambda closest to its bound",
                                   "x0": "x* (the transient is checked by safaryan.thm1/thm2.transient)"})


@claim("safaryan.thm1", paper=PAPER, where="Theorem 1, eq. (11); explicit form (35)",
       statement="SGD with self-distillation (7), least squares, gamma = 1/(4 calL): stationary E||x-x*||^2 <= (8/mu^2) N1(lam) for every lam")
def _thm1(rng, size, n_seeds=None):
    return _theorem12(rng, size, 1, n_seeds)


@claim("safaryan.thm2", paper=PAPER, where="Theorem 2, eq. (12); explicit form (36)",
       statement="SGD with self-distillation (7), least squares (PL), gamma = mu/(4 L calL): stationary E f - f* <= N2(lam)/mu for every lam")
def _thm2(rng, size, n_seeds=None):
    return _theorem12(rng, size, 2, n_seeds)


# ---------------------------------------------------------------------------------------------
# Theorem 3: unbiased distillation (16)


def _thm3_ratio(params):
    """exact stationary E f − f* of (16), λ = 1, / the neighbourhood of (17), on a 1-D instance."""
    inst = _oned_instance(params)
    if inst is None:
        return math.nan
    A, b, xs, k, theta, g0, g1 = inst
    gamma = vr.theorem3_step_max(k.mu, k.L, k.calL) * params["gamma_frac"]
    ft = _exact_f(A, b, theta) - _exact_f(A, b, xs)
    bound = vr.theorem3_bound(0, gamma, k.mu, k.L, k.calL, 0.0, ft)
    return sim.least_squares_stationary(A, b, g1, 1.0, gamma, x_star=xs, unbiased=True)[1] / bound if bound > 0 else math.nan


@claim("safaryan.thm3.bound", paper=PAPER, where="Theorem 3, eq. (17)",
       statement="unbiased KD (16) with lam = 1: stationary E f - f* <= 3L(L + calL)/mu * gamma (f(theta) - f*)")
def _thm3_bound(rng, size, n_seeds=None):
    A, b, xs = _ls_problem(rng, N=50, p=4, noise=1.0)
    k = vr.expected_smoothness("least_squares", A, b)
    gmax = vr.theorem3_step_max(k.mu, k.L, k.calL)
    rows = []
    for dist in (0.1, 1.0):
        theta = _teacher(rng, xs, dist)
        ft = _exact_f(A, b, theta) - _exact_f(A, b, xs)
        tg = vr.per_sample_gradients("least_squares", theta, A, b)
        for gamma in (gmax, gmax / 4):
            ex = sim.least_squares_stationary(A, b, tg, 1.0, gamma, x_star=xs, unbiased=True)[1]
            rows.append({"dist": dist, "gamma": gamma, "exact": ex, "bound": vr.theorem3_bound(0, gamma, k.mu, k.L, k.calL, 0.0, ft)})
    worst = max(rows, key=lambda r: r["exact"] / r["bound"])
    # Monte Carlo at the worst grid instance: the simulator against the bound, with an interval over seeds
    theta = _teacher(np.random.default_rng(int(rng.integers(2**31))), xs, worst["dist"])
    tg = vr.per_sample_gradients("least_squares", theta, A, b)
    gamma = worst["gamma"]
    window = int(math.ceil(1 / (gamma * k.mu)))
    seeds = n_seeds or (100 if size == "quick" else 1000)
    ft = _exact_f(A, b, theta) - _exact_f(A, b, xs)
    res = sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), xs, tg, [1.0], gamma, 6 * window, n_seeds=seeds,
                                    rng=rng, unbiased=True, observers={"f": sim.quadratic_gap_observer(A, xs)}, window=window,
                                    observe_every=max(1, window // 8))
    wc = worst_case(_thm3_ratio, {**_ONED_BOX, "gamma_frac": (0.01, 1.0)}, rng=rng, budget=BUDGETS[size], start=_ONED_START[3])
    # 1-D, one dominant sample among N: with h_n = 2a_n², m = E h, s = E h², at γ = μ/(3L𝓛) the ratio is
    # exactly (s − m²)/(5(s + m²)) (stationary variance of the affine recursion), → 1/5 as s/m² = N → ∞
    At = np.array([[1.0]] + [[1e-3]] * 49)
    bt = rng.normal(size=50)
    xt = vr.minimizer("least_squares", At, bt)
    kt = vr.expected_smoothness("least_squares", At, bt)
    gt_ = vr.theorem3_step_max(kt.mu, kt.L, kt.calL)
    tht = xt + 1.0
    ex_t = sim.least_squares_stationary(At, bt, vr.per_sample_gradients("least_squares", tht, At, bt), 1.0, gt_, x_star=xt, unbiased=True)[1]
    ratio_t = ex_t / vr.theorem3_bound(0, gt_, kt.mu, kt.L, kt.calL, 0.0, _exact_f(At, bt, tht) - _exact_f(At, bt, xt))
    h = 2 * At[:, 0] ** 2
    analytic = (np.mean(h**2) - np.mean(h) ** 2) / (5 * (np.mean(h**2) + np.mean(h) ** 2))
    return combine({
        "tight_instance": compare(1.0, ratio_t, "<=",
                                  details={"analytic_ratio": float(analytic), "instance": "1-D, a = (1, 1e-3 x 49), theta = x* + 1"}),
        "tight_instance_matches_analytic": compare(float(analytic), ratio_t, "==", rtol=1e-6),
        "exact_grid": compare(worst["bound"], worst["exact"], "<="),
        "searched_worst_case": compare(1.0, wc.ratio, "<=", details={"worst_case": wc.to_dict()}),
        "monte_carlo": compare_samples(res.tail_per_seed("f", 4)[:, 0], vr.theorem3_bound(0, gamma, k.mu, k.L, k.calL, 0.0, ft), "<="),
    }, details={"runs": rows, "mu": k.mu, "L": k.L, "calL": k.calL, "seeds": seeds, "worst_case": wc.to_dict(),
                "measured": "exact stationary moments on a grid and on a searched 1-D family; Monte Carlo tail mean with a 95% interval"})


@claim("safaryan.thm3.scaling", paper=PAPER, where="Theorem 3, eq. (17) and the discussion after it",
       statement="unbiased KD (16) neighbourhood scales like gamma*(f(theta) - f*): log-log slopes in gamma and in f(theta)-f* are 1 (logistic)")
def _thm3_scaling(rng, size):
    N, p = 200, 3
    A = vr.lift(rng.normal(size=(N, p)))
    z = A @ np.array([1.0, -1.0, 0.5, 0.2])
    b = (rng.random(N) < 1 / (1 + np.exp(-z))).astype(float)
    xs = vr.minimizer("logistic", A, b)
    k = vr.expected_smoothness("logistic", A, b, x_star=xs)
    u = rng.normal(size=p + 1)
    u /= np.linalg.norm(u)
    oracle = sim.glm_oracle("logistic", A, b)
    fstar = vr.loss("logistic", xs, A, b)

    def gap_obs(X, idx):  # full-data f(x) − f*
        return vr.minibatch_loss("logistic", X, A, b, np.broadcast_to(np.arange(N), (X.shape[0], N))) - fstar

    g_base = 1.0 / k.calL
    gammas = [g_base / 4, g_base / 16] if size == "quick" else [g_base / 2, g_base / 4, g_base / 8, g_base / 16]
    dists = [0.3, 0.6, 1.2]
    seeds = 64 if size == "quick" else 400
    X_rows, y, rows, biased = [], [], [], []
    for dist in dists:
        theta = xs + dist * u
        ft = vr.loss("logistic", theta, A, b) - fstar
        tg = vr.per_sample_gradients("logistic", theta, A, b)
        for gamma in gammas:
            window = int(math.ceil(1 / (gamma * k.mu)))
            res = sim.simulate_distillation(oracle, xs, tg, [1.0], gamma, 10 * window, n_seeds=seeds, rng=rng,
                                            unbiased=True, observers={"f": gap_obs}, window=window,
                                            observe_every=max(1, window // 4))
            m = float(res.tail_mean("f", 7)[0])
            X_rows.append([1.0, math.log(gamma), math.log(ft)])
            y.append(math.log(m))
            rows.append({"dist": dist, "gamma": gamma, "f_theta_gap": ft, "stationary_gap": m})
    coef, *_ = np.linalg.lstsq(np.array(X_rows), np.array(y), rcond=None)
    slope_gamma, slope_ft = float(coef[1]), float(coef[2])
    worst = slope_gamma if abs(slope_gamma - 1) > abs(slope_ft - 1) else slope_ft
    return compare(1.0, worst, "==", atol=0.25,
                   details={"slope_gamma": slope_gamma, "slope_f_theta_gap": slope_ft, "runs": rows,
                            "seeds": seeds, "model": "logistic, N=200, d=4", "mu_local": k.mu, "calL": k.calL})


# ---------------------------------------------------------------------------------------------
# Theorem 4: compressed iterates (18)


def _thm4_problem(rng, size):
    """Isotropic least squares (ĀᵀĀ/N = I) with x* = 0 exactly (labels orthogonal to range(Ā)), so the
    compression floor 2ω‖x*‖² vanishes and the sampling noise — what KD reduces — dominates; rand-(d−1)
    keeps ω = 1/(d−1) within the proof's ω_max at γ = 1/(16𝓛)."""
    d = 330 if size == "quick" else 400
    N = 4 * d
    Qm, _ = np.linalg.qr(rng.normal(size=(N, d)))
    A = math.sqrt(N) * Qm
    eps = rng.normal(size=N)
    b = eps - Qm @ (Qm.T @ eps)          # ⊥ range(A): the minimiser is 0
    return A, b, np.zeros(d)


@claim("safaryan.thm4", paper=PAPER, where="Theorem 4; explicit constants of App. E.2 and eq. (38)",
       statement="compressed distillation (18) with rand-k (omega = d/k - 1 within the proof's bound), mini-batches, gamma = 1/(16 calL): "
                 "stationary E||x - x*||^2 <= the explicit bound at lam in {0, lam* of the simulated sampling, 1}, and KD at that lam* "
                 "reduces the error below SGD's (partial variance reduction under compression)")
def _thm4(rng, size, n_seeds=None):
    A, b, xs = _thm4_problem(rng, size)
    N, d = A.shape
    B = N // 2
    k = vr.expected_smoothness("least_squares", A, b, batch_size=B, sampling="without_replacement")
    calL = max(k.calL, k.calL_ms)  # (10) and (39) with one constant, as App. E assumes
    gamma = vr.theorem4_step_max(calL)
    kk = d - 1
    omega = vr.rand_k_omega(d, kk)
    wmax = vr.theorem4_omega_max(gamma, k.mu, k.L, calL)
    theta = _teacher(rng, xs, 0.03)
    g0 = vr.per_sample_gradients("least_squares", xs, A, b)
    g1 = vr.per_sample_gradients("least_squares", theta, A, b)
    # mini-batch ξ: Lemma 1's moments are those of the batch-mean gradients (the sampling that is simulated)
    g0b = vr.batch_equivalent_gradients(g0, B, "without_replacement")
    g1b = vr.batch_equivalent_gradients(g1, B, "without_replacement")
    c = vr.lemma1_c(4, mu=k.mu)
    lam_star = vr.optimal_lambda(g0b, g1b, gamma, c)
    lam_star_single = vr.optimal_lambda(g0, g1, gamma, c)
    lams = np.array([0.0, lam_star, 1.0])
    seeds = n_seeds or (8 if size == "quick" else 32)
    window = int(math.ceil(1 / (gamma * k.mu)))
    steps = 5 * window   # x0 = x* = 0: no burn-in beyond the λ-shift of the mean (‖λ(θ − x*)‖ = 0.03λ)
    res = sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), np.zeros(d), g1, lams, gamma, steps,
                                    n_seeds=seeds, rng=rng, batch_size=B, sampling="without_replacement",
                                    compressor=sim.rand_k(kk), observers={"e": sim.dist_sq_observer(xs)},
                                    window=window, observe_every=max(1, window // 4))
    per_seed = res.tail_per_seed("e", 3)          # (S, Λ)
    preds = [vr.theorem4_bound(steps, gamma, k.mu, k.L, calL, omega, 0.0, 0.0, g0b, g1b, lam=float(l)) for l in lams]
    parts = {f"bound_lam_{name}": compare_samples(per_seed[:, j], float(preds[j]), "<=")
             for j, name in enumerate(("0", "star", "1"))}
    parts["kd_gain_at_lam_star"] = compare_samples(per_seed[:, 1] - per_seed[:, 0], 0.0, "<=")
    return combine(parts, details={
        "d": d, "k": kk, "omega": omega, "omega_max": wmax, "lams": lams.tolist(), "measured_mean": per_seed.mean(0).tolist(),
        "bound": preds, "lambda_star_batch": lam_star, "lambda_star_single_sample": lam_star_single,
        "mu": k.mu, "L": k.L, "calL": calL, "gamma": gamma, "batch": B, "N": N, "seeds": seeds,
        "teacher_dist": 0.03, "x_star": "0 (labels orthogonal to range(A))"})


# ---------------------------------------------------------------------------------------------
# Lemma 6 (App. E.1) and the ω condition of Theorem 4


def _lemma6_lhs(A, b, x, theta, lam, gamma, k):
    """E_δ E_ξ‖δ(x)/γ − ∇f_ξ(x + δ(x)) + λ∇f_ξ(θ)‖² for rand-k and uniform single samples, by exact
    enumeration of every k-subset mask and every sample (least squares)."""
    from itertools import combinations
    d = x.size
    gt = vr.per_sample_gradients("least_squares", theta, A, b)
    total, masks = 0.0, list(combinations(range(d), k))
    for S in masks:
        cx = np.zeros(d)
        cx[list(S)] = x[list(S)] * d / k
        delta = cx - x
        g = vr.per_sample_gradients("least_squares", x + delta, A, b)
        total += float(np.mean(np.sum((delta / gamma - g + lam * gt) ** 2, axis=1)))
    return total / len(masks)


def _lemma6_instance(A, b, x, theta, lam, gamma, k):
    xs = vr.minimizer("least_squares", A, b)
    K = vr.expected_smoothness("least_squares", A, b)
    calL = max(K.calL, K.calL_ms)
    omega = vr.rand_k_omega(x.size, k)
    noise = vr.noise_at_lambda(lam, vr.per_sample_gradients("least_squares", xs, A, b),
                               vr.per_sample_gradients("least_squares", theta, A, b))
    gap = vr.loss("least_squares", x, A, b) - vr.loss("least_squares", xs, A, b)
    args = (max(gap, 0.0), gamma, K.mu, calL, omega, float(np.sum(xs**2)), noise)
    return _lemma6_lhs(A, b, x, theta, lam, gamma, k), vr.lemma6_rhs(*args), vr.lemma6_rhs(*args, printed=True)


def _lemma6_counterexample():
    A = np.array([[3.0, 0.0], [0.0, 3.0]])
    x_star = np.array([1.0, 0.0])
    b = A @ x_star                     # interpolation: σ*² = 0
    return A, b, x_star, x_star.copy(), 0.0, 10.0, 1   # x = x*, θ = x*, λ = 0, γ = 10, rand-1 of d = 2 (ω = 1)


#: Lemma 6's searched family: least squares, d = 2, N = 3 rows, minimiser x*, residual r ⊥ range(A), iterate x,
#: teacher θ, λ, log10 γ; rand-1 (ω = 1).
_LEMMA6_BOX = {**{n: (-3.0, 3.0) for n in ("a11", "a12", "a21", "a22", "a31", "a32", "s1", "s2", "x1", "x2", "t1", "t2")},
               "r": (0.0, 3.0), "lam": (0.0, 1.0), "lg": (-2.0, 2.0)}
#: Start of the quick search: the worst instance of a 3000-evaluation search (seed 0, ratio 0.4975; x ≈ 2x*, γ ≈ 0.013).
_LEMMA6_START = {"a11": -0.6166, "a12": -0.2121, "a21": 0.3836, "a22": -0.1528, "a31": -1.5811, "a32": -0.0113,
                 "s1": -0.0301, "s2": 1.3150, "x1": -0.0719, "x2": 2.6205, "t1": 2.9911, "t2": 2.6599, "r": 2.9572,
                 "lam": 0.7010, "lg": -1.8995}
#: LHS ≤ RHS/2 on least squares with an unbiased compressor drawn independently of ξ (see _lemma6's docstring).
LEMMA6_CEILING = 0.5


def _lemma6_searched(p):
    A = np.array([[p["a11"], p["a12"]], [p["a21"], p["a22"]], [p["a31"], p["a32"]]])
    if np.linalg.matrix_rank(A) < 2:
        return None
    Q, _ = np.linalg.qr(A, mode="complete")
    b = A @ np.array([p["s1"], p["s2"]]) + p["r"] * Q[:, 2]       # Q[:, 2] ⊥ range(A): x* = (s1, s2)
    return A, b, np.array([p["x1"], p["x2"]]), np.array([p["t1"], p["t2"]]), p["lam"], 10 ** p["lg"], 1


def _lemma6_ratio(p):
    inst = _lemma6_searched(p)
    if inst is None:
        return float("nan")      # rank-deficient A: x* not unique, not an instance of the family
    lhs, rhs, _ = _lemma6_instance(*inst)
    return lhs / rhs


@claim("safaryan.lemma6", paper=PAPER, where="Lemma 6, eq. (45) (App. E.1), with B = (calL^2 + 1/gamma^2) nu",
       statement="E||delta/gamma - grad f_xi(x+delta) + lam grad f_xi(theta)||^2 <= 4A(f(x)-f*) + 2B + 4E||grad f_xi(x*) - lam grad f_xi(theta)||^2 "
                 "(exact enumeration over rand-k masks and samples), on drawn and searched least-squares instances; there "
                 "the left side is even <= half the right side (the cross terms vanish), the ceiling the search reaches")
def _lemma6(rng, size):
    """Why the bound is not tight on least squares (tightness ≤ 1/2), and what is:

    for a quadratic f_ξ, ∇f_ξ(x + δ) = ∇f_ξ(x) + H_ξδ, and δ (rand-k, E δ = 0) is drawn independently of ξ, so the
    cross terms vanish: LHS = P₁ + P₂ with P₁ = E‖(I/γ − H_ξ)δ‖² and P₂ = E‖∇f_ξ(x) − λ∇f_ξ(θ)‖². Then
    P₁ ≤ λ_max(I/γ² − 2H/γ + E H_ξ²)·E‖δ‖² ≤ (1/γ² + 𝓛²)·ω‖x‖² ≤ (1/γ² + 𝓛²)·ω(4(f − f*)/μ + 2‖x*‖²) = ½(4α(𝓛² + 1/γ²)(f − f*) + 2B)
    (𝓛 ≥ calL_ms, ‖x‖² ≤ 2‖x − x*‖² + 2‖x*‖², quadratic growth), and
    P₂ ≤ 2E‖∇f_ξ(x) − ∇f_ξ(x*)‖² + 2N ≤ 4𝓛(f − f*) + 2N = ½(8𝓛(f − f*) + 4N) by (10). So LHS ≤ RHS/2: the lemma's
    factors 4 are each twice what this class needs (the proof's Young steps cannot all be tight at once). The
    search reaches 0.4975 (x ≈ 2x*, γ small: the two ½-steps nearly tight), so the ceiling ½ is sharp, and the
    part "ceiling" checks it: a right side too small by more than ~0.5 % fails there.
    """
    n = 6 if size == "quick" else 40
    A0, b0, xs0, x0, lam0, gamma0, k0 = _lemma6_counterexample()
    insts = [(A0, b0, x0, xs0, lam0, gamma0, k0)]     # (A, b, x, θ, λ, γ, k); θ = x* there
    for _ in range(n):
        d = int(rng.integers(2, 5))
        A = rng.normal(size=(int(rng.integers(d + 1, 8)), d)) * float(10 ** rng.uniform(-0.5, 0.7))
        b = A @ rng.normal(size=d) + rng.normal(size=A.shape[0]) * float(rng.random())
        x = rng.normal(size=d)
        theta = x + rng.normal(size=x.size) * 0.5
        insts.append((A, b, x, theta, float(rng.random()), float(10 ** rng.uniform(-2, 1)), int(rng.integers(1, d + 1))))
    rows = []
    for A, b, x, theta, lam, gamma, k in insts:
        lhs, rhs, _printed = _lemma6_instance(A, b, x, theta, lam, gamma, k)
        rows.append({"d": x.size, "k": k, "gamma": gamma, "lhs": lhs, "rhs": rhs, "lhs_over_rhs": lhs / rhs})
    drawn = max(rows, key=lambda r: r["lhs_over_rhs"])
    wc = worst_case(_lemma6_ratio, _LEMMA6_BOX, rng=rng, budget=BUDGETS["quick"] if size == "quick" else 3000,
                    start=_LEMMA6_START if size == "quick" else None)
    lhs, rhs, _ = _lemma6_instance(*_lemma6_searched(wc.params))
    worst = max(drawn["lhs_over_rhs"], lhs / rhs)
    det = {"measured": "max over drawn and searched instances of lhs / rhs", "worst_drawn": drawn,
           "worst_case": wc.to_dict(), "worst_searched": {"lhs": lhs, "rhs": rhs, "lhs_over_rhs": lhs / rhs},
           "instances": rows[:10], "ceiling_on_least_squares": LEMMA6_CEILING,
           "why_not_tight": "on least squares with rand-k the cross terms vanish and LHS <= RHS/2 (docstring); the "
                            "search reaches the ceiling 1/2, so tightness 1/2 of the paper's bound is structural"}
    return combine({"lemma6": compare(1.0, worst, "<=", atol=1e-12),
                    "ceiling": compare(LEMMA6_CEILING, worst, "<=", atol=1e-12)}, details=det)


@claim("safaryan.lemma6_B_printed", paper=PAPER, where="Lemma 6 statement (App. E.1): B = (calL + 1/gamma^2) nu",
       statement="with B as printed, (calL + 1/gamma^2) nu instead of (calL^2 + 1/gamma^2) nu, inequality (45) fails",
       corrected_by="safaryan.lemma6")
def _lemma6_printed(rng, size):
    A, b, x_star, x, lam, gamma, k = _lemma6_counterexample()
    lhs, rhs, rhs_printed = _lemma6_instance(A, b, x, x_star, lam, gamma, k)
    return erratum(rhs_printed, lhs, "<=",
                   counterexample={"A": A.tolist(), "b": b.tolist(), "x": x.tolist(), "theta": x_star.tolist(),
                                   "lam": lam, "gamma": gamma, "rand_k": {"d": 2, "k": k, "omega": 1.0},
                                   "lhs_exact": lhs, "rhs_printed_B": rhs_printed, "rhs_corrected_B": rhs},
                   refuted=lhs > rhs_printed,
                   details={"explanation": "the proof of Lemma 6 produces 2(calL^2 + 1/gamma^2) nu, and App. E.2 later uses "
                                           "B = (calL^2 + 1/gamma^2) nu; the printed calL is also dimensionally inconsistent"})


def _omega_sup(mu, L, calL):
    gam = np.geomspace(1e-6, 1.0 / (8 * calL), 600)
    return max(vr.theorem4_omega_max(float(g), mu, L, calL) for g in gam[:-1])


def _proof_condition(gamma, mu, L, calL, omega):
    """2γA + α(L − μ) of App. E.2 with A read off Lemma 6's right side (4A = its f-gap coefficient, itself
    checked against exact enumeration by safaryan.lemma6) and α = 2ω/μ read off Lemma 2 (2α = its f-gap
    coefficient, checked by safaryan.lemma2) — not from theorem4_omega_max."""
    A4 = vr.lemma6_rhs(1.0, gamma, mu, calL, omega, 0.0, 0.0)          # = 4A
    two_alpha = vr.lemma2_rhs(1.0, mu, omega, 0.0)                      # = 2α
    return 2 * gamma * (A4 / 4) + (two_alpha / 2) * (L - mu)


@claim("safaryan.thm4.omega_condition", paper=PAPER, where="Theorem 4 (omega = O(mu/calL)); App. E.2",
       statement="omega_max is the largest omega satisfying the proof's condition 2 gamma A + alpha (L - mu) <= 1/2 (A of Lemma 6, "
                 "alpha of Lemma 2): the condition holds at omega_max with equality and fails just above; and sup over gamma of "
                 "omega_max <= mu/(16 calL)")
def _omega_condition(rng, size):
    n = 10 if size == "quick" else 100
    worst_sup, at_max, above, rows = 0.0, 0.0, math.inf, []
    for _ in range(n):
        mu = float(10 ** rng.uniform(-3, 1))
        L = mu * float(10 ** rng.uniform(0, 3))
        calL = L * float(10 ** rng.uniform(0, 2))
        gamma = float(rng.uniform(0.01, 1.0)) * vr.theorem4_step_max(calL)
        wmax = vr.theorem4_omega_max(gamma, mu, L, calL)
        c_max = _proof_condition(gamma, mu, L, calL, wmax)
        c_above = _proof_condition(gamma, mu, L, calL, wmax * (1 + 1e-6))
        at_max = max(at_max, abs(c_max - 0.5) / 0.5)
        above = min(above, c_above - 0.5)
        sup = _omega_sup(mu, L, calL)
        rows.append({"mu": mu, "L": L, "calL": calL, "gamma": gamma, "omega_max": wmax, "condition_at_omega_max": c_max,
                     "sup_omega_max_calL_over_mu": sup * calL / mu})
        worst_sup = max(worst_sup, sup * calL / mu)
    return combine({
        "equality_at_omega_max": compare(0.0, at_max, "==", atol=1e-9),
        "fails_above_omega_max": compare(0.0, above, ">="),
        "sup_below_mu_over_16calL": compare(1.0 / 16, worst_sup, "<="),
    }, details={"route": "2 gamma A + alpha (L - mu) from Lemma 6's and Lemma 2's right sides", "instances": rows[:10]})


@claim("safaryan.sec7_omega_scaling", paper=PAPER, where="Sec. 7 (Discussion): 'the constraint omega = O(calL/mu)'",
       statement="as printed in Sec. 7 the admissible omega grows like calL/mu; Theorem 4's proof makes it shrink like mu/calL",
       corrected_by="safaryan.thm4.omega_condition")
def _sec7(rng, size):
    kappas = np.array([1.0, 10.0, 100.0, 1000.0])
    sups = np.array([_omega_sup(1.0, 1.0, float(kap)) for kap in kappas])
    slope = float(np.polyfit(np.log(kappas), np.log(sups), 1)[0])
    return erratum(1.0, slope, "==",
                   counterexample={"mu": 1.0, "L": 1.0, "calL/mu": kappas.tolist(), "sup_gamma_omega_max": sups.tolist(),
                                   "printed_exponent_of_calL_over_mu": 1.0, "fitted_exponent": slope},
                   refuted=abs(slope - 1.0) > 0.5,
                   details={"explanation": "Theorem 4 itself states omega = O(mu/calL); the Discussion inverts the ratio"})


# ---------------------------------------------------------------------------------------------
# exact (Monte-Carlo-free) stationary moments of (7) for least squares


def _oned_instance(params):
    """1-D least squares with three samples f_n(x) = (a_n x − b_n)² (a, b from params), its x*, constants,
    a teacher θ = x* + params["teacher"], and per-sample gradients at x* and θ. None if degenerate."""
    a = np.array([params["a1"], params["a2"], params["a3"]])
    if np.min(np.abs(a)) < 1e-3:
        return None
    A = a[:, None]
    b = np.array([params["b1"], params["b2"], params["b3"]])
    xs = vr.minimizer("least_squares", A, b)
    k = vr.expected_smoothness("least_squares", A, b)
    theta = xs + params["teacher"]
    return A, b, xs, k, theta, vr.per_sample_gradients("least_squares", xs, A, b), vr.per_sample_gradients("least_squares", theta, A, b)


_ONED_BOX = {"a1": (-3, 3), "a2": (-3, 3), "a3": (-3, 3), "b1": (-3, 3), "b2": (-3, 3), "b3": (-3, 3), "teacher": (-2, 2)}
# worst instances found by a long search (differential evolution, ~3000 evaluations, seed 0): starts for the short one
_ONED_START = {1: {"a1": 0.712, "a2": 0.017, "a3": -0.006, "b1": 0.951, "b2": 0.829, "b3": -2.265, "teacher": 0.771, "lam": 0.007},
               2: {"a1": -0.006, "a2": 1.733, "a3": 0.006, "b1": -2.322, "b2": 0.77, "b3": 2.683, "teacher": 0.812, "lam": 0.009},
               3: {"a1": 2.748, "a2": 0.0011, "a3": -0.0011, "b1": 0.464, "b2": -0.453, "b3": -2.838, "teacher": 0.537, "gamma_frac": 1.0}}


def _theorem_setup(which, k):
    """(γ, Lemma-1 constant c) at each theorem's largest step."""
    if which == 1:
        return vr.theorem1_step_max(k.calL), vr.lemma1_c(1, mu=k.mu)
    return vr.theorem2_step_max(k.mu, k.L, k.calL), vr.lemma1_c(2, mu=k.mu, L=k.L)


def _stationary_ratio(which, params):
    """exact stationary value of (7) / the bound (35) or (36) on a 1-D instance (NaN if degenerate)."""
    inst = _oned_instance(params)
    if inst is None:
        return math.nan
    A, b, xs, k, theta, g0, g1 = inst
    gamma, _ = _theorem_setup(which, k)
    lam = params["lam"]
    if which == 1:
        bound = vr.theorem1_bound(0, gamma, k.mu, k.calL, 0.0, g0, g1, lam=lam)
    else:
        bound = vr.theorem2_bound(0, gamma, k.mu, k.L, k.calL, 0.0, g0, g1, lam=lam)
    exact = sim.least_squares_stationary(A, b, g1, lam, gamma, x_star=xs)[0 if which == 1 else 1]
    return exact / bound if bound > 0 else math.nan


def _exact_theorem(rng, size, which):
    n_prob = 2 if size == "quick" else 6
    lam_grid = np.linspace(0, 1, 51 if size == "quick" else 201)
    rows, worst = [], None
    for _ in range(n_prob):
        A, b, xs = _ls_problem(rng, N=40, p=3, noise=float(rng.uniform(0.3, 2.0)))
        k = vr.expected_smoothness("least_squares", A, b)
        g0 = vr.per_sample_gradients("least_squares", xs, A, b)
        for dist in (0.05, 0.3, 1.0):
            theta = _teacher(rng, xs, dist)
            g1 = vr.per_sample_gradients("least_squares", theta, A, b)
            gamma, c = _theorem_setup(which, k)
            if which == 1:
                bound = lambda l: vr.theorem1_bound(0, gamma, k.mu, k.calL, 0.0, g0, g1, lam=l)  # noqa: E731
            else:
                bound = lambda l: vr.theorem2_bound(0, gamma, k.mu, k.L, k.calL, 0.0, g0, g1, lam=l)  # noqa: E731
            lam_star = vr.optimal_lambda(g0, g1, gamma, c)
            lams = np.append(lam_grid, lam_star)
            exact = np.array([sim.least_squares_stationary(A, b, g1, float(l), gamma, x_star=xs)[0 if which == 1 else 1]
                              for l in lams])
            bounds = np.array([bound(float(l)) for l in lams])
            j = int(np.argmax(exact / bounds))
            best = int(np.argmin(exact[:-1]))
            row = {"teacher_dist": dist, "gamma": gamma, "max_exact_over_bound": float(exact[j] / bounds[j]),
                   "at_lambda": float(lams[j]), "lambda_star_lemma1": lam_star,
                   "lambda_star_eq14_c1": vr.optimal_lambda(g0, g1, gamma, 1.0),
                   "exact_best_lambda": float(lam_grid[best]), "exact_sgd": float(exact[0]),
                   "exact_at_best": float(exact[best]), "exact_at_lambda_star": float(exact[-1])}
            rows.append(row)
            if worst is None or row["max_exact_over_bound"] > worst["max_exact_over_bound"]:
                worst = row
    wc = worst_case(lambda p: _stationary_ratio(which, p), {**_ONED_BOX, "lam": (0.0, 1.0)}, rng=rng,
                    budget=BUDGETS[size], start=_ONED_START[which])
    cid = f"safaryan.thm{which}.exact"
    return combine({
        "random_instances": compare(cid, 1.0, worst["max_exact_over_bound"], "<="),
        "searched_worst_case": compare(cid, 1.0, wc.ratio, "<=", details={"worst_case": wc.to_dict()}),
    }, details={"measured": "exact stationary value / bound: max over problems, teachers and a lambda grid, and over a "
                            "searched 1-D three-sample family (x*, teacher, lambda)",
                "route": "stationary moments of (7) solved exactly (Lyapunov equation), no sampling",
                "worst": worst, "instances": rows, "worst_case": wc.to_dict()})


@claim("safaryan.thm1.exact", paper=PAPER, where="Theorem 1, explicit form (35)",
       statement="least squares, gamma = 1/(4 calL): the exact stationary E||x-x*||^2 of (7) is <= (8/mu^2) N1(lam) for every lam in [0,1] and lam*")
def _thm1_exact(rng, size):
    return _exact_theorem(rng, size, 1)


@claim("safaryan.thm2.exact", paper=PAPER, where="Theorem 2, explicit form (36)",
       statement="least squares, gamma = mu/(4 L calL): the exact stationary E f - f* of (7) is <= N2(lam)/mu for every lam in [0,1] and lam*")
def _thm2_exact(rng, size):
    return _exact_theorem(rng, size, 2)


def _transient_curves(which, A, b, xs, k, theta, g0, g1, lam, x0, steps):
    gamma, _ = _theorem_setup(which, k)
    dist, gap = sim.least_squares_moments(A, b, g1, lam, gamma, x0, steps, x_star=xs)
    ts = np.arange(steps + 1)
    if which == 1:
        d0 = float(np.sum((x0 - xs) ** 2))
        bound = np.array([vr.theorem1_bound(int(t), gamma, k.mu, k.calL, d0, g0, g1, lam=lam) for t in ts])
        return gamma, dist, bound
    f0 = _exact_f(A, b, x0) - _exact_f(A, b, xs)
    bound = np.array([vr.theorem2_bound(int(t), gamma, k.mu, k.L, k.calL, f0, g0, g1, lam=lam) for t in ts])
    return gamma, gap, bound


def _transient_ratio(which, params):
    inst = _oned_instance(params)
    if inst is None:
        return math.nan
    A, b, xs, k, theta, g0, g1 = inst
    gamma, _ = _theorem_setup(which, k)
    steps = min(300, int(math.ceil(2.0 / (gamma * k.mu))))
    _, exact, bound = _transient_curves(which, A, b, xs, k, theta, g0, g1, params["lam"], xs + params["x0"], steps)
    return float(np.max(exact[1:] / bound[1:]))  # t = 0 is the identity d0 <= d0 + N


def _transient(rng, size, which, n_seeds=None):
    """Whole curve t ↦ E e^t from x^0 ≠ x* (exact moments) against the bound (35)/(36); its decay rate
    against 1 − γμ; and a Monte-Carlo run of (7) from the same x^0 against the same bound (intervals)."""
    cid = f"safaryan.thm{which}.transient"
    A, b, xs = _ls_problem(rng, N=30, p=2, noise=1.0)
    k = vr.expected_smoothness("least_squares", A, b)
    theta = _teacher(rng, xs, 0.3)
    g0 = vr.per_sample_gradients("least_squares", xs, A, b)
    g1 = vr.per_sample_gradients("least_squares", theta, A, b)
    gamma, c = _theorem_setup(which, k)
    lam = vr.optimal_lambda(g0, g1, gamma, c, clip=True)
    x0 = xs + 3.0 * np.ones_like(xs)
    window = int(math.ceil(1.0 / (gamma * k.mu)))
    steps = 3 * window
    _, exact, bound = _transient_curves(which, A, b, xs, k, theta, g0, g1, lam, x0, steps)
    # rate: the transient part decays at least like (1 − γμ)^t (fit between t = window and t = 2·window)
    ex_inf = sim.least_squares_stationary(A, b, g1, lam, gamma, x_star=xs)[0 if which == 1 else 1]
    tr = exact - ex_inf
    t1, t2 = window, 2 * window
    rate = float((tr[t2] / tr[t1]) ** (1.0 / (t2 - t1))) if tr[t1] > 0 and tr[t2] > 0 else 0.0
    # Monte Carlo from the same x^0 at t = window/2, window, 2 window (independent route to the exact curve)
    seeds = (n_seeds or (1000 if size == "quick" else 20000))
    obs = sim.dist_sq_observer(xs) if which == 1 else sim.quadratic_gap_observer(A, xs)
    res = sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), x0, g1, [lam], gamma, 2 * window + 1,
                                    n_seeds=seeds, rng=rng, observers={"e": obs}, window=1, observe_every=1)
    mc_parts, mc_rows = {}, []
    for t in (window // 2, window, 2 * window):
        samp = res.windows["e"][t][:, 0]
        mc_parts[f"monte_carlo_t{t}"] = compare_samples(samp, float(bound[t]), "<=")
        z = abs(samp.mean() - exact[t]) / (samp.std(ddof=1) / math.sqrt(seeds))
        mc_rows.append({"t": t, "mc_mean": float(samp.mean()), "exact": float(exact[t]), "bound": float(bound[t]), "z": float(z)})
    zmax = max(r["z"] for r in mc_rows)
    wc = worst_case(lambda p: _transient_ratio(which, p), {**_ONED_BOX, "lam": (0.0, 1.0), "x0": (-5.0, 5.0)}, rng=rng,
                    budget=max(20, BUDGETS[size] // 3), start={**_ONED_START[min(which, 2)], "x0": 3.0})
    j = 1 + int(np.argmax(exact[1:] / bound[1:]))  # t = 0 is the identity e0 <= e0 + N
    parts = {
        "exact_curve": compare(cid, float(bound[j]), float(exact[j]), "<="),
        "searched_worst_case": compare(cid, 1.0, wc.ratio, "<=", details={"worst_case": wc.to_dict()}),
        "rate": compare(cid, 1.0 - gamma * k.mu, rate, "<="),
        "monte_carlo_matches_exact": compare(cid, 5.0, zmax, "<="),
        **mc_parts,
    }
    return combine(parts, details={
        "x0_minus_x_star": 3.0, "gamma": gamma, "mu": k.mu, "L": k.L, "calL": k.calL, "lam": lam, "steps": steps,
        "worst_t": j, "curve_t": list(range(0, steps + 1, max(1, steps // 30))),
        "exact_curve": exact[::max(1, steps // 30)].tolist(), "bound_curve": bound[::max(1, steps // 30)].tolist(),
        "fitted_rate": rate, "theorem_rate": 1.0 - gamma * k.mu, "monte_carlo": mc_rows, "seeds": seeds,
        "worst_case": wc.to_dict()})


@claim("safaryan.thm1.transient", paper=PAPER, where="Theorem 1, eq. (11)/(35): the (1 - gamma mu)^t term",
       statement="from x0 != x*, the exact E||x^t - x*||^2 of (7) stays below (1-gamma mu)^t ||x0-x*||^2 + (8/mu^2) N1(lam) at every t, "
                 "its transient decays at least at rate 1 - gamma mu, and a Monte-Carlo run agrees (least squares, gamma = 1/(4 calL))")
def _thm1_transient(rng, size, n_seeds=None):
    return _transient(rng, size, 1, n_seeds)


@claim("safaryan.thm2.transient", paper=PAPER, where="Theorem 2, eq. (12)/(36): the (1 - gamma mu)^t term",
       statement="from x0 != x*, the exact E f(x^t) - f* of (7) stays below (1-gamma mu)^t (f(x0)-f*) + N2(lam)/mu at every t, "
                 "its transient decays at least at rate 1 - gamma mu, and a Monte-Carlo run agrees (least squares, gamma = mu/(4 L calL))")
def _thm2_transient(rng, size, n_seeds=None):
    return _transient(rng, size, 2, n_seeds)


@claim("safaryan.simulator_exact", paper=PAPER, where="iterations (7) and (16)",
       statement="the vectorised simulator's stationary E||x-x*||^2 agrees with the exact stationary moments within 4 standard errors")
def _simulator_exact(rng, size):
    A, b, xs = _ls_problem(rng, N=40, p=3)
    k = vr.expected_smoothness("least_squares", A, b)
    theta = _teacher(rng, xs, 0.3)
    tg = vr.per_sample_gradients("least_squares", theta, A, b)
    gamma = vr.theorem1_step_max(k.calL)
    lams = np.array([0.0, 0.3, 0.7])
    window = int(math.ceil(1 / (gamma * k.mu)))
    seeds, tail = (200, 20) if size == "quick" else (1000, 100)
    worst, rows = 0.0, []
    for unbiased in (False, True):
        res = sim.simulate_distillation(sim.glm_oracle("least_squares", A, b), xs, tg, lams, gamma, (tail + 6) * window,
                                        n_seeds=seeds, rng=rng, unbiased=unbiased,
                                        observers={"e": sim.dist_sq_observer(xs)}, window=window,
                                        observe_every=max(1, window // 8))
        m, se = res.tail_mean("e", tail), res.tail_sem("e", tail)
        for j, lam in enumerate(lams):
            ex = sim.least_squares_stationary(A, b, tg, float(lam), gamma, x_star=xs, unbiased=unbiased)[0]
            z = abs(m[j] - ex) / se[j]
            rows.append({"unbiased": unbiased, "lam": float(lam), "simulated": float(m[j]), "sem": float(se[j]),
                         "exact": ex, "z": float(z)})
            worst = max(worst, z)
    return compare(4.0, worst, "<=",
                   details={"measured": "max |simulated - exact| / standard error", "runs": rows, "seeds": seeds})


# ---------------------------------------------------------------------------------------------
# App. E.1, Lemmas 2–5 and eqs. (37)–(38): every link checked by exact enumeration over rand-k masks
# and samples (least squares), on random instances plus the instance that makes the link tight.


def _sc_problem(rng, d=None, N=None):
    """A strongly convex least-squares instance (no lift: x* and every direction are free)."""
    d = int(rng.integers(2, 4)) if d is None else d
    N = int(rng.integers(d + 2, 8)) if N is None else N
    A = rng.normal(size=(N, d)) * float(10 ** rng.uniform(-0.3, 0.3))
    b = A @ rng.normal(size=d) + rng.normal(size=N) * float(rng.random())
    return A, b


def _tight_lemma2_instance(rng):
    """x* along the flattest direction of f and x = 2x*: ‖x‖² = 2‖x − x*‖² + 2‖x*‖² and
    f(x) − f* = (μ/2)‖x − x*‖², so (40) holds with equality for rand-k."""
    A, _ = _sc_problem(rng, d=3, N=6)
    w, U = np.linalg.eigh(vr.least_squares_hessian(A))
    xs = U[:, 0] * 1.3
    return A, A @ xs, 2 * xs


def _exact_f(A, b, x):
    return vr.loss("least_squares", x, A, b)


@claim("safaryan.lemma2", paper=PAPER, where="Lemma 2, eq. (40) (App. E.1)",
       statement="E_delta ||delta(x)||^2 <= 2 alpha (f(x) - f*) + nu with alpha = 2 omega/mu, nu = 2 omega ||x*||^2 "
                 "(rand-k enumerated; the instance x = 2x*, x* on the flattest direction makes it tight)")
def _lemma2(rng, size):
    n = 6 if size == "quick" else 40
    rows = []
    cases = [_tight_lemma2_instance(rng)]
    for _ in range(n):
        A, b = _sc_problem(rng)
        cases.append((A, b, vr.minimizer("least_squares", A, b) + rng.normal(size=A.shape[1]) * float(rng.uniform(0.1, 3))))
    for A, b, x in cases:
        xs = vr.minimizer("least_squares", A, b)
        K = vr.expected_smoothness("least_squares", A, b)
        for k in range(1, A.shape[1]):
            dsq = float(np.mean(np.sum((sim.rand_k_outcomes(x, k) - x) ** 2, axis=1)))
            rhs = vr.lemma2_rhs(_exact_f(A, b, x) - _exact_f(A, b, xs), K.mu, vr.rand_k_omega(x.size, k), float(xs @ xs))
            rows.append({"d": x.size, "k": k, "lhs": dsq, "rhs": rhs, "ratio": dsq / rhs})
    worst = max(rows, key=lambda r: r["ratio"])
    return compare(1.0, worst["ratio"], "<=", atol=1e-9,
                   details={"measured": "max over instances and k of E||delta||^2 / right side of (40)",
                            "worst": worst, "tight_instance_ratio": rows[0]["ratio"], "instances": rows[:10]})


@claim("safaryan.lemma3", paper=PAPER, where="Lemma 3, eqs. (41)-(42) (App. E.1)",
       statement="E||grad f_xi(x+delta) - grad f_xi(y)||^2 <= calL^2(||x-y||^2 + E||delta||^2) and "
                 "f(x) <= E f(x+delta) <= f(y) + <grad f(y), x-y> + L/2 ||x-y||^2 + L/2 E||delta||^2 (enumerated)")
def _lemma3(rng, size):
    n = 6 if size == "quick" else 40
    r41, r42u, r42l = [], [], []
    for i in range(n):
        A, b = _sc_problem(rng)
        d = A.shape[1]
        K = vr.expected_smoothness("least_squares", A, b)
        calL = K.calL_ms  # (39)'s constant
        w, U = np.linalg.eigh(vr.least_squares_hessian(A))
        x = rng.normal(size=d)
        # y − x along the top Hessian direction makes the quadratic part of (42) tight
        y = x + (U[:, -1] if i % 2 == 0 else rng.normal(size=d)) * float(rng.uniform(0.2, 2))
        k = int(rng.integers(1, d + 1))
        Cx = sim.rand_k_outcomes(x, k)
        dsq = float(np.mean(np.sum((Cx - x) ** 2, axis=1)))
        gy = vr.per_sample_gradients("least_squares", y, A, b)
        lhs41 = float(np.mean([np.mean(np.sum((vr.per_sample_gradients("least_squares", c, A, b) - gy) ** 2, axis=1)) for c in Cx]))
        r41.append(lhs41 / vr.lemma3_rhs41(calL, float(np.sum((x - y) ** 2)), dsq))
        Ef = float(np.mean([_exact_f(A, b, c) for c in Cx]))
        fy, inner = _exact_f(A, b, y), float(vr.full_gradient("least_squares", y, A, b) @ (x - y))
        quad = vr.lemma3_rhs42(0.0, 0.0, K.L, float(np.sum((x - y) ** 2)), dsq)
        r42u.append((Ef - fy - inner) / quad)
        r42l.append(_exact_f(A, b, x) - Ef)
    return combine({
        "41": compare(1.0, max(r41), "<=", atol=1e-9),
        "42_upper": compare(1.0, max(r42u), "<=", atol=1e-9),
        "42_lower_jensen": compare(0.0, max(r42l), "<=", atol=1e-9),
    }, details={"measured": "(41): max lhs/rhs; (42) upper: max (E f(x+delta) - f(y) - <grad f(y), x-y>) / "
                            "(L/2)(||x-y||^2 + E||delta||^2); (42) lower: max f(x) - E f(x+delta)",
                "ratios_41": r41, "ratios_42_upper": r42u})


def _lemma4_lhs(A, b, x, theta, lam, gamma, k, sample=None):
    """E_δ (and E_ξ unless ``sample`` is given) of ‖δ/γ − ∇f_ξ(x+δ) + λ∇f_ξ(θ)‖², exact."""
    gt = vr.per_sample_gradients("least_squares", theta, A, b)
    vals = []
    for c in sim.rand_k_outcomes(x, k):
        r = (c - x) / gamma - vr.per_sample_gradients("least_squares", c, A, b) + lam * gt
        q = np.sum(r * r, axis=1)
        vals.append(q[sample] if sample is not None else np.mean(q))
    return float(np.mean(vals))


@claim("safaryan.lemma4", paper=PAPER, where="Lemma 4, eq. (43) (App. E.1), expectations over xi and delta",
       statement="E||delta/gamma - grad f_xi(x+delta) + lam grad f_xi(theta)||^2 <= 2E||grad f_xi(y) - lam grad f_xi(theta)||^2 "
                 "+ 2 calL^2 ||x-y||^2 + 2(calL^2 + 1/gamma^2) E||delta||^2 (enumerated over masks and samples)")
def _lemma4(rng, size):
    n = 6 if size == "quick" else 40
    rows = []
    for _ in range(n):
        A, b = _sc_problem(rng)
        d = A.shape[1]
        calL = vr.expected_smoothness("least_squares", A, b).calL_ms
        x, y, theta = rng.normal(size=d), rng.normal(size=d), rng.normal(size=d)
        lam, gamma, k = float(rng.random()), float(10 ** rng.uniform(-2, 0)) / calL, int(rng.integers(1, d + 1))
        dsq = float(np.mean(np.sum((sim.rand_k_outcomes(x, k) - x) ** 2, axis=1)))
        gy = vr.per_sample_gradients("least_squares", y, A, b)
        gt = vr.per_sample_gradients("least_squares", theta, A, b)
        noise_y = float(np.mean(np.sum((gy - lam * gt) ** 2, axis=1)))
        lhs = _lemma4_lhs(A, b, x, theta, lam, gamma, k)
        rows.append({"d": d, "k": k, "ratio": lhs / vr.lemma4_rhs(noise_y, calL, float(np.sum((x - y) ** 2)), gamma, dsq)})
    # the instance where every link is tight: δ = 0 (k = d), λ = 1, x − y = y − θ = u, u the top eigenvector of
    # E[H_ξ²] (so (20) holds with equality, a = b, and (39) with 𝓛² = λ_max(E H_ξ²)): left side = right side = 4𝓛²
    A, b = _sc_problem(rng, d=3, N=6)
    Hn = 2.0 * A[:, :, None] * A[:, None, :]
    w, U = np.linalg.eigh(np.mean(Hn @ Hn, axis=0))
    calL, u, y = math.sqrt(w[-1]), U[:, -1], rng.normal(size=3)
    x, theta = y + u, y - u
    gy = vr.per_sample_gradients("least_squares", y, A, b)
    gt = vr.per_sample_gradients("least_squares", theta, A, b)
    lhs = _lemma4_lhs(A, b, x, theta, 1.0, 0.1 / calL, 3)
    rows.insert(0, {"d": 3, "k": 3, "tight_instance": True,
                    "ratio": lhs / vr.lemma4_rhs(float(np.mean(np.sum((gy - gt) ** 2, axis=1))), calL, 1.0, 0.1 / calL, 0.0)})
    worst = max(rows, key=lambda r: r["ratio"])
    return compare(1.0, worst["ratio"], "<=", atol=1e-9,
                   details={"measured": "max lhs / rhs of (43), E over samples and masks", "worst": worst, "instances": rows[:10]})


def _lemma4_counterexample():
    """1-D least squares, one large sample among nine small ones; identity compressor (ω = 0, δ = 0),
    λ = 1, y = θ: (43) for the large sample reads ‖∇f_1(x) − ∇f_1(θ)‖² ≤ 2𝓛²‖x − θ‖²."""
    A = np.array([[3.0]] + [[1.0]] * 9)
    b = np.zeros(10)
    return A, b, np.array([1.0]), np.array([0.0])


@claim("safaryan.lemma4_fixed_sample", paper=PAPER, where="Lemma 4 statement, eq. (43): E_delta only, a fixed sample xi",
       statement="as printed (expectation over delta only, xi fixed), (43) fails: a sample whose own smoothness exceeds sqrt(2) calL "
                 "breaks it; the proof uses (39), which holds only on average over xi",
       corrected_by="safaryan.lemma4")
def _lemma4_fixed(rng, size):
    A, b, x, theta = _lemma4_counterexample()
    calL = vr.expected_smoothness("least_squares", A, b).calL_ms
    K10 = vr.expected_smoothness("least_squares", A, b).calL
    calL = max(calL, K10)  # a constant satisfying both (10) and (39), as App. E assumes
    gamma = 0.1 / calL
    lhs = _lemma4_lhs(A, b, x, theta, 1.0, gamma, 1, sample=0)
    g = vr.per_sample_gradients("least_squares", theta, A, b)
    rhs = vr.lemma4_rhs(float(np.sum((g[0] - g[0]) ** 2)), calL, float(np.sum((x - theta) ** 2)), gamma, 0.0)
    return erratum(rhs, lhs, "<=",
                   counterexample={"A": A.ravel().tolist(), "b": 0.0, "x": x.tolist(), "y_theta": theta.tolist(), "lam": 1.0,
                                   "compressor": "identity (omega = 0)", "sample": 0, "calL": calL,
                                   "lhs_fixed_sample": lhs, "rhs": rhs,
                                   "lhs_averaged_over_samples": _lemma4_lhs(A, b, x, theta, 1.0, gamma, 1)},
                   refuted=lhs > rhs * (1 + 1e-9),
                   details={"explanation": "(43) must average over xi on both sides (Lemma 6 and the proof of Thm 4 use it so)"})


@claim("safaryan.lemma4_proof_expansion", paper=PAPER, where="proof of Lemma 4, third line (App. E.1)",
       statement="as printed, 2E||delta/gamma - v||^2 <= (2/gamma^2)E||delta||^2 - (2/gamma)E<delta, v> + ||v||^2 (+ the (41) term); "
                 "the expansion has -(4/gamma)<delta, v> + 2||v||^2, and the printed link fails whenever v != 0",
       corrected_by="safaryan.lemma4")
def _lemma4_expansion(rng, size):
    A, b = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, -1.0, 0.5])
    x = np.array([0.5, -0.3])
    y, theta, lam, gamma, k = x.copy(), np.array([0.2, 0.1]), 0.5, 0.1, 2   # k = d: δ = 0, and y = x
    v = vr.per_sample_gradients("least_squares", y, A, b) - lam * vr.per_sample_gradients("least_squares", theta, A, b)
    link_lhs = float(np.mean([np.mean(2 * np.sum(((c - x) / gamma - v) ** 2, axis=1)) for c in sim.rand_k_outcomes(x, k)]))
    link_rhs_printed = float(np.mean(np.sum(v * v, axis=1)))  # δ = 0 and x = y: every other term vanishes
    return erratum(link_rhs_printed, link_lhs, "<=",
                   counterexample={"A": A.tolist(), "b": b.tolist(), "x": x.tolist(), "y": y.tolist(), "theta": theta.tolist(),
                                   "lam": lam, "gamma": gamma, "compressor": "rand-d (identity)",
                                   "E_2_norm_sq_of_delta_over_gamma_minus_v": link_lhs, "printed_right_side": link_rhs_printed},
                   refuted=link_lhs > link_rhs_printed * (1 + 1e-9),
                   details={"explanation": "2||a - v||^2 = 2||a||^2 - 4<a, v> + 2||v||^2; the final (43) keeps 2||v||^2 and is right "
                                           "(with E over xi)"})


@claim("safaryan.lemma5", paper=PAPER, where="Lemma 5, eq. (44) (App. E.1)",
       statement="f(y) >= f(x) + <E grad f(x+delta), y-x> + mu/2 ||y-x||^2 - (L-mu)/2 E||delta(x)||^2 (enumerated)")
def _lemma5(rng, size):
    n = 6 if size == "quick" else 40
    worst = None
    for i in range(n):
        A, b = _sc_problem(rng)
        d = A.shape[1]
        K = vr.expected_smoothness("least_squares", A, b)
        w, U = np.linalg.eigh(vr.least_squares_hessian(A))
        x = rng.normal(size=d)
        y = x + U[:, 0] * float(rng.uniform(0.2, 2))   # along the flattest direction: the μ-term is tight
        k = d if i % 3 == 0 else int(rng.integers(1, d + 1))
        Cx = sim.rand_k_outcomes(x, k)
        dsq = float(np.mean(np.sum((Cx - x) ** 2, axis=1)))
        Eg = np.mean([vr.full_gradient("least_squares", c, A, b) for c in Cx], axis=0)
        lower = vr.lemma5_rhs(_exact_f(A, b, x), float(Eg @ (y - x)), K.mu, K.L, float(np.sum((y - x) ** 2)), dsq)
        fy = _exact_f(A, b, y)
        # ratio of the quadratic part: (f(y) − f(x) − <E∇f, y−x>) / ((μ/2)‖y−x‖² − ((L−μ)/2)E‖δ‖²) when that is > 0
        row = {"d": d, "k": k, "f_y": fy, "lower_side": lower, "gap": fy - lower}
        if worst is None or row["gap"] < worst["gap"]:
            worst = row
    scale = 1.0 + abs(worst["f_y"])
    return compare(worst["lower_side"], worst["f_y"], ">=", atol=1e-9 * scale,
                   details={"measured": "f(y) at the instance with the smallest f(y) - lower side", "worst": worst,
                            "tight_when": "k = d (delta = 0) and y - x on the flattest direction: gap = 0"})


@claim("safaryan.eq38", paper=PAPER, where="eq. (38) (App. E) with x = C(y), and iteration (37)",
       statement="E||C(y) - x*||^2 = E||C(y) - y||^2 + ||y - x*||^2 <= (2 omega + 1)||y - x*||^2 + 2 omega ||x*||^2 (tight at y = 2x*), "
                 "and (18) run from x0 = 0 equals C applied to the y-recursion (37) with the same samples and masks")
def _eq38(rng, size):
    n = 6 if size == "quick" else 30
    ratios, ident = [], 0.0
    cases = []
    for i in range(n):
        A, b = _sc_problem(rng)
        xs = vr.minimizer("least_squares", A, b)
        y = 2 * xs if i == 0 else xs + rng.normal(size=xs.size)
        cases.append((xs, y, 1 if i == 0 else int(rng.integers(1, xs.size + 1))))   # tight case: rand-1 (ω = d − 1 > 0)
    for xs, y, k in cases:
        Cy = sim.rand_k_outcomes(y, k)
        lhs = float(np.mean(np.sum((Cy - xs) ** 2, axis=1)))
        split = float(np.mean(np.sum((Cy - y) ** 2, axis=1))) + float(np.sum((y - xs) ** 2))
        ident = max(ident, abs(lhs - split) / lhs)
        ratios.append(lhs / vr.eq38_rhs(vr.rand_k_omega(y.size, k), float(np.sum((y - xs) ** 2)), float(xs @ xs)))
    # (37): iterate (18) and the y-recursion side by side with shared samples and masks
    A, b = _sc_problem(rng, d=3, N=6)
    theta = rng.normal(size=3)
    gt = vr.per_sample_gradients("least_squares", theta, A, b)
    gamma, lam, k = 0.05 / vr.expected_smoothness("least_squares", A, b).calL, 0.6, 2
    x = np.zeros(3)
    y = np.zeros(3)
    cx = y.copy()
    dev = 0.0
    for _ in range(50):
        n_i, S = int(rng.integers(6)), rng.choice(3, size=k, replace=False)
        mask = np.zeros(3)
        mask[S] = 3 / k
        gx = vr.per_sample_gradients("least_squares", x, A, b)[n_i]
        x = mask * (x - gamma * (gx - lam * gt[n_i]))                       # (18)
        gc = vr.per_sample_gradients("least_squares", cx, A, b)[n_i]
        y = cx - gamma * (gc - lam * gt[n_i])                                # (37)
        cx = mask * y
        dev = max(dev, float(np.max(np.abs(x - cx))))
    return combine({
        "decomposition_30": compare(0.0, ident, "==", atol=1e-12),
        "bound_38": compare(1.0, max(ratios), "<=", atol=1e-12),
        "recursion_37": compare(0.0, dev, "==", atol=1e-12),
    }, details={"ratios_38": ratios, "tight_instance_ratio": ratios[0]})


# ---------------------------------------------------------------------------------------------
# App. A, quadratic growth (28)


@claim("safaryan.app_a_qg28", paper=PAPER, where="App. A, quadratic growth (28), used in the proof of Thm 1",
       statement="for a strongly quasi-convex f (unique x*): f(x) - f* >= (mu/8)||x - x*||^2; for PL with several minimisers "
                 "with the distance to the solution set")
def _qg28(rng, size):
    n = 6 if size == "quick" else 40
    worst = 0.0
    for i in range(n):
        deficient = i % 2 == 1
        a = rng.normal(size=(12, 2))
        if deficient:
            a = np.hstack([a, a[:, :1]])
        A = vr.lift(a)
        b = A @ rng.normal(size=A.shape[1]) + rng.normal(size=12)
        xs = vr.minimizer("least_squares", A, b)          # minimum-norm: the projection of 0 on the solution set
        K = vr.expected_smoothness("least_squares", A, b, pl=deficient)
        H = vr.least_squares_hessian(A)
        P = np.linalg.pinv(H) @ H                         # projector on range(H): distance to the solution set
        for _ in range(5):
            x = xs + rng.normal(size=xs.size) * float(rng.uniform(0.1, 3))
            dist_sq = float(np.sum((P @ (x - xs)) ** 2))
            gap = _exact_f(A, b, x) - _exact_f(A, b, xs)
            worst = max(worst, vr.quadratic_growth_bound(K.mu, dist_sq) / max(gap, 1e-300))
    return compare(1.0, worst, "<=", atol=1e-9,
                   details={"measured": "max of (mu/8) dist^2 / (f(x) - f*)",
                            "note": "(28) is loose by 4 for quadratics: f - f* = (1/2)(x-x*)^T H (x-x*) >= (mu/2) dist^2"})


@claim("safaryan.app_a_qg28_pl_printed", paper=PAPER, where="App. A: 'PL implies quadratic growth (28) for all x' with ||x - x*||",
       statement="as printed, (28) with a fixed minimiser x* fails for PL functions with several minimisers",
       corrected_by="safaryan.app_a_qg28")
def _qg28_printed(rng, size):
    A = np.array([[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]])   # duplicated feature: solution set is a line
    b = np.array([1.0, 0.0, 2.0])
    xs = vr.minimizer("least_squares", A, b)
    K = vr.expected_smoothness("least_squares", A, b, pl=True)
    x = xs + np.array([1.0, -1.0])                       # another minimiser
    gap = _exact_f(A, b, x) - _exact_f(A, b, xs)
    printed = vr.quadratic_growth_bound(K.mu, float(np.sum((x - xs) ** 2)))
    return erratum(printed, gap, ">=",
                   counterexample={"A": A.tolist(), "b": b.tolist(), "x_star": xs.tolist(), "x": x.tolist(),
                                   "mu_PL": K.mu, "f_gap": gap, "mu_over_8_dist_sq": printed},
                   refuted=gap < printed - 1e-12,
                   details={"explanation": "Karimi et al. (2016): PL gives f - f* >= (mu/2) dist(x, X*)^2, not ||x - x*||^2 for one x*"})


# ---------------------------------------------------------------------------------------------
# Proof of Theorem 3 and the Sec. 5 restart scheme


@claim("safaryan.thm3_proof_recursion", paper=PAPER, where="proof of Thm 3 (App. D.1), the line after the one-step bound",
       statement="as printed, E[f(x^t) - f*] <= (1 - gamma mu) E[f(x^t) - f*] + 3L(L+calL) gamma^2 (f(theta) - f*) has x^t on both "
                 "sides, i.e. claims E f(x^t) - f* <= 3L(L+calL) gamma (f(theta) - f*)/mu at every t; false at t = 0",
       corrected_by="safaryan.thm3.bound")
def _thm3_recursion(rng, size):
    A, b, xs = _ls_problem(np.random.default_rng(3), N=20, p=2)
    k = vr.expected_smoothness("least_squares", A, b)
    gamma = vr.theorem3_step_max(k.mu, k.L, k.calL)
    theta = xs + 0.1
    ft = _exact_f(A, b, theta) - _exact_f(A, b, xs)
    x0 = xs + 1.0
    f0 = _exact_f(A, b, x0) - _exact_f(A, b, xs)
    printed = 3 * k.L * (k.L + k.calL) * gamma * ft / k.mu      # what the printed line gives for E f(x^0) − f*
    return erratum(printed, f0, "<=",
                   counterexample={"t": 0, "x0_minus_x_star": 1.0, "theta_minus_x_star": 0.1, "gamma": gamma,
                                   "f_x0_gap": f0, "printed_implied_bound": printed, "mu": k.mu, "L": k.L, "calL": k.calL},
                   refuted=f0 > printed,
                   details={"explanation": "the left side should be E[f(x^{t+1}) - f*] (or the right side E[f(x^{t-1}) - f*]); "
                                           "unrolled with (29) it gives (17), which is right"})


def _restart_instance():
    """1-D least squares with a_n = ±1: every per-sample Hessian is 2, so μ = L = 𝓛 = 2."""
    A = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    b = np.array([1.0, 0.5, -2.0, 0.25])
    return A, b


@claim("safaryan.sec5_restart_printed", paper=PAPER, where="Sec. 5, after Theorem 3: gamma <= mu/(12 L calL), t = O(1/(gamma mu))",
       statement="as printed, [(1 - gamma mu)^t + gamma 3L(L+calL)/mu] <= 1/2 with gamma = mu/(12 L calL); when L = calL the second "
                 "term alone is 1/2, so the factor exceeds 1/2 at every t",
       corrected_by="safaryan.sec5_restart")
def _restart_printed(rng, size):
    A, b = _restart_instance()
    k = vr.expected_smoothness("least_squares", A, b)
    gamma = vr.restart_step_max(k.mu, k.L, k.calL, printed=True)
    ts = [1, 10, 100]
    factors = [vr.restart_factor(t, gamma, k.mu, k.L, k.calL) for t in ts]
    neighbourhood = gamma * 3 * k.L * (k.L + k.calL) / k.mu     # the t-independent term, = 1/2 here
    return erratum(0.5, min(factors), "<=",
                   counterexample={"A": A.ravel().tolist(), "b": b.tolist(), "mu": k.mu, "L": k.L, "calL": k.calL, "gamma": gamma,
                                   "t": ts, "factor": factors, "t_independent_term": neighbourhood},
                   refuted=min(factors) > 0.5 and neighbourhood >= 0.5 * (1 - 1e-12),
                   details={"explanation": "gamma 3L(L+calL)/mu = (L+calL)/(4 calL) at gamma = mu/(12 L calL), which is 1/2 when L = calL; "
                                           "gamma <= mu/(24 L calL) makes it <= 1/4 and t >= ln 4/(gamma mu) the other term <= 1/4"})


def _restart_run(rng, A, b, x0, gamma, tau, phases, seeds):
    """Sec. 5 restart scheme: iteration (16) with λ = 1 and θ^m = x^{mτ} (each seed its own teacher)."""
    N, d = A.shape
    X = np.broadcast_to(x0, (seeds, d)).copy()
    xs = vr.minimizer("least_squares", A, b)
    gaps = [np.full(seeds, _exact_f(A, b, x0) - _exact_f(A, b, xs))]
    for _ in range(phases):
        T = X.copy()
        full_T = (2.0 * ((T @ A.T) - b) @ A) / N                           # ∇f(θ^m) for every seed
        for _ in range(tau):
            idx = rng.integers(N, size=seeds)
            a = A[idx]
            g = 2.0 * (np.sum(a * X, 1) - b[idx])[:, None] * a - 2.0 * (np.sum(a * T, 1) - b[idx])[:, None] * a
            X = X - gamma * (g + full_T)
        gaps.append(vr.quadratic_gap(X, A, xs))
    return np.array(gaps)  # (phases + 1, seeds)


@claim("safaryan.sec5_restart", paper=PAPER, where="Sec. 5, restart scheme theta^m = x^{m tau} (corrected step)",
       statement="with gamma = mu/(24 L calL) and tau = ceil(ln 4/(-ln(1 - gamma mu))), each phase of unbiased KD (16), lambda = 1, "
                 "at least halves E[f - f*]: E[f(x^{m tau}) - f*] <= 2^-m (f(x^0) - f*), so O(log 1/eps) phases suffice")
def _restart(rng, size):
    seeds = 400 if size == "quick" else 4000
    A, b, xs = _ls_problem(rng, N=20, p=2, noise=1.0)
    k = vr.expected_smoothness("least_squares", A, b)
    gamma = vr.restart_step_max(k.mu, k.L, k.calL)
    tau = vr.restart_phase_length(gamma, k.mu)
    phases = 4
    x0 = xs + 3.0 * np.ones_like(xs)
    gaps = _restart_run(rng, A, b, x0, gamma, tau, phases, seeds)
    f0 = float(gaps[0, 0])
    means = gaps[1:].mean(axis=1)
    sems = gaps[1:].std(axis=1, ddof=1) / math.sqrt(seeds)
    upper = means + 3 * sems
    pred = np.array([f0 * 2.0 ** -(m + 1) for m in range(phases)])
    j = int(np.argmax(upper / pred))
    return compare(float(pred[j]), float(upper[j]), "<=",
                   details={"measured": "E[f(x^{m tau}) - f*] + 3 s.e. over seeds at the phase closest to its bound",
                            "phase": j + 1, "means": means.tolist(), "sems": sems.tolist(), "bound": pred.tolist(),
                            "gamma": gamma, "tau": tau, "seeds": seeds, "mu": k.mu, "L": k.L, "calL": k.calL,
                            "per_phase_factor_bound": vr.restart_factor(tau, gamma, k.mu, k.L, k.calL)})


# ---------------------------------------------------------------------------------------------
# λ* outside [0, 1] (Sec. 4.2's "λ* ≤ 1") and Sec. 5's "simply set λ = 1"


def _lambda_star_instances(rng):
    """Least squares; teachers θ = x* + εu along u = ±(the direction that lowers the gradient noise)."""
    A, b, xs = _ls_problem(rng, N=40, p=3)
    k = vr.expected_smoothness("least_squares", A, b)
    g0 = vr.per_sample_gradients("least_squares", xs, A, b)
    # p(w) = E<∇f_ξ(x*), H_ξ w> = w·P with P = E[2 ā (ā·∇f_ξ(x*))]: moving against P lowers σ(θ) below σ*
    P = np.mean(2 * A * np.sum(A * g0, axis=1)[:, None], axis=0)
    u = P / np.linalg.norm(P)
    return A, b, xs, k, g0, u


@claim("safaryan.sec4_lambda_star_le_1", paper=PAPER, where="Sec. 4.2, 'Choice of distillation weight': 'the better the teacher, the bigger lambda* <= 1 gets'",
       statement="as printed, lambda* of (14) is at most 1 and grows as the teacher improves; a teacher near x* that lowers the gradient "
                 "noise gives lambda* > 1, and a better teacher can have the smaller lambda*",
       corrected_by="safaryan.lemma1.lambda_star_outside")
def _lambda_le_1(rng, size):
    A, b, xs, k, g0, u = _lambda_star_instances(np.random.default_rng(11))
    gamma = vr.theorem1_step_max(k.calL)
    fs = _exact_f(A, b, xs)

    def at(eps):
        th = xs + eps * u
        return vr.optimal_lambda(g0, vr.per_sample_gradients("least_squares", th, A, b), gamma, 1.0), _exact_f(A, b, th) - fs

    lam_near, gap_near = at(-1e-3)
    lam_b, gap_b = at(+0.0999)  # better teacher (smaller gap) ...
    lam_w, gap_w = at(-0.1)     # ... than this one, yet smaller λ*
    return erratum(1.0, lam_near, "<=",
                   counterexample={"teacher": "theta = x* + eps u, u = E[2 a (a . grad f_xi(x*))] normalised", "gamma": gamma, "c": 1.0,
                                   "eps=-1e-3": {"lambda_star": lam_near, "f_gap": gap_near},
                                   "non_monotone": {"better_teacher": {"eps": 0.0999, "f_gap": gap_b, "lambda_star": lam_b},
                                                    "worse_teacher": {"eps": -0.1, "f_gap": gap_w, "lambda_star": lam_w}}},
                   refuted=lam_near > 1.0 and gap_b < gap_w and lam_b < lam_w,
                   details={"explanation": "lambda* = E<g*, g(theta)>/(E||g(theta)||^2 + ||grad f(theta)||^2/(c gamma)) exceeds 1 when "
                                           "the teacher's gradient noise is below sigma*^2 by more than its bias costs"})


@claim("safaryan.lemma1.lambda_star_outside", paper=PAPER, where="Lemma 1 (33) over the real line; iteration (7) with lambda outside [0, 1]",
       statement="for teachers with lambda* > 1 and with lambda* < 0, the unconstrained lambda* of N1 beats the clipped one, "
                 "and the exact stationary E||x - x*||^2 of (7) at lambda* stays below Thm 1's bound (35)")
def _lambda_outside(rng, size):
    # λ* > 1 needs a teacher whose gradient noise is below σ*² by more than its bias costs; not every drawn
    # problem has one at ε = −1e-3 (seed 2 did not), so draw problems until one does (bounded; the count is
    # reported) — the claim is about λ* outside [0, 1], not about how often a random problem allows it
    for draws in range(1, 21):
        A, b, xs, k, g0, u = _lambda_star_instances(rng)
        gamma, c = vr.theorem1_step_max(k.calL), vr.lemma1_c(1, mu=k.mu)
        g_near = vr.per_sample_gradients("least_squares", xs - 1e-3 * u, A, b)
        if vr.optimal_lambda(g0, g_near, gamma, c) > 1:
            break
    parts, rows = {}, []
    # E<g*, g(θ)> = σ*² + ε·E<g*, H_ξ u> vanishes at ε0 = −σ*²/|P|: beyond it λ* < 0
    P = np.mean(2 * A * np.sum(A * g0, axis=1)[:, None], axis=0)
    eps0 = vr.sigma_sq(g0) / float(np.linalg.norm(P))
    for name, eps in (("above_1", -1e-3), ("below_0", -2 * eps0), ("below_0_far", -4 * eps0)):
        th = xs + eps * u
        g1 = vr.per_sample_gradients("least_squares", th, A, b)
        lam = vr.optimal_lambda(g0, g1, gamma, c)
        lam_clip = vr.optimal_lambda(g0, g1, gamma, c, clip=True)
        n_star, n_clip = vr.neighborhood(lam, g0, g1, gamma, c), vr.neighborhood(lam_clip, g0, g1, gamma, c)
        exact = sim.least_squares_stationary(A, b, g1, lam, gamma, x_star=xs)[0]
        bound = vr.theorem1_bound(0, gamma, k.mu, k.calL, 0.0, g0, g1, lam=lam)
        rows.append({"case": name, "eps": eps, "lambda_star": lam, "lambda_clipped": lam_clip, "N_star": n_star,
                     "N_clipped": n_clip, "exact_stationary": exact, "bound_35": bound})
        outside = lam > 1 if name == "above_1" else lam < 0
        parts[f"{name}_outside"] = compare(0.0, 1.0 if outside else -1.0, ">=")
        parts[f"{name}_beats_clipped"] = compare(n_clip, n_star, "<=")
        parts[f"{name}_thm1"] = compare(bound, exact, "<=")
    return combine(parts, details={"instances": rows, "problems_drawn": draws})


@claim("safaryan.sec5_lambda_one", paper=PAPER, where="Sec. 5: 'no tuning is required for the distillation weight; we may simply set lambda = 1'",
       statement="unbiased KD (16) with lambda = 1 reaches a stationary E||x - x*||^2 no larger than plain SGD's, for near and far teachers "
                 "(exact stationary moments, least squares, gamma = 1/(4 calL))")
def _lambda_one(rng, size):
    A, b, xs = _ls_problem(rng, N=40, p=3, noise=1.0)
    k = vr.expected_smoothness("least_squares", A, b)
    gamma = vr.theorem1_step_max(k.calL)
    sgd = sim.least_squares_stationary(A, b, vr.per_sample_gradients("least_squares", xs, A, b), 0.0, gamma, x_star=xs)[0]
    rows = []
    for dist in (0.1, 0.3, 1.0, 3.0):
        th = _teacher(rng, xs, dist)
        one = sim.least_squares_stationary(A, b, vr.per_sample_gradients("least_squares", th, A, b), 1.0, gamma,
                                           x_star=xs, unbiased=True)[0]
        rows.append({"teacher_dist": dist, "kd_lambda1_unbiased": one, "sgd": sgd, "ratio_to_sgd": one / sgd})
    worst = max(rows, key=lambda r: r["ratio_to_sgd"])
    holds = worst["kd_lambda1_unbiased"] <= sgd
    reason = ("lambda = 1 in (16) is no worse than SGD at every teacher distance" if holds else
              f"lambda = 1 in (16) is worse than SGD for far teachers: {worst['ratio_to_sgd']:.3g}x SGD's error at "
              f"teacher distance {worst['teacher_dist']} (ratios {[round(r['ratio_to_sgd'], 3) for r in rows]})")
    return observed(bool(holds), predicted=sgd, measured=worst["kd_lambda1_unbiased"], relation="<=", reason=reason,
                    details={"instances": rows, "worst": worst, "route": "exact stationary moments (Lyapunov equation), no sampling"})


# ---------------------------------------------------------------------------------------------
# eq. (3) soft labels and App. B.3 (generic classifier through its logits)


@claim("safaryan.eq3_soft_labels", paper=PAPER, where="eq. (3), Sec. 3.1; App. B.1-B.2",
       statement="when l is linear in its second argument (cross-entropy: logistic, soft-max) the KD objective (2)/(4) equals "
                 "ERM (3) with soft labels s_n = (1-lam) b_n + lam phi_theta(a_n); for the squared loss (not linear) they differ by "
                 "lam(1-lam)(b_n - phi_theta(a_n))^2, a constant in x, so the gradients still agree")
def _eq3(rng, size):
    n = 4 if size == "quick" else 20
    ce, ls_const, ls_grad = 0.0, 0.0, 0.0
    for _ in range(n):
        for model in ("logistic", "softmax"):
            A, b, x = _glm_instance(rng, model)
            theta = x + rng.normal(size=x.shape)
            lam = float(rng.random())
            B = b if model == "logistic" else np.eye(x.shape[1])[b]
            s = (1 - lam) * B + lam * vr.predictions(model, theta, A)
            kd = vr.distillation_losses(model, x, theta, lam, A, b)
            ce = max(ce, float(np.max(np.abs(kd - vr.per_sample_losses(model, x, A, s)) / (1 + np.abs(kd)))))
        A, b, x = _glm_instance(rng, "least_squares")
        theta, lam = x + rng.normal(size=x.shape), float(rng.random())
        t = vr.predictions("least_squares", theta, A)
        s = (1 - lam) * b + lam * t
        diff = vr.distillation_losses("least_squares", x, theta, lam, A, b) - vr.per_sample_losses("least_squares", x, A, s)
        ls_const = max(ls_const, float(np.max(np.abs(diff - lam * (1 - lam) * (b - t) ** 2) / (1 + np.abs(diff)))))
        gd = vr.distillation_loss_gradient("least_squares", x, theta, lam, A, b) - vr.per_sample_gradients("least_squares", x, A, s)
        ls_grad = max(ls_grad, float(np.max(np.abs(gd))))
    return combine({
        "cross_entropy_equal": compare(0.0, ce, "==", atol=1e-12),
        "squared_loss_constant": compare(0.0, ls_const, "==", atol=1e-12),
        "squared_loss_gradients": compare(0.0, ls_grad, "==", atol=1e-10),
    }, details={"instances_per_model": n})


def _mlp_logits(x, a, shapes):
    """ψ(x) of a one-hidden-layer tanh network: logits W2 tanh(W1 a + c1) + c2 (parameters flattened in x)."""
    (h, p), K = shapes
    i = 0
    W1 = x[i:i + h * p].reshape(h, p); i += h * p
    c1 = x[i:i + h]; i += h
    W2 = x[i:i + K * h].reshape(K, h); i += K * h
    c2 = x[i:i + K]
    return np.tanh(a @ W1.T + c1) @ W2.T + c2


@claim("safaryan.appB3_jacobian", paper=PAPER, where="App. B.3 (generic non-linear classification), Sec. 3.3 'Generic classification'",
       statement="for a non-linear network, grad_x of the KD loss (4) equals J psi_n(x)(grad phi_n(psi_n(x)) - lam grad phi_n(psi_n(theta))) "
                 "(finite differences), and differs from eq. (5) grad f_n(x) - lam grad f_n(theta) (the teacher term uses the student's Jacobian)")
def _appB3(rng, size):
    n = 3 if size == "quick" else 12
    p, h, K, N = 3, 4, 3, 5
    shapes = ((h, p), K)
    D = h * p + h + K * h + K
    worst_b3, min_gap_eq5 = 0.0, math.inf
    for _ in range(n):
        a = rng.normal(size=(N, p))
        y = np.eye(K)[rng.integers(0, K, size=N)]
        x, theta = rng.normal(size=D), rng.normal(size=D)
        lam = float(rng.uniform(0.2, 0.9))
        zt = _mlp_logits(theta, a, shapes)
        s = (1 - lam) * y + lam * vr.predictions("softmax", np.eye(K), zt)   # soft labels from the teacher's logits
        loss = lambda v: vr.per_sample_losses("softmax", np.eye(K), _mlp_logits(v, a, shapes), s)  # noqa: E731
        fd = _fd_jacobian(loss, x, 1e-6)                                      # (N, D)
        Jx = _fd_jacobian(lambda v: _mlp_logits(v, a, shapes).ravel(), x, 1e-6).reshape(N, K, D)
        Jt = _fd_jacobian(lambda v: _mlp_logits(v, a, shapes).ravel(), theta, 1e-6).reshape(N, K, D)
        zx = _mlp_logits(x, a, shapes)
        gx, gt = vr.logit_loss_gradient(zx, y), vr.logit_loss_gradient(zt, y)
        for i in range(N):
            b3 = vr.jacobian_distillation_gradient(Jx[i].T, gx[i], gt[i], lam)
            worst_b3 = max(worst_b3, float(np.max(np.abs(b3 - fd[i])) / max(np.max(np.abs(fd[i])), 1e-12)))
            eq5 = vr.distillation_gradient(Jx[i].T @ gx[i], Jt[i].T @ gt[i], lam)
            min_gap_eq5 = min(min_gap_eq5, float(np.max(np.abs(eq5 - fd[i]))) / max(np.max(np.abs(fd[i])), 1e-12))
    return combine({
        "B3_form_exact": compare(0.0, worst_b3, "==", atol=1e-6),
        "eq5_not_exact": compare(1e-3, min_gap_eq5, ">="),
    }, details={"network": f"tanh MLP {p}-{h}-{K}, N={N}", "route": "central finite differences of the KD loss and of the logits"})


# ---------------------------------------------------------------------------------------------
# Theorem 2 on a non-convex PL family (Assumption 2 without convexity)


class _SinPLOracle:
    """Mini-batch gradient oracle of f_n(x) = (x − c_n)² + 3 sin²(x − c_n) for the simulator (x ∈ ℝ¹)."""

    affine = False

    def __init__(self, c):
        self.c = np.asarray(c, float)
        self.n_samples = self.c.size

    def __call__(self, X, idx):
        G = vr.sin_pl_gradients(X[..., 0], self.c)                          # (S, M, N)
        pick = np.take_along_axis(G, np.broadcast_to(idx[:, None, :], G.shape[:2] + (idx.shape[1],)), axis=2)
        return pick.mean(axis=2)[..., None]


@claim("safaryan.thm2.nonconvex_pl", paper=PAPER, where="Theorem 2, eq. (12)/(36), Assumption 2 (PL, not convex)",
       statement="on the non-convex PL family f_n(x) = (x - c_n)^2 + 3 sin^2(x - c_n) (mu, L, calL computed numerically), "
                 "SGD with self-distillation (7), gamma = mu/(4 L calL), stays below (1-gamma mu)^t (f(x0)-f*) + N2(lam)/mu "
                 "during the transient from x0 != x* and at stationarity, for lam in {0, lam*, 1} (intervals over seeds)")
def _thm2_nonconvex(rng, size, n_seeds=None):
    c = rng.normal(size=6) * 0.4
    k = vr.sin_pl_constants(c)
    xs = np.array([k.x_star])
    g0 = vr.sin_pl_gradients(k.x_star, c)[:, None]                            # (N, 1) per-sample gradients at x*
    theta = k.x_star + 0.3
    g1 = vr.sin_pl_gradients(theta, c)[:, None]
    gamma = vr.theorem2_step_max(k.mu, k.L, k.calL)
    lam_star = vr.optimal_lambda(g0, g1, gamma, vr.lemma1_c(2, mu=k.mu, L=k.L))
    lams = np.array([0.0, lam_star, 1.0])
    x0 = xs + 2.0
    f0 = float(np.mean(vr.sin_pl_losses(x0[0], c))) - k.f_star
    window = int(math.ceil(1 / (gamma * k.mu)))
    steps = (3 if size == "quick" else 8) * window
    seeds = n_seeds or (200 if size == "quick" else 3000)

    def gap_obs(X, idx):
        return np.mean(vr.sin_pl_losses(X[..., 0], c), axis=-1) - k.f_star

    res = sim.simulate_distillation(_SinPLOracle(c), x0, g1, lams, gamma, steps, n_seeds=seeds, rng=rng,
                                    observers={"f": gap_obs}, window=window, observe_every=max(1, window // 16))
    parts = {}
    for w in (0, 1):   # transient: window averages against the bound at the window's end (bound decreases in t)
        per_seed = res.windows["f"][w]
        for j, name in enumerate(("0", "star", "1")):
            b_t = vr.theorem2_bound(int(w * window), gamma, k.mu, k.L, k.calL, f0, g0, g1, lam=float(lams[j]))
            parts[f"window{w}_lam_{name}"] = compare_samples(per_seed[:, j], b_t, "<=")
    tail = res.tail_per_seed("f", 1 if size == "quick" else 4)
    for j, name in enumerate(("0", "star", "1")):
        parts[f"stationary_lam_{name}"] = compare_samples(tail[:, j], vr.theorem2_bound(steps, gamma, k.mu, k.L, k.calL, f0, g0, g1,
                                                                                          lam=float(lams[j])), "<=")
    xr = k.x_star + rng.uniform(-6, 6, size=2000)
    gr = np.mean(vr.sin_pl_gradients(xr, c), axis=-1)
    pl_ratio = float(np.min(gr**2 / (2 * (np.mean(vr.sin_pl_losses(xr, c), axis=-1) - k.f_star))))
    if pl_ratio < k.mu * (1 - 1e-9) or k.min_curvature >= 0:   # the instance must be what the claim says
        raise ValueError(f"sin-PL instance: PL ratio {pl_ratio} < mu {k.mu} or min f'' {k.min_curvature} >= 0")
    return combine(parts, details={"c": c.tolist(), "x_star": k.x_star, "mu": k.mu, "L": k.L, "calL": k.calL,
                                   "min_f_second_derivative": k.min_curvature, "gamma": gamma, "lams": lams.tolist(),
                                   "x0_minus_x_star": 2.0, "f0_gap": f0, "window": window, "seeds": seeds,
                                   "stationary_means": tail.mean(0).tolist(), "min_pl_ratio_at_random_points": pl_ratio})


# ---------------------------------------------------------------------------------------------
# proof of Theorem 4: the one-step recursion of the y-iterates (37), link by link's end point


def _bernoulli_outcomes(y, omega):
    """Whole-vector Bernoulli compressor C(y) = y/p w.p. p, else 0, p = 1/(1 + ω): unbiased with
    E‖C(y) − y‖² = ω‖y‖² exactly (Assumption 4 with any small ω, which rand-k cannot give in low d)."""
    p = 1.0 / (1.0 + omega)
    return [(p, y / p), (1.0 - p, np.zeros_like(y))]


@claim("safaryan.thm4.one_step", paper=PAPER, where="proof of Theorem 4 (App. E.2): E_t||y^{t+1} - x*||^2 <= (1 - gamma mu)||y^t - x*||^2 + D",
       statement="for the y-recursion (37) with an unbiased compressor of variance omega <= omega_max and gamma <= 1/(16 calL), one step "
                 "satisfies the proof's recursion with D = 2 gamma^2 B + gamma (L - mu) nu + (2 gamma/mu) N3(lam) "
                 "(exact expectation over compressor outcomes and samples)")
def _thm4_one_step(rng, size):
    n = 12 if size == "quick" else 80
    rows = []
    for i in range(n):
        A, b = _sc_problem(rng, d=int(rng.integers(1, 4)), N=int(rng.integers(4, 8)))
        xs = vr.minimizer("least_squares", A, b)
        K = vr.expected_smoothness("least_squares", A, b)
        calL = max(K.calL, K.calL_ms)
        gamma = float(rng.uniform(0.2, 1.0)) * vr.theorem4_step_max(calL)
        omega = float(rng.uniform(0.0, 1.0)) * vr.theorem4_omega_max(gamma, K.mu, K.L, calL)
        theta = xs + rng.normal(size=xs.size) * float(rng.uniform(0, 1))
        lam = float(rng.uniform(-0.5, 1.5))
        y = xs + rng.normal(size=xs.size) * float(10 ** rng.uniform(-2, 1))
        gt = vr.per_sample_gradients("least_squares", theta, A, b)
        lhs = 0.0
        for prob, c in _bernoulli_outcomes(y, omega):
            step = c - gamma * (vr.per_sample_gradients("least_squares", c, A, b) - lam * gt)
            lhs += prob * float(np.mean(np.sum((step - xs) ** 2, axis=1)))
        g0 = vr.per_sample_gradients("least_squares", xs, A, b)
        rhs = vr.theorem4_one_step_bound(float(np.sum((y - xs) ** 2)), gamma, K.mu, K.L, calL, omega, float(xs @ xs), lam,
                                         float(np.sum(gt.mean(axis=0) ** 2)), vr.noise_at_lambda(lam, g0, gt))
        rows.append({"d": xs.size, "gamma": gamma, "omega": omega, "lam": lam, "lhs": lhs, "rhs": rhs, "ratio": lhs / rhs})
    wc = worst_of(rows, lambda r: r["ratio"])
    return compare(1.0, wc.ratio, "<=", atol=1e-12,
                   details={"measured": "max over instances of exact E_t||y^{t+1} - x*||^2 / right side", "worst_case": wc.to_dict(),
                            "instances": rows[:8], "compressor": "whole-vector Bernoulli, omega = 1/p - 1"})
