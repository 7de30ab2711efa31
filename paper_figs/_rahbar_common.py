"""Shared experiment of Rahbar et al. Figures 1–6 (paper 001), run in the kernel regime.

Paper's set-up (Sec. 4): unit-norm inputs, labels ±1, w ~ N(0, k²I) with k = 1e-2, a ∈ {±1} (eq. 16),
full-batch GD, a teacher of 100 hidden units and students of 20, λ = 0.01. At that width and scale the
weights move far (‖W_T − W_0‖/‖W_0‖ ≈ 7.9 in our earlier run): it is not the kernel regime the theory is about.
Here, so that the linearisation holds (the relative weight change is measured and shown on every figure):

* two digit classes (0 vs 1) of scikit-learn's digits, **centred** by the mean image of the training pool, then
  unit norm — raw pixels are non-negative, so H^∞ has a one-signed top eigenvector holding most of the trace
  and every unit's overlap with it is the same (that made Fig. 5's teachers indistinguishable);
* ReLU, w ~ N(0, I) (k = 1: with unit-norm x the pre-activations are O(1) and rarely change sign), a ∈ {±1};
* teacher m̄ = 200 (quick) / 1000 (full) units, students m = m̄/5 (the paper's ratio 100:20), λ = 0.01;
* step μ = 0.5/λ_max(H(0)) of the teacher's kernel (stable), horizon ``steps``; "imperfect" teacher = its
  weights after a tenth of the steps;
* every run is repeated over ``n_seeds`` seeds (network initialisation and the student's unit selection) and
  batched (the simulator runs all seeds at once); each statement of a caption is a figure claim decided on
  the per-seed differences with a 95 % t-interval (:mod:`verification.stats`).

The dashed curve of a student is the linearised dynamics (H_k frozen at initialisation, eq. 10–13) run with
the same steps (``simulate_two_layer``'s ``f_lin``); its distance to the simulated loss is reported.
"""

from __future__ import annotations

import functools

import numpy as np

from kdtheory import kernel_regime as kr
from verification.claims import observed
from verification.kernel_regime import digits_two_class, simulate_two_layer

ACT = "relu"
K_INIT = 1.0
LAM = 0.01
SIZES = {"quick": dict(n_train=40, m_teacher=200, steps=300, n_seeds=4, landmarks=30),
         "full": dict(n_train=150, m_teacher=1000, steps=1500, n_seeds=10, landmarks=100)}
GAMMAS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # the seven Gaussian kernels of Sec. 4.3
TOP = 5  # eigenvectors of H^∞ in the overlap parameter (Sec. 4.4)

STUDENTS = {  # name: (initialisation, teacher stage of φ, λ)
    "no_teacher": ("random", None, 0.0),
    "with_teacher": ("teacher", "final", LAM),
    "lottery": ("teacher", "final", 0.0),
    "imperfect": ("teacher", "early", LAM),
    "no_init": ("random", "final", LAM),
}
LABELS = {"no_teacher": "no teacher (labels only)", "with_teacher": "student with teacher (λ = 0.01)",
          "lottery": "student λ → 0 (lottery ticket)", "frozen": "student λ → ∞ (weights frozen)",
          "imperfect": "imperfect teacher (early weights)", "no_init": "no student initialisation",
          "teacher": "teacher"}


def config(size):
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    return dict(SIZES[size])


@functools.lru_cache(maxsize=2)
def data(n_train):
    """Digits 0 vs 1, centred by the training pool's mean image, unit norm; (Xtr, ytr, Xte, yte), X is d×n."""
    Xtr, ytr, Xte, yte = digits_two_class(classes=(0, 1), seed=0)  # unit norm
    mean = Xtr.mean(axis=1, keepdims=True)
    return (kr.normalize_columns(Xtr[:, :n_train] - mean), ytr[:n_train],
            kr.normalize_columns(Xte - mean), yte)


def embedding(Xtr, ytr, Xte, n_landmarks):
    """Sec. 4.3: alignf weights over GAMMAS, then unit-norm Nyström features of the combined kernel."""
    mu = kr.alignf(np.stack([kr.gaussian_kernel(Xtr, Xtr, g) for g in GAMMAS]), ytr)
    L = Xtr[:, :n_landmarks]

    def K(A, B):
        return sum(w * kr.gaussian_kernel(A, B, g) for w, g in zip(mu, GAMMAS) if w > 0)

    Ktr = kr.nystrom_embedding(K(Xtr, L), K(L, L), rtol=1e-8)
    Kte = kr.nystrom_embedding(K(Xte, L), K(L, L), rtol=1e-8)
    return kr.normalize_columns(Ktr.T), kr.normalize_columns(Kte.T), mu


