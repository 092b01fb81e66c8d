from __future__ import annotations

from tests.detection.conftest import AS_OF, Index, index

__all__ = ["AS_OF", "Index", "index"]
