"""Credentials for a registry: from environment variables or secret files, never the config.

The configuration only *names* where a secret is (`token_env`, `token_file`, `key_env`,
`key_file`); a literal `token` or `key` in the file is refused, so a config file can be
committed or shown to an auditor. Every secret read is registered with the log redactor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metareg.connectors.errors import ConfigurationError
from metareg.log import register_secret

AUTH_TYPES = ("none", "bearer", "api-key")


@dataclass(frozen=True)
class AuthSettings:
    kind: str = "none"
    header: str = "X-API-Key"
    env: str | None = None
    file: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> AuthSettings:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigurationError(
                "auth must be a table, e.g. {type = 'bearer', token_env = 'X'}"
            )
        kind = str(raw.get("type", "none"))
        if kind not in AUTH_TYPES:
            raise ConfigurationError(f"auth type must be one of {', '.join(AUTH_TYPES)}")
        for literal in ("token", "key", "password", "secret"):
            if literal in raw:
                raise ConfigurationError(
                    f"auth.{literal}: secrets are never read from the configuration file; "
                    f"name an environment variable ({literal}_env) or a file ({literal}_file)"
                )
        env = raw.get("token_env") or raw.get("key_env")
        file = raw.get("token_file") or raw.get("key_file")
        if kind != "none" and not (env or file):
            raise ConfigurationError(f"auth type {kind} needs token_env/key_env or a *_file")
        return cls(kind, str(raw.get("header", "X-API-Key")), env, file)

    def secret(self) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigurationError(f"environment variable {self.env} is not set")
        else:
            assert self.file is not None
            try:
                value = Path(self.file).read_text("utf-8").strip()
            except OSError as error:
                raise ConfigurationError(f"cannot read secret file {self.file}: {error}") from error
            if not value:
                raise ConfigurationError(f"secret file {self.file} is empty")
        register_secret(value)
        return value

    def headers(self) -> dict[str, str]:
        """The request headers this auth adds (read fresh each time: secrets rotate)."""
        if self.kind == "bearer":
            return {"Authorization": f"Bearer {self.secret()}"}
        if self.kind == "api-key":
            return {self.header: self.secret()}
        return {}
