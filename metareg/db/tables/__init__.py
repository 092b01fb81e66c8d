"""Every table of metareg, one module per area, all on SQLModel's metadata.

The schema is one thing: the index (`index`), the alert store, feeds and webhooks
(`alerts`), the partitions of a partitioned check (`partitions`), the sync side's
leases and listing passes (`sync`), the API keys
(`keys`) and the provisional cooperative approaches (`approaches`). They live here,
below every layer that reads or writes them, so that no layer has to import another to
reach a table; migrations in
`metareg/migrations/versions/` follow these modules. Importing the package
registers every table.
"""

from metareg.db.tables import alerts, approaches, index, keys, partitions, sync

__all__ = ["alerts", "approaches", "index", "keys", "partitions", "sync"]
