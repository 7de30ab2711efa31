"""Helpers shared by the experiment modules (not a claim module: the name starts with '_')."""

from __future__ import annotations

import numpy as np
import torch

from gpu_validation import data as gdata
from gpu_validation.device import describe, resolve_device


def setup(device: str, dataset: str, data_dir, *, seed: int = 0):
    """(torch device, ImageData, base details) for a check; raises clear errors for bad options."""
    dev = resolve_device(device)
    ds = gdata.load(dataset, data_dir, seed=seed)
    return dev, ds, {"dataset": dataset, **describe(dev)}


def seed_from(rng: np.random.Generator) -> int:
    """A torch/numpy seed drawn from the claim's rng (the only source of randomness of a check)."""
    return int(rng.integers(0, 2**31 - 1))


def tensors(dev: torch.device, *arrays):
    """Move numpy arrays to ``dev`` once (float32, or int64 for integer arrays)."""
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.append(torch.as_tensor(a, dtype=torch.long if a.dtype.kind in "iu" else torch.float32, device=dev))
    return out


def r(x, nd: int = 4):
    """Round a float or nested list for compact details."""
    if isinstance(x, (list, tuple)):
        return [r(v, nd) for v in x]
    if isinstance(x, np.ndarray):
        return r(x.tolist(), nd)
    x = float(x)
    return round(x, nd) if np.isfinite(x) else x


def config(sizes: dict, size) -> dict:
    """The configuration of ``size`` ("quick" | "full"), or "quick" overridden by a dict (figures use this)."""
    if isinstance(size, str):
        if size not in sizes:
            raise ValueError(f"size must be one of {sorted(sizes)}, got {size!r}")
        return dict(sizes[size])
    return {**sizes["quick"], **dict(size)}
