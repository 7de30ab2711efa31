"""Validation of the papers' claims on real networks (PyTorch; CUDA when present, CPU otherwise).

``kdverify gpu [--device auto|cpu|cuda] [--dataset digits|mnist|cifar10] [--data-dir DIR] [--size quick|full]``
runs the network claims registered by :mod:`gpu_validation.experiments` (``kind="network"``) and writes
``gpu_validation.json``/``.md`` in the same report format as ``kdverify run``.

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

``quick``: measured at seed 0 on the shared 2-core CPU machine (torch 2.13 CPU): about 30 CPU-minutes for
all 12 claims (several claims re-run the same experiment: Fig. 1 twice, the ℓ2 chain three times, the 001
and 003 runs twice each), which is more than 10 wall-clock minutes even on an idle 2-core machine; ``full``: about 75 minutes on one CPU core, about 10 minutes on one GPU — the GPU
figure is an estimate from the CPU timings and the vmapped batch sizes (no GPU was available to measure
it): 000 ≈ 2 min, 001 < 1 min, 002 ≈ 2 min, 003 < 1 min, 004 ≈ 3 min.
"""
