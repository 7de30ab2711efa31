"""Manifest record of paper 004 (seed ``004_dcb61b7e5e0daf64.txt``)."""

from verification.papers import Paper

PAPER = Paper(
    key="004",
    seed_file="004_dcb61b7e5e0daf64.txt",
    citation="SoTeacher — student-oriented teacher training",
    prefix="soteacher",
    topic=('kdtheory.label_distribution',),
)
