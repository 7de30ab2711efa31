"""Benchmark (paper 003): Figure 3's Monte Carlo and the monotonicity index, vectorised vs naive.

1. Expected transfer risk at d = 1000, n = 20 over 10,000 transfer sets (κ = 2):
   * baseline: a Python loop over sets — sample X (d×n), ŵ by ``student_solution`` (one QR), exact risk of
     that student (one quadrature call per set);
   * ours (full): stacked QR of (chunk, d, n) arrays, one vectorised risk call — no Python loop over sets;
   * ours (reduced): the exact Bartlett-reduced sets ((n+1)×n per set, same distribution of ᾱ(w*, ŵ)) and one
     stacked QR of shape (10000, n+1, n), one vectorised risk call.
   The three estimates must agree within Monte-Carlo error (printed).
2. Monotonicity index (eq. 34) of the distillation learner on m transfer sets plus one extra point each:
   * baseline: recompute — ``monotonicity_index`` with ``student_solution`` on X and on [X, x] (two QRs per set);
   * batched recompute: stacked QR of X and of [X, x] for all sets;
   * ours: one stacked QR of X and a rank-one update (cos² grows by (rᵀw̄*)²/‖r‖², r = (I − QQᵀ)x).
3. The near-tight asymmetric task of ``phuong.thm3`` (two windows, mass q = 0.05 near +1.35, 0.95 near −0.45,
   d = 5): the 95% half-width of E R per second of CPU, plain Monte Carlo vs the window-stratified estimator
   (``transfer_risk_samples(..., stratified=True)``), at n = 1 and n = 3; the two means must agree.

Run by hand: ``python benchmarks/bench_transfer.py [--sets 10000]``.

BLAS runs single-threaded (unless the caller sets the thread variables): on a shared 2-core machine a
multi-threaded OpenBLAS spins against other processes and one 1000×20 QR took ~440 ms instead of ~2 ms,
which times thread contention rather than the algorithms being compared.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from kdtheory import linear_transfer as lt  # noqa: E402


def loop_risk(task, n, m, rng):
    risks = np.empty(m)
    for k in range(m):
        X = task.sample(n, rng)
        c = lt.projection_cosine(X, task.w_star)
        risks[k] = lt.transfer_risk_from_angle(np.arccos(c), task)
    return risks.mean(), risks.std(ddof=1) / np.sqrt(m)


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def batched_recompute_index(sets, extra, w_star):
    wbar = w_star / np.linalg.norm(w_star)
    c0 = np.linalg.norm(np.einsum("mdn,d->mn", np.linalg.qr(sets)[0], wbar), axis=1)
    c1 = np.linalg.norm(np.einsum("mdn,d->mn", np.linalg.qr(np.concatenate([sets, extra[:, :, None]], 2))[0], wbar), axis=1)
    return float(np.mean(np.arccos(np.minimum(c1, 1)) < np.arccos(np.minimum(c0, 1))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=10_000)
    ap.add_argument("--mono-sets", type=int, default=2_000)
    args = ap.parse_args(argv)
    d, n, kappa, m = 1000, 20, 2.0, args.sets
    task = lt.polynomial_task(d, kappa)
    print(f"[1] Figure 3 Monte Carlo: d={d}, n={n}, kappa={kappa}, {m} transfer sets")
    (mb, sb), t_loop = timed(loop_risk, task, n, m, np.random.default_rng(0))
    (mf, sf), t_full = timed(lt.expected_transfer_risk, task, n, m, np.random.default_rng(1), method="full")
    (mr, sr), t_red = timed(lt.expected_transfer_risk, task, n, m, np.random.default_rng(2), method="reduced")
    print(f"    loop over sets           {t_loop:8.3f} s   E[R] = {mb:.4e} ± {sb:.1e}")
    print(f"    batched, full (d×n QR)   {t_full:8.3f} s   E[R] = {mf:.4e} ± {sf:.1e}   speed-up {t_loop / t_full:6.1f}×")
    print(f"    batched, reduced QR      {t_red:8.3f} s   E[R] = {mr:.4e} ± {sr:.1e}   speed-up {t_loop / t_red:6.1f}×")
    print(f"    agreement: |loop − reduced| = {abs(mb - mr):.2e} (3·se = {3 * np.hypot(sb, sr):.2e})")

    for d2, n2 in [(100, 5), (1000, 20)]:
        mm = args.mono_sets
        t2 = lt.polynomial_task(d2, 1.0)
        rng = np.random.default_rng(3)
        sets, extra = t2.sample_sets(mm, n2, rng), t2.sample_sets(mm, 1, rng)[:, :, 0]
        print(f"[2] monotonicity index: d={d2}, n={n2}, {mm} sets")
        base, t_b = timed(lt.monotonicity_index, lambda X, k: lt.student_solution(X, t2.w_star), sets, extra, t2.w_star)
        bre, t_br = timed(batched_recompute_index, sets, extra, t2.w_star)
        ours, t_o = timed(lt.monotonicity_index_distillation, sets, extra, t2.w_star)
        print(f"    recompute (loop, 2 QRs/set)  {t_b:8.4f} s   m = {base:.3f}")
        print(f"    recompute (stacked QRs)      {t_br:8.4f} s   m = {bre:.3f}   ratio vs ours {t_br / t_o:6.1f}×")
        print(f"    rank-one update (ours)       {t_o:8.4f} s   m = {ours:.3f}   speed-up vs loop {t_b / t_o:6.1f}×")

    from verification.stats import interval

    for n3, m3 in [(1, 20_000), (3, 20_000)]:
        t3 = lt.window_task(5, [1.35, 0.45], 0.02, [0.05, 0.95], sides=[1, -1], tilt=0.2)
        print(f"[3] asymmetric two-window task, d=5, n={n3}: plain ({m3} sets) vs stratified ({m3 // 2**n3} × {2**n3} patterns)")
        rp, tp = timed(lt.transfer_risk_samples, t3, n3, m3, np.random.default_rng(4))
        rs, ts = timed(lt.transfer_risk_samples, t3, n3, m3 // 2**n3, np.random.default_rng(5), stratified=True)
        (mp, lp, hp), (ms, ls, hs) = interval(rp), interval(rs)
        # half-width² × time is constant in the sample size: the cost of a given precision
        cost_p, cost_s = ((hp - lp) / 2) ** 2 * tp, ((hs - ls) / 2) ** 2 * ts
        print(f"    plain        {tp:7.3f} s   E[R] = {mp:.5f} [{lp:.5f}, {hp:.5f}]")
        print(f"    stratified   {ts:7.3f} s   E[R] = {ms:.5f} [{ls:.5f}, {hs:.5f}]   "
              f"efficiency gain (half-width² × time) "
              + (f"{cost_p / cost_s:.3g}×" if cost_s > 0 else "∞ (every pattern's risk is constant: zero variance)"))


if __name__ == "__main__":
    main()
