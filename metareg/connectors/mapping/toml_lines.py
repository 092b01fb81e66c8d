"""Where each key of a TOML document is written: tomllib gives values, not line numbers.

`key_lines(text)` maps the dotted path of every table header and `key =` line to its
line number, with array-of-tables entries indexed (`records[1].fields.action_id`), so a
profile error can say "jcm-credits.toml:34". It reads only what profiles use: headers,
keys at the start of a line, and values that span lines (multi-line strings, arrays).
"""

from __future__ import annotations

import re

_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_BARE_OR_QUOTED)


def _parts(dotted: str) -> list[str]:
    out = []
    for match in _PART.finditer(dotted):
        token = match.group(0)
        if token[0] in "\"'":
            token = token[1:-1]
        out.append(token)
    return out


def _depth_after(value: str, depth: int, quote: str | None) -> tuple[int, str | None]:
    """Bracket depth and open multi-line string after scanning `value`."""
    index = 0
    while index < len(value):
        if quote is not None:
            end = value.find(quote, index)
            if end < 0:
                return depth, quote
            index, quote = end + 3, None
            continue
        char = value[index]
        if value.startswith(('"""', "'''"), index):
            quote = value[index : index + 3]
            index += 3
        elif char in "\"'":
            end = index + 1
            while end < len(value) and value[end] != char:
                end += 2 if char == '"' and value[end] == "\\" else 1
            index = end + 1
        elif char == "#":
            break
        else:
            depth += (char == "[") - (char == "]")
            index += 1
    return depth, quote


def key_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    arrays: dict[str, int] = {}
    current: list[str] = []
    depth, quote = 0, None
    for number, line in enumerate(text.splitlines(), start=1):
        if quote is not None or depth > 0:
            depth, quote = _depth_after(line, depth, quote)
            continue
        header = _ARRAY_HEADER.match(line)
        if header:
            name = ".".join(_parts(header.group(1)))
            arrays[name] = arrays.get(name, -1) + 1
            current = _resolve(_parts(header.group(1)), arrays)
            lines.setdefault(_join(current), number)
            continue
        header = _TABLE_HEADER.match(line)
        if header:
            current = _resolve(_parts(header.group(1)), arrays)
            lines.setdefault(_join(current), number)
            continue
        key = _KEY.match(line)
        if key:
            path = _join([*current, *_parts(key.group(1))])
            lines.setdefault(path, number)
            depth, quote = _depth_after(line[key.end() :], 0, None)
    return lines


def _resolve(parts: list[str], arrays: dict[str, int]) -> list[str]:
    resolved: list[str] = []
    for index, part in enumerate(parts):
        name = ".".join(parts[: index + 1])
        resolved.append(f"{part}[{arrays[name]}]" if name in arrays else part)
    return resolved


def _join(parts: list[str]) -> str:
    return ".".join(parts).replace(".[", "[")


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, or of the nearest enclosing table or key that has one."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None
