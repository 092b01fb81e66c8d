"""The read side as services: ITMOs, blocks, authorization checks, registries, totals,
alerts and the AEF export. Every SQL statement of the read side lives here; the API,
the dashboard and the CLI call these functions and never each other."""
