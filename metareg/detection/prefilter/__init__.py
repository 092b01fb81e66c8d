"""Narrowing the candidates a pass judges: necessary conditions only, never a verdict."""
