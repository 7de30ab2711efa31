"""The generic bad-input battery (issue 12): every public function × argument × bad value of its kind.

For each registered function (``registry.py``):

* ``test_valid_call``: the registry's valid arguments work (else every bad-input check below is void);
* ``test_bad_values``: for each argument and each bad value of its kind (NaN, ±inf, empty, wrong shape,
  0-d, list of strings, complex/object/bool dtype, None, a string, zero/negative/non-integral/huge counts,
  truthy strings for flags, indefinite/non-symmetric matrices, probabilities off the simplex, callables
  returning NaN or the wrong shape, …) the call raises ``ValueError``/``TypeError`` whose message names the
  argument, within ``TIME_LIMIT`` seconds (a hang fails fast through ``SIGALRM``);
* ``test_extreme_values``: with a valid argument scaled by 1e±300 the call either returns a finite result or
  raises such an error — never NaN/inf travelling on, never a bare OverflowError/ZeroDivisionError.

``test_every_public_function_is_registered`` fails when a public function is missing from the registry.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import numbers
import re
import signal
import warnings

import numpy as np
import pytest

from . import registry

TIME_LIMIT = 10.0
# a valid call may be slow the first time (importing torch, loading the digits on a loaded 2-core machine):
# it is checked for working, not for speed; bad values must still be rejected within TIME_LIMIT
VALID_TIME_LIMIT = 120.0
ENTRIES = registry.entries()
_BY_ID = {e.id: e for e in ENTRIES}


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    def handler(signum, frame):
        raise _Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _names(msg: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", msg) is not None


def _require(entry) -> None:
    mod = registry.REQUIRES.get(entry.id)
    if mod is not None:
        pytest.importorskip(mod)


def _call(entry, kwargs, limit: float = TIME_LIMIT):
    with _time_limit(limit), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return entry.func(**kwargs)


def _nonfinite(value, depth=0) -> bool:
    """Whether a result holds a NaN/inf anywhere (arrays, floats, tuples, lists, dicts, dataclasses)."""
    if depth > 4:
        return False
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return False
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and not np.all(np.isfinite(value))
    if isinstance(value, numbers.Number):
        try:
            return not np.isfinite(complex(value))
        except (TypeError, ValueError):
            return False
    if isinstance(value, (tuple, list)):
        return any(_nonfinite(v, depth + 1) for v in value[:50])
    if isinstance(value, dict):
        return any(_nonfinite(v, depth + 1) for v in list(value.values())[:50])
    if dataclasses.is_dataclass(value):
        return any(_nonfinite(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return False


def _has_nan(value) -> bool:
    arr = [v for v in (value if isinstance(value, (tuple, list)) else
                       dataclasses.astuple(value) if dataclasses.is_dataclass(value) else [value])]
    return any(isinstance(v, (float, np.floating, np.ndarray)) and np.isnan(np.asarray(v, dtype=float)).any()
               for v in arr)


def _check_bad(entry, arg, label, value, *, extreme=False) -> str | None:
    kwargs = entry.kwargs()
    kwargs[arg] = value
    try:
        out = _call(entry, kwargs)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if not _names(msg, arg):
            return f"{arg}={label}: {type(exc).__name__} does not name {arg!r}: {msg[:160]}"
        return None
    except _Hang as exc:
        return f"{arg}={label}: hang ({exc})"
    except Exception as exc:  # noqa: BLE001  (a bare exception is exactly what the battery reports)
        return f"{arg}={label}: bare {type(exc).__name__}: {str(exc)[:160]}"
    if extreme:
        if _nonfinite(out) and not (entry.id in registry.ALLOW_INF and not _has_nan(out)):
            return f"{arg}={label}: returned a non-finite result"
        return None
    return f"{arg}={label}: accepted (returned {type(out).__name__})"


@pytest.mark.parametrize("entry_id", sorted(_BY_ID))
def test_valid_call(entry_id):
    entry = _BY_ID[entry_id]
    _require(entry)
    out = _call(entry, entry.kwargs(), VALID_TIME_LIMIT)
    # the valid arguments give a usable result: no NaN anywhere, inf only where documented (ALLOW_INF)
    assert not (_nonfinite(out) and not (entry.id in registry.ALLOW_INF and not _has_nan(out))), (entry.id, out)


_BAD_CASES = sorted((e.id, arg) for e in ENTRIES for arg, kind in e.kinds.items() if kind.bad())
_EXTREME_CASES = sorted((e.id, arg) for e in ENTRIES for arg, kind in e.kinds.items() if kind.extreme())


@pytest.mark.parametrize("entry_id,arg", _BAD_CASES)
def test_bad_values(entry_id, arg):
    entry = _BY_ID[entry_id]
    _require(entry)
    fails = [f for lbl, v in entry.kinds[arg].bad() if (f := _check_bad(entry, arg, lbl, v))]
    assert not fails, f"{entry_id}:\n  " + "\n  ".join(fails)


@pytest.mark.parametrize("entry_id,arg", _EXTREME_CASES)
def test_extreme_values(entry_id, arg):
    entry = _BY_ID[entry_id]
    _require(entry)
    fails = [f for lbl, v in entry.kinds[arg].extreme() if (f := _check_bad(entry, arg, lbl, v, extreme=True))]
    assert not fails, f"{entry_id}:\n  " + "\n  ".join(fails)


@pytest.mark.parametrize("modname", sorted(registry.REGISTRY))
def test_every_public_function_is_registered(modname):
    mod = importlib.import_module(modname)
    missing = sorted(set(registry.public_names(mod)) - set(registry.REGISTRY[modname][1]))
    assert not missing, f"{modname}: public functions missing from tests/bad_input/registry.py: {missing}"


def test_every_module_is_registered():
    import pkgutil

    import kdtheory

    mods = {f"kdtheory.{m.name}" for m in pkgutil.iter_modules(kdtheory.__path__)
            if not m.name.startswith("_") and m.name not in ("testing", "validation")}
    mods |= {"kdtheory.testing", "gpu_validation.data"}
    assert mods <= set(registry.REGISTRY), f"modules missing from the registry: {sorted(mods - set(registry.REGISTRY))}"
