"""superalign: a workbench for superalignment research.

Weak-to-strong generalization on real data and real pretrained models, with cached activations,
typed configs and reproducible run records.
"""

__version__ = "0.1.0"
