"""Server-rendered SVG charts: no JavaScript, no CDN, readable offline and when printed.

The chart is fluid: it fills its card's width at a fixed height, and only the plot (lines, bars,
hover columns) stretches, in an inner ``<svg preserveAspectRatio="none">`` whose strokes do not
scale. The axis text sits in the outer SVG, positioned in percentages and pixels, so it keeps its
12 px on a 390 px phone as on a wall screen (a chart scaled down whole had 4 px labels).
"""

from __future__ import annotations

from datetime import date
from html import escape

from django.utils.safestring import mark_safe

# Fallbacks for a page without the stylesheet (printing, a saved file); static/iwp/portal.css
# sets the same roles per colour scheme.
COLORS = {
    "licensed": "#b3261e",
    "in_use": "#0b5cad",
    "peak": "#b35f00",
    "denials": "#b3261e",
    "projection": "#b35f00",
}
TEXT, GRID, HALO = "#5b6875", "#e3e7eb", "#ffffff"
HEIGHT = 240
TOP, BOTTOM = 18, 26  # room above the highest tick's label and below the plot for the dates


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step:
            return step
    return ((value // 10000) + 1) * 10000


def usage_chart_svg(
    *,
    points: list[tuple],
    start: date,
    end: date,
    title: str,
    projection: list[tuple] | None = None,
) -> str:
    """A chart of one license's daily in-use and peak against its licensed count, denials as bars.

    ``points`` are (day, licensed, in_use, peak, denials) tuples, days within [start, end].
    ``projection`` (day, mean, lower, upper) tuples after ``end`` continue the peak as a dashed
    line in its band (the renewal forecast); the chart then runs to the last projected day.
    """
    projection = projection or []
    if projection:
        end = max(end, projection[-1][0])
    plot_h = HEIGHT - TOP - BOTTOM
    ndays = max((end - start).days, 1)
    ymax = _nice_max(
        max(
            [max(p[1], p[2], p[3], p[4]) for p in points] + [max(p[1], p[3]) for p in projection]
            or [0]
        )
    )

    def y(value: int) -> float:  # in the outer SVG, pixels from the top
        return TOP + plot_h * (1 - value / ymax)

    def pct(day: date) -> str:  # across the outer SVG, matching the plot's half-day margins
        return f"{100 * ((day - start).days + 0.5) / (ndays + 1):.2f}%"

    parts = [
        f'<svg class="chart" width="100%" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(6):
        v = ymax * i // 5  # ymax is a multiple of 5: whole-number ticks
        parts.append(
            f'<line class="grid" x1="0" x2="100%" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}"/>'
        )
    for day, anchor in ((start, "start"), (start + (end - start) / 2, "middle"), (end, "end")):
        x = {"start": "0", "middle": pct(day), "end": "100%"}[anchor]
        parts.append(
            f'<text class="tick x" x="{x}" y="{HEIGHT - 8}" text-anchor="{anchor}" '
            f'fill="{TEXT}">{day:%d %b %Y}</text>'
        )
    if not points and not projection:
        parts.append(
            f'<text x="50%" y="{TOP + plot_h / 2}" text-anchor="middle" fill="{TEXT}">'
            "No usage recorded in this period</text>"
        )
        parts.append(_tick_labels(ymax, y))
        parts.append("</svg>")
        return mark_safe("".join(parts))

    # The plot: x in days from the start (half a day of margin each side), y in seats.
    parts.append(
        f'<svg class="plot" x="0" y="{TOP}" width="100%" height="{plot_h}" '
        f'viewBox="-0.5 0 {ndays + 1} {ymax}" preserveAspectRatio="none">'
    )

    def px(day: date) -> int:
        return (day - start).days

    for day, _licensed, _in_use, _peak, denials in points:
        if denials:
            parts.append(
                f'<rect class="denials" x="{px(day) - 0.35:.2f}" y="{ymax - denials}" '
                f'width="0.7" height="{denials}" fill="{COLORS["denials"]}" fill-opacity="0.35"/>'
            )

    def polyline(index: int, name: str, dash: str = "", step: bool = False) -> str:
        coords = []
        for i, p in enumerate(points):
            if step and i:
                coords.append(f"{px(p[0])},{ymax - points[i - 1][index]}")
            coords.append(f"{px(p[0])},{ymax - p[index]}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<polyline class="{name}" fill="none" '
            f'stroke="{COLORS[name]}" stroke-width="2"{dash_attr} '
            'vector-effect="non-scaling-stroke" stroke-linejoin="round" '
            f'points="{" ".join(coords)}"/>'
        )

    if projection:
        parts.append(_projection(projection, px, ymax, title))
    if points:
        parts.append(polyline(1, "licensed", dash="6 4", step=True))
        parts.append(polyline(3, "peak"))
        parts.append(polyline(2, "in_use"))
    # Hover targets: one transparent column per day with the day's figures as a tooltip.
    for day, licensed, in_use, peak, denials in points:
        parts.append(
            f'<rect x="{px(day) - 0.5}" y="0" width="1" height="{ymax}" fill="transparent">'
            f"<title>{day:%a %d %b %Y}: in use {in_use}, peak {peak}, "
            f"licensed {licensed}, denials {denials}</title></rect>"
        )
    parts.append("</svg>")
    # Drawn last, over the lines, each with a halo of the card's colour.
    parts.append(_tick_labels(ymax, y))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _projection(projection: list[tuple], px, ymax: int, title: str) -> str:
    """The projected peak: its band (lower to upper, as one polygon) and the dashed line of its
    expected value, each with a tooltip."""
    first, last = projection[0], projection[-1]
    upper = [f"{px(d)},{ymax - hi:.3f}" for d, _m, _lo, hi in projection]
    lower = [f"{px(d)},{ymax - lo:.3f}" for d, _m, lo, _hi in reversed(projection)]
    line = " ".join(f"{px(d)},{ymax - m:.3f}" for d, m, _lo, _hi in projection)
    top = max(hi for _d, _m, _lo, hi in projection[-7:])
    summary = (
        f"Projected peak {first[0]:%d %b %Y} – {last[0]:%d %b %Y}: "
        f"up to {top:.1f} in the last week (the band holds 80% of the days)"
    )
    return (
        f'<polygon class="projection-band" points="{" ".join(upper + lower)}" '
        f'fill="{COLORS["projection"]}" fill-opacity="0.18" stroke="none">'
        f"<title>{escape(summary)}</title></polygon>"
        f'<polyline class="projection" fill="none" stroke="{COLORS["projection"]}" '
        'stroke-width="2" stroke-dasharray="5 4" vector-effect="non-scaling-stroke" '
        f'stroke-linejoin="round" points="{line}"><title>{escape(summary)}</title></polyline>'
    )


def _tick_labels(ymax: int, y) -> str:
    """The seat counts, just above their grid lines at the left edge."""
    return "".join(
        f'<text class="tick y" x="2" y="{y(v) - 3:.1f}" fill="{TEXT}" paint-order="stroke" '
        f'stroke="{HALO}" stroke-width="3" stroke-linejoin="round">{v}</text>'
        for v in (ymax * i // 5 for i in range(6))
    )
