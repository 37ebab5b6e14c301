"""Segments: typed definitions, the operators registry, the compiler to SQL."""
