"""Shared set-up of the paper-000 figures (Safaryan et al.): linear soft-max on scikit-learn digits.

The paper trains linear models on MNIST / CIFAR-10 features with SGD (no momentum, no regularisation,
fixed step, batch 10) and reports per-epoch running averages of the mini-batch cross-entropy; here the
same protocol runs on ``sklearn.datasets.load_digits`` (ships with scikit-learn, no download).

Data: the 8×8 digits average-pooled to 4×4 (16 features) and standardised. On the raw 64 pixels the
1,797 training digits are linearly separable, so the unregularised soft-max loss has no minimiser: an
L-BFGS teacher then has (numerically) zero per-sample gradients and, by eq. (5), no effect at all. The
pooled problem has a finite optimum (train loss ≈ 0.194), like the paper's CIFAR-10 linear probe.
Formulas come from :mod:`kdtheory.variance_reduction`, iterations from :mod:`verification.simulate`.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from scipy import optimize

from kdtheory import variance_reduction as vr
from verification import simulate as sim

BATCH = 10


def _load_digits():
    """``load_digits(return_X_y=True)`` without importing scikit-learn (seconds on a busy machine):
    read the same ``digits.csv.gz`` that ships inside the installed package; fall back to sklearn."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", "digits.csv.gz")
        if os.path.exists(path):
            data = np.loadtxt(path, delimiter=",")
            return data[:, :-1], data[:, -1].astype(int)
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


@functools.lru_cache(maxsize=1)
def digits():
    """Lifted pooled digits inputs (16 standardised features, bias last) and one-hot labels: A (1797, 17), B (1797, 10)."""
    X, y = _load_digits()
    P = X.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16)
    P = (P - P.mean(axis=0)) / P.std(axis=0)
    A = vr.lift(P)
    B = np.eye(10)[y]
    return A, B


@functools.lru_cache(maxsize=1)
def digits_split(train_fraction: float = 0.8):
    """A fixed (seed 0) train / validation split of :func:`digits`: (A_train, B_train, A_val, B_val)."""
    A, B = digits()
    perm = np.random.default_rng(0).permutation(A.shape[0])
    n = int(round(train_fraction * A.shape[0]))
    tr, va = np.sort(perm[:n]), np.sort(perm[n:])
    return A[tr], B[tr], A[va], B[va]


def oracle(data=None):
    A, B = digits() if data is None else data
    return sim.glm_oracle("softmax", A, B)


def epochs_for(size: str, quick: int, full: int = 100) -> int:
    return quick if size == "quick" else full


def train(teacher, lams, gamma, epochs, seed, *, n_seeds=1, unbiased=False, compressor=None, extra_observers=None,
          x0=None, observe_every=1, data=None):
    """Run (7)/(16)/(18) on digits for ``epochs`` epochs with batch 10 and per-epoch windows.

    ``teacher``: parameters θ (17, 10) or None (plain SGD: zero teacher gradients). Returns the
    SimulationResult; ``windows["loss"]`` holds per-epoch running averages of the mini-batch loss
    (over every ``observe_every``-th batch). ``data``: the training set (A, B) (default: all of :func:`digits`).
    """
    A, B = digits() if data is None else data
    orc = oracle((A, B))
    tg = np.zeros((A.shape[0],) + orc.xshape) if teacher is None else vr.per_sample_gradients("softmax", teacher, A, B)
    steps_per_epoch = A.shape[0] // BATCH
    obs = {"loss": orc.loss}
    obs.update(extra_observers or {})
    return sim.simulate_distillation(orc, np.zeros(orc.xshape) if x0 is None else x0, tg, np.asarray(lams, float),
                                     gamma, epochs * steps_per_epoch, n_seeds=n_seeds,
                                     rng=np.random.default_rng(seed), batch_size=BATCH, sampling="epoch",
                                     unbiased=unbiased, compressor=compressor, observers=obs, window=steps_per_epoch,
                                     observe_every=observe_every)


def sgd_teacher(gamma, epochs, seed=0, data=None):
    """The 'SGD teacher': the last iterate of plain SGD with the students' hyper-parameters."""
    return train(None, [0.0], gamma, epochs, seed, data=data).x[0, 0]


