"""Every table of metareg, one module per area, all SQLAlchemy Core `Table`s on one
`MetaData` (`metareg.db.tables.base.metadata`).

The schema is one thing: the index (`index`), the alert store, feeds and webhooks
(`alerts`), the partitions of a partitioned check (`partitions`), the sync side's
leases and listing passes (`sync`), the API keys
(`keys`) and the provisional cooperative approaches (`approaches`). They live here,
below every layer that reads or writes them, so that no layer has to import another to
reach a table; migrations in
`metareg/migrations/versions/` follow these modules. Importing the package
registers every table.

Plain Core, no ORM and no SQLModel (issue 17, start-up): metareg reads and writes rows
with Core statements only, and a light command (`metareg status`) imports just the
tables it reads, without `sqlalchemy.orm` or pydantic.
"""

from metareg.db.tables import alerts, approaches, index, keys, partitions, sync
from metareg.db.tables.base import metadata

__all__ = ["alerts", "approaches", "index", "keys", "metadata", "partitions", "sync"]