def _mse(f, y):
    return np.mean((f - y) ** 2, axis=-1)  # (S, R)


def _rel_change(W_T, W_0):
    return np.linalg.norm(W_T - W_0, axis=(1, 2)) / np.linalg.norm(W_0, axis=(1, 2))  # (S,)


def _fgap(run, y):
    """sup_t ‖f(t) − f_lin(t)‖ / ‖y − f(0)‖ per seed: how far the network leaves its linearisation."""
    return np.max(np.linalg.norm(run.f - run.f_lin, axis=2), axis=1) / np.linalg.norm(y - run.f[:, 0], axis=1)


def _train(Xtr, ytr, Xte, yte, cfg, *, seed0=0):
    """Teacher and the students of STUDENTS on one input representation, all seeds batched."""
    S, mb = cfg["n_seeds"], cfg["m_teacher"]
    m, steps = mb // 5, cfg["steps"]
    d = Xtr.shape[0]
    rngs = [np.random.default_rng(seed0 + s) for s in range(S)]
    W0 = np.stack([K_INIT * r.standard_normal((mb, d)) for r in rngs])
    ab = np.stack([r.choice([-1.0, 1.0], mb) for r in rngs])
    lr = 0.5 / max(float(np.linalg.eigvalsh(kr.kernel_matrix(W0[s], Xtr, ab[s], ACT))[-1]) for s in range(S))
    every = max(1, steps // 100)
    zeros = np.zeros((mb, Xtr.shape[1]))
    early = simulate_two_layer(W0, ab, Xtr, ytr, zeros, 0.0, ACT, lr=lr, steps=steps // 10, record_every=steps,
                               linearised=False)
    teacher = simulate_two_layer(W0, ab, Xtr, ytr, zeros, 0.0, ACT, lr=lr, steps=steps, record_every=every,
                                 X_test=Xte)
    out = {"t": teacher.t, "lr": lr, "steps": steps, "m_teacher": mb, "m_student": m,
           "teacher": {"train": _mse(teacher.f, ytr), "test": _mse(teacher.f_test, yte),
                       "pred": _mse(teacher.f_lin, ytr), "rel_change": _rel_change(teacher.W, W0),
                       "fgap": _fgap(teacher, ytr)},
           "W_teacher": {"early": early.W, "final": teacher.W}}
    idx = np.stack([r.choice(mb, size=m, replace=False) for r in rngs])  # Thm 2's random selection
    take = np.arange(S)[:, None]
    a = ab[take, idx]
    for name, (init, stage, lam) in STUDENTS.items():
        Wt = out["W_teacher"][stage or "final"][take, idx]  # (S, m, d) selected teacher units
        phi = np.stack([kr.unit_outputs(Wt[s], Xtr, ACT) for s in range(S)]) if stage else np.zeros((S, m, Xtr.shape[1]))
        Ws0 = Wt.copy() if init == "teacher" else np.stack([K_INIT * r.standard_normal((m, d)) for r in rngs])
        run = simulate_two_layer(Ws0, a, Xtr, ytr, phi, lam, ACT, lr=lr, steps=steps, record_every=every, X_test=Xte)
        out[name] = {"train": _mse(run.f, ytr), "test": _mse(run.f_test, yte), "pred": _mse(run.f_lin, ytr),
                     "rel_change": _rel_change(run.W, Ws0), "fgap": _fgap(run, ytr), "W": run.W}
    # λ → ∞ with the student at the teacher: loss (2) is 0 at initialisation, the weights never move (Sec. 4.1)
    f0 = out["with_teacher"]["train"][:, :1]
    out["frozen"] = {"train": np.repeat(f0, len(out["t"]), axis=1),
                     "test": np.repeat(out["with_teacher"]["test"][:, :1], len(out["t"]), axis=1),
                     "pred": None, "rel_change": np.zeros(S), "fgap": np.zeros(S)}
    out["selection"] = idx
    return out


@functools.lru_cache(maxsize=4)
def experiment(size, embedded=False, n_seeds=None):
    """All runs of Figs 1–6 at ``size`` on raw (centred) inputs or on the kernel embedding (Figs 4, 6);
    ``n_seeds`` (the runner's ``--seeds``) replaces the size's number of seeds."""
    cfg = config(size)
    if n_seeds is not None:
        if int(n_seeds) < 2:
            raise ValueError(f"n_seeds must be >= 2 (an interval over seeds), got {n_seeds}")
        cfg["n_seeds"] = int(n_seeds)
    Xtr, ytr, Xte, yte = data(cfg["n_train"])
    mu = None
    if embedded:
        Xtr, Xte, mu = embedding(Xtr, ytr, Xte, cfg["landmarks"])
    out = _train(Xtr, ytr, Xte, yte, cfg)
    out.update(X=Xtr, y=ytr, cfg=cfg, alignf_weights=None if mu is None else mu.tolist())
    return out


def overlaps(exp, W):
    """Sec. 4.4: per-unit overlap with the top eigenvectors of H^∞ (arc-cosine kernel of the inputs used), per seed:
    (S, units)."""
    Hinf = kr.arccos_kernel(exp["X"])
    return np.stack([kr.overlap_parameters(kr.unit_outputs(Ws, exp["X"], ACT), Hinf, top=TOP) for Ws in W])


def statement(diffs, what):
    """A caption statement "A better than B" decided on per-seed differences (B − A > 0) at 95 %: holds when the
    whole interval is > 0, otherwise not_reproduced with the interval as the reason."""
    from verification.stats import compare_samples
    diffs = np.asarray(diffs, float)
    v = compare_samples(diffs, 0.0, ">=", details={"measured_is": what, "per_seed": diffs.tolist()})
    if v.status == "holds" and float(np.min(v.details["interval"])) > 0:
        return v
    lo, hi = v.details["interval"]
    return observed(False, predicted=0.0, measured=v.measured, relation=">=",
                    reason=f"{what}: mean {v.measured:.3g}, 95% CI [{lo:.3g}, {hi:.3g}] over {len(diffs)} seeds — "
                           "not positive", details=v.details)


def loss_statement(worse, better, what):
    """"``better`` has the lower loss": :func:`statement` on the per-seed log-ratios log(worse/better) (losses vary
    over orders of magnitude between seeds; the ratio is the scale-free comparison)."""
    return statement(np.log(np.asarray(worse, float)) - np.log(np.asarray(better, float)),
                     what.replace(" − ", " vs ") + " (log-ratio)")


def regime(exp, names):
    """Per run (max over seeds): relative weight change ‖W_T − W_0‖/‖W_0‖, sup_t ‖f − f_lin‖/‖y − f(0)‖ (function
    space) and the largest relative gap between the simulated training loss and the linearised prediction."""
    rc = {nm: float(np.max(exp[nm]["rel_change"])) for nm in names}
    fg = {nm: float(np.max(exp[nm]["fgap"])) for nm in names}
    lg = {nm: float(np.max(np.abs(exp[nm]["pred"] - exp[nm]["train"]) / exp[nm]["train"]))
          for nm in names if exp[nm]["pred"] is not None}
    return rc, fg, lg


def regime_claim(exp, names, *, tol=0.25):
    """Our statement that the figure's runs are in the kernel regime: every run's relative weight change and
    function-space distance to its linearisation ≤ ``tol``."""
    rc, fg, lg = regime(exp, names)
    worst = max(max(rc.values()), max(fg.values()))
    return observed(bool(worst <= tol), predicted=tol, measured=worst, relation="<=",
                    reason=f"max relative weight change {max(rc.values()):.3g}, max sup_t‖f − f_lin‖/‖y − f(0)‖ "
                           f"{max(fg.values()):.3g} (tolerance {tol}); relative gap of the dashed training-loss "
                           f"curves {max(lg.values()):.2g} (late, small losses magnify it)",
                    details={"relative_weight_change": rc, "function_gap": fg, "training_loss_gap": lg})


def verdict_lines(v, labels):
    """One title line per part of a combined figure verdict (``labels``: part name → text)."""
    parts = v.details.get("parts", {})
    out = []
    for name, text in labels.items():
        p = parts.get(name)
        if p is None:
            continue
        det = p.get("details", {})
        iv = det.get("interval")
        ci = f", 95% CI [{iv[0]:.2g}, {iv[1]:.2g}]" if iv else ""
        word = "observed" if p["status"] == "holds" else p["status"].replace("_", " ")
        out.append(f"{text}: {word} (mean margin {p['measured']:.2g}{ci})")
    return out


def curves(exp, names):
    """Mean curves over seeds (for drawing) and the per-run relative weight change."""
    out = {"t": exp["t"].tolist()}
    for nm in names:
        r = exp[nm]
        out[nm] = {"train": r["train"].mean(0).tolist(), "test": r["test"].mean(0).tolist(),
                   "pred": None if r["pred"] is None else r["pred"].mean(0).tolist(),
                   "rel_change": float(np.max(r["rel_change"]))}
    return out


def draw(axes, cur, names, colors):
    t = np.asarray(cur["t"])
    for nm, col in zip(names, colors):
        c = cur[nm]
        lab = f"{LABELS[nm]} (Δw/w ≤ {c['rel_change']:.2g})"
        axes[0].plot(t, c["train"], color=col, label=lab)
        axes[1].plot(t, c["test"], color=col, label=lab)
        if c["pred"] is not None:
            axes[0].plot(t, c["pred"], color=col, ls="--", lw=1.0, alpha=0.8)


def finish(fig, axes, title, verdict_lines):
    for ax, name in zip(axes, ("training loss", "test loss")):
        ax.set_xlabel("time t = steps × learning rate")
        ax.set_ylabel(f"{name} (mean squared error, mean over seeds)")
        ax.set_yscale("log")
    axes[0].legend(fontsize=6, loc="upper right", title="dashed: linearised dynamics (H_k frozen)", title_fontsize=6)
    axes[1].legend(fontsize=6, loc="upper right")
    axes[0].set_title("(a) training loss", fontsize=9)
    axes[1].set_title("(b) test loss", fontsize=9)
    fig.suptitle(title + "\n" + "\n".join(verdict_lines), fontsize=8)
    return fig


def final_loss_parts(exp, others, ref, ref_label):
    """Parts "``ref`` ends with a lower training and test loss than each of ``others``" (log-ratios over seeds)."""
    return {f"{k}_vs_{nm}": loss_statement(exp[nm][k][:, -1], exp[ref][k][:, -1], f"final {k} loss: {nm} − {ref_label}")
            for nm in others for k in ("train", "test")}


def overlap_claim(ov, teachers, students, what):
    """Combined verdict "the first of each pair overlaps more" over seeds; ``ov``: name → (S, units) overlaps;
    ``teachers``/``students``: (better, worse) names. Keeps seed 0's histograms for drawing."""
    from verification.claims import combine
    parts = {who: statement(ov[b].mean(1) - ov[w].mean(1), f"mean overlap: {b} − {w}")
             for who, (b, w) in (("teachers", teachers), ("students", students))}
    return combine(parts, details={"overlaps_seed0": {k: x[0].tolist() for k, x in ov.items()},
                                   "mean_overlap": {k: float(x.mean()) for k, x in ov.items()}, "statement": what})


def draw_overlaps(v, groups, title, labels):
    """Two histogram panels (teachers, students) from an :func:`overlap_claim` verdict; ``groups``: per panel a list
    of (name, legend text, colour)."""
    from matplotlib.figure import Figure
    ov = v.details["overlaps_seed0"]
    fig = Figure(figsize=(11, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    bins = np.linspace(0, 0.6, 31)
    for ax, group in zip(axes, groups):
        for name, text, col in group:
            x = np.asarray(ov[name])
            ax.hist(x, bins=bins, alpha=0.55, color=col, label=f"{text} (mean {x.mean():.3f})")
        ax.set_xlabel(f"overlap (mean |⟨φ_k/‖φ_k‖, u_j⟩| over the top {TOP} eigenvectors of H-infinity)")
        ax.set_ylabel("number of hidden units (seed 0)")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_title("(a) teachers", fontsize=9)
    axes[1].set_title(f"(b) students (λ = {LAM})", fontsize=9)
    fig.suptitle(title + "\n" + "\n".join(verdict_lines(v, labels)), fontsize=8)
    return fig
