"""Manifest record of paper 000 (seed ``000_e7b664afac902525.txt``)."""

from verification.papers import Paper

PAPER = Paper(
    key="000",
    seed_file="000_e7b664afac902525.txt",
    citation="Safaryan, Peste, Alistarh — KD performs partial variance reduction",
    prefix="safaryan",
    topic=('kdtheory.variance_reduction',),
)
