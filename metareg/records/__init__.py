"""Canonical records (RECORDS.md): their schemas, validation, identity, normal form,
the operations that arrive at the index, ITMO identifiers and underlying serials.

The bottom of the house: every other layer may import it; it imports nothing of
metareg above the foundation (`metareg.log`, `metareg.settings`).
"""
