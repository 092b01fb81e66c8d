"""metareg: a meta-registry for Paris Agreement Article 6.2.

It polls every participating registry, keeps one unified index of their ITMO records
(authorizations, actions, holdings) with full provenance, and flags double counting.
"""

__version__ = "0.1.0"
