"""Validation of the papers' claims on real networks (PyTorch; CUDA when present, CPU otherwise)."""
