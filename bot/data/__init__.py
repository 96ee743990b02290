"""Data shipped with the product: the starter question bank."""
