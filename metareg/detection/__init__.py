"""Double-counting detection: the rules of RULES.md over the unified index.

Detection decides and finds; it writes nothing. `metareg.checks` runs it and hands
what it found to the alert store.
"""
