"""Shared set-up of Rahbar et al. Figures 1–3 and 5 (paper 001) on two classes of scikit-learn digits.

Paper's set-up (Sec. 4): unit-norm inputs, labels ±1, w ~ N(0, k²I) with k = 1e-2, a ∈ {±1} (eq. 16),
full-batch GD, a teacher with 100 hidden units and students with 20, λ = 0.01. Activation: ReLU (as in
the paper's reference [1]). The student's privileged knowledge φ_k are the features of 20 randomly
selected teacher units (Thm 2's scheme); "initialised at the teacher" means w_k(0) = w̄_{l_k}, a_k = ā_{l_k}.

Losses are mean squared errors (1/n)Σ_i (y_i − f(x_i))². The pole-predicted curve of a student is the
exact solution of its linearised dynamics (``kdtheory.kernel_regime.linearised_solution``: the poles of
H̄ and their modes), drawn dashed over the simulated one.
"""

from __future__ import annotations

import functools

import numpy as np

from kdtheory import kernel_regime as kr
from verification.kernel_regime import digits_two_class, simulate_two_layer

ACT = "relu"
K_INIT = 1e-2
M_TEACHER, M_STUDENT = 100, 20
LAM = 0.01


def sizes(size):
    """(n_train, horizon T, step) per figure size."""
    return (50, 40.0, 0.1) if size == "quick" else (180, 200.0, 0.04)


@functools.lru_cache(maxsize=4)
def data(n_train):
    Xtr, ytr, Xte, yte = digits_two_class(classes=(0, 1), seed=0)
    return Xtr[:, :n_train], ytr[:n_train], Xte, yte


@functools.lru_cache(maxsize=4)
def teacher(size):
    """Train the 100-unit teacher on the labels (λ = 0); returns its run and the weights at T/10 and T."""
    return teacher_on(size, *data(sizes(size)[0]))


def teacher_on(size, Xtr, ytr, Xte, yte):
    """The teacher of :func:`teacher` on given data (d×n inputs)."""
    n, T, lr = sizes(size)
    rng = np.random.default_rng(0)
    W0 = K_INIT * rng.standard_normal((M_TEACHER, Xtr.shape[0]))
    a = rng.choice([-1.0, 1.0], M_TEACHER)
    steps = int(round(T / lr))
    zeros = np.zeros((M_TEACHER, Xtr.shape[1]))
    early = simulate_two_layer(W0, a, Xtr, ytr, zeros, 0.0, ACT, lr=lr, steps=steps // 10, linearised=False)
    run = simulate_two_layer(W0, a, Xtr, ytr, zeros, 0.0, ACT, lr=lr, steps=steps,
                             record_every=max(1, steps // 100), X_test=Xte, linearised=False)
    return run, a, early.W[0], run.W[0]


def student(size, *, lam, init="teacher", teacher_stage="final", seed=1, predict=True, return_weights=False,
            dataset=None, teacher_run=None):
    """Train a 20-unit student on eq. (2). init: "teacher" (w(0) = selected teacher units) or "random";
    teacher_stage: "final" or "early" (imperfect teacher). Returns (t, train loss, test loss, predicted
    train loss or None). ``dataset``/``teacher_run`` replace the default digits data and teacher."""
    n, T, lr = sizes(size)
    Xtr, ytr, Xte, yte = dataset if dataset is not None else data(n)
    _, a_bar, W_early, W_final = teacher_run if teacher_run is not None else teacher(size)
    rng = np.random.default_rng(seed)
    idx = rng.choice(M_TEACHER, size=M_STUDENT, replace=False)
    Wt = (W_final if teacher_stage == "final" else W_early)[idx]
    a = a_bar[idx]
    phi = kr.unit_outputs(Wt, Xtr, ACT)
    W0 = Wt.copy() if init == "teacher" else K_INIT * rng.standard_normal(Wt.shape)
    steps = int(round(T / lr))
    run = simulate_two_layer(W0, a, Xtr, ytr, phi, lam, ACT, lr=lr, steps=steps,
                             record_every=max(1, steps // 100), X_test=Xte, linearised=False)
    train = np.mean((run.f[0] - ytr) ** 2, axis=1)
    test = np.mean((run.f_test[0] - yte) ** 2, axis=1)
    if return_weights:
        return run.W[0], Wt
    pred = None
    if predict:
        H = kr.gram_blocks(W0, Xtr, ACT)
        sol = kr.linearised_solution(H, a, lam, ytr, phi, kr.unit_outputs(W0, Xtr, ACT))
        pred = np.mean((sol.f(run.t) - ytr) ** 2, axis=1)
    return run.t, train, test, pred


def teacher_curves(size, dataset=None, teacher_run=None):
    n, _, _ = sizes(size)
    _, ytr, _, yte = dataset if dataset is not None else data(n)
    run = (teacher_run if teacher_run is not None else teacher(size))[0]
    return run.t, np.mean((run.f[0] - ytr) ** 2, axis=1), np.mean((run.f_test[0] - yte) ** 2, axis=1)


def draw(axes, t, train, test, pred, label, color):
    axes[0].plot(t, train, color=color, label=label)
    axes[1].plot(t, test, color=color, label=label)
    if pred is not None:
        axes[0].plot(t, pred, color=color, ls="--", lw=1.2, alpha=0.9)


def finish(fig, axes, title):
    for ax, name in zip(axes, ("training loss", "test loss")):
        ax.set_xlabel("time t = steps × learning rate")
        ax.set_ylabel(f"{name} (mean squared error)")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    axes[0].set_title("(a) training loss — dashed: pole prediction (linearised)", fontsize=9)
    axes[1].set_title("(b) test loss", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return fig
