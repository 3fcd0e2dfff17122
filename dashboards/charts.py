"""Charts as server-rendered SVG: no JavaScript, no CDN, nothing to download; they print and work offline.

Each function takes plain numbers and returns safe markup. Every mark carries a <title>, which browsers
show as a tooltip, so a reader can hover any point for its exact value.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

INK = "#1f2430"
MUTED = "#8a90a2"
GRID = "#e7e9f0"
PREVIOUS = "#b8bdcc"


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # shown under the axis and in the tooltip, e.g. "12 Nov"
    value: float | None  # None: no data that day (a gap, not a zero)
    title: str = ""  # the tooltip; defaults to "label: value"


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def _nice_max(value: float, unit: str) -> float:
    if unit == "%":
        return 100.0
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10):
        magnitude = 10 ** (len(str(int(value))) - 1)
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(value)


def line_chart(
    points: Sequence[Point],
    *,
    unit: str = "",
    color: str = "#4f46e5",
    previous: Sequence[float | None] | None = None,
    width: int = 640,
    height: int = 180,
    label: str = "",
) -> SafeString:
    """A line with a soft area under it; `previous` draws the previous period dashed behind it."""
    left, right, top, bottom = 40, 12, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for p in points if p.value is not None] + [v for v in previous or [] if v is not None]
    y_max = _nice_max(max(values, default=0), unit)
    count = max(len(points), 1)

    def x(index: int) -> float:
        return left + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h - plot_h * min(value, y_max) / y_max

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"'
        ' xmlns="http://www.w3.org/2000/svg">'
    ]
    for fraction in (0, 0.5, 1):
        gy = top + plot_h - plot_h * fraction
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(_fmt(y_max * fraction, unit))}</text>"
        )
    if previous:
        parts.append(_polyline([(x(i), y(v)) for i, v in enumerate(previous) if v is not None], PREVIOUS, dashed=True))
    segments = _segments([(x(i), y(p.value)) if p.value is not None else None for i, p in enumerate(points)])
    base = top + plot_h
    for segment in segments:
        if len(segment) > 1:
            area = " ".join(f"L{px:.1f},{py:.1f}" for px, py in segment)
            parts.append(
                f'<path d="M{segment[0][0]:.1f},{base:.1f} {area} L{segment[-1][0]:.1f},{base:.1f} Z"'
                f' fill="{color}" fill-opacity="0.10"/>'
            )
        parts.append(_polyline(segment, color))
    for i, p in enumerate(points):
        if p.value is None:
            continue
        title = p.title or f"{p.label}: {_fmt(p.value, unit)}"
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="{3.2 if i == count - 1 else 2.2}" fill="{color}">'
            f"<title>{escape(title)}</title></circle>"
        )
    for i in sorted({0, count // 2, count - 1}):
        if i < len(points):
            anchor = "start" if i == 0 and count > 1 else "end" if i == count - 1 and count > 1 else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 6}" text-anchor="{anchor}" class="axis">'
                f"{escape(points[i].label)}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def sparkline(
    values: Sequence[float | None], *, color: str = "#4f46e5", width: int = 96, height: int = 26
) -> SafeString:
    """A small trend line ending in a dot; empty when there is nothing to draw."""
    known = [v for v in values if v is not None]
    if not known:
        empty = f'<svg class="spark" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"></svg>'
        return mark_safe(empty)  # noqa: S308 - numbers only
    low, high = min(known), max(known)
    span = (high - low) or 1
    count = len(values)

    def xy(index: int, value: float) -> tuple[float, float]:
        px = 2 + (width - 4) * index / (count - 1) if count > 1 else width / 2
        return px, height - 3 - (height - 6) * (value - low) / span

    points = [xy(i, v) if v is not None else None for i, v in enumerate(values)]
    parts = [f'<svg class="spark" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for segment in _segments(points):
        parts.append(_polyline(segment, color, stroke_width=1.6))
    last = next(((i, v) for i, v in reversed(list(enumerate(values))) if v is not None), None)
    if last is not None:
        lx, ly = xy(*last)
        parts.append(f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" fill="{color}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers only


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str
    values: Sequence[int]


def stacked_bars(labels: Sequence[str], series: Sequence[Series], *, width: int = 640, height: int = 200) -> SafeString:
    """One bar per label, stacked by series; hover a block for its series and count."""
    left, right, top, bottom = 40, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    y_max = _nice_max(max(totals, default=0), "")
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.72, 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for fraction in (0, 0.5, 1):
        gy = top + plot_h - plot_h * fraction
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" class="axis">{_fmt(y_max * fraction, "")}</text>'
        )
    for i, label in enumerate(labels):
        bx = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        for s in series:
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / y_max
            base -= h
            parts.append(
                f'<rect x="{bx:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{s.color}" rx="1">'
                f"<title>{escape(label)} · {escape(s.name)}: {value:,}</title></rect>"
            )
    count = len(labels)
    for i in sorted({0, count // 2, count - 1}):
        if 0 <= i < count:
            cx = left + slot * i + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{height - 6}" text-anchor="middle" class="axis">{escape(labels[i])}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def _segments(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive known points: a missing day breaks the line instead of pretending a zero."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def _polyline(points: Sequence[tuple[float, float]], color: str, *, dashed: bool = False, stroke_width=2.0) -> str:
    if not points:
        return ""
    if len(points) == 1:
        px, py = points[0]
        return f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2" fill="{color}"/>'
    coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    dash = ' stroke-dasharray="4 4"' if dashed else ""
    return (
        f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{stroke_width}"'
        f' stroke-linejoin="round" stroke-linecap="round"{dash}/>'
    )
