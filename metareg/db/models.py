"""Every table module, imported once so that SQLModel's metadata knows them all.

Migrations, tests and tools import this module; a feature that adds tables adds its
module here (one line) and its own Alembic revision.
"""

from metareg.db import tables  # noqa: F401  core index tables
