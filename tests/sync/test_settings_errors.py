"""Wrong sync settings are configuration errors (what `sync` reports and the worker
stops on), though the settings module imports the connector's error only to raise it;
`status` falls back to the default quarantine alert share for such a registry."""

from __future__ import annotations

from typing import Any

import pytest

from metareg.connectors.errors import ConfigurationError, ErrorClass
from metareg.oversight.registries import RegistryStatus
from metareg.registries import RegistryConfig
from metareg.sync.settings import DEFAULT_QUARANTINE_ALERT_SHARE, SyncSettings


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"schedule": "hourly"}, "schedule must be a table"),
        ({"schedule": {"jitter_seconds": 3}}, "schedule needs cron or a positive interval"),
        ({"unknown_fields": "shred"}, "unknown_fields must be one of"),
        ({"quarantine_alert_share": 2}, "quarantine_alert_share must be between 0 and 1"),
    ],
)
def test_wrong_sync_settings_are_configuration_errors(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        SyncSettings.of(RegistryConfig("JPN01", "Japan", "JPN", settings))
    assert raised.value.kind is ErrorClass.CONFIG


def test_status_uses_the_default_share_for_a_registry_with_a_wrong_one() -> None:
    config = RegistryConfig("JPN01", "Japan", "JPN", {"quarantine_alert_share": "most"})
    status = RegistryStatus("JPN01", "JPN", "Japan", config, True, None, None, None, 0)
    assert status.quarantine_alert_share == DEFAULT_QUARANTINE_ALERT_SHARE
