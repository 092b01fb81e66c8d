"""Provisional cooperative approaches (RECORDS.md): an approach the source names before the
UNFCCC gave it a `CA` id gets a `CAP-...` id derived from the source, keeps the source's
own name, and is folded into its real id by `config/cooperative_approaches.toml` once
that is known:

    # config/cooperative_approaches.toml
    [fold]
    "CAP-RWA-SIQ" = "CA0052"
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from metareg.connectors.mapping.errors import ProfileError

APPROACH_ID = re.compile(r"^CA[0-9]{4}$")
PROVISIONAL_ID = re.compile(r"^CAP-[A-Z0-9][A-Z0-9-]{0,31}$")
PROVISIONAL_MAX = 36
FOLDS_FILE = "cooperative_approaches.toml"
_NOT_ID = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True, slots=True)
class ApproachNote:
    """What a load learned about a provisional approach; stored in `cooperative_approaches`."""

    id: str
    name: str
    source: str  # the profile that derived it
    folded_into: str | None = None


def provisional_id(text: str) -> str:
    """`CAP-` and the text in capitals, every run of other characters one '-'. Longer ids
    keep their head and end in 8 hex digits of the whole text's SHA-256, so two long
    names never share an id by being cut."""
    body = _NOT_ID.sub("-", text.upper()).strip("-")
    if body.startswith("CAP-"):
        body = body[4:]
    if not body:
        raise ValueError("the provisional id template gave no letters or digits")
    whole = f"CAP-{body}"
    if len(whole) <= PROVISIONAL_MAX:
        return whole
    digest = hashlib.sha256(body.encode()).hexdigest()[:8].upper()
    return f"{whole[: PROVISIONAL_MAX - 9].rstrip('-')}-{digest}"


def load_folds(config_dir: Path | None) -> dict[str, str]:
    """The provisional -> real id mapping of `config/cooperative_approaches.toml`."""
    if config_dir is None:
        return {}
    path = config_dir / FOLDS_FILE
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ProfileError(f"{path}: not valid TOML: {error}") from error
    folds = document.get("fold", {})
    if not isinstance(folds, dict) or set(document) - {"fold"}:
        raise ProfileError(f'{path}: expected only a [fold] table of "CAP-..." = "CA0000"')
    for provisional, real in folds.items():
        if not PROVISIONAL_ID.match(provisional):
            raise ProfileError(f"{path}: {provisional!r} is not a provisional id (CAP-...)")
        if not isinstance(real, str) or not APPROACH_ID.match(real):
            raise ProfileError(f"{path}: {provisional} folds into {real!r}, not a CA0000 id")
    return dict(folds)
