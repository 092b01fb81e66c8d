"""Double-counting detection: the rules of RULES.md over the unified index.

- `rules/`: one module per rule (`dcNN_*.py`), the only place it is decided, declaring
  its kind (`rules/kinds.py`); `rules/terms.py` holds what the rules judge and the
  terms they share. Pure: nothing there reads the database.
- `read/`: what the passes read from the index (records as the rules see them).
- `prefilter/`: necessary conditions that narrow the candidates (numpy over every
  block, SQL per authorization, stored unit ranges); they never decide.
- `passes/`: run the rules of each kind over candidates: the full and the incremental
  finding (`full.py`, `incremental.py`) and one proposed action (`proposed.py`, for
  the authorization check).

Detection decides and finds; it writes nothing. `metareg.checks` runs it and hands
what it found, with the part of the index it judged, to the alert store.
"""
