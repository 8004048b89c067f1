"""minireason: reasoning RL (the R1-Zero recipe) from scratch, small enough to read and run on a laptop."""
__version__ = "0.2.0"
