"""Reference implementations and tooling for the course "How neural networks are trained".

The module map and conventions are in the README's "Architecture" section.
"""
__version__ = "0.1.0"
