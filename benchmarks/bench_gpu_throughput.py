"""Training throughput (samples/s) of the network validations on the device used.

Compares, in one run, S seed-members trained as one vmapped ensemble (``gpu_validation.train``) with
the naive baseline — S separate models stepped one after another in a Python loop — for the MLP of
paper 000 and the small CNN of paper 004, and prints sizes, times, samples/s and the ratio.

What it showed on the 2-core CPU machine (one thread, shared): the vmapped ensemble is *not* faster
on a CPU (ratio 0.3–1.1×: vmap of a convolution becomes a grouped convolution, slow on CPU, and the
NaN-guarded update adds a few small ops per parameter); its point is a GPU, where S members share one
launch sequence. Run it there to see the ratio that matters.

    python benchmarks/bench_gpu_throughput.py [--device auto|cpu|cuda] [--steps 60]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from gpu_validation import models, train
from gpu_validation.device import Timer, describe, resolve_device


def _bench(make, x, y, S, steps, dev, batch):
    n = len(y)
    ens = train.make_ensemble([make(s) for s in range(S)], dev)

    def loss(p, b, idx):
        return F.cross_entropy(functional_call(ens.base, (p, b), (x[idx],)), y[idx])

    sch = train.batch_schedule(n, batch, 1, np.random.default_rng(0), dev)[:, :steps]
    train.train_ensemble(ens, loss, sch[:, :3], lr=0.01)  # warm-up
    with Timer(dev) as t_ens:
        train.train_ensemble(ens, loss, sch, lr=0.01)
    nets = [make(s).to(dev) for s in range(S)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.01) for m in nets]
    with Timer(dev) as t_loop:
        for k in range(sch.shape[1]):
            idx = sch[0, k]
            for m, o in zip(nets, opts):
                o.zero_grad(set_to_none=True)
                F.cross_entropy(m(x[idx]), y[idx]).backward()
                o.step()
    samples = S * sch.shape[1] * batch
    return samples, t_ens.seconds, t_loop.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    dev = resolve_device(args.device)
    print("device:", describe(dev))
    g = torch.Generator().manual_seed(0)
    for name, shape, make in (
        ("MLP 64-128-10", (64,), lambda s: models.MLP(64, 128, 10, seed=s)),
        ("SmallCNN w=16, 8x8", (1, 8, 8), lambda s: models.SmallCNN((1, 8, 8), 10, width=16, seed=s)),
        ("SmallCNN w=16, 32x32x3", (3, 32, 32), lambda s: models.SmallCNN((3, 32, 32), 10, width=16, seed=s)),
    ):
        n = 2048
        x = torch.rand(n, *shape, generator=g).to(dev)
        y = torch.randint(0, 10, (n,), generator=g).to(dev)
        for S in (1, 8):
            for batch in (64,):
                samples, te, tl = _bench(make, x, y, S, args.steps, dev, batch)
                print(f"{name:24s} members={S:3d} batch={batch:4d} steps={args.steps:4d} | ensemble {te:7.3f} s "
                      f"{samples / te:10.0f} samples/s | naive loop {tl:7.3f} s {samples / tl:10.0f} samples/s | "
                      f"ratio {tl / te:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
