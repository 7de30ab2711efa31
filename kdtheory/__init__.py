"""kdtheory: the formulas of five knowledge-distillation papers, exact (sympy) and numerical (numpy/scipy).

One module per paper (see DESIGN.md); no torch, no I/O, no plotting here.
"""

__version__ = "0.1.0"
