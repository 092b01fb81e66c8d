"""The mapping language: source profiles that turn what a registry publishes (CSV, XLSX,
JSON) into canonical records, with no Python per source.

`load_profile(NAME)` loads and checks a profile (errors name the file and line);
`Profile.map_content(content, params)` yields one `Outcome` per source row: its records,
or the reason it was skipped, or the problems that quarantine it. The language is
documented in docs/connectors.md, "Source profiles and the mapping language".
"""

from metareg.connectors.mapping.approaches import ApproachNote, load_folds
from metareg.connectors.mapping.errors import ProfileError, RowError, SourceError
from metareg.connectors.mapping.origin import origin_params, origin_row, row_origin
from metareg.connectors.mapping.profile import (
    Mapped,
    Outcome,
    ParameterError,
    Profile,
    load_profile,
    profile_paths,
)

__all__ = [
    "ApproachNote",
    "Mapped",
    "Outcome",
    "ParameterError",
    "Profile",
    "ProfileError",
    "RowError",
    "SourceError",
    "load_folds",
    "load_profile",
    "origin_params",
    "origin_row",
    "profile_paths",
    "row_origin",
]
