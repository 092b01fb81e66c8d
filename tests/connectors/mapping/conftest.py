"""Profiles written for a test: a TOML text in a temporary folder, loaded like a shipped one."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from metareg.connectors.mapping import Outcome, Profile, load_profile

Write = Callable[..., Profile]


@pytest.fixture
def write_profile(tmp_path: Path) -> Write:
    def write(body: str, name: str = "test-source", config: Path | None = None) -> Profile:
        path = tmp_path / f"{name}.toml"
        path.write_text(textwrap.dedent(body).lstrip(), "utf-8")
        return load_profile(str(path), config)

    return write


def run(profile: Profile, content: bytes | str, **params: Any) -> list[Outcome]:
    data = content.encode() if isinstance(content, str) else content
    return list(profile.map_content(data, profile.bind(params)))


def records(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [mapped.record for outcome in outcomes for mapped in outcome.records]
