"""Charts as inline SVG, drawn on the server: no script, no chart library, readable by
any browser (and by a screen reader, through each chart's title and table fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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


@dataclass(frozen=True)
class Bar:
    label: str
    parts: dict[str, float]  # series -> value

    @property
    def total(self) -> float:
        return sum(self.parts.values())


def stacked_bars(bars: Sequence[Bar], title: str, colours: dict[str, str], width: int = 560) -> str:
    """Horizontal stacked bars, one per label, with a legend."""
    if not bars:
        return f'<p class="empty">{escape(title)}: nothing yet.</p>'
    row, left, right = 26, 70, 90
    top = 24
    height = top + row * len(bars) + 40
    biggest = max(b.total for b in bars) or 1.0
    scale = (width - left - right) / biggest
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for n, bar in enumerate(bars):
        y = top + n * row
        out.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" class="label">'
            f"{escape(bar.label)}</text>"
        )
        x = float(left)
        for series, value in bar.parts.items():
            if value <= 0:
                continue
            w = value * scale
            colour = colours.get(series, "#999")
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(w, 0.5):.1f}" height="{row - 6}" '
                f'fill="{colour}"><title>{escape(bar.label)} {escape(series)}: '
                f"{value:,.0f}</title></rect>"
            )
            x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 15}" class="value">{bar.total:,.0f}</text>')
    series_seen = [s for s in colours if any(b.parts.get(s) for b in bars)]
    y = top + row * len(bars) + 16
    x = float(left)
    for series in series_seen:
        out.append(
            f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" fill="{colours[series]}"/>'
            f'<text x="{x + 14:.0f}" y="{y}" class="legend">{escape(series)}</text>'
        )
        x += 14 + 7.5 * len(series) + 12
    out.append("</svg>")
    return "".join(out)


def _bucket(span: timedelta) -> tuple[timedelta, str]:
    if span <= timedelta(hours=2):
        return timedelta(minutes=1), "%H:%M"
    if span <= timedelta(days=2):
        return timedelta(hours=1), "%d %H:00"
    return timedelta(days=1), "%Y-%m-%d"


def time_columns(times: Sequence[datetime], title: str, width: int = 560, height: int = 160) -> str:
    """How many things happened per minute / hour / day (chosen from the span)."""
    if not times:
        return f'<p class="empty">{escape(title)}: nothing yet.</p>'
    ordered = sorted(times)
    step, fmt = _bucket(ordered[-1] - ordered[0])
    origin = ordered[0]
    counts: dict[int, int] = {}
    for moment in ordered:
        index = int((moment - origin) / step)
        counts[index] = counts.get(index, 0) + 1
    columns = max(counts) + 1
    left, bottom, top = 36, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(counts.values())
    col_w = plot_w / columns
    out = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        f'class="axis"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="label">{peak}</text>',
    ]
    for index, count in sorted(counts.items()):
        h = plot_h * count / peak
        x = left + index * col_w
        label = (origin + index * step).strftime(fmt)
        out.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(col_w - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#d95f02"><title>{escape(label)}: {count}</title></rect>'
        )
    out.append(
        f'<text x="{left}" y="{height - 8}" class="label">{escape(origin.strftime(fmt))}</text>'
        f'<text x="{width - 8}" y="{height - 8}" text-anchor="end" class="label">'
        f"{escape((origin + (columns - 1) * step).strftime(fmt))}</text></svg>"
    )
    return "".join(out)
