"""Models of the network validations (PyTorch).

* :class:`MLP` — one hidden ReLU layer (paper 000, Figure 1 and the λ sweep; paper 004 students).
* :class:`TwoLayerNTK` — paper 001, eq. (1): f(x) = Σ_k a_k/√m · σ(w_kᵀx) with fixed a_k ∈ {±1} and
  trainable W (m×d), the NTK scaling under which training stays in the kernel regime as m grows; it
  also returns the hidden features f^(k)(x) = σ(w_kᵀx) that the distillation loss (2) of paper 001 uses.
* :class:`DeepLinear` — paper 003: wᵀ = W_N ⋯ W_1, with the balanced initialisation of Thm 2, eq. (13).
* :class:`SmallCNN` — two 3×3 convolutions and a linear head, for 8×8 (digits), 28×28 (MNIST) and
  32×32 (CIFAR-10) inputs (paper 004 teachers).

Every constructor takes a ``seed`` so that the same seed gives the same weights on every device
(weights are drawn on the CPU, then moved).
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "softplus": nn.functional.softplus,
               "erf": torch.erf}


def _gen(seed: int) -> torch.Generator:
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _check_pos(name: str, v: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return v


class MLP(nn.Module):
    """x ↦ W₂ ReLU(W₁x + b₁) + b₂ (PyTorch default uniform init, drawn from ``seed``)."""

    def __init__(self, d_in: int, hidden: int, n_out: int, *, seed: int = 0) -> None:
        super().__init__()
        _check_pos("d_in", d_in), _check_pos("hidden", hidden), _check_pos("n_out", n_out)
        g = _gen(seed)
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, n_out)
        with torch.no_grad():
            for lin in (self.fc1, self.fc2):
                bound = 1.0 / math.sqrt(lin.in_features)
                lin.weight.uniform_(-bound, bound, generator=g)
                lin.bias.uniform_(-bound, bound, generator=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class TwoLayerNTK(nn.Module):
    """Paper 001, eq. (1): f(x) = Σ_k a_k/√m σ(w_kᵀx); a_k = ±1 fixed (a buffer), W ~ N(0, 1) trainable.

    ``forward(x)`` returns f (N,); ``features(x)`` returns the hidden features f^(k)(x_i) as (N, m).
    """

    def __init__(self, d_in: int, m: int, *, activation: str = "tanh", seed: int = 0,
                 W: torch.Tensor | None = None, a: torch.Tensor | None = None) -> None:
        super().__init__()
        _check_pos("d_in", d_in), _check_pos("m", m)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        g = _gen(seed)
        W0 = torch.randn(m, d_in, generator=g) if W is None else torch.as_tensor(W, dtype=torch.float32).clone()
        a0 = (torch.randint(0, 2, (m,), generator=g) * 2 - 1).float() if a is None else torch.as_tensor(a, dtype=torch.float32).clone()
        if W0.shape != (m, d_in) or a0.shape != (m,):
            raise ValueError(f"W must be ({m}, {d_in}) and a ({m},), got {tuple(W0.shape)} and {tuple(a0.shape)}")
        self.W = nn.Parameter(W0)
        self.register_buffer("a", a0)
        self.m = m

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return ACTIVATIONS[self.activation](x.flatten(1) @ self.W.T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x) @ self.a / math.sqrt(self.m)


def balanced_init(d: int, depth: int, width: int, scale: float, direction: torch.Tensor, *,
                  seed: int = 0) -> list[torch.Tensor]:
    """Rank-one balanced factors (paper 003, Thm 2, eq. 13: W_{j+1}ᵀW_{j+1} = W_jW_jᵀ).

    W_1 = s·u_1vᵀ, W_j = s·u_j u_{j−1}ᵀ, W_N = s·u_{N−1}ᵀ with unit u_j and v = direction/‖direction‖,
    so the end-to-end vector is w(0) = s^N·v (‖w(0)‖ = s^N).
    """
    _check_pos("d", d), _check_pos("depth", depth), _check_pos("width", width)
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a finite number > 0, got {scale}")
    v = torch.as_tensor(direction, dtype=torch.float64).flatten()
    if v.shape != (d,) or not torch.isfinite(v).all() or float(v.norm()) == 0:
        raise ValueError(f"direction must be a finite non-zero vector of length {d}")
    v = v / v.norm()
    if depth == 1:
        return [(scale * v)[None, :]]
    g = _gen(seed)
    us = [torch.randn(width, generator=g, dtype=torch.float64) for _ in range(depth - 1)]
    us = [u / u.norm() for u in us]
    Ws = [scale * torch.outer(us[0], v)]
    for j in range(1, depth - 1):
        Ws.append(scale * torch.outer(us[j], us[j - 1]))
    Ws.append(scale * us[-1][None, :])
    return Ws


class DeepLinear(nn.Module):
    """Paper 003: x ↦ W_N⋯W_1 x (a scalar logit); depth 1 is the directly parameterised linear classifier."""

    def __init__(self, factors: list[torch.Tensor]) -> None:
        super().__init__()
        if not factors:
            raise ValueError("factors must be a non-empty list of matrices")
        for j in range(1, len(factors)):
            if factors[j].shape[1] != factors[j - 1].shape[0]:
                raise ValueError(f"factors {j - 1} and {j} do not chain: {tuple(factors[j - 1].shape)}, {tuple(factors[j].shape)}")
        if factors[-1].shape[0] != 1:
            raise ValueError("the last factor must have one row (a scalar output)")
        self.Ws = nn.ParameterList([nn.Parameter(torch.as_tensor(F).clone()) for F in factors])

    def end_to_end(self) -> torch.Tensor:
        """w with wᵀ = W_N⋯W_1, shape (d,)."""
        P = self.Ws[0]
        for W in self.Ws[1:]:
            P = W @ P
        return P[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).to(self.Ws[0].dtype) @ self.end_to_end()


class SmallCNN(nn.Module):
    """conv3×3(c→w)–ReLU–conv3×3(w→2w)–ReLU–avgpool to 4×4–linear; for 8×8, 28×28 and 32×32 inputs."""

    def __init__(self, in_shape: tuple[int, int, int], n_out: int, *, width: int = 16, seed: int = 0) -> None:
        super().__init__()
        if len(in_shape) != 3 or in_shape[1:] not in ((8, 8), (28, 28), (32, 32)):
            raise ValueError(f"in_shape must be (C, H, W) with H×W in 8×8, 28×28, 32×32, got {in_shape}")
        _check_pos("n_out", n_out), _check_pos("width", width)
        c = in_shape[0]
        self.conv1 = nn.Conv2d(c, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(2 * width * 16, n_out)
        g = _gen(seed)  # our own generator: no global torch seed is touched
        with torch.no_grad():
            for layer in (self.conv1, self.conv2, self.fc):
                bound = 1.0 / math.sqrt(layer.weight[0].numel())
                layer.weight.uniform_(-bound, bound, generator=g)
                layer.bias.uniform_(-bound, bound, generator=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h))
        return self.fc(self.pool(h).flatten(1))
