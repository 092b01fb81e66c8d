"""The rules of RULES.md, one small module each (DC01-DC12).

Each module quotes its rule's definition, states the decisions the spec leaves
open, and exposes pure predicates over `Rec`/`AuthRec` that the set-based sweep
(`metareg.detection.sweep`), the authorization pass and `evaluate_action` share.
"""
