"""One registry of every public function of kdtheory, kdtheory.testing and gpu_validation.data.

Each module has a *pool*: argument name → :mod:`kinds` kind holding one valid value (the same name means
the same thing throughout a paper's module). ``ENTRIES[module][function]`` lists the function's
overrides of the pool (argument name → kind; ``Any(...)`` for an argument the battery must not perturb);
every other parameter without a default, and every parameter with a default that the pool names, is taken
from the pool. ``test_battery.py`` calls each function once with the valid arguments, then once per
argument × bad value of its kind.

Adding a public function: add one line to its module's ``ENTRIES`` (overrides only where the pool's valid
value does not fit); ``test_every_public_function_is_registered`` fails until you do.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import numpy as np

from .kinds import (Any, Arr, Choice, Count, Flag, Fn, Gen, NonNeg, Obj, Pos, Prob, PSD, Real, Seed, Seq, Tol,
                    Unit, factory)

# ------------------------------------------------------------------------------------------------
# kdtheory.variance_reduction (paper 000)
_A = np.array([[1.0, 0.5], [0.2, 1.0], [-0.3, 0.4], [0.8, -0.6]])
_G = np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.1, -0.4]])
_GT = np.array([[0.2, -0.1], [0.3, 0.2], [-0.4, 0.1], [-0.1, 0.2]])

_BCAST = ("0-d", "extra-dim")  # broadcasting arguments (documented)
_FLAT = ("extra-dim",)  # per-sample gradients of any rank are flattened (documented)
#: functions whose true value overflows float64 at 1e300 inputs and that document returning +inf then
ALLOW_INF = {
    "variance_reduction." + n for n in (
        "neighborhood", "noise_at_lambda", "sigma_sq", "theorem1_bound", "theorem2_bound", "theorem4_bound",
        "descent_step_bound", "theorem1_one_step_bound", "theorem2_one_step_bound", "theorem3_descent_step",
        "quadratic_gap", "smoothness_constants", "expected_smoothness", "direction_variance", "lemma6_rhs",
        "lemma2_rhs", "lemma3_rhs41", "lemma3_rhs42", "lemma4_rhs", "lemma5_rhs", "eq38_rhs", "quadratic_growth_bound",
        "restart_factor", "theorem4_one_step_bound", "least_squares_hessian", "sin_pl_losses", "sin_pl_gradients",
        "jacobian_distillation_gradient")} | {"linear_transfer.corollary2_proof_terms", "linear_transfer.initial_radius_epsilon"} | {
    "kernel_regime." + n for n in (  # products of the scalar arguments: +inf at 1e300 inputs is the value
        "lemma1_bound", "lemma1_bound_printed", "lemma2_bound", "lemma2_bound_sharp", "lemma3_bound",
        "lemma3_bound_printed", "lemma4_bound", "lemma4_bound_printed", "lottery_ticket_tail_bound",
        "hbar_eigvec_condition_bound", "thm2_proof_square_printed")}

VR_POOL = {
    "model": Choice("least_squares"), "x": Arr(np.array([0.3, -0.2])), "A": Arr(_A),
    "b": Arr(np.array([1.0, 0.0, 0.5, -1.0])), "theta": Arr(np.array([0.1, 0.2])), "lam": Unit(0.5),
    "a": Arr(_A), "grad_student": Arr(_G), "grad_teacher": Arr(_GT), "grads_opt": Arr(_G, skip=_FLAT),
    "grads_teacher": Arr(_GT, skip=_FLAT), "grads_x": Arr(_G, skip=_FLAT), "grads": Arr(_G, skip=_FLAT), "gamma": Pos(0.01), "c": Pos(1.0),
    "clip": Flag(False), "rho_value": Real(0.3), "beta_value": Unit(0.4), "f_theta_gap": NonNeg(0.2),
    "sigma_opt": Pos(0.5), "sigma_theta": Pos(0.4), "L": Pos(2.0), "calL": Pos(3.0), "mu": Pos(0.5),
    "batch_size": Count(1), "e_t": NonNeg(1.0), "f_gap_t": NonNeg(1.0), "grad_theta_sq": NonNeg(0.3),
    "noise_lam": NonNeg(0.2), "t": Count(5, lo=0), "dist0_sq": NonNeg(1.0), "sigma_opt_sq": NonNeg(0.2),
    "sigma_theta_sq": NonNeg(0.1), "f0_gap": NonNeg(1.0), "omega": NonNeg(0.5), "xstar_norm_sq": NonNeg(1.0),
    "f_gap": NonNeg(1.0), "printed": Flag(False), "d": Count(4), "k": Count(2), "sampling": Choice("with_replacement"),
    "X": Arr(np.full((2, 3, 2), 0.5)), "idx": Arr(np.array([[0, 1], [2, 3]])), "x_star": Arr(np.array([0.1, 0.1])),
    "tol": Tol(1e-12), "max_newton": Count(30, lo=0), "pl": Flag(False), "check": Flag(True),
    "setting": Choice("strongly_quasi_convex"),
}
VR = {
    "lift": {"a": Arr(_A)}, "predictions": {}, "per_sample_losses": {}, "per_sample_gradients": {}, "loss": {},
    "full_gradient": {}, "distillation_gradient": {}, "distillation_losses": {}, "distillation_loss_gradient": {},
    "minimizer": {}, "smoothness_constants": {"b": Arr(np.array([1.0, 0.0, 0.5, -1.0]), optional=True)},
    "expected_smoothness": {"b": Arr(np.array([1.0, 0.0, 0.5, -1.0]), optional=True),
                            "x_star": Arr(np.array([0.1, 0.1]), optional=True)},
    "optimal_lambda": {}, "neighborhood": {"lam": Real(0.5)}, "reduction_ratio": {},
    "reduction_ratio_formula": {}, "beta": {}, "rho": {}, "rho_printed": {}, "sigma_sq": {},
    "noise_at_lambda": {"lam": Real(0.5)}, "reduction_ratio_bound": {"L": NonNeg(2.0), "calL": NonNeg(3.0)},
    "direction_variance": {"lam": Real(0.5)},
    "descent_step_bound": {"lam": Real(0.5), "L": Pos(2.0, optional=True), "calL": NonNeg(3.0)}, "theorem1_one_step_bound": {"lam": Real(0.5)},
    "theorem1_bound": {"lam": Real(0.5, optional=True)}, "theorem1_rate_bound": {"L": NonNeg(2.0), "calL": NonNeg(3.0)},
    "theorem2_one_step_bound": {"lam": Real(0.5)}, "theorem2_bound": {"lam": Real(0.5, optional=True)},
    "theorem3_descent_step": {}, "theorem3_one_step_bound": {}, "theorem3_bound": {},
    "theorem4_omega_max": {}, "theorem4_bound": {"lam": Real(0.5, optional=True), "gamma": Pos(0.001), "omega": NonNeg(1e-5)},
    "lemma6_rhs": {"gamma": Pos(0.01), "calL": NonNeg(3.0)}, "rand_k_omega": {},
    "minibatch_gradient": {}, "minibatch_loss": {}, "batch_equivalent_gradients": {"batch_size": Count(2)},
    "quadratic_gap": {"X": Arr(np.ones((3, 2)))},
    # step-size limits, Lemma-1 constants, Lemmas 2–5, (28), (38), Sec. 5 restart, Thm 4's one step
    "theorem1_step_max": {}, "theorem2_step_max": {}, "theorem3_step_max": {}, "theorem4_step_max": {},
    "step_max": {"theorem": Count(2), "mu": Pos(0.5, optional=True), "L": Pos(2.0, optional=True)},
    "lemma1_c": {"theorem": Count(2), "L": Pos(2.0, optional=True)}, "least_squares_hessian": {},
    "quadratic_growth_bound": {"dist_sq": NonNeg(1.0)}, "restart_step_max": {}, "restart_factor": {},
    "restart_phase_length": {},
    "lemma2_rhs": {}, "lemma3_rhs41": {"calL": NonNeg(3.0), "dist_sq": NonNeg(1.0), "delta_sq": NonNeg(0.3)},
    "lemma3_rhs42": {"f_y": Real(1.5), "inner": Real(-0.2), "L": NonNeg(2.0), "dist_sq": NonNeg(1.0), "delta_sq": NonNeg(0.3)},
    "lemma4_rhs": {"noise_y": NonNeg(0.4), "calL": NonNeg(3.0), "dist_sq": NonNeg(1.0), "delta_sq": NonNeg(0.3)},
    "lemma5_rhs": {"f_x": Real(1.5), "inner": Real(-0.2), "dist_sq": NonNeg(1.0), "delta_sq": NonNeg(0.3)},
    "eq38_rhs": {"y_dist_sq": NonNeg(1.0)},
    "theorem4_one_step_bound": {"y_dist_sq": NonNeg(1.0), "omega": NonNeg(1e-5), "lam": Real(0.5)},
    # App. B.3 and the non-convex PL family
    "logit_loss_gradient": {"logits": Arr(np.array([[0.2, -0.1, 0.4], [1.0, 0.0, -1.0]])),
                            "labels": Arr(np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]))},
    "jacobian_distillation_gradient": {"jacobian": Arr(np.array([[1.0, 0.0, 0.5], [0.2, -0.3, 0.1]])),
                                       "grad_logits_student": Arr(np.array([0.1, -0.3, 0.2])),
                                       "grad_logits_teacher": Arr(np.array([0.05, -0.1, 0.05])), "lam": Real(0.5)},
    "sin_pl_losses": {"c": Arr(np.array([0.2, -0.1, 0.4])), "x": Arr(np.array([0.3, -0.2]), skip=_BCAST + ("empty",))},
    "sin_pl_gradients": {"c": Arr(np.array([0.2, -0.1, 0.4])), "x": Arr(np.array([0.3, -0.2]), skip=_BCAST + ("empty",))},
    "sin_pl_constants": {"c": Arr(np.array([0.2, -0.1, 0.4])), "half_width": Pos(12.0), "n_grid": Count(2001, lo=101)},
}

# ------------------------------------------------------------------------------------------------
# kdtheory.kernel_regime (paper 001)
def _kr_setup():
    from kdtheory import kernel_regime as kr
    W = np.array([[0.6, -0.4, 0.3], [-0.2, 0.5, 0.7]])
    X = kr.normalize_columns(np.array([[1.0, 0.2], [0.3, 1.0], [0.5, -0.4]]))
    a = np.array([1.0, -0.7])
    H = kr.gram_blocks(W, X, "tanh")
    P = kr.secular_poles(H, a, 0.5)
    return W, X, a, H, P


_W, _X, _a, _H, _P = _kr_setup()
_SYM = ("negative-definite", "indefinite")  # symmetric, any sign (a centred kernel is not PSD-checked)
_Kmat = np.array([[2.0, 0.5, 0.1], [0.5, 1.5, 0.3], [0.1, 0.3, 1.0]])
KR_POOL = {
    "W": Arr(_W), "X": Arr(_X), "a": Arr(_a), "lam": NonNeg(0.5), "activation": Choice("tanh"),
    "H_blocks": PSD(_H), "s": Real(0.3), "tol": Tol(1e-8), "maxiter": Count(200, optional=True),
    "y": Arr(np.array([0.5, -0.3])), "phi": Arr(np.array([[0.2, 0.1], [-0.1, 0.3]])),
    "F0": Arr(np.array([[0.1, 0.0], [0.0, -0.1]])), "rtol": Tol(1e-10), "t": Arr(np.array([0.0, 1.0, 2.0]), skip=("0-d",)),
    "pole_values": Arr(_P), "a_bar": Arr(np.array([1.0, -1.0, 1.0])),
    "phi_bar": Arr(np.array([[0.2, 0.1], [-0.1, 0.3], [0.4, -0.2]])), "m": Count(2), "C": Pos(1.0),
    "m1": Count(2), "m_bar": Count(3), "H_inf": PSD(np.array([[1.0, 0.2], [0.2, 0.8]])), "top": Count(1),
    "K": Arr(_Kmat), "K1": Arr(_Kmat), "K2": Arr(_Kmat * 0.5 + np.eye(3)),
    "kernels": Arr(np.stack([_Kmat, np.eye(3)])), "X1": Arr(_X), "X2": Arr(_X), "gamma": Pos(0.7),
    "K_cross": Arr(np.array([[1.0, 0.2, 0.1], [0.3, 0.9, 0.2]])), "K_landmarks": PSD(_Kmat),
    # proof lemmas (Sec. 7.3), inertia count, tail bound (p001)
    "q": Unit(0.25), "p": Pos(0.37), "eta0_norm": NonNeg(1.0), "kappa": Pos(2.0), "max_dH_norm": NonNeg(0.3),
    "dw_norm": NonNeg(0.2), "w0_norm": NonNeg(0.5), "L": Pos(1.0), "sigma_x": Pos(1.5), "B": Pos(1.0),
    "residual_integral": NonNeg(0.4), "a_k": Real(0.8), "delta_k_integral": NonNeg(0.3), "delta": Unit(0.05),
    "F": Arr(np.array([[0.2, 0.1], [-0.1, 0.3]])),
}
KR = {
    "get_activation": {}, "gram_blocks": {}, "unit_outputs": {}, "network_output": {}, "symmetric_form": {},
    "hbar": {}, "poles": {}, "secular_poles": {"lam": Pos(0.5)}, "secular_determinant": {}, "smallest_pole": {},
    "final_value": {}, "unit_final_values": {}, "linearised_solution": {}, "predicted_trajectory": {},
    "linearised_limit": {}, "thm3_coefficients": {"lam": Pos(0.5)}, "thm3_printed_coefficients": {"lam": Pos(0.5)},
    "final_error": {}, "final_error_printed": {}, "teacher_labels": {}, "lottery_ticket_expected_error": {},
    "lottery_ticket_bound": {}, "lottery_ticket_bound_printed": {}, "two_stage_factors": {},
    "two_stage_expected_error": {"m": Count(1)}, "arccos_kernel": {}, "overlap_parameters": {"phi": Arr(np.array([[0.2, 0.1], [-0.1, 0.3]]))},
    "center_kernel": {"K": PSD(_Kmat, skip=_SYM)},
    "centered_alignment": {"K1": PSD(_Kmat, skip=_SYM), "K2": PSD(_Kmat * 0.5 + np.eye(3), skip=_SYM)},
    "alignf": {"y": Arr(np.array([0.5, -0.3, 0.2]))}, "gaussian_kernel": {}, "nystrom_embedding": {},
    "normalize_columns": {},
    "unit_coefficients": {"a": Arr(_a, skip=("extra-dim",))},  # a batch (S, m) is documented
    "kernel_matrix": {}, "delta_hbar": {"dH_blocks": Arr(np.array([[[0.2, -0.1], [-0.1, -0.3]], [[0.0, 0.4], [0.4, 0.1]]]))},
    "output_from_features": {"a": Arr(_a, skip=("extra-dim",)), "F": Arr(np.array([[0.2, 0.1], [-0.1, 0.3]]),
                                                                       skip=("extra-dim",))},
    "lipschitz_constant": {},
    "lemma1_bound": {}, "lemma1_bound_printed": {}, "hbar_eigvec_condition_bound": {"lam": Pos(0.5)},
    "lemma2_bound": {}, "lemma2_bound_sharp": {}, "lemma3_bound": {}, "lemma3_bound_printed": {}, "lemma4_bound": {},
    "lemma4_bound_printed": {}, "pole_count_below": {"lam": Pos(0.5)}, "smallest_pole_bracket": {"lam": Pos(0.5)},
    "thm2_proof_square_printed": {}, "lottery_ticket_tail_bound": {},
}

# ------------------------------------------------------------------------------------------------
# kdtheory.self_distillation (paper 002)
_SG = np.array([[0.5, 0.1, 0.05], [0.1, 0.4, 0.1], [0.05, 0.1, 0.3]])
_SY = np.array([1.0, -0.5, 0.8])


@factory
def _sd_path():
    from kdtheory import self_distillation as sd
    return sd.self_distill(_SG, _SY, 0.05, 3)


SD_POOL = {
    "G": PSD(_SG), "y": Arr(_SY, skip=("extra-dim",)), "y0": Arr(_SY), "c": Pos(0.2), "g_new": Arr(np.array([[0.2, 0.1, 0.0], [0.0, 0.1, 0.3]])),
    "path": Obj(_sd_path), "d": Arr(np.array([0.2, 0.4, 0.6])), "z": Arr(np.array([0.5, -0.3, 0.9])),
    "eps": Pos(0.05), "rounds": Count(3, lo=0), "log_B": Arr(np.array([[-0.1, -0.5, -2.0]])),
    "y0_norm": NonNeg(2.0), "z0_norm": NonNeg(2.0), "K": Count(3), "kappa": Real(3.0, skip=("inf",)), "t": Arr(np.array([0.0, 1.0, 2.0])),
    "u0": Real(3.0), "d_min": Pos(0.5), "d_j": Arr(np.array([0.6])), "d_k": Arr(np.array([1.2])),
    "Y0": Arr(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])), "name": Choice("G"),
}
SD = {
    "spectrum": {"name": Any("G")}, "fit_coefficients": {}, "predict": {}, "interpolant": {"y": Arr(_SY)}, "round_functions": {},
    "fit_predictions": {"y": Arr(_SY)}, "residual_mse": {}, "h": {}, "reachable_floor": {"y": Arr(_SY)}, "multiplier_bracket": {},
    "multiplier_bracket_printed": {}, "solve_multiplier": {"y": Arr(_SY)}, "self_distill": {},
    "effective_basis_count": {"log_B": Arr(np.array([[-0.1, -0.5, -2.0]]), skip=("-inf", "0-d", "empty"))},
    "guaranteed_rounds": {}, "prop3_lower_bound": {"t": Arr(np.array([0.0, 1.0, 2.0]), skip=_BCAST)},
    # prop5/prop6 broadcast d_j, d_k, t against each other (documented): an extra dimension is valid
    "prop4_crossing": {}, "prop5_ratio_bound": {"t": Arr(np.array([0.0, 1.0, 2.0]), skip=_BCAST),
                                                "d_j": Arr(np.array([0.6]), skip=_BCAST),
                                                "d_k": Arr(np.array([1.2]), skip=_BCAST)},
    "prop6_bound": {"d_j": Arr(np.array([0.6]), skip=_BCAST), "d_k": Arr(np.array([1.2]), skip=_BCAST)},
    "training_loss": {"y0": Arr(_SY, optional=True)}, "early_stopping": {"eps": Pos(0.1)},
    "early_stopping_match": {}, "multiclass_self_distill": {"eps": Pos(0.05, skip=("array",))},
    # the O(K) banded route (spline kernel 57) and the additions of issue 16
    "SplineGram": {"points": Arr(np.array([0.2, 0.5, 0.8]))}, "spline_gram": {"points": Arr(np.array([0.2, 0.5, 0.8]))},
    "spline_green_diag": {"x": Arr(np.array([0.2, 0.5, 0.8]), skip=("0-d", "extra-dim"))},
    "choose_route": {"points": Arr(np.array([0.2, 0.5, 0.8]))},
    "SobolevGram": {"points": Arr(np.array([0.0, 0.2, 0.5, 0.8])), "w0": NonNeg(1.0), "w1": Pos(1.0)},
    "implicit_gram": {"points": Arr(np.array([0.2, 0.5, 0.8]))},
    "self_distill_points": {"points": Arr(np.array([0.2, 0.5, 0.8])), "route": Choice("auto")},
    "trivial_rounds": {}, "step_bounds": {"u_prev": Arr(np.array([3.0, 2.0]), skip=("0-d",))},
    "tangent_bounds": {"u": Arr(np.array([2.0, 2.5]), skip=("0-d",))},
    "prop3_upper_bound": {"t": Arr(np.array([0.0, 1.0, 2.0]), skip=("0-d",))},
    "product_form": {"t": Count(0, lo=0)}, "product_form_printed": {"t": Count(0, lo=0)},
    "mixed_self_distill": {"alpha": Unit(0.3)},
}

# ------------------------------------------------------------------------------------------------
# kdtheory.greens (paper 002)
@factory
def _green():
    from kdtheory import greens as gr
    return gr.spline_green_symbolic()


def _spline(x, t):
    from kdtheory import greens as gr
    return gr.spline_green(x, t)


_BCS = [(0, 0), (1, 0), (0, 2), (1, 2)]
GR_POOL = {
    "x": Arr(np.array([0.2, 0.5, 0.8]), skip=_BCAST), "t": Arr(np.array([0.3, 0.6, 0.9]), skip=_BCAST),
    "points": Arr(np.array([0.2, 0.5, 0.8])), "kernel": Fn(_spline), "scale": Pos(0.5, optional=True),
    "g": Obj(_green),
    "weights": Obj({2: 1}, extra=[("nan-weight", {2: np.nan}), ("negative-weight", {2: -1.0}), ("empty", {}),
                                  ("bool-weight", {2: True}), ("complex-weight", {2: 1 + 1j}),
                                  ("non-integer-order", {2.5: 1.0}), ("inf-weight", {2: np.inf})]),
    "bcs": Obj(_BCS, extra=[("duplicates", [(0, 0)] * 4), ("wrong-count", [(0, 0), (1, 0)]),
                            ("bad-point", [(2, 0), (1, 0), (0, 2), (1, 2)]), ("bad-order", [(0, 9), (1, 0), (0, 2), (1, 2)]),
                            ("not-pairs", [0, 1, 2, 3])]),
}
GR = {
    "spline_green": {}, "spline_green_expr": {}, "green_function": {}, "spline_green_symbolic": {},
    "check_ode": {}, "check_jumps": {}, "check_boundary": {}, "check_symmetry": {}, "check_gram_pd": {},
    "matches_eq57": {"g": Obj(_green, optional=True)}, "gram": {},
}

# ------------------------------------------------------------------------------------------------
# kdtheory.linear_transfer (paper 003)
@factory
def _lt_task():
    from kdtheory import linear_transfer as lt
    return lt.polynomial_task(4, 2.0)


def _lt_p(theta):
    from kdtheory import linear_transfer as lt
    return lt.polynomial_task(4, 2.0)(theta)


def _learner(X, k):
    from kdtheory import linear_transfer as lt
    return lt.student_solution(X, np.array([1.0, 0.5, -0.3, 0.2]))


def _angle(v, *, optional=False, hi=np.pi / 2):
    """An angle in [0, hi] (radians)."""
    return Real(v, optional=optional, extra=[("above-max", hi + 0.5), ("negative", -0.1)], extreme=False)


_LX = np.array([[1.0, 0.2], [0.3, -1.0], [0.5, 0.4], [-0.2, 0.6]])
_WS = np.array([1.0, 0.5, -0.3, 0.2])
_Ws = [np.array([[0.5, 0.1, 0.0, 0.2], [0.1, 0.4, 0.3, 0.0]]), np.array([[0.7, -0.2]])]
LT_POOL = {
    "X": Arr(_LX), "w_star": Arr(_WS), "Xs": Arr(np.stack([_LX, _LX[:, ::-1] + 0.1])), "p": Fn(_lt_p),
    "n": Count(3), "tight": Flag(False), "beta": _angle(0.3, optional=True), "d": Count(6, optional=True),
    "w": Arr(np.array([0.3, -0.2, 0.1, 0.5])), "y": Arr(np.array([0.7, 0.2])), "u": Arr(np.array([1.0, 0.2])),
    "v": Arr(np.array([0.3, 1.0])), "kappa": NonNeg(2.0), "margin": _angle(0.2), "c": Real(1.0), "clip": Flag(True),
    "eps": NonNeg(0.1), "w_hat_norm": Pos(1.5), "w_norm": Pos(1.5), "N": Count(3), "radius": Pos(0.5),
    "rng": Gen(), "width": Count(4, optional=True), "direction": Arr(np.array([1.0, 0.0, 0.0, 0.0]), optional=True),
    "Ws": Seq(_Ws), "w0_norm": Pos(0.5), "delta": Real(0.1), "g": Arr(np.array([0.3, -0.1, 0.7, 0.2])),
    "learner": Fn(_learner), "sets": Arr(np.stack([_LX, _LX[:, ::-1] + 0.1])),
    "extra": Arr(np.array([[0.1, 0.2, 0.3, 0.4], [0.4, -0.3, 0.2, 0.1]])), "return_angles": Flag(False),
    "task": Obj(_lt_task), "phi": Arr(np.array([0.3, 1.0, 2.0])), "nodes": Count(8), "m": Count(5),
    "method": Choice("reduced"),
}
LT = {
    "student_solution": {}, "optimal_beta": {}, "projection_cosine": {}, "student_cosines": {},
    "transfer_risk_bound": {}, "cross_entropy": {}, "cross_entropy_gradient": {}, "cross_entropy_hessian": {},
    "soft_labels": {}, "unsigned_angle": {"u": Arr(np.array([1.0, 0.2]), skip=_BCAST),
                                          "v": Arr(np.array([0.3, 1.0]), skip=_BCAST)},
    "signed_angle": {"u": Arr(np.array([1.0, 0.2]), skip=_BCAST), "v": Arr(np.array([0.3, 1.0]), skip=_BCAST)},
    "PolynomialAngleTask": {"d": Count(4), "kappa": NonNeg(2.0), "c": Real(1.0), "theta_max": _angle(1.0),
                            "w_star": Arr(_WS, optional=True)},
    "polynomial_task": {"d": Count(4), "w_star": Arr(_WS, optional=True)},
    "margin_task": {"d": Count(4), "w_star": Arr(_WS, optional=True)},
    "EmpiricalAngleTask": {"angles": Arr(np.array([0.1, 0.5, 1.2])), "points": Any(None), "w_star": Any(None)},
    "empirical_p": {}, "corollary1_bound": {"p": Fn(lambda t: _lt_p(np.asarray(t)) * 0.0), "beta": _angle(0.3)},
    "corollary2_bound": {}, "corollary2_proof_terms": {}, "corollary2_corrected_bound": {},
    "corollary2_proof_beta": {}, "approximate_delta": {}, "approximate_transfer_risk_bound": {},
    "lemma_d1_angle_bound": {}, "balanced_init": {"d": Count(4)}, "balancedness_defect": {}, "end_to_end": {},
    "initial_radius_bound": {}, "deep_distance_bound": {"w0_norm": NonNeg(0.5)}, "deep_norm_bound": {}, "end_to_end_flow": {},
    "factor_gradients": {}, "reduced_bias_solution": {}, "hard_target_solution": {}, "monotonicity_index": {},
    "monotonicity_index_distillation": {}, "transfer_risk": {}, "transfer_risk_from_angle": {"phi": Arr(np.array([0.3, 1.0, 2.0]), skip=_BCAST + ("empty",))},
    "expected_transfer_risk": {"n": Count(2)}, "sample_student_angles": {"n": Count(2)},
    "empirical_transfer_risk": {},
    "WindowAngleTask": {"d": Count(4), "lows": Arr(np.array([0.1, 1.0])), "highs": Arr(np.array([0.3, 1.2])),
                        "weights": Arr(np.array([0.4, 0.6])), "sides": Arr(np.array([1.0, -1.0]), optional=True),
                        "tilt": Real(0.1), "leans": Any(None)},
    "window_task": {"d": Count(4), "centers": Arr(np.array([0.2, 1.1])), "halfwidth": Pos(0.05),
                    "weights": Arr(np.array([0.4, 0.6])), "sides": Any(None), "tilt": Real(0.1), "leans": Any(None)},
    "simplex_leans": {"K": Count(3, lo=2), "d": Count(6)}, "student_solutions": {},
    "transfer_risk_samples": {"n": Count(2), "stratified": Flag(False), "student": Any(None)},
    "initial_radius_epsilon": {"w0_norm": NonNeg(0.5)},
    "sublevel_logit_range": {"level": NonNeg(0.3)}, "sublevel_omega": {"level": NonNeg(0.3)},
    "restricted_strong_convexity": {"level": NonNeg(0.3)}, "restricted_pl_constant": {"level": NonNeg(0.3)},
}

# ------------------------------------------------------------------------------------------------
# kdtheory.label_distribution (paper 004)
_P3 = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
_LOG = np.array([[2.0, 0.5, -1.0], [0.1, 1.5, 0.3], [-0.5, 0.2, 2.2], [1.0, 1.1, 0.9]])
_PR = np.exp(_LOG) / np.exp(_LOG).sum(axis=1, keepdims=True)
_NORM = Obj(2, extra=[("below-1", 0.5), ("nan", np.nan), ("complex", 2 + 0j), ("bool", True)], skip=("number",))
LD_POOL = {
    "v": Arr(np.array([[3.0, -4.0], [1.0, 2.0]])), "norm": _NORM, "out_norm": _NORM, "axis": Any(-1),
    "K": Count(3, lo=2), "n_siblings": Count(2), "delta": Unit(0.1), "N": Count(100), "covering_number": Count(10),
    "kappa": Real(2.0, extra=[("below-1", 0.5)]), "L": NonNeg(1.0), "r": NonNeg(0.1), "L_star": NonNeg(0.5),
    "L_f_A": NonNeg(0.2), "L_p_A": NonNeg(0.3),
    "X": Arr(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])),
    "images": Arr(np.array([[0.1, 0.0], [0.9, 0.1], [0.5, 0.5]])), "F_X": Arr(_PR), "F_ref": Arr(_PR[:3]),
    "neighbours": Any(None), "assignment": Arr(np.array([0, 0, 1, 2, 2, 2])),
    "points": Arr(np.array([[0.0, 0.0], [0.05, 0.0], [1.0, 1.0], [0.9, 1.0], [0.5, 0.5]])),
    "W": Arr(np.array([[1.0, -2.0, 0.5, 0.0], [0.3, 0.2, -0.1, 1.0], [0.0, 0.4, 0.4, -0.3]])),
    "loss": Choice("nll"), "P": Prob(_P3), "y": Arr(np.array([0, 2])), "p": Prob(np.array([0.5, 0.3, 0.2])),
    "q": Prob(np.array([0.2, 0.2, 0.6])), "rng": Gen(), "n_q": Count(5), "n_p": Count(5), "tol": Tol(1e-9),
    "min_gap": Pos(1e-3), "symbolic": Flag(False), "ybar": Prob(np.array([0.5, 0.3, 0.2])), "eps": NonNeg(0.1),
    "k_prime": Count(0, lo=0), "restarts": Count(2), "seed": Seed(0),
    "weight": Arr(np.ones((2, 1, 3, 3)) * 0.1), "weights": Seq([np.ones((3, 4)) * 0.2, np.ones((2, 1, 3, 3)) * 0.1]),
    "avg": Arr(_PR), "t": Count(3, lo=0), "pred": Arr(_PR[::-1]), "T": Pos(1.5), "lam_max": NonNeg(2.0),
    "kind": Choice("linear"), "logits": Arr(_LOG), "labels": Arr(np.array([0, 1, 2, 1])), "probs": Prob(_PR),
    "n_bins": Count(5), "floor": Pos(1e-12), "bounds": Obj((0.05, 20.0), extra=[("reversed", (20.0, 0.05)),
                                                                                 ("nan", (np.nan, 2.0))]),
    "xatol": Tol(1e-7), "p1": Arr(_PR, skip=("extra-dim",)), "p2": Arr(_PR[::-1], skip=("extra-dim",)),
}
LD = {
    "lp_norm": {"v": Arr(np.array([[3.0, -4.0], [1.0, 2.0]]), skip=_BCAST)}, "sibling_bound": {}, "sibling_bound_l2": {},
    "xi": {}, "lemma_a1_bound": {"n_cell": Count(4, optional=True)}, "erm_bound": {}, "augmented_erm_bound": {}, "augmented_neighbourhoods": {},
    "augmentation_constant": {}, "covering_fraction": {}, "large_cell_mask": {"covering_number": Count(4, optional=True)},
    "greedy_covering": {"r": NonNeg(0.2)}, "softmax_affine_lipschitz": {}, "loss_values": {},
    "expected_score": {}, "score_divergence": {}, "check_proper": {"loss": Choice("brier"), "tol": NonNeg(1e-9, extreme=False)},
    "symbolic_divergence": {"loss": Choice("brier"), "K": Count(3, lo=2)},
    "symbolic_properness": {"loss": Choice("brier"), "K": Count(2, lo=2)}, "printed_smoothed_minimiser": {},
    "smoothed_minimiser": {}, "lipschitz_cell_erm": {}, "centre_risk": {}, "case2_minimiser": {"eps": Pos(0.1)},
    "condition_27": {"eps": Pos(0.1)}, "lipschitz_linear_l1": {}, "lipschitz_conv2d_l1": {},
    "lipschitz_batchnorm_l1": {"gamma": Arr(np.array([0.5, -2.0, 1.2])), "running_var": Arr(np.array([0.3, 1.0, 2.0])),
                               "eps": NonNeg(1e-5)},
    "network_lipschitz_l1": {}, "running_average_update": {}, "consistency_loss": {},
    "lambda_cr": {"t": Arr(np.array([0.0, 0.5, 1.0]), skip=_BCAST)}, "softmax": {"T": Pos(1.0), "logits": Arr(_LOG, skip=("extra-dim", "0-d"))},
    "expected_calibration_error": {}, "nll": {}, "fit_temperature": {}, "top1_agreement": {},
}

# ------------------------------------------------------------------------------------------------
# kdtheory.symbolic (paper 000, sympy)
SY_POOL = {"model": Choice("least_squares"), "convention": Choice("eq4")}
SY = {"neighborhood_expr": {}, "derive_optimal_lambda": {}, "ratio_expr": {}, "ratio_identity_residual": {},
      "lemma1_inequality_gap": {}, "prop1_residual": {}}

# ------------------------------------------------------------------------------------------------
# kdtheory.testing (hypothesis strategies: every argument is checked when the strategy is built)
def _irange(v):
    return Obj(v, extra=[("reversed", (v[1] + 1, v[0])), ("floats", (1.5, 3.0)), ("huge", (1, 2 ** 40)),
                         ("bool", (True, v[1])), ("list", list(v)), ("nan", (np.nan, 1.0))])


def _frange(v):
    return Obj(v, extra=[("reversed", (v[1] + 1.0, v[0])), ("nan", (np.nan, v[1])), ("inf", (v[0], np.inf)),
                         ("complex", (1j, v[1])), ("bool", (True, v[1])), ("list", list(v))])


@factory
def _problem():
    from kdtheory.testing import Problem
    return Problem("least_squares", np.ones((3, 2)), np.ones(3), np.zeros(2))


@factory
def _nan_problem():
    from kdtheory.testing import Problem
    return Problem("least_squares", np.ones((3, 2)), np.ones(3), np.array([np.nan, 0.0]))


def _claim_id():
    from verification import claims
    claims.load_all()
    return "mobahi.prop2"


_SCALES = Obj((0.1, 1.0), extra=[("zero", (0.0, 1.0)), ("nan", (np.nan,)), ("complex", (1j,)), ("empty", ()),
                                 ("bool", (True,)), ("inf", (np.inf,))])
TS_POOL = {
    "n": Count(3, optional=True), "min_n": Count(1), "max_n": Count(8), "condition_number": Real(10.0, optional=True,
                                                                                                 extra=[("below-1", 0.5)]),
    "min_condition": Real(1.0, extra=[("below-1", 0.5)]), "max_condition": Real(1e3, extra=[("huge", 1e13)]),
    "scale": Pos(1.0), "semidefinite": Flag(False), "rank": Any(None),
    "n_samples": _irange((4, 30)), "n_features": _irange((1, 4)), "n_classes": _irange((2, 4)), "scales": _SCALES,
    "noise": NonNeg(1.0), "rank_deficient": Flag(False, optional=True),
    "models": Obj(("least_squares",), extra=[("unknown", ("ridge",)), ("bare-str", "logistic"), ("empty", ())]),
    "problem": Obj(_problem, extra=[("nan-x_star", _nan_problem())]), "distance": _frange((0.0, 2.0)),
    "relative": Flag(True), "dim": _irange((1, 6)), "centred": Flag(True), "allow_zero": Flag(True),
    "units": _irange((1, 5)), "samples": _irange((1, 4)), "dims": _irange((1, 6)),
    "activations": Obj(("tanh",), extra=[("unknown", ("sigmoid",)), ("empty", ())]),
    "weight_scale": _frange((0.01, 2.0)), "output_weights": Choice("signs"), "regime": Choice("any"),
    "lam": _frange((0.0, 5.0)), "teacher_distance": _frange((0.0, 1.0)), "min_points": Count(2),
    "max_points": Count(12), "min_gap": Pos(0.02, extra=[("too-large", 0.6)]), "include_boundary": Flag(False),
    "size": Count(5), "min_norm": NonNeg(0.0), "min_u0": Real(1.05, extra=[("below-1", 0.5)]), "max_u0": Real(30.0),
    "min_d": Count(2), "max_d": Count(20), "min_kappa": NonNeg(0.25), "max_kappa": NonNeg(8.0),
    "margin": Flag(False, optional=True), "max_c": Real(1.0, extra=[("below-1", 0.5)]), "max_cond": Real(1e6),
    "d": Count(3), "max_norm": Pos(10.0), "max_extra": Count(6), "classes": Count(3, optional=True),
    "min_classes": Count(2), "max_classes": Count(10), "min_prob": NonNeg(0.0, extra=[("too-large", 0.9)]),
    "allow_zeros": Flag(True), "max_abs": Pos(50.0), "clustered": Flag(True),
    "claim": Obj(_claim_id(), skip=("str",)),  # an unknown id is the registry's documented KeyError "check_determinism": Flag(False), "seed": Seed(0),
}
TS = {
    "assert_claim": {"size": Choice("quick")}, "generators": {}, "gram_matrices": {}, "orthogonal_matrices": {"n": Count(3)},
    "spectra": {}, "least_squares_problems": {}, "logistic_problems": {"n_samples": _irange((8, 30)), "n_features": _irange((1, 3))},
    "softmax_problems": {"n_samples": _irange((8, 24)), "n_features": _irange((1, 3))}, "glm_problems": {},
    "teachers": {}, "gradient_pairs": {"n_samples": _irange((1, 20))}, "networks": {},
    "distillation_problems": {}, "green_gram_matrices": {}, "label_vectors": {}, "distillation_instances": {"max_points": Count(10)},
    "angular_tasks": {"max_d": Count(50)}, "data_matrices": {"min_d": Count(1), "min_n": Count(1), "max_n": Count(20)},
    "teacher_vectors": {"min_norm": Pos(0.1)}, "nested_datasets": {"max_d": Count(15)}, "categorical_distributions": {},
    "label_counts": {"max_classes": Count(6), "max_n": Count(50)}, "logits": {"n": Count(4, optional=True), "max_n": Count(50)},
    "point_sets": {"dim": Count(2), "max_points": Count(60)},
}

# ------------------------------------------------------------------------------------------------
# gpu_validation.data (data loading for the network experiments; random_shift_flip needs torch)
def _data_files():
    import os
    import pickle
    import struct
    import tempfile
    import atexit
    import shutil
    root = tempfile.mkdtemp(prefix="kd-badinput-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    idx = os.path.join(root, "tiny-idx1-ubyte")
    with open(idx, "wb") as fh:
        fh.write(struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", 3) + bytes([1, 2, 3]))
    cifar = os.path.join(root, "data_batch_1")
    with open(cifar, "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 1]}, fh)
    return idx, cifar


_IDX, _CIFAR = _data_files()


@factory
def _image_data():
    from gpu_validation.data import ImageData
    X = np.linspace(0.0, 1.0, 6 * 4, dtype=np.float32).reshape(6, 1, 2, 2)
    y = np.array([0, 1, 2, 0, 1, 2])
    return ImageData("toy", X, y, X[::-1].copy(), y[::-1].copy())


@factory
def _images():
    import torch
    return torch.linspace(0.0, 1.0, 2 * 1 * 4 * 4).reshape(2, 1, 4, 4)


@factory
def _torch_gen():
    import torch
    return torch.Generator().manual_seed(0)


_MISSING = ("missing", "/nonexistent/kd-badinput/file")
GD_POOL = {
    "dataset": Choice("digits"), "data_dir": Obj(None, optional=True, skip=("str",)), "test_fraction": Unit(0.3),
    "seed": Seed(0), "path": Obj(_IDX, extra=[_MISSING]), "expect_ndim": Count(1, optional=True),
    "X": Arr(np.linspace(0.0, 1.0, 12).reshape(3, 4)), "data": Obj(_image_data),
    "classes": Obj((0, 1), extra=[("absent", (0, 99)), ("same", (1, 1)), ("floats", (0.5, 1.0)), ("single", (0,)),
                                  ("negative", (-1, 1))]),
    "n_train": Count(2, optional=True), "n_test": Count(2, optional=True), "flatten": Flag(True),
    "normalize": Flag(True), "labels": Choice("pm1"), "x": Obj(_images), "generator": Obj(_torch_gen),
    "max_shift": Count(1, lo=0), "flip": Flag(False),
}
GD = {
    "load": {}, "where_files_go": {}, "read_idx": {}, "read_cifar_batch": {"path": Obj(_CIFAR, extra=[_MISSING])},
    "unit_norm": {"X": Arr(np.linspace(0.0, 1.0, 12).reshape(3, 4), skip=("extra-dim",))}, "two_class": {},
    "random_shift_flip": {},
}
#: entries that need an optional dependency (skipped cleanly without it)
REQUIRES = {"data.random_shift_flip": "torch"}

# ------------------------------------------------------------------------------------------------
REGISTRY = {
    "gpu_validation.data": (GD_POOL, GD),
    "kdtheory.testing": (TS_POOL, TS),
    "kdtheory.symbolic": (SY_POOL, SY),
    "kdtheory.label_distribution": (LD_POOL, LD),
    "kdtheory.linear_transfer": (LT_POOL, LT),
    "kdtheory.greens": (GR_POOL, GR),
    "kdtheory.self_distillation": (SD_POOL, SD),
    "kdtheory.kernel_regime": (KR_POOL, KR),
    "kdtheory.variance_reduction": (VR_POOL, VR),
}
#: result records (plain dataclasses returned by functions, no validation of their own): not perturbed
RECORDS = {"SmoothnessConstants", "SinPLConstants", "LinearisedSolution", "Covering", "ProperReport", "EarlyStoppingFit",
           "SelfDistillationPath", "Spectrum", "GreenFunction", "DistillationProblem", "Network", "Problem",
           "ImageData", "Activation", "MixedPath"}
CONSTANTS = {"MODELS", "SAMPLINGS", "NORMS", "LOSSES", "SCHEDULES", "ACTIVATIONS", "SYMBOLS", "MAX_CONDITION"}


@dataclasses.dataclass
class Entry:
    module: str
    name: str
    func: object
    kinds: dict  # argument name → kind (every argument the battery perturbs, plus the required ones)

    @property
    def id(self) -> str:
        return f"{self.module.split('.')[-1]}.{self.name}"

    def kwargs(self) -> dict:
        return {k: kind.valid() for k, kind in self.kinds.items()}


def public_names(module) -> list[str]:
    """Public callables: in ``__all__``, or defined in the module without a leading underscore."""
    names = set(getattr(module, "__all__", ()))
    for n, o in vars(module).items():
        if not n.startswith("_") and (inspect.isfunction(o) or inspect.isclass(o)) \
                and getattr(o, "__module__", "") == module.__name__:
            names.add(n)
    return sorted(n for n in names if callable(getattr(module, n)) and n not in CONSTANTS | RECORDS)


def entries() -> list[Entry]:
    out = []
    for modname, (pool, table) in REGISTRY.items():
        mod = importlib.import_module(modname)
        for name, over in table.items():
            func = getattr(mod, name)
            sig = inspect.signature(func)
            kinds = {}
            for p in sig.parameters.values():
                if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                    continue
                if p.name in over:
                    kinds[p.name] = over[p.name]
                elif p.name in pool:
                    kinds[p.name] = pool[p.name]
                elif p.default is p.empty:
                    raise KeyError(f"{modname}.{name}: no valid value for required argument {p.name!r}")
            out.append(Entry(modname, name, func, kinds))
    return out
