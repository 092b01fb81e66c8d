"""The checks' tests' generated world, made once per test module."""

from __future__ import annotations

import pytest

from bench.generator import Manifest, generate
from tests.checks.generated import SIZE


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return generate(tmp_path_factory.mktemp("world"), SIZE)
