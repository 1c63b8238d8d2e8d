"""The report's charts as inline SVG, drawn on the server.

Why SVG written here rather than a charting library: the report must open offline, be mailed,
attached to a change ticket and still open in ten years. Inline SVG is a few kilobytes, needs no
script to show (it prints, and works with JavaScript off), and has no dependency to vendor,
audit or upgrade. Colours come from the page's CSS classes (light and dark mode); every mark
also carries a text label or a `<title>`, so nothing depends on telling colours apart.

Pure: strings in, strings out. Every text from the data is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from orchestrator.cutover.timeline import Timeline

WIDTH = 760
_LEFT, _RIGHT = 150, 20
_BAR_H, _ROW_H = 20, 58
STATUS_WORDS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "skipped": "skipped",
    "needs_action": "need action",
    "unknown": "unknown",
    "pending": "pending",
}


def _text(x: float, y: float, body: str, cls: str = "", anchor: str = "start") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{escape(body)}</text>'


def step_bars(steps: Sequence[tuple[str, str, dict[str, int]]]) -> str:
    """One stacked bar per step (name, kind, counts by status), each segment labelled."""
    inner = WIDTH - _LEFT - _RIGHT
    parts = []
    for i, (name, kind, counts) in enumerate(steps):
        y = 10 + i * _ROW_H
        total = counts.get("total", 0)
        parts.append(_text(0, y + 15, name, "label"))
        parts.append(_text(0, y + 31, f"{kind}, {total}", "muted"))
        x = float(_LEFT)
        words = []
        for status, word in STATUS_WORDS.items():
            n = counts.get(status, 0)
            if not n:
                continue
            words.append(f"{n} {word}")
            w = inner * n / total if total else 0.0
            tip = escape(f"{name}: {n} {word}")
            parts.append(
                f'<rect class="seg s-{status}" x="{x:.1f}" y="{y + 2}" width="{w:.1f}" '
                f'height="{_BAR_H}"><title>{tip}</title></rect>'
            )
            if w > 34:
                light = status in ("pending", "skipped")
                cls = "seg-label on-light" if light else "seg-label"
                parts.append(_text(x + w / 2, y + 16, str(n), cls, "middle"))
            x += w
        if not total:
            parts.append(_text(_LEFT, y + 16, "no numbers", "muted"))
        parts.append(_text(_LEFT, y + _BAR_H + 18, " · ".join(words), "muted"))
    height = 10 + len(steps) * _ROW_H
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="numbers per step by outcome">{"".join(parts)}</svg>'
    )


def clock(seconds: float) -> str:
    """`+m:ss` or `+h:mm:ss` since the start."""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"+{h}:{m:02d}:{sec:02d}" if h else f"+{m}:{sec:02d}"


def _share(rate: float, limit: float) -> str:
    """` (42% of the limit)`, or nothing without a limit."""
    return f" ({100 * rate / limit:.0f}% of the limit)" if limit else ""


def _panel(
    t: Timeline, values: Sequence[float], top: float, title: str, kind: str, limit: float = 0.0
) -> list[str]:
    """One panel of the timeline: bars or a line of `values`, 100 px tall, from `top`."""
    inner, height = WIDTH - _LEFT - _RIGHT, 82.0  # 18 px above for the labels
    peak = max([*values, limit, 1.0])
    step = inner / max(1, len(values))
    base = top + 100.0
    parts = [
        _text(0, top + 14, title, "label"),
        _text(0, top + 30, f"scale 0–{peak:g}", "muted"),
        f'<line class="axis" x1="{_LEFT}" y1="{base}" x2="{WIDTH - _RIGHT}" y2="{base}"/>',
    ]
    if kind == "bars":
        for i, v in enumerate(values):
            h = height * v / peak
            parts.append(
                f'<rect class="bar" x="{_LEFT + i * step:.1f}" y="{base - h:.1f}" '
                f'width="{max(step - 1, 0.5):.1f}" height="{h:.1f}"><title>'
                f"{clock(i * t.width_s)}: {v:.1f}/s{_share(v, limit)}</title></rect>"
            )
    else:
        pts = " ".join(
            f"{_LEFT + (i + 1) * step:.1f},{base - height * v / peak:.1f}"
            for i, v in enumerate(values)
        )
        parts.append(f'<polyline class="line l-{kind}" points="{_LEFT},{base} {pts}"/>')
        if values:
            parts.append(
                _text(WIDTH - _RIGHT, top + 12, f"{values[-1]:g} at the end", "muted", "end")
            )
    if limit:
        y = base - height * limit / peak
        parts.append(
            f'<line class="limit" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}"/>'
        )
        parts.append(_text(_LEFT + 4, y - 3, f"rate limit {limit:g}/s", "limit-label"))
    return parts


def _trouble_row(t: Timeline, y: float, label: str, what: str, counts: list[int]) -> list[str]:
    """A tick for every bucket with a count above zero, each with a `<title>`; the text label
    on the first of every run of neighbours (labels never overlap)."""
    step = (WIDTH - _LEFT - _RIGHT) / max(1, len(counts))
    parts, last_label = [], -1e9
    for i, n in enumerate(counts):
        if not n:
            continue
        x = _LEFT + i * step + step / 2
        text = ""
        if x - last_label >= 8 * len(label) + 6:
            text, last_label = _text(x, y + 12, label, "", "middle"), x
        parts.append(
            f"<g><title>{n} {escape(what)} at {clock(i * t.width_s)}</title>"
            f'<line x1="{x:.1f}" y1="{y - 2}" x2="{x:.1f}" y2="{y + 2}"/>{text}</g>'
        )
    return parts


def _trouble_marks(t: Timeline, top: float) -> list[str]:
    """Under the request panel: where answers were 429, where requests were retried."""
    throttled = _trouble_row(t, top + 2, "429", "answers 429", [b.throttled for b in t.buckets])
    retried = _trouble_row(
        t, top + 16, "R", "requests retried (5xx or no answer)", [b.retried for b in t.buckets]
    )
    return [
        f'<g class="m-429">{"".join(throttled)}</g>',
        f'<g class="m-retry">{"".join(retried)}</g>',
    ]


def _run_marks(t: Timeline, bottom: float) -> list[str]:
    """A vertical line for every run start, resume, end or interruption, labelled."""
    span = max(t.end - t.start, 1e-9)
    inner = WIDTH - _LEFT - _RIGHT
    parts = []
    for i, m in enumerate(t.marks):
        x = _LEFT + inner * min(max((m.at - t.start) / span, 0.0), 1.0)
        parts.append(f'<line class="mark" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{bottom}"/>')
        anchor = "end" if x > WIDTH / 2 else "start"
        dx = -3 if anchor == "end" else 3
        parts.append(_text(x + dx, bottom + 14 + 12 * (i % 3), m.label, "mark-label", anchor))
    return parts


def timeline_chart(t: Timeline) -> str:
    """Requests per second against the rate limit (429s and retries marked), orders in flight,
    numbers finished; every run's start, end or interruption marked."""
    if not t.buckets:
        return '<p class="muted">Nothing sent yet: no timeline.</p>'
    b = t.buckets
    per_s = [round(x.requests / t.width_s, 2) for x in b]
    parts = _panel(t, per_s, 0, "requests per second", "bars", t.rate_per_s)
    parts += _trouble_marks(t, 100)
    parts += _panel(t, [x.in_flight for x in b], 140, "orders in flight", "flight")
    parts += _panel(t, [x.finished for x in b], 260, "numbers finished", "done")
    bottom = 360
    parts.append(_text(_LEFT, bottom + 52, clock(0), "muted"))
    parts.append(_text(WIDTH - _RIGHT, bottom + 52, clock(t.end - t.start), "muted", "end"))
    parts += _run_marks(t, bottom)
    return (
        f'<svg class="chart" viewBox="0 -4 {WIDTH} {bottom + 62}" role="img" '
        f'aria-label="the run over time">{"".join(parts)}</svg>'
    )
