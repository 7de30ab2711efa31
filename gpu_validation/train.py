"""Training loops of the network validations, device-resident and batched over seeds.

Several copies of one architecture (different seeds, or different distillation weights λ) are trained
at once as an *ensemble*: their parameters are stacked (``torch.func.stack_module_state``) and every
step is one ``torch.func.vmap`` of ``torch.func.grad`` over the members, which keeps a GPU busy with
one launch sequence instead of S Python loops. Inside a loop nothing leaves the device: batch indices
for all epochs are drawn up front (numpy ``Generator``, so the same seed gives the same order on every
device) and moved once; a NaN/inf loss marks its member dead on the device (``alive`` mask) and
freezes it, the others go on; the mask is read once at the end.

Losses (sources in the papers):

* :func:`kd_loss` — paper 000, eq. (2): (1−λ)·CE(student, labels) + λ·CE(student, teacher probs).
* :func:`approx_distillation_grad` — paper 000, eq. (5): ∇f_ξ(x) − λ∇f_ξ(θ).
* :func:`unbiased_kd_grad` — paper 000, eq. (16): ∇f_ξ(x) − λ∇f_ξ(θ) + λ∇f(θ).
* fixed-mask (compressed) training — paper 000, eq. (18) with the deterministic mask C(x) = m⊙x.
* :func:`l2_self_distillation_chain` — paper 002, §5: each round fits the previous round's predictions
  with the ℓ2 loss (round 0: the labels), or with another ``criterion`` (cross-entropy, Fig. 5).
* :func:`hinton_kd_loss` — paper 004, App. D: α·CE + (1−α)·T²·KL(teacher_T ‖ student_T).
* :func:`lipschitz_penalty` / :func:`consistency_penalty` — paper 004, App. C (ℓ_LR, ℓ_CR); their
  values are checked against ``kdtheory.label_distribution`` where it provides them.
* :func:`train_soteacher` — paper 004, Sec. 4: CE + λ_LR·ℓ_LR + λ_CR(t)·ℓ_CR with the λ_CR schedules of
  ``kdtheory.label_distribution.lambda_cr``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap


# ------------------------------------------------------------------------------------------ ensembles
@dataclasses.dataclass
class Ensemble:
    """S stacked copies of one architecture: ``params``/``buffers`` have a leading member axis."""

    base: nn.Module  # a stateless template (on the 'meta' device)
    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]
    alive: torch.Tensor  # (S,) bool, False once a member produced a non-finite loss

    @property
    def size(self) -> int:
        return int(self.alive.shape[0])

    @property
    def device(self) -> torch.device:
        return self.alive.device

    def forward(self, x: torch.Tensor, *, shared: bool = True) -> torch.Tensor:
        """Outputs of every member: x (B, …) shared by all members, or (S, B, …) with ``shared=False``."""
        fn = lambda p, b, xx: functional_call(self.base, (p, b), (xx,))  # noqa: E731
        return vmap(fn, in_dims=(0, 0, None if shared else 0))(self.params, self.buffers, x)

    def member(self, i: int) -> nn.Module:
        """Member ``i`` as an ordinary module (a copy, on the ensemble's device)."""
        m = copy.deepcopy(self.base).to_empty(device=self.device)
        state = {k: v[i].detach().clone() for k, v in {**self.params, **self.buffers}.items()}
        m.load_state_dict(state)
        return m

    def clone(self) -> "Ensemble":
        return Ensemble(self.base, {k: v.detach().clone() for k, v in self.params.items()},
                        {k: v.detach().clone() for k, v in self.buffers.items()}, self.alive.clone())

    def flat(self) -> torch.Tensor:
        """All parameters of each member as one vector: (S, P)."""
        return torch.cat([v.reshape(v.shape[0], -1) for v in self.params.values()], dim=1)


def make_ensemble(models: Sequence[nn.Module], device: torch.device) -> Ensemble:
    """Stack ``models`` (same architecture) into an :class:`Ensemble` on ``device``."""
    if not models:
        raise ValueError("models must be a non-empty sequence")
    models = [m.to(device) for m in models]
    params, buffers = stack_module_state(models)
    params = {k: v.detach().clone() for k, v in params.items()}
    buffers = {k: v.detach().clone() for k, v in buffers.items()}
    base = copy.deepcopy(models[0]).to("meta")
    return Ensemble(base, params, buffers, torch.ones(len(models), dtype=torch.bool, device=device))


def replicate(model: nn.Module, S: int, device: torch.device) -> Ensemble:
    """S identical copies of one model (e.g. one teacher used by S students)."""
    return make_ensemble([copy.deepcopy(model) for _ in range(S)], device)


def batch_schedule(n: int, batch_size: int, epochs: int, rng: np.random.Generator,
                   device: torch.device, *, drop_last: bool = True) -> torch.Tensor:
    """All mini-batch indices for ``epochs`` epochs, shape (epochs, steps, batch_size), on ``device``.

    Drawn once from ``rng`` (deterministic, device independent) and moved in one transfer.
    """
    if batch_size < 1 or batch_size > n:
        raise ValueError(f"batch_size must be in [1, n={n}], got {batch_size}")
    steps = n // batch_size
    idx = np.stack([rng.permutation(n)[: steps * batch_size].reshape(steps, batch_size) for _ in range(epochs)])
    return torch.as_tensor(idx, dtype=torch.long, device=device)


def sgd_update(ens: Ensemble, grads: dict, lr: float | torch.Tensor, ok: torch.Tensor,
                   weight_decay: float = 0.0, momentum: float = 0.0, bufs: dict | None = None) -> None:
    """SGD step p ← p − lr·(g + wd·p) (with optional heavy-ball momentum) for members that are ``ok``.

    A member that is not ok (non-finite loss or gradient) is marked dead and frozen from then on; its
    gradient is replaced by zeros *before* any arithmetic, so a NaN never reaches a parameter.
    """
    with torch.no_grad():
        ens.alive &= ok
        for k, p in ens.params.items():
            mask = ens.alive.view(-1, *([1] * (p.ndim - 1)))
            g = torch.where(mask, grads[k], 0.0)
            if weight_decay:
                g = g + weight_decay * p * mask
            if momentum:
                buf = bufs.setdefault(k, torch.zeros_like(p))
                buf.mul_(momentum).add_(g)
                g = torch.where(mask, buf, 0.0)  # a dead member's old momentum must not move it either
            if isinstance(lr, torch.Tensor):
                g = g * lr.view(-1, *([1] * (p.ndim - 1)))
                p.sub_(g)
            else:
                p.sub_(g, alpha=lr)


def finite_members(loss: torch.Tensor, grads: dict) -> torch.Tensor:
    """(S,) True where the loss and every gradient entry are finite (one reduction per tensor)."""
    tot = loss.detach().clone()
    for v in grads.values():
        tot = tot + v.detach().reshape(v.shape[0], -1).sum(1)  # NaN/inf anywhere makes the sum non-finite
    return torch.isfinite(tot)


def train_ensemble(ens: Ensemble, loss_fn: Callable, schedule: torch.Tensor, *, lr: float | torch.Tensor,
                   member_args: tuple = (), weight_decay: float = 0.0, momentum: float = 0.0,
                   on_epoch: Callable[[int, torch.Tensor], None] | None = None,
                   mask: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """Mini-batch SGD of every member on ``loss_fn(params, buffers, idx, *member_args) -> scalar``.

    ``member_args`` are tensors with a leading member axis (e.g. λ per member). ``schedule`` comes from
    :func:`batch_schedule`. With ``mask`` (a {name: 0/1 tensor} like the params), the parameters are
    projected onto the mask after every step (fixed-mask compressed training, eq. 18 of paper 000 with
    C(x) = m⊙x). Returns the per-epoch mean training loss of each member, (epochs, S), on the device.
    """
    g = vmap(grad_and_value(loss_fn), in_dims=(0, 0, None) + (0,) * len(member_args))
    bufs: dict = {}
    E, T = schedule.shape[:2]
    hist = torch.zeros(E, ens.size, device=ens.device)
    for e in range(E):
        acc = torch.zeros(ens.size, device=ens.device)
        for t in range(T):
            grads, loss = g(ens.params, ens.buffers, schedule[e, t], *member_args)
            sgd_update(ens, grads, lr, finite_members(loss, grads), weight_decay, momentum, bufs)
            if mask is not None:
                with torch.no_grad():
                    for k, mk in mask.items():
                        ens.params[k].mul_(mk)
            acc += torch.where(ens.alive, loss.detach(), torch.full_like(acc, float("nan")))
        hist[e] = acc / T
        if on_epoch is not None:
            on_epoch(e, hist[e])
    return hist


def status_of(ens: Ensemble) -> dict:
    """Which members survived (read once, after training)."""
    alive = ens.alive.cpu().numpy()
    return {"members": int(alive.size), "nan_stopped": [int(i) for i in np.flatnonzero(~alive)]}


# -------------------------------------------------------------------------------- self-distillation
def l2_loss(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Paper 002, eq. (1)/§5: the ℓ2 fitting loss, mean over examples of ‖output − target‖²₂."""
    return ((outputs - target) ** 2).sum(-1).mean()


def _softmax(z: torch.Tensor) -> torch.Tensor:
    return F.softmax(z, -1)


@dataclasses.dataclass
class ChainRound:
    """One round of a self-distillation chain: the trained ensemble, its outputs on the training
    inputs (S, N, C) — the next round's targets — and the per-epoch training loss (epochs, S)."""

    ensemble: Ensemble
    train_outputs: torch.Tensor
    loss_history: torch.Tensor


def l2_self_distillation_chain(make_round: Callable[[int], Ensemble], X: torch.Tensor, Y0: torch.Tensor,
                               rounds: int, schedule: Callable[[int], torch.Tensor], *, lr: float,
                               weight_decay: float = 0.0, momentum: float = 0.0,
                               output: Callable[[torch.Tensor], torch.Tensor] = _softmax,
                               criterion: Callable | None = None, member_args: tuple = (),
                               member_order: Callable[[int], torch.Tensor] | None = None) -> list[ChainRound]:
    """Paper 002, §5 (Figs. 4–6): self-distillation rounds with the ℓ2 loss, all members at once.

    Round 0 fits ``Y0`` (N, C) — the one-hot labels y_0; round t fits the outputs of round t − 1 on the
    training inputs ``X`` (each member its own predecessor). Every round trains the fresh ensemble
    ``make_round(t)`` by mini-batch SGD on ``l2_loss(output(f(x)), target)`` with the batches
    ``schedule(t)`` (:func:`batch_schedule`); ``weight_decay`` is the regulariser R (the penalty
    (wd/2)‖θ‖² of plain SGD weight decay). ``output`` maps logits to what is fitted (softmax by default;
    the identity gives the regression setting of eq. 1). Everything stays on the device.

    ``criterion(logits, target, *member_args)`` replaces the ℓ2 fit (e.g. :func:`cross_entropy_soft` for the
    cross-entropy chain of Fig. 5; targets are still ``output`` of the previous round); ``member_args`` are
    tensors with a leading member axis (e.g. a per-member loss choice) and ``lr`` may be a (S,) tensor.
    ``member_order(t)`` gives a (S, N) permutation of the training set per member: member s visits example
    ``order[s][i]`` where the schedule says ``i``, so the members' batch sequences are independent (with one
    shared schedule they are a random effect common to all members, which intervals over members cannot see).
    """
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive int, got {rounds!r}")
    if Y0.ndim != 2 or Y0.shape[0] != X.shape[0]:
        raise ValueError(f"Y0 must have shape (N, C) with N = len(X) = {X.shape[0]}, got {tuple(Y0.shape)}")
    target = None
    out: list[ChainRound] = []
    for t in range(rounds):
        ens = make_round(t)
        if target is None:
            target = Y0.expand(ens.size, -1, -1).clone()

        order = () if member_order is None else (member_order(t),)
        if order and tuple(order[0].shape) != (ens.size, X.shape[0]):
            raise ValueError(f"member_order({t}) must have shape (members, N) = {(ens.size, X.shape[0])}, "
                             f"got {tuple(order[0].shape)}")

        def loss(p, b, idx, tgt, *margs, base=ens.base, own=len(order) > 0):
            if own:
                idx, margs = margs[0][idx], margs[1:]
            z = functional_call(base, (p, b), (X[idx],))
            return l2_loss(output(z), tgt[idx]) if criterion is None else criterion(z, tgt[idx], *margs)

        hist = train_ensemble(ens, loss, schedule(t), lr=lr, member_args=(target, *order, *member_args), weight_decay=weight_decay,
                              momentum=momentum)
        with torch.no_grad():
            pred = output(ens.forward(X))
        out.append(ChainRound(ens, pred, hist))
        target = pred  # the next round fits this round's predictions
    return out


# --------------------------------------------------------------------------------------------- losses
def cross_entropy_soft(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of −Σ_c q_c log softmax(z)_c (ℓ linear in its second argument, eq. 3 of 000)."""
    return -(target_probs * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def kd_loss(student_logits: torch.Tensor, labels: torch.Tensor, teacher_probs: torch.Tensor,
            lam: torch.Tensor | float) -> torch.Tensor:
    """Paper 000, eq. (2): (1−λ)·ℓ(φ_x(a), b) + λ·ℓ(φ_x(a), Φ_θ(a)) with ℓ the cross-entropy."""
    onehot = F.one_hot(labels, student_logits.shape[-1]).to(student_logits.dtype)
    return (1 - lam) * cross_entropy_soft(student_logits, onehot) + lam * cross_entropy_soft(student_logits, teacher_probs)


def hinton_kd_loss(student_logits: torch.Tensor, labels: torch.Tensor, teacher_logits: torch.Tensor,
                   alpha: float = 0.5, temperature: float = 4.0) -> torch.Tensor:
    """Paper 004, App. D: α·CE(student, labels) + (1−α)·T²·KL(softmax(t/T) ‖ softmax(s/T))."""
    T = temperature
    ce = F.cross_entropy(student_logits, labels)
    kl = F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                  reduction="batchmean", log_target=True)
    return alpha * ce + (1 - alpha) * T * T * kl


def flat_grad(model: nn.Module, loss: torch.Tensor, *, create_graph: bool = False) -> torch.Tensor:
    gs = torch.autograd.grad(loss, [p for p in model.parameters()], create_graph=create_graph)
    return torch.cat([g.reshape(-1) for g in gs])


def true_distillation_grad(student: nn.Module, teacher: nn.Module, x: torch.Tensor, y: torch.Tensor,
                           lam: float) -> torch.Tensor:
    """∇_x of eq. (4) of paper 000 (self-distillation loss, cross-entropy) on the batch (x, y)."""
    with torch.no_grad():
        q = F.softmax(teacher(x), -1)
    return flat_grad(student, kd_loss(student(x), y, q, lam))


def approx_distillation_grad(student: nn.Module, teacher: nn.Module, x: torch.Tensor, y: torch.Tensor,
                             lam: float) -> torch.Tensor:
    """Paper 000, eq. (5): ∇f_ξ(x) − λ∇f_ξ(θ), both the plain cross-entropy gradient on the batch."""
    gs = flat_grad(student, F.cross_entropy(student(x), y))
    gt = flat_grad(teacher, F.cross_entropy(teacher(x), y))
    return gs - lam * gt


def unbiased_kd_grad(student: nn.Module, teacher: nn.Module, x: torch.Tensor, y: torch.Tensor, lam: float,
                     full_teacher_grad: torch.Tensor) -> torch.Tensor:
    """Paper 000, eq. (16): ∇f_ξ(x) − λ∇f_ξ(θ) + λ∇f(θ); ``full_teacher_grad`` = ∇f(θ) on all data."""
    return approx_distillation_grad(student, teacher, x, y, lam) + lam * full_teacher_grad


def full_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇f(θ): the cross-entropy gradient over the whole training set (computed once, reused)."""
    return flat_grad(model, F.cross_entropy(model(X), y)).detach()


def set_flat_(model: nn.Module, vec: torch.Tensor) -> None:
    with torch.no_grad():
        i = 0
        for p in model.parameters():
            p.copy_(vec[i:i + p.numel()].view_as(p))
            i += p.numel()


def sgd_with_grad(model: nn.Module, grad_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                  X: torch.Tensor, y: torch.Tensor, schedule: torch.Tensor, lr: float,
                  *, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, bool]:
    """Plain SGD x ← C(x − γ·grad_fn(xb, yb)) of one model with a custom gradient (eqs. 5, 7, 16, 18).

    ``mask`` (flat 0/1 vector) applies the fixed-mask compressor C. Returns the per-epoch mean
    cross-entropy on the batches (device tensor) and whether the run stayed finite (read at the end).
    """
    params = list(model.parameters())
    theta = torch.cat([p.detach().reshape(-1) for p in params])
    E, T = schedule.shape[:2]
    hist = torch.zeros(E, device=X.device)
    finite = torch.ones((), dtype=torch.bool, device=X.device)
    for e in range(E):
        for t in range(T):
            idx = schedule[e, t]
            g = grad_fn(X[idx], y[idx])
            with torch.no_grad():
                hist[e] += F.cross_entropy(model(X[idx]), y[idx]) / T
                step_ok = torch.isfinite(g).all() & finite
                finite = step_ok
                theta = torch.where(step_ok, theta - lr * g, theta)
                if mask is not None:
                    theta = theta * mask
                set_flat_(model, theta)
    return hist, bool(finite)


# ----------------------------------------------------------------------------------------- SoTeacher
#: how a convolution enters ℓ_LR: the paper's 1→1 operator norm (App. C, Gouk et al. 2021) or the authors'
#: code's entrywise sum Σ|W| (≈ in_channels × larger; the paper's λ_LR = 1e-5 was tuned on it)
CONV_LIPSCHITZ = ("operator", "entrywise")


def lipschitz_penalty(params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor] | None = None, *,
                      conv: str = "operator", bn_eps: float = 1e-5) -> torch.Tensor:
    """Paper 004, App. C: ℓ_LR = Σ_f Lip(f) over every trainable component, 1-norm-induced constants.

    Linear W (out×in): max_j Σ_i |W_ij| (largest column sum, exact). Convolution (out, in, k, k):
    ``conv="operator"`` (default, as the paper states it) the 1→1 operator norm of Gouk et al. (2021),
    max over input channels of Σ_{out, kernel} |W| (exact for stride 1 on images larger than the kernel);
    ``conv="entrywise"`` the authors' code's Σ|W|. Batch normalisation (a 1-D ``<name>.weight`` γ with a
    ``<name>.running_var`` buffer): its eval-mode map h ↦ γ(h − μ)/√(σ² + ε) + β is a per-channel scaling,
    whose 1→1 norm is max_c |γ_c|/√(running_var_c + ε) (the gradient reaches γ; the running statistics
    are buffers). Biases carry no Lipschitz constant. A 1-D weight without running statistics (pass
    ``buffers``) raises: it is not a component whose constant this function knows.
    """
    if conv not in CONV_LIPSCHITZ:
        raise ValueError(f"conv must be one of {CONV_LIPSCHITZ}, got {conv!r}")
    total = 0.0
    for name, W in params.items():
        if not name.endswith("weight"):
            continue
        if W.ndim == 1:
            var = None if buffers is None else buffers.get(name[: -len("weight")] + "running_var")
            if var is None:
                raise ValueError(f"params[{name!r}] is 1-D (batch norm?) but buffers has no "
                                 f"{name[: -len('weight')] + 'running_var'!r}: pass the module's buffers")
            total = total + (W.abs() / torch.sqrt(var + bn_eps)).max()
        elif W.ndim == 2:
            total = total + W.abs().sum(0).max()
        elif W.ndim == 4:
            total = total + (W.abs().sum() if conv == "entrywise" else W.abs().sum(dim=(0, 2, 3)).max())
        else:
            raise ValueError(f"params[{name!r}] has shape {tuple(W.shape)}: not a linear, conv2d or batch-norm weight")
    return total


def consistency_penalty(probs: torch.Tensor, running_mean: torch.Tensor) -> torch.Tensor:
    """Paper 004, App. C: ℓ_CR = (1/N) Σ_i ‖f(x_i) − f̄(x_i)‖²₂ (temporal-ensembling target f̄)."""
    return ((probs - running_mean) ** 2).sum(-1).mean()


@dataclasses.dataclass
class SoTeacherRun:
    """What :func:`train_soteacher` leaves besides the trained ensemble: f̄, the running mean of the
    per-epoch predictions on the training set (S, N, C), the λ_CR used at each epoch, and the
    per-epoch mean training loss (epochs, S) — all on the device."""

    running_mean: torch.Tensor
    lambda_cr: torch.Tensor
    loss_history: torch.Tensor


def _per_member(name: str, value, S: int) -> np.ndarray:
    """A float or one value per ensemble member as an (S,) float array of finite values >= 0."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(S, float(a))
    if a.shape != (S,):
        raise ValueError(f"{name} must be a number or one value per member ({S}), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be >= 0 and finite, got {value!r}")
    return a


def train_soteacher(ens: Ensemble, X: torch.Tensor, y: torch.Tensor, schedule: torch.Tensor, *, lr: float,
                    lambda_lr: float | Sequence[float] = 0.0, lambda_cr_max: float | Sequence[float] = 0.0,
                    cr_schedule: str | Sequence[str] = "linear",
                    augment: Callable[[torch.Tensor], torch.Tensor] | None = None, weight_decay: float = 5e-4,
                    momentum: float = 0.9, n_classes: int = 10, lipschitz_conv: str = "operator",
                    fbar: str = "train_pass", lr_schedule: str = "constant") -> SoTeacherRun:
    """Paper 004, Sec. 4 and App. C–D: teacher training with ℓ = CE + λ_LR·ℓ_LR + λ_CR(t)·ℓ_CR.

    ℓ_LR is :func:`lipschitz_penalty` (on when ``lambda_lr > 0``); ℓ_CR is :func:`consistency_penalty`
    toward f̄, the mean of the predictions of all earlier epochs (temporal ensembling; on when
    ``lambda_cr_max > 0``), weighted by the schedule ``kdtheory.label_distribution.lambda_cr(t, T,
    λ_max, cr_schedule)`` (``linear | cosine | cyclic | piecewise``), with λ_CR = 0 at epoch 0 (no f̄
    yet). ``lambda_lr = lambda_cr_max = 0`` is standard training. ``augment`` maps a batch of images to
    an augmented batch on the device (e.g. :func:`gpu_validation.data.random_shift_flip`).

    f̄ (``fbar``): ``"train_pass"`` (default, the paper's: "no extra model evaluation is required", Sec. 4)
    records the softmax outputs of the training forward pass itself (augmented batch, weights before the
    step); ``"post_step"`` re-evaluates the batch after the step (one extra forward pass per batch).
    ``lipschitz_conv`` is :func:`lipschitz_penalty`'s ``conv``. ``lr_schedule``: ``"constant"`` or ``"cosine"``
    (``lr·(1 + cos(π e/E))/2`` at epoch ``e``, decayed towards 0 as in the paper's converged teachers).

    λ_CR reading: epochs are t = 0, …, T − 1 as in App. C (f̄_t averages epochs t' < t; "at epoch 0 we simply
    skip" CR) and λ_CR(t) = (t/T)·λmax (Sec. 4), so epoch 0 gets 0 and the last (T − 1)/T·λmax; App. D's
    "0 < t ≤ T" (epochs numbered from 1) would shift the ramp by one epoch. SGD with momentum and weight decay.

    Per-member settings (a hyper-parameter sweep in one vmapped run, e.g. Fig. 2 of paper 004): ``lambda_lr``,
    ``lambda_cr_max`` and ``cr_schedule`` may each be one value per member (length ``ens.size``); then
    ``SoTeacherRun.lambda_cr`` is (epochs, S), else (epochs,).
    """
    from kdtheory.label_distribution import lambda_cr

    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    if fbar not in ("train_pass", "post_step"):
        raise ValueError(f"fbar must be 'train_pass' or 'post_step', got {fbar!r}")
    if lipschitz_conv not in CONV_LIPSCHITZ:
        raise ValueError(f"lipschitz_conv must be one of {CONV_LIPSCHITZ}, got {lipschitz_conv!r}")
    E, T = schedule.shape[:2]
    S, N, dev = ens.size, len(y), ens.device
    lam_lr, lam_max = _per_member("lambda_lr", lambda_lr, S), _per_member("lambda_cr_max", lambda_cr_max, S)
    scheds = [cr_schedule] * S if isinstance(cr_schedule, str) else list(cr_schedule)
    if len(scheds) != S:
        raise ValueError(f"cr_schedule must be a string or one per member ({S}), got {len(scheds)}")
    lams = np.stack([np.asarray(lambda_cr(np.arange(E), E, lam_max[s], scheds[s]), dtype=np.float64).reshape(E)
                     for s in range(S)], axis=1)  # (E, S)
    lams[0] = 0.0  # epoch 0 has no earlier predictions to be consistent with
    lam_t = torch.as_tensor(lams, dtype=torch.float32, device=dev)  # moved once
    llr_t = torch.as_tensor(lam_lr, dtype=torch.float32, device=dev)
    use_lr, use_cr = bool(lam_lr.max() > 0), bool(lam_max.max() > 0)
    per_member = not (np.ndim(lambda_cr_max) == 0 and isinstance(cr_schedule, str))
    avg = torch.zeros(S, N, n_classes, device=dev)
    cur = torch.zeros(S, N, n_classes, device=dev)

    def loss(p, b, idx, xb, avg_m, lam, llr):
        logits = functional_call(ens.base, (p, b), (xb,))
        probs = F.softmax(logits, -1)
        out = F.cross_entropy(logits, y[idx])
        if use_lr:
            out = out + llr * lipschitz_penalty(p, b, conv=lipschitz_conv)
        if use_cr:
            out = out + lam * consistency_penalty(probs, avg_m[idx])
        return out, probs.detach()

    g = vmap(grad_and_value(loss, has_aux=True), in_dims=(0, 0, None, None, 0, 0, 0))
    bufs: dict = {}
    hist = torch.zeros(E, S, device=dev)
    lrs = [lr if lr_schedule == "constant" else lr * 0.5 * (1.0 + math.cos(math.pi * e / E)) for e in range(E)]
    for e in range(E):
        for t in range(T):
            idx = schedule[e, t]
            xb = X[idx] if augment is None else augment(X[idx])
            grads, (lv, probs) = g(ens.params, ens.buffers, idx, xb, avg, lam_t[e], llr_t)
            sgd_update(ens, grads, lrs[e], finite_members(lv, grads), weight_decay, momentum, bufs)
            hist[e] += torch.where(ens.alive, lv.detach(), torch.full_like(lv, float("nan"))) / T
            if fbar == "train_pass":
                cur[:, idx] = probs
            else:
                with torch.no_grad():
                    cur[:, idx] = F.softmax(ens.forward(xb), -1)
        with torch.no_grad():
            avg.mul_(e / (e + 1)).add_(cur / (e + 1))  # f̄ = mean of the predictions of epochs 0..e
    return SoTeacherRun(avg, lam_t if per_member else lam_t[:, 0], hist)
