"""Where metareg finds its database and configuration.

Precedence: an explicit argument (the CLI's --db) wins, then the environment
(METAREG_DATABASE_URL, METAREG_CONFIG_DIR), then the defaults: an SQLite file
`metareg.db` in the working directory and the `config/` folder beside it, or, where
the working directory has none, the default configuration shipped in the package
(`metareg/defaults/`: registries, cooperative approaches, webhooks, the simulator's
scenarios and the sample records), so an installed metareg works from any folder.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///metareg.db"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("METAREG_DATABASE_URL") or DEFAULT_DATABASE_URL


def packaged_defaults() -> Path:
    """The configuration shipped inside the package (package data)."""
    from importlib.resources import files

    return Path(str(files("metareg").joinpath("defaults")))


def config_dir(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("METAREG_CONFIG_DIR")
    if env:
        return Path(env)
    local = Path("config")
    return local if local.is_dir() else packaged_defaults()


def redact_url(url: str) -> str:
    """A database URL fit for logs and messages: the password is never shown."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown only by its scheme
        return url.split(":", 1)[0] + ":***"
