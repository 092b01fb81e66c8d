"""Webhook targets and connector URLs refuse every way of spelling a non-public address
unless the configuration allows a private network, and redirects are checked hop by hop.

One table of URLs is run through both policies (`connectors.urls.check_url` for fetching,
`alerts.webhooks.policy.check_url` for posting); names are resolved through a fake DNS.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from metareg.alerts.webhooks import policy as webhook_policy
from metareg.alerts.webhooks import subscriptions as subs
from metareg.alerts.webhooks.delivery import deliver_due, deliveries_summary
from metareg.connectors import urls as connector_urls
from metareg.connectors.http import HttpClient, HttpSettings
from tests.detection.conftest import Index, index
from tests.helpers import action

__all__ = ["index"]  # the fixture, imported to be found here

DNS = {
    "public.example.org": ["93.184.216.34"],
    "rebind.example.org": ["93.184.216.34", "10.1.2.3"],  # one public answer is not enough
    "metadata.example.org": ["169.254.169.254"],
    "v6-loopback.example.org": ["::1"],
    "cgnat.example.org": ["100.64.1.2"],
}
NON_PUBLIC = [
    "http://127.0.0.1/x",
    "http://127.1/x",  # short form: resolved by the system resolver to 127.0.0.1
    "http://2130706433/x",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/x",
    "http://0.0.0.0/x",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:a9fe:a9fe]/latest",  # 169.254.169.254, IPv4-mapped
    "http://[2002:7f00:1::]/x",  # 6to4 around 127.0.0.1
    "http://[fe80::1]/x",
    "http://[fc00::1]/x",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.1/x",
    "http://172.16.5.4/x",
    "http://192.168.0.1/x",
    "http://100.64.1.2/x",  # carrier-grade NAT
    "http://224.0.0.1/x",
    "http://localhost:8000/x",
    "http://rebind.example.org/x",
    "http://metadata.example.org/x",
    "http://v6-loopback.example.org/x",
    "http://cgnat.example.org/x",
]


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def fake(host: str, *args: Any, **kwargs: Any) -> Any:
        if host in DNS:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
                for a in DNS[host]
            ]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_non_public_targets_are_refused_by_both_policies(url: str) -> None:
    with pytest.raises(connector_urls.UrlNotAllowed, match="allow_private_network"):
        connector_urls.check_url(url)
    with pytest.raises(webhook_policy.UrlNotAllowed):
        webhook_policy.check_url(url)
    # Explicitly allowed (the simulator and the tests run on loopback): accepted.
    assert connector_urls.check_url(url, allow_private_network=True) == url
    assert webhook_policy.check_url(url, allow_private=True) == url


def test_public_targets_are_accepted() -> None:
    for url in ("https://public.example.org/hook", "https://93.184.216.34/x"):
        assert connector_urls.check_url(url) == url
        assert webhook_policy.check_url(url) == url


@respx.mock
@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:5432/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data",
        "http://metadata.example.org/latest",
        "/..//10.0.0.1/x",  # relative: stays on the public host, so it is followed
    ],
)
def test_connector_redirects_are_checked_at_every_hop(location: str) -> None:
    start = respx.get("https://public.example.org/feed").mock(
        return_value=httpx.Response(302, headers={"Location": location})
    )
    inner = respx.route(host__regex=r"^(?!public\.example\.org$)").mock(
        return_value=httpx.Response(200, json={"secret": "internal"})
    )
    same_host = respx.get(url__regex=r"^https://public\.example\.org/(?!feed)").mock(
        return_value=httpx.Response(200, json={"ok": True})
    )
    client = HttpClient(HttpSettings(max_attempts=1), sleep=lambda s: None)
    if location.startswith("/"):
        assert client.get("https://public.example.org/feed").json() == {"ok": True}
        assert same_host.call_count == 1
    else:
        with pytest.raises(connector_urls.UrlNotAllowed):
            client.get("https://public.example.org/feed")
    assert start.call_count == 1 and inner.call_count == 0


def test_webhook_delivery_does_not_follow_a_redirect_inward(index: Index) -> None:
    """A subscriber's 30x to an internal address is an answer, never a new target."""
    with index.engine.begin() as connection:
        subs.save_subscription(
            connection,
            subs.Subscription(id="o", url="https://public.example.org/hook", secret="s" * 24),
        )
    index.put("IDN01", action("ISS-1", 1, 100, quantity_tco2e=3))
    index.put("IDN01", action("ISS-2", 101, 200, quantity_tco2e=3))
    index.check()
    with respx.mock(assert_all_called=False) as mock:
        hook = mock.post("https://public.example.org/hook").mock(
            return_value=httpx.Response(307, headers={"Location": "http://127.0.0.1:9/admin"})
        )
        inner = mock.route(host="127.0.0.1").mock(return_value=httpx.Response(204))
        deliver_due(index.engine, now=datetime.now(UTC) + timedelta(seconds=1))
    assert hook.call_count >= 1 and inner.call_count == 0
    assert "delivered" not in deliveries_summary(index.engine)
