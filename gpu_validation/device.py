"""Device selection and device-aware timing for the network validations.

``resolve_device("auto")`` picks CUDA when a GPU is visible and the CPU otherwise; ``"cuda"`` on a
machine without a GPU is a clear error (never a silent fall-back to the CPU). Timings go through
:class:`Timer`, which synchronises CUDA before reading the clock, so that asynchronous kernel launches
are not mistaken for finished work.
"""

from __future__ import annotations

import time

import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """The torch device for ``name`` in ``"auto" | "cpu" | "cuda"`` (also ``"cuda:N"``).

    Raises ``ValueError`` naming the argument for an unknown name, and ``RuntimeError`` saying what to
    do when CUDA is asked for but no GPU (or no CUDA build of torch) is available.
    """
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise TypeError(f"device must be a string in {DEVICES}, got {type(name).__name__}")
    key = name.strip().lower()
    if key == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if key == "cpu":
        return torch.device("cpu")
    if key == "cuda" or key.startswith("cuda:"):
        if not torch.cuda.is_available():
            build = "a CPU-only build of torch" if torch.version.cuda is None else f"torch built for CUDA {torch.version.cuda}"
            raise RuntimeError(
                f"device={name!r} was requested but no CUDA GPU is available ({build}, "
                f"torch {torch.__version__}); use --device cpu or --device auto, or install a CUDA build "
                "of torch into .venv on a machine with a GPU")
        dev = torch.device(key)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(f"device={name!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
        return dev
    raise ValueError(f"device must be one of {DEVICES} (or 'cuda:N'), got {name!r}")


def synchronize(device: torch.device | str) -> None:
    """Wait for queued work on ``device`` to finish (a no-op on the CPU)."""
    dev = torch.device(device) if not isinstance(device, torch.device) else device
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


class Timer:
    """Context manager measuring wall time of device work: ``with Timer(dev) as t: ...; t.seconds``.

    Synchronises the device on entry and exit so that CUDA's asynchronous launches are counted.
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device) if not isinstance(device, torch.device) else device
        self.seconds = float("nan")
        self._t0 = 0.0

    def __enter__(self) -> "Timer":
        synchronize(self.device)
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        synchronize(self.device)
        self.seconds = time.perf_counter() - self._t0


def describe(device: torch.device) -> dict:
    """A small JSON-able description of the device (name, torch version), for report details."""
    out = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads()}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    return out
