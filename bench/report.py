"""The table `python -m bench` prints (plain text, so it pastes into Markdown)."""

from __future__ import annotations

from typing import Any

from bench.harness import Result


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _goal(result: Result) -> str:
    if result.met is None:
        return result.goal
    return f"{result.goal} {'MET' if result.met else 'MISSED'}"


def render_table(results: list[Result], meta: dict[str, Any]) -> str:
    """A Markdown table: figure, metric, size, median, spread, runs, goal, note."""
    env = meta["environment"]
    lines = [
        f"metareg bench: {meta['size']:,} blocks, {env['backend']}, {meta['runs']} run(s), "
        f"{env['cores']} cores, {env['processor']}",
        "",
        "| figure | metric | size | median | spread (min..max) | unit | runs | goal | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        spread = r.spread
        span = f"{_number(spread[0])}..{_number(spread[1])}" if spread else "-"
        note = r.note if r.status != "unavailable" else f"UNAVAILABLE: {r.note}"
        lines.append(
            f"| {r.figure} | {r.metric} | {r.size:,} | {_number(r.median)} | {span} | {r.unit} "
            f"| {len(r.values)} | {_goal(r)} | {note} |"
        )
    return "\n".join(lines)
