"""The HTML cutover report (`bwmigrate report --html`) and the live page (`status --serve`).

One self-contained page: inline CSS, server-rendered SVG charts (`svg_chart`), every number as
JSON in a `<script type="application/json">` paged by a small inline script (`html_assets`). A
Content-Security-Policy forbids every request to anywhere (the live page may fetch its own
origin), so the page cannot reach the network at view time even if a value slipped through.

Escaping: every text from the state file is HTML-escaped; the embedded JSON has `<`, `>` and `&`
written as `\\u003c`, `\\u003e`, `\\u0026`, so no number file can close the script element.

Pure: a `RunView` in, a string out. Must not import the cli wing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from typing import Any

from orchestrator.cutover.html_assets import CSS, LIVE_JS, TABLE_JS
from orchestrator.cutover.run_view import FIRST_FEW, STATUSES, RunView
from orchestrator.cutover.svg_chart import STATUS_WORDS, clock, step_bars, timeline_chart
from orchestrator.cutover.timeline import Timeline

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; connect-src {connect}; base-uri 'none'; form-action 'none'"
)


def embed_json(value: Any) -> str:
    """JSON safe inside a `<script>` element: no `<`, `>` or `&` survives as itself."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _counts_table(view: RunView) -> str:
    """The per-step counts as a table (the bars' figures, for reading and for tests)."""
    head = "".join(f'<th class="n">{escape(STATUS_WORDS[s])}</th>' for s in STATUSES)
    rows = []
    for i, step in enumerate([*view.steps, None]):
        name, counts = ("all steps", view.totals) if step is None else (step.name, step.counts)
        cells = "".join(
            f'<td class="n" data-status="{s}">{counts[s]}</td>' for s in ("total", *STATUSES)
        )
        key = "all" if step is None else str(i)
        rows.append(f'<tr data-step="{key}"><th>{escape(name)}</th>{cells}</tr>')
    return (
        f'<table id="counts"><thead><tr><th>step</th><th class="n">total</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _use(t: Timeline) -> str:
    """Requests per second against the limit, in words."""
    if not t.buckets:
        return ""
    rates = [b.requests / t.width_s for b in t.buckets]
    busy = [r for r in rates if r > 0]
    peak, mean = max(rates), (sum(busy) / len(busy) if busy else 0.0)
    share = f" ({100 * peak / t.rate_per_s:.0f}% of the limit)" if t.rate_per_s else ""
    throttled = sum(b.throttled for b in t.buckets)
    retried = sum(b.retried for b in t.buckets)
    return (
        f"From {_utc(t.start)}, {t.width_s:g} s per bar. Peak {peak:.1f} requests/s{share}, "
        f"mean {mean:.1f}/s while sending, against a limit of {t.rate_per_s:g}/s. "
        f"Answers 429 (marked 429): {throttled}; retried after a 5xx or no answer "
        f"(marked R): {retried}."
    )


def _marks(t: Timeline) -> str:
    items = "".join(
        f"<li>{escape(clock(m.at - t.start))} ({escape(_utc(m.at))}): {escape(m.label)}</li>"
        for m in t.marks
    )
    return f'<ol class="muted" id="marks">{items}</ol>' if items else ""


def _failures(view: RunView) -> str:
    """Failures grouped by status and API code: description, count, first numbers, all."""
    if not view.failures:
        return '<p id="no-failures">No number failed, needs action or is unknown.</p>'
    out = []
    for i, g in enumerate(view.failures):
        first = ", ".join(
            f'<span class="num">{escape(n) or "(empty)"}</span>' for n in g.numbers[:FIRST_FEW]
        )
        more = ""
        if len(g.numbers) > FIRST_FEW:
            more = (
                f'<details data-group="{i}"><summary>all {len(g.numbers)} numbers</summary>'
                '<ul class="num"></ul></details>'
            )
        code = escape(g.code) if g.code else "no code"
        out.append(
            f'<div class="group" data-code="{escape(g.code)}" data-status="{g.status}">'
            f"<h3>{escape(STATUS_WORDS[g.status])}: code {code} — {len(g.numbers)} number(s)</h3>"
            f"<p>{escape(g.description) or 'no description'}</p><p>{first}</p>{more}</div>"
        )
    return "".join(out)


def _figure(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if isinstance(value, int | float) else escape(str(value))


def _estimate(view: RunView) -> str:
    """The dry run's estimate beside the actual figures."""
    est, act = view.estimate or {}, view.actual
    orders = sum(est.get(k, 0) for k in ("orders", "chained_orders", "a2p_orders")) or None
    eta = est.get("eta_s")
    rows = [
        ("orders", orders, act["orders"]),
        ("API calls", est.get("api_calls"), act["api_calls"]),
        ("duration", clock(eta) if eta is not None else None, clock(act["elapsed_s"])),
    ]
    body = "".join(
        f"<tr><th>{w}</th><td class='n'>{_figure(e)}</td><td class='n'>{_figure(a)}</td></tr>"
        for w, e, a in rows
    )
    note = "" if view.estimate else '<p class="muted">No estimate recorded in this state file.</p>'
    return (
        f'<table id="estimate"><thead><tr><th></th><th class="n">dry-run estimate</th>'
        f'<th class="n">actual</th></tr></thead><tbody>{body}</tbody></table>{note}'
    )


def _plan(view: RunView) -> str:
    """The plan's identity, target, settings and steps."""
    facts = [
        ("plan", view.plan_name),
        ("plan hash", view.plan_hash),
        ("account", view.account_id),
        ("target", view.target),
        ("bwmigrate", view.version),
        ("state file", view.state),
        ("rate", ", ".join(f"{k} = {v}" for k, v in view.rate.items()) or "—"),
        ("runs", str(view.actual["runs"])),
    ]
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    steps = "".join(
        f"<tr><td>{escape(s.name)}</td><td>{escape(s.kind)}</td><td><code>"
        + escape("; ".join(f"{k} = {json.dumps(v)}" for k, v in s.settings.items()))
        + "</code></td></tr>"
        for s in view.steps
    )
    return (
        f'<dl class="facts" id="facts">{dl}</dl><table><thead><tr><th>step</th><th>kind</th>'
        f"<th>settings (body form included)</th></tr></thead><tbody>{steps}</tbody></table>"
    )


def render_sections(view: RunView) -> str:
    """The parts the live page refreshes: verdict, counts, timeline, failures, plan."""
    bars = step_bars([(s.name, s.kind, s.counts) for s in view.steps])
    return "".join(
        [
            f'<p class="verdict" id="verdict">{escape(view.verdict)}</p>',
            f"<h2>Outcome at a glance</h2>{bars}{_counts_table(view)}",
            f"<h2>The run over time</h2>{timeline_chart(view.timeline)}"
            f'<p class="muted">{escape(_use(view.timeline))}</p>{_marks(view.timeline)}',
            f'<h2>Failures by API code</h2><div id="failures">{_failures(view)}</div>',
            f"<h2>Estimate and actual</h2>{_estimate(view)}",
            f"<h2>Plan and target</h2>{_plan(view)}",
        ]
    )


def _table_data(view: RunView) -> dict[str, Any]:
    """Every row as compact arrays over one table of repeated strings."""
    strings: dict[str, int] = {"": 0}

    def ref(text: str | None) -> int:
        return strings.setdefault(text or "", len(strings))

    rows = [
        [
            ref(r.step),
            r.e164 or "",
            "" if r.input == r.e164 else r.input,
            ref(r.status),
            ref(r.order_id),
            ref(r.error_code),
            ref(r.error_description or r.note),
        ]
        for r in view.rows
    ]
    groups = [g.numbers for g in view.failures]
    return {"strings": list(strings), "rows": rows, "groups": groups}


def _number_table(view: RunView) -> Iterator[str]:
    words = {**STATUS_WORDS, "pending": "pending (not sent)", "in_order": "in an open order"}
    options = "".join(f'<option value="{s}">{escape(w)}</option>' for s, w in words.items())
    yield (
        '<h2>Every number</h2><div class="controls"><label>Search <input id="q" type="search" '
        'placeholder="number, input, code, order…" autocomplete="off"></label>'
        f'<label>Status <select id="status-filter"><option value="">all</option>{options}'
        '</select></label><button id="prev" type="button">previous</button>'
        '<button id="next" type="button">next</button><span id="page-info" class="muted">'
        "This table needs JavaScript; the counts above do not.</span></div>"
        f'<p class="print-only muted">Printed: the page of this table shown on screen, of '
        f"{len(view.rows)} rows in all; `bwmigrate report` gives every row as CSV.</p>"
        '<table id="numbers"><thead><tr><th>step</th><th>number</th><th>input</th>'
        "<th>status</th><th>order id</th><th>code</th><th>description / note</th></tr></thead>"
        '<tbody id="rows"></tbody></table>'
    )
    yield f'<script type="application/json" id="rows-data">{embed_json(_table_data(view))}</script>'
    yield f"<script>{TABLE_JS}</script>"


def _head(view: RunView, title: str, connect: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP.format(connect=connect)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="muted">{escape(view.plan_name)} · plan '
        f"{escape(view.plan_hash[:12])} · target {escape(view.target)} · bwmigrate "
        f"{escape(view.version)}"
    )


def render_report(view: RunView, *, now: float) -> Iterator[str]:
    """The self-contained report page, in pieces to write one after another."""
    yield _head(view, f"Cutover report: {view.plan_name}", "'none'")
    yield f" · made {escape(_utc(now))}</p><main>{render_sections(view)}</main>"
    yield from _number_table(view)
    yield "</body></html>\n"


def render_live(view: RunView, *, interval_s: float) -> str:
    """The live page of `status --serve`: the sections, refreshed from `fragment`."""
    return "".join(
        [
            _head(view, f"Live: {view.plan_name}", "'self'"),
            ' · <span id="updated">live</span></p>',
            f'<main id="live">{render_sections(view)}</main>',
            '<p class="muted no-print">Read-only; refreshes every few seconds. The per-number '
            "table is in `bwmigrate report --html` (it reads every row, too much to redo every few "
            "seconds).</p>",
            f"<script>{LIVE_JS % {'interval_ms': int(interval_s * 1000)}}</script></body></html>\n",
        ]
    )
