"""The API's documentation pages work on a machine without internet: Swagger UI at
/docs and ReDoc at /redoc load only scripts, styles and images the server itself
serves (from the `fastapi-offline` package), and an unknown rule code is an error."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def _references(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(sqlite_api: Api, page: str) -> None:
    response = sqlite_api.client.get(page)
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    references = _references(response.text)
    assert references, "the page names its scripts"
    for url in references:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
    assets = [url for url in references if url != "/openapi.json"]
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        served = sqlite_api.client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 1000, url  # the real bundle, not a stub
    assert "fonts.googleapis" not in response.text
    assert sqlite_api.client.get("/openapi.json").status_code == 200


def test_unknown_rule_code_is_an_error_not_an_empty_list(sqlite_api: Api) -> None:
    for path in ("/v1/alerts?rule=DC99", "/v1/alerts/counts?rule=DC99"):
        response = sqlite_api.client.get(path, headers=sqlite_api.oversight)
        assert response.status_code == 422, (path, response.text)
        detail = response.json()["detail"]
        assert "rule" in detail and "DC01" in detail, detail  # names the codes that exist
    assert (
        sqlite_api.client.get("/v1/alerts?rule=DC01", headers=sqlite_api.oversight).json()["items"]
        == []
    )
