"""Validation of the papers' claims on real networks (PyTorch; CUDA when present, CPU otherwise).

``kdverify gpu [--device auto|cpu|cuda] [--dataset digits|mnist|cifar10] [--data-dir DIR] [--size quick|full]``
runs the network claims registered by :mod:`gpu_validation.experiments` (``kind="network"``) and writes
``gpu_validation.json``/``.md`` in the same report format as ``kdverify run``. There is one experiment
module per paper, named by the paper's claim prefix in the manifest (:mod:`verification.papers`);
``load_all(network=True)`` discovers them, so a new paper's experiments are a new module, not an edit here.
``--jobs N`` / ``--dask ADDRESS`` spread the experiments (one task per ``rng_key``) over processes or a
Dask cluster, GPU tasks on workers started with ``--resources GPU=1`` (:mod:`verification.executors`).

Sizes (times per experiment module, in each module's docstring):

======================  ==========================================  =================================
experiment              ``quick``                                   ``full``
======================  ==========================================  =================================
000 (safaryan)          MLP 32 hidden, 6 + 20 epochs                MLP 128, 30 + 100 epochs, 9 λ
001 (rahbar)            m = 64 … 4096, n = 12                       m up to 16384, n = 20, horizon 600
002 (mobahi)            5 rounds × 30 epochs, NTK widths ≤ 4096     8 rounds × 100 epochs, ≤ 16384
003 (phuong)            n ≤ 16, 12 transfer sets                    n ≤ 48, 100 sets, 30k–60k GD steps
004 (soteacher)         3 seeds, 50 + 25 epochs, CNN width 8        5 seeds, 100 + 100 epochs, width 32
======================  ==========================================  =================================

``quick``: measured at seed 0 on the 2-core CPU machine (torch 2.13 CPU, one torch thread — see
``experiments._common.cpu_threads``): 2 min wall-clock for all 12 claims (000 17 s, 001 15 s, 002 14 s,
003 13 s, 004 57 s). Claims of one experiment share an ``rng_key`` and one memoised run
(``experiments._common.memo``): Fig. 1, the ℓ2 chain and the 001/003 runs are each trained once. With two
torch threads the same suite took 5.6 min (the ops are small; a second process on a core stalls every
intra-op barrier). ``full``: about 75 minutes on one CPU core, about 10 minutes on one GPU — the GPU
figure is an estimate from the CPU timings and the vmapped batch sizes (no GPU was available to measure
it): 000 ≈ 2 min, 001 < 1 min, 002 ≈ 2 min, 003 < 1 min, 004 ≈ 3 min.
"""
