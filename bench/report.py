"""The Markdown report of a bench run, ratios first; `python -m bench.report RUN.json`
renders it again from the JSON a run wrote.

Sections: with `--compare`, each figure of this checkout over the other revision
(B/A, per run, then median and spread); then every figure as its ratio to the
baseline of the same run, with the value and the baseline beside it as context and
the load average the runs saw; then issue 18's goals, one line per goal and revision.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

LOWER_IS_BETTER = {"s", "ms"}


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _spread(stats: dict[str, Any]) -> str:
    if stats["min"] is None:
        return "-"
    return f"{number(stats['min'])}..{number(stats['max'])}"


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _loads(row: dict[str, Any]) -> str:
    loads = [
        load for run in row["runs"] for side in ("value", "baseline") for load in run[side]["load"]
    ]
    return f"{min(loads):.2f}..{max(loads):.2f}" if loads else "-"


def comparisons(rows: list[dict[str, Any]], a: str, b: str) -> list[dict[str, Any]]:
    """Each figure both revisions measured: B's value over A's, run by run (the runs
    were interleaved, so run i of both saw the same machine), and the same for their
    ratios to their baselines."""
    found = {(r["figure"], r["metric"], r["target"]): r for r in rows if r["status"] == "measured"}
    result = []
    for row in rows:
        if row["target"] != a or row["status"] != "measured":
            continue
        other = found.get((row["figure"], row["metric"], b))
        if other is None:
            continue
        pairs = list(zip(row["runs"], other["runs"], strict=False))
        values = [y["value"]["value"] / x["value"]["value"] for x, y in pairs]
        ratios = [y["ratio"] / x["ratio"] for x, y in pairs]
        result.append(
            {
                "figure": row["figure"],
                "metric": row["metric"],
                "unit": row["unit"],
                "better": "lower" if row["unit"] in LOWER_IS_BETTER else "higher",
                "a": a,
                "b": b,
                "a_value": row["value"]["median"],
                "b_value": other["value"]["median"],
                "b_over_a": _stats(values),
                "b_over_a_runs": values,
                "ratio_b_over_a": _stats(ratios),
            }
        )
    return result


def _header(document: dict[str, Any]) -> list[str]:
    env = document["environment"]
    start, end = document["load_average_start_end"]
    lines = [
        f"# metareg bench: {document['size']:,} blocks, {env['backend']}, "
        f"{document['runs']} run(s) of each figure",
        "",
        f"{env['cores']} cores ({env['processor']}), {env['memory_gib']} GiB; 1-minute load "
        f"average {start} at the start, {end} at the end; {document['wall_seconds']:,} s; "
        f"seed {document['seed']}.",
        "",
    ]
    for target in document["targets"]:
        missing = "; ".join(f"{k}: {v}" for k, v in target["missing"].items())
        lines.append(
            f"- {target['label']}: {target['revision'] or '?'}, metareg imported from "
            f"`{target['metareg_file']}`" + (f" (lacks {missing})" if missing else "")
        )
    return [*lines, ""]


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return [*lines, *("| " + " | ".join(cells) + " |" for cells in rows), ""]


def _comparison_table(document: dict[str, Any]) -> list[str]:
    found = document.get("comparisons")
    if not found:
        return []
    a, b = found[0]["a"], found[0]["b"]
    intro = [
        f"## {b} over {a} (B/A, runs interleaved)",
        "",
        "B/A of each figure's value, run by run (median, spread): above 1 is slower for "
        "times (s, ms), faster for rates. Then B/A of their ratios to the baselines of the "
        "same run (for growth and the workers figures, that ratio is the figure).",
        "",
    ]
    columns = ["figure", "metric", "B/A", "spread", "better", "B/A of the ratios", "spread"]
    rows = [
        [
            c["figure"],
            c["metric"],
            f"**{number(c['b_over_a']['median'])}**",
            _spread(c["b_over_a"]),
            c["better"],
            number(c["ratio_b_over_a"]["median"]),
            _spread(c["ratio_b_over_a"]),
            number(c["a_value"]),
            number(c["b_value"]),
            c["unit"],
        ]
        for c in found
    ]
    return intro + _table([*columns, "A", "B", "unit"], rows)


def _rows_table(document: dict[str, Any]) -> list[str]:
    several = len(document["targets"]) > 1
    intro = [
        "## Ratios to the baselines of the same run",
        "",
        "Each run measures the value and its baseline back to back; the ratio is taken "
        "run by run, then its median and spread (min..max). Values and baselines are "
        "medians, for context only: they do not carry from one run to another.",
        "",
    ]
    columns = ["figure", "metric", *(["target"] if several else []), "ratio", "spread"]
    columns += ["ratio of", "value", "baseline", "baseline is", "load avg", "runs", "note"]
    rows = []
    for r in document["rows"]:
        named = [r["figure"], r["metric"], *([r["target"]] if several else [])]
        if r["status"] != "measured":
            rows.append(named + ["-"] * 7 + ["0", f"{r['status'].upper()}: {r['reason']}"])
            continue
        rows.append(
            [
                *named,
                f"**{number(r['ratio']['median'])}**",
                _spread(r["ratio"]),
                r["ratio_label"],
                f"{number(r['value']['median'])} {r['unit']}",
                f"{number(r['baseline_value']['median'])} {r['baseline_unit']}",
                r["baseline"],
                _loads(r),
                str(len(r["runs"])),
                r["note"],
            ]
        )
    return intro + _table(columns, rows)


def _goals_table(document: dict[str, Any]) -> list[str]:
    several = len(document["targets"]) > 1
    columns = ["goal", "wanted", *(["target"] if several else []), "measured", "verdict"]
    rows = [
        [
            g["goal"],
            g["wanted"],
            *([g["target"]] if several else []),
            number(g["measured"]),
            g["verdict"],
        ]
        for g in document["goals"]
    ]
    return ["## Issue 18's goals", "", *_table(columns, rows)]


def render(document: dict[str, Any]) -> str:
    return "\n".join(
        _header(document)
        + _comparison_table(document)
        + _rows_table(document)
        + _goals_table(document)
    )


def main(argv: list[str]) -> None:
    for path in argv:
        print(render(json.loads(Path(path).read_text())))


if __name__ == "__main__":
    main(sys.argv[1:])
