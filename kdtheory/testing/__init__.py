"""Public hypothesis strategies for property-testing knowledge-distillation bounds.

One submodule per paper module (``kdtheory.testing.variance_reduction`` …) plus generic ones.
All strategies take keyword-only arguments and raise clear errors for invalid ones.
"""
