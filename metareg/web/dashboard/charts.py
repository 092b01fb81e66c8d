"""Charts as inline SVG, drawn on the server: no script, no chart library, readable by
any browser (and by a screen reader, through each chart's title and table fallback)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from metareg.index.state import MIXED, STATES

# One colour per ITMO state, in the order of metareg.index.state.STATES and then MIXED
# (colour-blind friendly); a state added there without a colour here fails at import.
STATE_COLOURS = dict(
    zip(
        (*STATES, MIXED),
        (
            "#e5e5e5",  # unknown
            "#8da0cb",  # held
            "#a6d854",  # issued
            "#66c2a5",  # authorized
            "#fc8d62",  # first-transferred
            "#e78ac3",  # transferred
            "#555555",  # used
            "#b3b3b3",  # cancelled
            "#ffd92f",  # mixed
        ),
        strict=True,
    )
)


# Alerts by severity, most severe first (the order of every stack and legend).
SEVERITY_COLOURS = {
    "critical": "#b2182b",
    "high": "#ef8a62",
    "warning": "#fddb6d",
    "low": "#67a9cf",
}
CHAR_WIDTH = 7.0  # a generous average glyph width at the charts' 11px font


NARROW = 360  # drawn for phones: at a phone's width its text stays at its own size


def responsive(draw: Callable[[int], str], wide: int = 560, narrow: int = NARROW) -> str:
    """The chart drawn twice, for wide screens and for phones; the stylesheet shows the
    one that fits (`.chart-wide`, `.chart-narrow`), so a phone's chart is not a
    desktop's shrunk to unreadable text."""
    return (
        f'<div class="chart-wide">{draw(wide)}</div><div class="chart-narrow">{draw(narrow)}</div>'
    )


@dataclass(frozen=True)
class Bar:
    label: str
    parts: dict[str, float]  # series -> value

    @property
    def total(self) -> float:
        return sum(self.parts.values())


def _text_width(text: str) -> float:
    return CHAR_WIDTH * len(text)


def _legend(series: Sequence[str], width: int, left: int) -> list[tuple[str, float, int]]:
    """Each legend entry's (series, x, row): entries wrap onto new rows rather than run
    past the chart's right edge."""
    placed, x, row = [], float(left), 0
    for name in series:
        needed = 14 + _text_width(name) + 12
        if x + needed > width and x > left:
            x, row = float(left), row + 1
        placed.append((name, x, row))
        x += needed
    return placed


def stacked_bars(bars: Sequence[Bar], title: str, colours: dict[str, str], width: int = 560) -> str:
    """Horizontal stacked bars, one per label, with their legend inside the drawing.
    Every bar stacks its segments in the same order: the order of `colours`, then any
    other series alphabetically."""
    if not bars:
        return f'<p class="empty">{escape(title)}: nothing yet.</p>'
    present = {s for b in bars for s, v in b.parts.items() if v > 0}
    order = [s for s in colours if s in present] + sorted(present - set(colours))
    row, top, legend_row = 26, 8, 18
    left = int(max(_text_width(b.label) for b in bars)) + 14
    biggest = max(b.total for b in bars) or 1.0
    right = int(_text_width(f"{biggest:,.0f}")) + 12
    scale = max(width - left - right, 40) / biggest
    legend = _legend(order, width, 4)
    rows = (legend[-1][2] + 1) if legend else 0
    legend_top = top + row * len(bars) + 12
    height = legend_top + legend_row * rows + 4
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for n, bar in enumerate(bars):
        y = top + n * row
        out.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" class="label">'
            f"{escape(bar.label)}</text>"
        )
        x = float(left)
        for series in order:
            value = bar.parts.get(series, 0)
            if value <= 0:
                continue
            w = value * scale
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(w, 0.5):.1f}" height="{row - 6}" '
                f'fill="{colours.get(series, "#999")}" data-series="{escape(series)}">'
                f"<title>{escape(bar.label)} {escape(series)}: {value:,.0f}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 15}" class="value">{bar.total:,.0f}</text>')
    out.append('<g class="legend">')
    for series, x, line in legend:
        y = legend_top + line * legend_row + 10
        out.append(
            f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" '
            f'fill="{colours.get(series, "#999")}"/>'
            f'<text x="{x + 14:.0f}" y="{y}" class="legend">{escape(series)}</text>'
        )
    out.append("</g></svg>")
    return "".join(out)


def date_columns(days: Sequence[date], title: str, width: int = 560, height: int = 170) -> str:
    """How many things happened per day, month or year (chosen from the span), on a
    calendar axis: empty periods show as gaps."""
    if not days:
        return f'<p class="empty">{escape(title)}: nothing yet.</p>'
    first, last = min(days), max(days)
    span = (last - first).days
    if span <= 62:
        unit, fmt = "day", "%Y-%m-%d"
        index = lambda d: (d - first).days  # noqa: E731
        start = lambda n: first + timedelta(days=n)  # noqa: E731
    elif span <= 366 * 4:
        unit, fmt = "month", "%Y-%m"
        index = lambda d: (d.year - first.year) * 12 + d.month - first.month  # noqa: E731

        def start(n: int) -> date:
            months = first.month - 1 + n
            return date(first.year + months // 12, months % 12 + 1, 1)
    else:
        unit, fmt = "year", "%Y"
        index = lambda d: d.year - first.year  # noqa: E731
        start = lambda n: date(first.year + n, 1, 1)  # noqa: E731
    counts: dict[int, int] = {}
    for day in days:
        counts[index(day)] = counts.get(index(day), 0) + 1
    columns = index(last) + 1
    left, bottom, top = 36, 30, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(counts.values())
    col_w = plot_w / columns
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" aria-label="{escape(title)}" data-unit="{unit}">'
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        f'class="axis"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="label">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" class="label">0</text>',
    ]
    for n, count in sorted(counts.items()):
        h = plot_h * count / peak
        x = left + n * col_w
        label = start(n).strftime(fmt)
        out.append(
            f'<rect class="period" x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(col_w - 2, 1):.1f}" height="{h:.1f}" fill="#d95f02" '
            f'data-period="{label}" data-count="{count}"><title>{escape(label)}: {count}</title>'
            "</rect>"
        )
    if unit == "month":  # a tick at each January between the ends
        for n in range(1, columns - 1):
            if start(n).month == 1:
                x = left + n * col_w
                out.append(
                    f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" '
                    f'class="axis"/><text x="{x:.1f}" y="{top + plot_h + 14}" '
                    f'text-anchor="middle" class="label tick">{start(n).year}</text>'
                )
    out.append(
        f'<text x="{left}" y="{height - 4}" class="label">{escape(start(0).strftime(fmt))}</text>'
        f'<text x="{width - 8}" y="{height - 4}" text-anchor="end" class="label">'
        f"{escape(start(columns - 1).strftime(fmt))}</text>"
        f'<text x="{width / 2:.0f}" y="{height - 4}" text-anchor="middle" class="label">'
        f"per {unit}</text></svg>"
    )
    return "".join(out)
