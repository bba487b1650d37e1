"""groundup: machine learning from the ground up, on NumPy."""

__version__ = "0.1.0"
