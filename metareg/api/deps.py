"""Shared request dependencies: the engine, a read connection, the settings."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Connection, Engine

from metareg.api.config import ApiSettings


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def read_connection(request: Request) -> Iterator[Connection]:
    """A connection for the request; reads only, so nothing to commit."""
    with engine_of(request).connect() as connection:
        yield connection
