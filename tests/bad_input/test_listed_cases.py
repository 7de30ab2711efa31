"""Every case listed in issue 12 (an independent fuzz run), each pinned to the behaviour it must have now.

The generic battery (``test_battery.py``) covers them too; these tests name each reported case so that a
regression points at the report. ``_raises(exc, name)`` asserts the error class and that the message names
the argument (word boundary), as the battery does.
"""

from __future__ import annotations

import math
import re
import signal

import numpy as np
import pytest

from gpu_validation import data as gd
from kdtheory import greens as gr
from kdtheory import kernel_regime as kr
from kdtheory import label_distribution as ld
from kdtheory import linear_transfer as lt
from kdtheory import self_distillation as sd
from kdtheory import testing as T
from kdtheory import validation as V
from kdtheory import variance_reduction as vr


class _raises:
    """``with _raises(ValueError, "tol"):`` — the error and a message naming the argument, within 10 s."""

    def __init__(self, exc, name):
        self.exc, self.name = exc, name

    def __enter__(self):
        def handler(signum, frame):
            raise TimeoutError("no answer within 10 s (a hang)")
        self.old = signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 10.0)
        self.ctx = pytest.raises(self.exc)
        self.info = self.ctx.__enter__()
        return self.info

    def __exit__(self, *exc_info):
        try:
            out = self.ctx.__exit__(*exc_info)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        msg = str(self.info.value)
        assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(self.name)}(?![A-Za-z0-9_])", msg), msg
        return out


A = np.array([[1.0, 0.5, 1.0], [0.2, 1.0, 1.0], [-0.3, 0.4, 1.0], [0.8, -0.6, 1.0]])
B = np.array([1.0, 0.0, 0.5, -1.0])
W = np.array([[0.6, -0.4, 0.3], [-0.2, 0.5, 0.7]])
X = kr.normalize_columns(np.array([[1.0, 0.2], [0.3, 1.0], [0.5, -0.4]]))
a = np.array([1.0, -0.7])
H = kr.gram_blocks(W, X, "tanh")
y, phi, F0 = np.array([0.5, -0.3]), np.array([[0.2, 0.1], [-0.1, 0.3]]), np.zeros((2, 2))
G3 = np.array([[0.5, 0.1, 0.05], [0.1, 0.4, 0.1], [0.05, 0.1, 0.3]])


def _nan_p(theta):
    return np.full(np.shape(theta), np.nan)


# ------------------------------------------------------------------------------- silently accepted input
def test_complex_input_is_not_truncated_to_its_real_part():
    with _raises(TypeError, "x"):
        vr.loss("least_squares", np.ones(3) * (1 + 5j), A, B)
    with _raises(TypeError, "x"):
        V.scalar("x", 1 + 5j)
    with _raises(TypeError, "x"):
        V.as_array("x", np.array(2.0 + 1j))


@pytest.mark.parametrize("call,name", [
    (lambda: ld.fit_temperature(np.eye(3), np.arange(3), xatol=math.nan), "xatol"),
    (lambda: kr.linearised_solution(H, a, 0.5, y, phi, F0, rtol=math.nan), "rtol"),
    (lambda: kr.nystrom_embedding(np.ones((2, 3)), G3, rtol=math.nan), "rtol"),
])
def test_nan_tolerances_are_rejected(call, name):
    with _raises(ValueError, name):
        call()


@pytest.mark.parametrize("call,name", [
    (lambda: vr.optimal_lambda(A, A, 0.1, clip="no"), "clip"),
    (lambda: lt.transfer_risk_bound(lt.polynomial_task(4, 2.0), 3, tight="no"), "tight"),
    (lambda: vr.expected_smoothness("least_squares", A, B, pl="no"), "pl"),
    (lambda: vr.lemma6_rhs(1.0, 0.01, 0.5, 3.0, 0.1, 1.0, 0.2, printed="no"), "printed"),
    (lambda: lt.corollary2_corrected_bound(3, 2.0, clip="no"), "clip"),
    (lambda: ld.check_proper("brier", 3, np.random.default_rng(0), n_q=2, n_p=2, symbolic="no"), "symbolic"),
])
def test_truthy_strings_are_not_flags(call, name):
    with _raises(TypeError, name):
        call()


