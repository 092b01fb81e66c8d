"""The exchange server answers as docs/exchange-api.openapi.yaml says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml
from fastapi.testclient import TestClient

from metareg.exchange import create_exchange_app
from tests.sync.feeds import issuance, populated

DOC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "exchange-api.openapi.yaml").read_text()
)


def check(body: Any, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": DOC["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


def test_every_path_answers_in_the_documented_shape() -> None:
    source = populated("IDN01", records=8)
    source.withdraw(issuance("IDN01", 1))
    client = TestClient(create_exchange_app(source))
    check(client.get("/exchange/v1/info").json(), "Info")
    page = client.get("/exchange/v1/changes", params={"limit": 3}).json()
    check(page, "ChangesPage")
    assert page["has_more"] and len(page["items"]) == 3
    last = client.get(
        "/exchange/v1/changes", params={"cursor": page["next_cursor"], "limit": 1000}
    ).json()
    check(last, "ChangesPage")
    assert any(item["op"] == "withdraw" for item in last["items"]) and not last["has_more"]
    check(client.get("/exchange/v1/holdings").json(), "HoldingsPage")
    check(client.get("/exchange/v1/totals").json(), "Totals")
    blocks = client.get(
        "/exchange/v1/blocks", params={"cooperative_approach_id": "CA0001", "vintage": 2023}
    ).json()
    check(blocks, "BlocksPage")
    assert blocks["items"]
    assert set(DOC["paths"]) == {
        route.path
        for route in client.app.routes
        if route.path.startswith("/exchange")  # type: ignore[attr-defined]
    }


def test_problems_for_gone_cursors_and_credentials() -> None:
    source = populated("IDN01", records=2)
    client = TestClient(create_exchange_app(source, api_key="k-123456"))
    assert client.get("/exchange/v1/info").status_code == 401
    assert client.get("/exchange/v1/info", headers={"X-API-Key": "nope"}).status_code == 403
    source.rebuild()
    gone = client.get(
        "/exchange/v1/changes", params={"cursor": "0.3"}, headers={"X-API-Key": "k-123456"}
    )
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    check(gone.json(), "Problem")
    assert gone.json()["type"].endswith("/cursor-expired")
    bad = client.get(
        "/exchange/v1/changes", params={"limit": 5000}, headers={"X-API-Key": "k-123456"}
    )
    assert bad.status_code == 422
