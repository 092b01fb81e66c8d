"""Scheduled sync: engine (one registry, page by page), leases, scheduler, reconciliation."""
