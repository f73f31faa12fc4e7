"""The examples, installed as ``chainrule.examples`` so that ``chainrule train`` can run them.

Each file is a complete script: ``python examples/digits_mlp.py`` runs it directly.
"""