@pytest.mark.parametrize("call,name", [
    (lambda: V.scalar("n", 1e300, integer=True), "n"),
    (lambda: ld.check_proper("brier", 3, np.random.default_rng(0), n_q=1e300), "n_q"),
    (lambda: lt.balanced_init(5, 1e300, 1.0, np.random.default_rng(0)), "N"),
    (lambda: ld.symbolic_divergence("nll", 1e300), "K"),
    (lambda: ld.symbolic_properness("brier", 1e300), "K"),
])
def test_absurd_integers_are_rejected_at_once(call, name):
    with _raises(ValueError, name):
        call()


@pytest.mark.parametrize("fn,args", [
    (kr.poles, (-H, a, 0.5)), (kr.hbar, (-H, a, 0.5)), (kr.symmetric_form, (-H, a, 0.5)),
    (kr.secular_poles, (-H, a, 0.5)), (kr.secular_determinant, (0.3, -H, a, 0.5)),
    (kr.linearised_solution, (-H, a, 0.5, y, phi, F0)), (kr.linearised_limit, (-H, a, 0.5, y, phi, F0)),
    (kr.predicted_trajectory, (-H, a, 0.5, y, phi, F0, [0.0, 1.0])),
    (kr.thm3_coefficients, (-H, a, 0.5, y, phi, F0, [1.0])),
    (kr.thm3_printed_coefficients, (-H, a, 0.5, y, phi, F0, [1.0])),
])
def test_negative_definite_H_blocks_are_rejected(fn, args):
    with _raises(ValueError, "H_blocks") as info:
        fn(*args)
    assert "positive semi-definite" in str(info.value)


def test_minibatch_loss_and_quadratic_gap_validate():
    Xs = np.zeros((2, 3, 3))
    with _raises(ValueError, "model"):
        vr.minibatch_loss("bogus", Xs, A, B, np.array([[0, 1], [2, 3]]))
    with _raises(ValueError, "idx"):  # negative indices would wrap around
        vr.minibatch_loss("least_squares", Xs, A, B, np.array([[0, -1], [2, 3]]))
    with _raises(ValueError, "x_star"):
        vr.quadratic_gap(np.zeros((3, 3)), A, [np.nan, 0.0, 0.0])
    with _raises(TypeError, "A"):
        vr.quadratic_gap(np.zeros((3, 3)), A * 1j, np.zeros(3))


def test_two_class_rejects_a_class_absent_from_the_data():
    data = gd.ImageData("toy", np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1]),
                        np.zeros((2, 1, 2, 2), np.float32), np.array([0, 1]))
    with _raises(ValueError, "classes"):
        gd.two_class(data, classes=(0, 99))


def test_load_needs_a_seed():
    with _raises(TypeError, "seed"):
        gd.load("digits", seed=None)


def test_minimizer_rejects_a_non_integral_number_of_classes():
    with _raises(ValueError, "K"):
        vr.minimizer("softmax", A, np.array([0, 1, 1, 0]), K=2.5)


# ------------------------------------------------------------------------- NaN masked as a plausible number
def test_nan_p_is_not_masked_as_a_bound():
    with _raises(ValueError, "p"):
        lt.transfer_risk_bound(_nan_p, 3)
    with _raises(ValueError, "p"):
        lt.optimal_beta(_nan_p, 3)


def test_balancedness_defect_of_nan_or_no_factors():
    with _raises(ValueError, "Ws"):
        lt.balancedness_defect([np.full((2, 2), np.nan), np.ones((1, 2))])
    with _raises(ValueError, "Ws"):
        lt.balancedness_defect([])


def test_effective_basis_count_of_nan():
    with _raises(ValueError, "log_B"):
        sd.effective_basis_count([[np.nan, 0.0]])
    np.testing.assert_allclose(sd.effective_basis_count([[0.0, -np.inf]]), [1.0])  # −inf = an exact zero of B


