"""Manifest record of paper 001 (seed ``001_222668dd4f150ca7.txt``)."""

from verification.papers import Paper

PAPER = Paper(
    key="001",
    seed_file="001_222668dd4f150ca7.txt",
    citation="Rahbar et al. — KD in the kernel regime",
    prefix="rahbar",
    topic=('kdtheory.kernel_regime',),
)
