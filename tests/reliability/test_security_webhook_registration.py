"""A webhook to a non-public address is refused when the subscription is made (API, CLI,
webhooks.toml), not only at delivery: every spelling a resolver reads as an address
without DNS, and localhost however written, meets the same gate as delivery
(`metareg.netpolicy.literal_address`, `alerts.webhooks.policy.check_url`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from metareg.alerts.webhooks import subscriptions as subs
from metareg.alerts.webhooks.policy import UrlNotAllowed, check_url
from metareg.cli import app
from metareg.netpolicy import literal_address
from tests.api.conftest import Api, make_api

SPELLINGS = [
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/",  # hex, short form
    "http://127.1/",  # short form
    "http://0177.0.0.1/",  # octal
    "http://0/",  # 0.0.0.0
    "http://0x7f000001/",
    "http://017700000001/",  # octal, one number
    "http://0xa9.0xfe.0xa9.0xfe/latest/",  # 169.254.169.254 (cloud metadata)
    "http://10.1/",  # 10.0.0.1
    "http://localhost./",
    "http://LOCALHOST/",
    "http://ｌｏｃａｌｈｏｓｔ/",  # full-width
    "http://127。0。0。1/",  # ideographic full stops
    "http://127．0．0．1/",  # full-width full stops
    "http://１２７.０.０.１/",  # full-width digits
    "http://foo.localhost./",
]
SECRET = "s" * 24


@pytest.fixture
def sqlite_api(sqlite_engine: Engine, tmp_path: Path) -> Iterator[Api]:
    yield from make_api(sqlite_engine, tmp_path)


@pytest.mark.parametrize("url", SPELLINGS)
def test_the_api_refuses_the_subscription(sqlite_api: Api, url: str) -> None:
    refused = sqlite_api.client.post(
        "/v1/webhooks",
        json={"id": "sneaky", "url": url, "secret": SECRET},
        headers=sqlite_api.admin,
    )
    assert refused.status_code == 422, refused.text
    assert "private" in refused.json()["detail"]
    assert sqlite_api.client.get("/v1/webhooks", headers=sqlite_api.admin).json() == []
    # And delivery, resolving, refuses it too: one gate.
    with pytest.raises(UrlNotAllowed):
        check_url(url)


@pytest.mark.parametrize("url", SPELLINGS)
def test_the_cli_and_the_config_file_refuse_the_subscription(
    sqlite_engine: Engine, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    database = str(sqlite_engine.url)
    result = CliRunner().invoke(
        app,
        [
            *("--db", database, "alerts", "webhooks", "add", "sneaky"),
            *("--url", url, "--secret-env", "HOOK_SECRET"),
        ],
    )
    assert result.exit_code != 0 and "private" in result.output, result.output
    with sqlite_engine.connect() as connection:
        assert subs.list_subscriptions(connection) == []
    config = tmp_path / "webhooks.toml"
    config.write_text(
        f'[[webhooks]]\nname = "sneaky"\nurl = "{url}"\nsecret_env = "HOOK_SECRET"\n', "utf-8"
    )
    with pytest.raises(subs.SubscriptionError, match="private"):
        subs.load_config(config)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("127。0。0。1", "127.0.0.1"),
        ("134744072", "8.8.8.8"),  # public in any spelling stays public
        ("1.2.3.4.", "1.2.3.4"),
        ("[::1]", "::1"),
    ],
)
def test_numeric_spellings_read_as_the_resolver_reads_them(host: str, address: str) -> None:
    assert str(literal_address(host)) == address


@pytest.mark.parametrize("host", ["example.org", "08", "1.2.3.256", "256.1.1.1", "1.2.3.4.5"])
def test_names_and_impossible_numbers_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None


def test_public_targets_are_still_accepted_at_registration(sqlite_api: Api) -> None:
    made = sqlite_api.client.post(
        "/v1/webhooks",
        json={"id": "ok", "url": "https://hooks.example.org/metareg", "secret": SECRET},
        headers=sqlite_api.admin,
    )
    assert made.status_code in (200, 201), made.text