# ------------------------------------------------------------------------------------------ NaN/inf escapes
@pytest.mark.parametrize("call,name", [
    (lambda: sd.residual_mse([0.1, np.nan], [1.0, 1.0], 0.5), "d"),
    (lambda: sd.h(0.5, [0.1, 0.2], [1.0, np.nan], 0.1), "z"),
    (lambda: sd.multiplier_bracket_printed([0.1, 0.2], [1.0, 2.0], np.nan), "eps"),
    (lambda: sd.prop5_ratio_bound(2.0, 3, 0.05, 0.5, [np.nan], [1.2], [1.0]), "d_j"),
    (lambda: sd.prop6_bound(2.0, 3, 0.05, 0.5, [0.6], [1.2], np.nan), "kappa"),
    (lambda: sd.training_loss(sd.self_distill(G3, [1.0, -0.5, 0.8], 0.05, 2), [np.nan, 0.0, 0.0]), "y0"),
])
def test_self_distillation_nan_does_not_escape(call, name):
    with _raises(ValueError, name):
        call()


def test_prop4_crossing_at_infinite_kappa_is_its_limit():
    assert sd.prop4_crossing(3.0, math.inf) == 0.0
    assert sd.prop4_crossing(3.0, 1e300) == 0.0  # κ ≫ u₀: the same limit, no math domain error
    assert 0.0 <= sd.prop4_crossing(3.0, 1e6) < sd.prop4_crossing(3.0, 10.0)


def test_final_value_with_huge_output_weights_is_scaled():
    f = kr.final_value(y, phi, a * 1e300, 0.5)
    np.testing.assert_allclose(f, y, rtol=1e-12)  # a → ∞: f_∞ = (a y + λ cφ)/(a + λ) → y
    np.testing.assert_allclose(kr.final_value(y, phi, a * 1e100, 0.5), y, rtol=1e-12)
    assert np.all(np.isfinite(kr.unit_final_values(y, phi, a * 1e300, 0.5)))
    assert math.isfinite(kr.final_error(y, phi, a * 1e300, 0.5))


def test_full_gradient_at_huge_scale_never_returns_nan():
    try:
        g = vr.full_gradient("least_squares", np.ones(3), A * 1e300, B)
    except ValueError as exc:
        assert "overflows float64" in str(exc)
    else:
        assert np.all(np.isfinite(g))
    g = vr.full_gradient("least_squares", np.ones(3), A * 1e150, B)  # representable: the mean at unit scale
    assert np.all(np.isfinite(g))


def test_user_callables_are_checked():
    bad = kr.Activation("bad", lambda z: np.full_like(z, np.nan), lambda z: np.ones_like(z))
    with _raises(ValueError, "activation"):
        kr.unit_outputs(W, X, bad)
    short = kr.Activation("short", lambda z: z.ravel()[:1], lambda z: np.ones_like(z))
    with _raises(ValueError, "activation"):
        kr.network_output(W, a, X, short)
    with _raises(ValueError, "kernel"):
        gr.gram([0.2, 0.5], lambda x, t: np.full(np.broadcast(x, t).shape, np.nan))
    with _raises(ValueError, "kernel"):
        gr.gram([0.2, 0.5], lambda x, t: np.ones(3))


def test_teachers_reject_a_nan_optimum():
    with _raises(ValueError, "x_star"):
        T.teachers(T.Problem("least_squares", np.ones((3, 2)), np.ones(3), np.array([np.nan, 0.0])))


# ------------------------------------------------------------------------------------------ bare exceptions
@pytest.mark.parametrize("call,name", [
    (lambda: lt.balanced_init(3, 2, 1.0, None), "rng"),
    (lambda: ld.check_proper("brier", 3, None), "rng"),
    (lambda: lt.sample_student_angles(lt.polynomial_task(4, 2.0), 2, 3, None), "rng"),
    (lambda: lt.expected_transfer_risk(None, 2, 3, np.random.default_rng(0)), "task"),
    (lambda: lt.transfer_risk(np.ones(4), None), "task"),
])
def test_none_generator_or_task_is_a_type_error(call, name):
    with _raises(TypeError, name):
        call()


