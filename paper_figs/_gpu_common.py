"""Shared by the gpu_* figures: the generator a network claim receives in ``kdverify gpu --seed 0``."""

import numpy as np


def network_claim_rng(claim_id: str, seed: int = 0) -> np.random.Generator:
    """``claim_rng(seed, claim.rng_name)`` for a registered network claim, so a figure at a given size draws the
    very run (and numbers) of the report at that size and seed — claims of one experiment share the run."""
    from verification.claims import claim_rng, get, load_all

    load_all(network=True)
    return claim_rng(seed, get(claim_id).rng_name)
