"""Helpers shared by the experiment modules (not a claim module: the name starts with '_')."""

from __future__ import annotations

import collections
import copy
import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Callable, Mapping

import numpy as np
import torch

from gpu_validation import data as gdata
from gpu_validation.device import describe, resolve_device
from verification.claims import Verdict
from verification.claims import compare as _compare


#: torch intra-op threads of a check on the CPU (override: environment variable KDTHEORY_TORCH_THREADS).
CPU_THREADS = 1


def cpu_threads() -> int:
    """The intra-op thread count checks use on the CPU: ``KDTHEORY_TORCH_THREADS`` or :data:`CPU_THREADS`.

    One thread by default, measured on the 2-core machine (quick suite, seed 0): 2 min wall with one
    thread against 5.6 min with two, because the experiments' ops are small (barrier cost dominates)
    and two threads on a shared machine slow every op down when another process holds a core; the
    numbers also depend on the thread count (reduction order), so one fixed count makes them repeatable.
    """
    raw = os.environ.get("KDTHEORY_TORCH_THREADS", "").strip()
    if not raw:
        return CPU_THREADS
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"KDTHEORY_TORCH_THREADS must be a positive integer, got {raw!r}")
    return n


def setup(device: str, dataset: str, data_dir, *, seed: int = 0):
    """(torch device, ImageData, base details) for a check; raises clear errors for bad options.

    On the CPU it sets torch's intra-op threads to :func:`cpu_threads` (recorded in the details).
    """
    dev = resolve_device(device)
    if dev.type == "cpu" and torch.get_num_threads() != cpu_threads():
        torch.set_num_threads(cpu_threads())
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


MEMO_MAXSIZE = 8


def _plain(x, where: str = "result") -> None:
    """Raise TypeError unless ``x`` is plain Python values / numpy arrays (no tensors, no modules)."""
    if isinstance(x, Mapping):
        for k, v in x.items():
            _plain(v, f"{where}[{k!r}]")
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            _plain(v, f"{where}[{i}]")
    elif not (x is None or isinstance(x, (bool, int, float, complex, str, np.ndarray, np.generic))):
        raise TypeError(f"a memoised experiment must return plain numbers / numpy arrays; {where} is a "
                        f"{type(x).__name__}")


def _key_part(x):
    # arrays by content (str() of a long array is abbreviated with '...': two arrays could share a key)
    if isinstance(x, np.ndarray):
        return ["ndarray", str(x.dtype), list(x.shape), hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()]
    if isinstance(x, np.generic):
        return x.item()
    return repr(x)


def _memo_key(x) -> str:
    return json.dumps(x, sort_keys=True, default=_key_part)


def memo(fn: Callable | None = None, *, maxsize: int = MEMO_MAXSIZE):
    """Remember an experiment ``fn(rng, size, *args, **kw)`` so the claims of one experiment run it once.

    Claims of one experiment share an ``rng_key`` (``verification.claims.Claim``), so they receive equal
    generators; the key of the memo is the generator's state *at entry* (``rng.bit_generator.state``)
    plus ``size`` and the other arguments (device, dataset, data_dir, flags). On a hit the stored result
    is returned (a deep copy) and the generator is moved to the state the first run left it in, so
    a caller that goes on drawing from ``rng`` sees exactly what it would after a real run: a claim
    gives the same numbers alone or after its sibling. ``fn`` must not draw from ``rng`` before
    everything the key needs is known (it never sees the rng before the lookup), and it must return
    plain numbers / numpy arrays (checked: a tensor raises TypeError). At most ``maxsize`` results are
    kept (least recently used dropped). ``fn.cache_clear()`` empties it; ``fn.calls`` counts real runs.
    """
    if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
        raise ValueError(f"maxsize must be a positive integer, got {maxsize!r}")
    if fn is None:
        return lambda f: memo(f, maxsize=maxsize)
    cache: collections.OrderedDict = collections.OrderedDict()

    @functools.wraps(fn)
    def wrapper(rng, size, *args, **kwargs):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        key = _memo_key([rng.bit_generator.state, size, list(args), kwargs])
        if key in cache:
            cache.move_to_end(key)
            result, state_after = cache[key]
            rng.bit_generator.state = copy.deepcopy(state_after)
            return copy.deepcopy(result)
        result = fn(rng, size, *args, **kwargs)
        _plain(result, f"{fn.__name__}()")
        cache[key] = (copy.deepcopy(result), copy.deepcopy(rng.bit_generator.state))
        while len(cache) > maxsize:
            cache.popitem(last=False)
        wrapper.calls += 1
        return result

    wrapper.calls = 0
    wrapper.cache_clear = cache.clear
    wrapper.cache_len = lambda: len(cache)
    return wrapper


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


def nan_stopped_runs(details) -> list[str]:
    """Every run that a non-finite loss stopped, found anywhere in ``details``.

    Trainers report stopped ensemble members under keys ending in ``nan_stopped`` (a list of member
    indices, or a list of such lists, one per round) and counts of diverged runs under keys ending in ``nan_runs``.
    Returns one readable entry per place, e.g. ``"table.soteacher.nan_stopped: [1]"``.
    """
    found: list[str] = []

    def walk(x, path):
        if isinstance(x, dict):
            for k, v in x.items():
                key = f"{path}{k}"
                if isinstance(k, str) and k.endswith("nan_stopped"):
                    flat = [i for e in v for i in (e if isinstance(e, (list, tuple)) else [e])] if isinstance(v, (list, tuple)) else [v]
                    if flat:
                        found.append(f"{key}: {v}")
                elif isinstance(k, str) and k.endswith("nan_runs") and isinstance(v, (int, np.integer)) and v > 0:
                    found.append(f"{key}: {int(v)}")
                else:
                    walk(v, key + ".")
        elif isinstance(x, (list, tuple)):
            for i, v in enumerate(x):
                walk(v, f"{path}{i}.")

    walk(details, "")
    return found


def compare(*args, **kw) -> Verdict:
    """``verification.claims.compare`` (same arguments; the runner stamps the claim id), then: a run stopped
    by a NaN/inf loss marks the Verdict.

    The surviving runs' numbers stay in ``details`` (the others went on); the Verdict is ``violated``
    with ``details["nan_stopped_runs"]`` saying which runs stopped, never a silent ``holds`` built
    partly on a frozen, diverged model.
    """
    v = _compare(*args, **kw)
    stopped = nan_stopped_runs(v.details)
    if not stopped:
        return v
    det = dict(v.details)
    det["nan_stopped_runs"] = stopped
    det["reason"] = ("non-finite training loss: these runs were stopped (frozen at their last finite step) and the "
                     f"others went on; the measurement is not trusted ({'; '.join(stopped)})")
    return dataclasses.replace(v, status="violated", details=det)
