"""Shared helper of paper 003's figure modules."""

from __future__ import annotations


def verdicts_for(figure, size, verdicts):
    """The figure claims' verdicts ``make`` draws: the ones passed in, else a run of the figure's claims (seed 0)."""
    if verdicts is not None:
        return verdicts
    from paper_figs import figure_verdicts

    return figure_verdicts(figure, size)
