"""Manifest record of paper 002 (seed ``002_ddf105459338061d.txt``)."""

from verification.papers import Paper

PAPER = Paper(
    key="002",
    seed_file="002_ddf105459338061d.txt",
    citation="Mobahi, Farajtabar, Bartlett — self-distillation in Hilbert space",
    prefix="mobahi",
    topic=('kdtheory.greens', 'kdtheory.self_distillation'),
)
