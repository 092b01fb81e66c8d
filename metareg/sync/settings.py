"""A registry's sync settings: the keys of its `[[registries]]` entry besides `connector`.

schedule = { interval_minutes = 15, jitter_seconds = 30 }   # or { cron = "*/15 * * * *" }
reconcile = { interval_hours = 24 }                          # or { cron = "0 3 * * *" }
staleness_limit_minutes = 45        # default: 3 poll intervals (SY01 after that)
unknown_fields = "keep-raw"         # or "reject"
quarantine_alert_share = 0.5        # a page quarantined above this share: not `ok`
max_withdrawal_share = 0.5          # a complete listing withdrawing more is held (SY04)
allow_private_network = false
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from metareg.registries import RegistryConfig

if TYPE_CHECKING:
    from metareg.connectors.errors import ConfigurationError

UNKNOWN_FIELD_POLICIES = ("keep-raw", "reject")
DEFAULT_INTERVAL = timedelta(minutes=15)
DEFAULT_RECONCILE = timedelta(hours=24)
STALE_AFTER_INTERVALS = 3  # RULES.md SY01: default staleness limit, in poll intervals
DEFAULT_STALENESS_LIMIT = STALE_AFTER_INTERVALS * DEFAULT_INTERVAL
# A sync page or an ingested file of which more than this share was quarantined is
# reported as such (health `quarantining`, ingest exit 3): most likely the mapping, not
# the data, is wrong.
DEFAULT_QUARANTINE_ALERT_SHARE = 0.5


def invalid(message: str) -> ConfigurationError:
    """The error for wrong sync settings; the connectors package (and the HTTP client it
    brings) is imported only when there is one, not by every command that reads them."""
    from metareg.connectors.errors import ConfigurationError

    return ConfigurationError(message)


def alert_share(value: object, what: str) -> float:
    try:
        share = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise invalid(f"{what}: quarantine_alert_share must be between 0 and 1")
    return share


@dataclass(frozen=True)
class Schedule:
    interval: timedelta | None = None
    cron: str | None = None
    jitter_seconds: int = 0

    @classmethod
    def parse(cls, raw: Any, default: timedelta, what: str) -> Schedule:
        if raw is None:
            return cls(interval=default)
        if not isinstance(raw, dict):
            raise invalid(f"{what} must be a table, e.g. {{ interval_minutes = 15 }}")
        jitter = int(raw.get("jitter_seconds", 0))
        if "cron" in raw:
            return cls(cron=str(raw["cron"]), jitter_seconds=jitter)
        seconds = (
            float(raw.get("interval_seconds", 0))
            + 60 * float(raw.get("interval_minutes", 0))
            + 3600 * float(raw.get("interval_hours", 0))
        )
        if seconds <= 0:
            raise invalid(f"{what} needs cron or a positive interval_* value")
        return cls(interval=timedelta(seconds=seconds), jitter_seconds=jitter)

    def nominal_interval(self) -> timedelta:
        """The poll interval (for a cron schedule, a conservative one day)."""
        return self.interval or timedelta(days=1)


@dataclass(frozen=True)
class SyncSettings:
    registry_id: str
    schedule: Schedule
    reconcile: Schedule
    staleness_limit: timedelta
    unknown_fields: str = "keep-raw"
    has_connector: bool = False
    quarantine_alert_share: float = DEFAULT_QUARANTINE_ALERT_SHARE
    max_withdrawal_share: float = 0.5

    @classmethod
    def of(cls, registry: RegistryConfig) -> SyncSettings:
        settings = registry.settings
        schedule = Schedule.parse(settings.get("schedule"), DEFAULT_INTERVAL, "schedule")
        reconcile = Schedule.parse(settings.get("reconcile"), DEFAULT_RECONCILE, "reconcile")
        if "staleness_limit_minutes" in settings:
            staleness = timedelta(minutes=float(settings["staleness_limit_minutes"]))
        else:
            staleness = STALE_AFTER_INTERVALS * schedule.nominal_interval()
        policy = str(settings.get("unknown_fields", "keep-raw"))
        if policy not in UNKNOWN_FIELD_POLICIES:
            raise invalid(
                f"{registry.id}: unknown_fields must be one of {', '.join(UNKNOWN_FIELD_POLICIES)}"
            )
        share = float(settings.get("max_withdrawal_share", 0.5))
        if not 0 <= share <= 1:
            raise ConfigurationError(f"{registry.id}: max_withdrawal_share must be in 0..1")
        return cls(
            registry.id,
            schedule,
            reconcile,
            staleness,
            policy,
            has_connector=isinstance(settings.get("connector"), dict),
            quarantine_alert_share=alert_share(
                settings.get("quarantine_alert_share", DEFAULT_QUARANTINE_ALERT_SHARE), registry.id
            ),
            max_withdrawal_share=share,
        )
