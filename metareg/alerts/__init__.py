"""Alerts: the store and lifecycle of RULES.md, the event log and its feeds (JSON,
Atom, server-sent events), webhooks, and the operational alerts of the sync side."""
