"""Pinned exact values of kdtheory.label_distribution (paper 004) derived by hand (tools/mutate.py survivors)."""

import math

import numpy as np
import pytest

from kdtheory import label_distribution as ld


def test_lp_norm_by_hand():
    assert ld.lp_norm([3.0, -4.0], 1) == pytest.approx(7.0, rel=1e-12)
    assert ld.lp_norm([3.0, -4.0], 2) == pytest.approx(5.0, rel=1e-12)
    assert ld.lp_norm([3.0, -4.0], math.inf) == pytest.approx(4.0, rel=1e-12)
    # p = 3: (27 + 64)^(1/3); p = 1.5: (1 + 8)^(2/3) = 9^(2/3)
    assert ld.lp_norm([3.0, -4.0], 3) == pytest.approx(91.0 ** (1.0 / 3.0), rel=1e-12)
    assert ld.lp_norm([1.0, 4.0], 1.5) == pytest.approx(9.0 ** (2.0 / 3.0), rel=1e-12)
    assert np.allclose(ld.lp_norm([[3.0, 4.0], [0.0, 2.0]], 3, axis=1), [91.0 ** (1 / 3), 2.0], rtol=1e-12)
