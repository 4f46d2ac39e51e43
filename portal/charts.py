"""Server-rendered SVG charts: no JavaScript, no CDN, readable offline and when printed."""

from __future__ import annotations

from datetime import date
from html import escape

from django.utils.safestring import mark_safe

COLORS = {"licensed": "#b3261e", "in_use": "#0b5cad", "peak": "#c46d00", "denials": "#b3261e"}


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step:
            return step
    return ((value // 10000) + 1) * 10000


def usage_chart_svg(
    *, points: list[tuple], start: date, end: date, title: str, width: int = 900, height: int = 240
) -> str:
    """A chart of one license's daily in-use and peak against its licensed count, denials as bars.

    ``points`` are (day, licensed, in_use, peak, denials) tuples, days within [start, end].
    """
    left, right, top, bottom = 48, 12, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    ndays = max((end - start).days, 1)
    ymax = _nice_max(max([max(p[1], p[2], p[3], p[4]) for p in points] or [0]))

    def x(day: date) -> float:
        return left + plot_w * (day - start).days / ndays

    def y(value: int) -> float:
        return top + plot_h * (1 - value / ymax)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(6):
        v = ymax * i // 5  # ymax is a multiple of 5: whole-number ticks
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            'stroke="#e3e7eb"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#5b6875">{v}</text>'
        )
    for day, anchor in ((start, "start"), (start + (end - start) / 2, "middle"), (end, "end")):
        parts.append(
            f'<text x="{x(day):.1f}" y="{height - 8}" text-anchor="{anchor}" fill="#5b6875">'
            f"{day:%d %b %Y}</text>"
        )
    if not points:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" '
            'text-anchor="middle" fill="#5b6875">'
            "No usage recorded in this period</text></svg>"
        )
        return mark_safe("".join(parts))

    bar_w = max(plot_w / (ndays + 1) * 0.7, 1)
    for day, _licensed, _in_use, _peak, denials in points:
        if denials:
            parts.append(
                f'<rect class="denials" x="{x(day) - bar_w / 2:.1f}" y="{y(denials):.1f}" '
                f'width="{bar_w:.1f}" '
                f'height="{y(0) - y(denials):.1f}" fill="{COLORS["denials"]}" fill-opacity="0.35"/>'
            )

    def polyline(index: int, name: str, dash: str = "", step: bool = False) -> str:
        coords = []
        for i, p in enumerate(points):
            if step and i:
                coords.append(f"{x(p[0]):.1f},{y(points[i - 1][index]):.1f}")
            coords.append(f"{x(p[0]):.1f},{y(p[index]):.1f}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<polyline class="{name}" fill="none" '
            f'stroke="{COLORS[name]}" stroke-width="2"{dash_attr} '
            f'points="{" ".join(coords)}"/>'
        )

    parts.append(polyline(1, "licensed", dash="6 4", step=True))
    parts.append(polyline(3, "peak"))
    parts.append(polyline(2, "in_use"))
    # Hover targets: one transparent column per day with the day's figures as a tooltip.
    col_w = max(plot_w / (ndays + 1), 1)
    for day, licensed, in_use, peak, denials in points:
        parts.append(
            f'<rect x="{x(day) - col_w / 2:.1f}" y="{top}" width="{col_w:.1f}" height="{plot_h}" '
            'fill="transparent">'
            f"<title>{day:%a %d %b %Y}: in use {in_use}, peak {peak}, "
            f"licensed {licensed}, denials {denials}</title></rect>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
