"""Manifest record of paper 003 (seed ``003_5987e0239d050241.txt``)."""

from verification.papers import Paper

PAPER = Paper(
    key="003",
    seed_file="003_5987e0239d050241.txt",
    citation="Phuong, Lampert — towards understanding KD",
    prefix="phuong",
    topic=('kdtheory.linear_transfer',),
)
