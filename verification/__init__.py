"""Claims (predicted vs measured) for every paper; see :mod:`verification.claims`."""
