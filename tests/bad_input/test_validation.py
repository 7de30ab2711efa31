"""The public validation module's contract (kdtheory.validation), check by check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kdtheory import validation as V


def test_as_array_rejects_what_numpy_would_convert_silently():
    for bad, exc in [(np.ones(3) * (1 + 1j), TypeError), (np.array([1, "a"], dtype=object), TypeError),
                     (np.array([object()]), TypeError), (np.array([1.0, 1j], dtype=object), TypeError), ([True, False], TypeError), (["a", "b"], TypeError),
                     (None, TypeError), ("1.0", TypeError), ([[1.0, 2.0], [3.0]], ValueError),
                     ([1.0, math.nan], ValueError), ([1.0, -math.inf], ValueError)]:
        with pytest.raises(exc, match="^x "):
            V.as_array("x", bad)
    np.testing.assert_array_equal(V.as_array("x", [np.float64(1.0), 2]), [1.0, 2.0])  # mixed real scalars
    np.testing.assert_array_equal(V.as_array("x", np.array([1, 2], dtype=object)), [1.0, 2.0])  # numbers only
    np.testing.assert_array_equal(V.as_array("x", [0.0, -math.inf], allow_neg_inf=True), [0.0, -math.inf])
    with pytest.raises(ValueError, match="x contains 1 NaN/inf"):
        V.as_array("x", [math.inf, -math.inf], allow_neg_inf=True)
    with pytest.raises(ValueError, match="at least 1 entry"):
        V.as_array("x", [], min_size=1)
    with pytest.raises(ValueError, match=r"ndim in \(2,\)"):
        V.as_array("x", [1.0], ndim=2)


def test_scalars_counts_tolerances_flags():
    for bad in (True, np.bool_(False), 1 + 0j, np.complex128(1.0), "1", None, np.ones(2)):
        with pytest.raises(TypeError, match="^v must be a real number"):
            V.scalar("v", bad)
    assert V.scalar("v", np.array(2.5)) == 2.5
    with pytest.raises(ValueError, match="finite"):
        V.scalar("v", math.nan)
    assert V.count("n", 3.0) == 3 and isinstance(V.count("n", np.int64(3)), int)
    for bad in (2.5, 1e300, 2 ** 40, 0, -1):
        with pytest.raises(ValueError, match="^n "):
            V.count("n", bad)
    with pytest.raises(TypeError, match="n must be an integer"):
        V.count("n", 3.0, strict=True)
    assert V.count("n", 2 ** 31) == 2 ** 31
    for bad in (math.nan, math.inf, 0.0, -1e-9):
        with pytest.raises(ValueError, match="^tol "):
            V.tolerance("tol", bad)
    assert V.tolerance("tol", 0.0, allow_zero=True) == 0.0
    for bad in ("no", "yes", 1, 0, None, 1.0):
        with pytest.raises(TypeError, match="^flag must be a bool"):
            V.flag("flag", bad)
    assert V.flag("flag", np.bool_(True)) is True


def test_generator_and_seed():
    g = np.random.default_rng(1)
    assert V.generator("rng", g) is g
    for bad in (None, 0, np.random.RandomState(0), "0"):
        with pytest.raises(TypeError, match="^rng must be a numpy.random.Generator"):
            V.generator("rng", bad)
    assert V.generator("rng", 5, seed_ok=True).random() == np.random.default_rng(5).random()
    with pytest.raises(ValueError, match="seed"):
        V.generator("rng", -1, seed_ok=True)
    with pytest.raises(TypeError):
        V.generator("rng", True, seed_ok=True)


def test_psd_tolerance_is_relative_to_the_largest_eigenvalue():
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    for scale in (1e-200, 1.0, 1e200):
        w = np.array([-1e-12, 0.5, 1.0]) * scale  # round-off-sized negative: accepted at every scale
        G = (Q * w) @ Q.T
        G = 0.5 * (G + G.T)
        vals, _ = V.psd_eigh("G", G)
        assert vals.min() >= 0
        bad = (Q * (np.array([-1e-3, 0.5, 1.0]) * scale)) @ Q.T  # clearly negative: rejected at every scale
        with pytest.raises(ValueError, match="G must be positive semi-definite"):
            V.psd("G", 0.5 * (bad + bad.T))
    with pytest.raises(ValueError, match="G must be positive semi-definite"):
        V.psd("G", -np.eye(2))
    with pytest.raises(ValueError, match=r"H\[1\] must be positive semi-definite"):
        V.psd("H", np.stack([np.eye(2), -np.eye(2)]), batch=True)
    with pytest.raises(ValueError, match="must be symmetric"):
        V.psd("G", [[1.0, 1.0], [0.0, 1.0]])


def test_indices_one_of_probability_vector():
    np.testing.assert_array_equal(V.indices("idx", [[0, 2]], 3), [[0, 2]])
    with pytest.raises(ValueError, match=r"idx entries must lie in \[0, 3\)"):
        V.indices("idx", [[0, -1]], 3)
    with pytest.raises(TypeError, match="idx must be an integer index array"):
        V.indices("idx", [[0.0, 1.0]], 3)
    with pytest.raises(TypeError, match="model must be a string"):
        V.one_of("model", ["a"], ("a", "b"))
    with pytest.raises(ValueError, match="model must be one of"):
        V.one_of("model", "c", ("a", "b"))
    with pytest.raises(ValueError, match="p must sum to 1"):
        V.probability_vector("p", [0.5, 0.6])
    with pytest.raises(ValueError, match="p must be a probability vector"):
        V.probability_vector("p", 1.0)


def test_callables_and_results():
    with pytest.raises(TypeError, match="kernel must be callable"):
        V.function("kernel", 3)
    with pytest.raises(ValueError, match=r"kernel \(its output\) contains 1 NaN"):
        V.callable_output("kernel", [1.0, math.nan])
    with pytest.raises(ValueError, match=r"kernel \(its output\) must have shape \(2, 2\)"):
        V.callable_output("kernel", np.ones(4), shape=(2, 2))
    assert V.finite_result(3.0, inputs=("a", "b")) == 3.0
    with pytest.raises(ValueError, match="^a, b: the result is not finite"):
        V.finite_result(np.array([1.0, math.inf]), inputs=("a", "b"))
