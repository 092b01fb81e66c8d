"""Every table module, imported once so that SQLModel's metadata knows them all.

Migrations, tests and tools import this module; a feature that adds tables adds its
module here (one line) and its own Alembic revision.
"""

from metareg.alerts import tables as alert_tables  # noqa: F401  alerts, feeds, webhooks
from metareg.api import tables as api_tables  # noqa: F401  API keys
from metareg.db import tables  # noqa: F401  core index tables
from metareg.sync import tables as sync_tables  # noqa: F401  leases, listing passes
