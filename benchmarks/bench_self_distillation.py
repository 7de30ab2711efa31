"""Benchmark: the self-distillation path (paper 002) in the eigenbasis vs re-solving (cI + G) per evaluation.

K = 5,000 points, kernel = Green's function of ∫f² + (f')² (Dirichlet), 20 rounds. Ours: one ``eigh`` of G, then O(K) per root-finding
evaluation and one O(K²) rotation per round. Naive: the same Brent root finder on the same bracket, but every
evaluation of h(c) solves (cI + G)x = y with ``numpy.linalg.solve`` (LU, O(K³)). The naive path is measured on
its first ``--naive-rounds`` rounds and extrapolated to all rounds by its measured cost per evaluation and the
evaluation count of the full path (both printed); the default measures *all* rounds, so the ratio is measured in
one run (``--naive-rounds 1`` gives the quick extrapolated estimate). Usage:
``python benchmarks/bench_self_distillation.py [--K 5000] [--naive-rounds R]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import optimize

from kdtheory import greens as gr
from kdtheory import self_distillation as sd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--K", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--naive-rounds", type=int, default=None, help="default: all rounds")
    a = ap.parse_args()
    if a.naive_rounds is None:
        a.naive_rounds = a.rounds
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.01, 0.99, a.K))
    y0 = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(a.K)
    # kernel: the Green's function of ∫ f² + (f')² with f(0) = f(1) = 0 (derived by kdtheory.greens); its
    # eigenvalues decay like k⁻², so at K = 5000 none is at round-off level (the spline kernel's k⁻⁴ would put
    # hundreds of eigenvalues below K·machine-ε·d_max, which kdtheory treats as an unreachable null space; the
    # spline path itself runs by the O(K) banded route: benchmarks/bench_self_distillation_banded.py)
    G = gr.gram(x, gr.green_function({0: 1, 1: 1}, [(0, 0), (1, 0)]))
    eps = 1e-3 * float(np.mean(y0 ** 2))  # near interpolation: the path runs all rounds without collapse

    t0 = time.perf_counter()
    np.linalg.eigh(G)
    t_eigh = time.perf_counter() - t0

    t0 = time.perf_counter()
    path = sd.self_distill(G, y0, eps, a.rounds)
    t_path = time.perf_counter() - t0

    t0 = time.perf_counter()
    S = sd.spectrum(G)
    t_spec = time.perf_counter() - t0
    # measured naive rounds (the spectrum for its bracket is excluded from its time)
    t0 = time.perf_counter()
    t_naive_meas, ev_meas = 0.0, 0
    I = np.eye(a.K)
    for t in range(min(a.naive_rounds, path.rounds_fitted)):
        y = path.y[t]
        lo, hi = sd.multiplier_bracket(S.d, S.rotate(y), eps)
        cnt = [0]

        def h(c):
            cnt[0] += 1
            f = G @ np.linalg.solve(c * I + G, y)
            return float(np.mean((f - y) ** 2)) - eps

        t1 = time.perf_counter()
        optimize.brentq(h, lo * (1 - 1e-12), hi * (1 + 1e-12), xtol=lo * 1e-15, rtol=4 * np.finfo(float).eps)
        t_naive_meas += time.perf_counter() - t1
        ev_meas += cnt[0]
    per_eval = t_naive_meas / max(ev_meas, 1)
    measured_rounds = min(a.naive_rounds, path.rounds_fitted)
    full = measured_rounds == path.rounds_fitted
    # all rounds measured: the naive time is the measured one (its Brent needs *more* evaluations than ours, since
    # h by LU solves is noisy at the 1e-15 level; extrapolating by our evaluation count would flatter the naive side)
    t_naive = t_naive_meas if full else per_eval * path.evaluations

    print(f"K = {a.K}, rounds = {a.rounds} (fitted {path.rounds_fitted}, collapsed_at = {path.collapsed_at}), "
          f"eps = {eps:.3g}, h evaluations in the path = {path.evaluations}")
    print(f"one eigh of G:                         {t_eigh:9.3f} s")
    print(f"whole path (ours, incl. validation):   {t_path:9.3f} s   ratio path/eigh = {t_path / t_eigh:.3f}  (target ≤ 1.5)")
    print(f"naive: measured {measured_rounds} rounds, {ev_meas} evaluations in {t_naive_meas:.3f} s ({per_eval:.3f} s each)"
          + ("" if full else f"; extrapolated to {path.evaluations} evaluations: {t_naive:9.3f} s"))
    print(f"ratio naive/ours = {t_naive / t_path:.1f}  (target ≥ 10; "
          f"{'measured on every round in this run' if full else 'naive part extrapolated by evaluation count'})")
    if not full:
        print(f"(ours for the whole path vs naive for {measured_rounds} of {path.rounds_fitted} rounds, measured: "
              f"{t_naive_meas / t_path:.1f})")
    print(f"(spectrum() alone, used for the bracket: {t_spec:.3f} s)")


if __name__ == "__main__":
    main()
