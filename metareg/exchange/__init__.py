"""The metareg registry exchange API, server side: `create_exchange_app(source)` serves any
`FeedSource` (see `metareg.exchange.source`); `InMemoryFeedSource` is the reference one."""

from metareg.exchange.memory import InMemoryFeedSource
from metareg.exchange.server import create_exchange_app
from metareg.exchange.source import (
    BlocksPage,
    ChangesPage,
    CursorGone,
    FeedSource,
    HoldingsPage,
)

__all__ = [
    "BlocksPage",
    "ChangesPage",
    "CursorGone",
    "FeedSource",
    "HoldingsPage",
    "InMemoryFeedSource",
    "create_exchange_app",
]