def test_beta_of_a_scalar():
    with _raises(ValueError, "grads_teacher"):
        vr.beta(np.float64(1.0))


def test_lemma6_rhs_at_tiny_gamma_is_no_zero_division():
    v = vr.lemma6_rhs(1.0, 1e-300, 0.5, 3.0, 0.1, 1.0, 0.2)
    assert v == math.inf  # the true value ~1e600 overflows; inf is an honest upper bound, not NaN
    assert vr.lemma6_rhs(1.0, 1e-300, 0.5, 3.0, 0.0, 1.0, 0.2) == pytest.approx(4 * 6.0 * 1.0 + 4 * 0.2)


def test_theorem1_rate_bound_at_huge_mu_is_no_overflow_error():
    with _raises(ValueError, "mu"):
        vr.theorem1_rate_bound(5, 0.01, 1e300, 2.0, 3.0, 1.0, 0.2, 0.1, 0.2)


def test_poles_with_huge_output_weights():
    with _raises(ValueError, "a"):
        kr.poles(H, a * 1e300, 0.5)


def test_smoothed_minimiser_with_huge_eps():
    p = ld.smoothed_minimiser([0.5, 0.3, 0.2], 1e300)
    np.testing.assert_allclose(p, [1.0, 0.0, 0.0])
    # agrees with the KKT form at a moderate eps (the printed one where it is feasible)
    np.testing.assert_allclose(ld.smoothed_minimiser([0.5, 0.3, 0.2], 0.01),
                               ld.printed_smoothed_minimiser([0.5, 0.3, 0.2], 0.01), rtol=1e-12)


@pytest.mark.parametrize("call,name", [
    (lambda: gr.spline_green([0.2, 0.5, 0.8], [0.3, 0.7]), "x"),
    (lambda: lt.signed_angle(1.0, 2.0), "u"),
    (lambda: gd.read_cifar_batch("/nonexistent/kd-badinput/data_batch_1"), "path"),
])
def test_shape_mismatch_and_missing_file_are_value_errors(call, name):
    with _raises(ValueError, name):
        call()


# ------------------------------------------------------------------------------------ wrong names, messages
@pytest.mark.parametrize("call,name", [
    (lambda: sd.prop3_lower_bound(-1.0, 3, 0.05, 3.0, [1.0]), "z0_norm"),
    (lambda: lt.approximate_delta(0.1, -1.0), "w_hat_norm"),
    (lambda: vr.direction_variance(np.full((3, 2), np.nan), np.ones((3, 2)), 0.5), "grads_x"),
    (lambda: gr.gram([2.0, 0.5]), "points"),
])
def test_messages_name_the_right_argument(call, name):
    with _raises(ValueError, name):
        call()


def test_green_function_messages_and_tiny_weights():
    with _raises(ValueError, "bcs") as info:
        gr.green_function({2: 1}, [(0, 0)] * 4)
    assert "repeated" in str(info.value) and "got 4" not in str(info.value)
    g = gr.green_function({2: 1e-300}, [(0, 0), (1, 0), (0, 2), (1, 2)])
    assert g.weights[2] != 0
    ref = gr.spline_green_symbolic()
    assert float(g(0.3, 0.6)) == pytest.approx(1e300 * float(ref(0.3, 0.6)), rel=1e-9)  # g = g_(w=1)/w


def test_strategies_check_their_arguments_when_built():
    with _raises(TypeError, "min_points"):
        T.distillation_instances(min_points=1.5)
    with _raises(ValueError, "max_n"):
        T.gram_matrices(n=3, max_n=0)


def test_round_functions_of_a_path_collapsed_at_round_0_is_empty():
    path = sd.self_distill(G3, [0.01, 0.0, 0.0], 1.0, 3)
    assert path.collapsed_at == 0 and path.rounds_fitted == 0
    out = sd.round_functions(np.ones((2, 3)) * 0.1, G3, path)
    assert out.shape == (0, 2)