@functools.lru_cache(maxsize=4)
def lbfgs_teacher(maxiter: int = 1000):
    """The 'L-BFGS teacher': scipy L-BFGS on the full training loss (near-optimal, low loss)."""
    A, B = digits()
    shape = (A.shape[1], 10)

    def fg(v):
        X = v.reshape(shape)
        return vr.loss("softmax", X, A, B), vr.full_gradient("softmax", X, A, B).ravel()

    res = optimize.minimize(fg, np.zeros(np.prod(shape)), jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    return res.x.reshape(shape)


def min_and_last(res, last: int):
    """Per λ: minimum over epochs and mean over the last ``last`` epochs of the per-epoch loss (seed mean)."""
    curve = res.windows["loss"].mean(axis=1)  # (epochs, Λ)
    return curve.min(axis=0), curve[-last:].mean(axis=0), curve


def seeds_for(size: str, n_seeds, quick: int = 3, full: int = 5) -> int:
    """Independent training runs (seeds) per curve: the claim's ``n_seeds`` or the size default."""
    if n_seeds is not None:
        return int(n_seeds)
    return quick if size == "quick" else full


def last_epochs_per_seed(res, last: int):
    """Per seed and λ: mean of the per-epoch loss over the last ``last`` epochs → (S, Λ)."""
    return res.windows["loss"][-last:].mean(axis=0)


def statement(v, *, holds: str, fails: str, details=None):
    """A figure statement decided by the interval verdict ``v`` (verification.stats): observed (holds),
    not reproduced (the interval contradicts it), or inconclusive (the interval straddles)."""
    from verification.claims import observed

    det = {**dict(v.details), **dict(details or {})}
    if v.status == "inconclusive":
        det["reason"] = "inconclusive: " + fails
        return dataclasses.replace(v, details=det)
    return observed(v.status == "holds", predicted=v.predicted, measured=v.measured, relation=v.relation,
                    reason=holds if v.status == "holds" else fails, details=det)


def status_line(verdicts, claim_id: str) -> str:
    """'holds' / 'not reproduced: …' for a title, from the verdict of a figure claim."""
    v = verdicts[claim_id]
    r = v.details.get("reason", "")
    return f"{v.status.replace('_', ' ')}" + (f": {r}" if r and v.status != "holds" else "")


def best_relative_gain(res, lams, last: int) -> dict:
    """Loss relative to SGD (λ = 0) per seed on the last ``last`` epochs; the best λ > 0 by the seed mean,
    and each seed's relative gain 1 − loss(best)/loss(SGD) there (paired: every λ of a seed saw the same batches)."""
    per = last_epochs_per_seed(res, last)
    rel = per / per[:, :1]
    j = 1 + int(np.argmin(rel[:, 1:].mean(axis=0)))
    return {"lams": list(lams), "relative_to_sgd": rel.mean(axis=0).tolist(), "best_lambda": lams[j],
            "gain_per_seed": (1 - rel[:, j]).tolist(), "sgd_loss": float(per[:, 0].mean())}


def gain_trend_statement(data, key: str, *, grows: bool):
    """Figure statement on the best relative gain of the last row against the first (``key`` names the
    swept quantity, e.g. "gamma" or "sparsity"): larger (``grows``) or smaller, 95 % interval over seeds."""
    from verification.stats import compare_samples

    lo, hi = data["rows"][0], data["rows"][-1]
    v = compare_samples(np.array(hi["gain_per_seed"]) - np.array(lo["gain_per_seed"]), 0.0, ">=" if grows else "<=")
    word = "exceeds" if grows else "is below"
    return statement(v, holds=f"the gain at {key} = {hi[key]} {word} that at {key} = {lo[key]}",
                     fails=f"the gain at {key} = {hi[key]} does not {'exceed' if grows else 'fall below'} that at {key} = {lo[key]}",
                     details={"figure_data": data})


def lambda_stats_panel(ax, lams, mins, lasts, last: int, ylabel: str):
    """One panel of Figs. 2 and 4: min over epochs and last-epochs mean vs λ > 0, SGD (λ = 0) as dashed lines."""
    lam, mn, lastm = np.asarray(lams), np.asarray(mins), np.asarray(lasts)
    ax.plot(lam[1:], mn[1:], "o-", label="KD: min over epochs")
    ax.plot(lam[1:], lastm[1:], "s-", label=f"KD: mean of last {last} epochs")
    ax.axhline(mn[0], color="C0", ls="--", lw=1, label="SGD (λ=0): min")
    ax.axhline(lastm[0], color="C1", ls="--", lw=1, label=f"SGD (λ=0): last {last}")
    ax.set_xscale("log")
    ax.set_xlabel("distillation weight λ")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)


def relative_sweep_figure(data, key: str, label, title: str):
    """One panel: loss relative to SGD vs λ, one curve per row of ``data["rows"]`` (``label(row)``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 5))
    ax = fig.subplots()
    for r in data["rows"]:
        ax.plot(r["lams"], r["relative_to_sgd"], "o-", label=label(r))
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("distillation weight λ (0 = SGD)")
    ax.set_ylabel(f"train loss, last {data['last']} epochs, relative to SGD")
    ax.set_title(title, fontsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
