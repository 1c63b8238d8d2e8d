"""The HTML report's pure parts: the timeline's buckets, the charts' labels, escaping, redaction."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from orchestrator.cli.serve import is_loopback
from orchestrator.cutover.html_report import embed_json, render_live, render_report
from orchestrator.cutover.run_view import FailureGroup, RunView, StepView, redact_target, verdict
from orchestrator.cutover.svg_chart import step_bars, timeline_chart
from orchestrator.cutover.timeline import build_timeline
from orchestrator.state.store import ReportRow

HOSTILE = '</script><script>alert(1)</script><!--&"'
RUN = {"id": 1, "started_at": 100.0, "ended_at": 160.0, "exit_code": 1}


class _Elements(HTMLParser):
    """Counts the elements of a page by tag, and collects the text of `<script>` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _view(rows: list[ReportRow]) -> RunView:
    timeline = build_timeline([(110.0, 201)], [(110.0, 150.0)], [(150.0, 1)], [RUN],
                              rate_per_s=10, now=200.0)  # fmt: skip
    counts = {"total": 2, "succeeded": 1, "failed": 1, "skipped": 0, "needs_action": 0,
              "unknown": 0, "pending": 0}  # fmt: skip
    return RunView(
        state="s.db", plan_name=HOSTILE, plan_hash="ab" * 32, account_id="1", target="sandbox",
        version="0", rate={"requests_per_s": 10}, steps=[StepView(HOSTILE, "import", {}, counts)],
        totals=counts, verdict="v", running=False, actual={"orders": 1, "api_calls": 1,
        "elapsed_s": 60.0, "runs": 1, "rate_limited": 0}, estimate=None, timeline=timeline,
        failures=[FailureGroup("failed", "1&2", HOSTILE, [HOSTILE])], rows=rows,
    )  # fmt: skip


def _row(number: str | None, raw: str, status: str, code: str | None = None) -> ReportRow:
    return ReportRow("s", "import", number, raw, "f.csv:2", status, None, None, code, HOSTILE,
                     None, 1, 150.0)  # fmt: skip


def test_embedded_json_has_no_markup_characters_and_reads_back() -> None:
    """`<`, `>` and `&` never appear in the embedded JSON, which still parses to the value."""
    value = {"x": [HOSTILE, "\u2028"]}
    text = embed_json(value)
    assert not set("<>&") & set(text)
    assert json.loads(text) == value


def test_the_report_page_keeps_hostile_text_out_of_its_markup() -> None:
    """Step names, inputs and descriptions full of markup add no element to the page."""
    view = _view([_row("+19195550100", "+19195550100", "succeeded"),
                  _row(None, HOSTILE, "failed", "INVALID_INPUT")])  # fmt: skip
    page = "".join(render_report(view, now=200.0))
    parsed = _Elements()
    parsed.feed(page)
    assert parsed.tags["script"] == 2  # the rows' JSON and the table script, no more
    data = json.loads(parsed.scripts[0])
    assert HOSTILE in data["strings"] and data["rows"][1][2] == HOSTILE
    assert "connect-src 'none'" in page  # the policy: no request at view time
    assert "&lt;/script&gt;" in page


def test_the_live_page_may_fetch_only_its_own_origin() -> None:
    """The live page's policy allows fetching `fragment` from itself, nothing else."""
    page = render_live(_view([]), interval_s=2)
    assert "connect-src 'self'" in page and "setInterval(tick, 2000)" in page


def test_timeline_buckets_count_429s_retries_orders_in_flight_and_finished_numbers() -> None:
    """Each exchange lands in its bucket; in-flight and finished are read at the bucket's end."""
    exchanges = [(100.2, 201), (100.5, 429), (101.5, None), (102.5, 503), (102.6, 200)]
    spans = [(100.2, 102.5), (101.2, None)]
    t = build_timeline(exchanges, spans, [(102.5, 1), (102.9, 1)], [RUN | {"ended_at": None}],
                       rate_per_s=5, now=103.0, running=True)  # fmt: skip
    assert (t.start, t.width_s, len(t.buckets)) == (100.0, 1.0, 3)
    assert [b.requests for b in t.buckets] == [2, 1, 2]
    assert [b.throttled for b in t.buckets] == [1, 0, 0]
    assert [b.retried for b in t.buckets] == [0, 1, 1]
    assert [b.in_flight for b in t.buckets] == [1, 2, 1]
    assert [b.finished for b in t.buckets] == [0, 0, 2]
    assert [m.label for m in t.marks] == ["run 1 started"]


def test_runs_are_marked_started_resumed_killed_and_ended() -> None:
    """A resume, a run killed without an end, and each end with its exit code in words."""
    runs = [
        {"id": 1, "started_at": 0.0, "ended_at": None, "exit_code": None},
        {"id": 2, "started_at": 50.0, "ended_at": 60.0, "exit_code": 130},
        {"id": 3, "started_at": 70.0, "ended_at": 90.0, "exit_code": 0},
    ]
    t = build_timeline([(1.0, 200)], [], [], runs, rate_per_s=1, now=100.0)
    assert [(m.at, m.label) for m in t.marks] == [
        (0.0, "run 1 started"),
        (50.0, "run 1 stopped without recording an end (killed?)"),
        (50.0, "run 2 resumed"),
        (60.0, "run 2 ended: interrupted (130)"),
        (70.0, "run 3 resumed"),
        (90.0, "run 3 ended: done (0)"),
    ]
    svg = timeline_chart(t)
    assert all(m.label in svg for m in t.marks)


def test_every_bar_segment_is_named_in_words() -> None:
    """Without colour, a step's bar still reads: every non-zero status in words, escaped."""
    svg = step_bars([("a<b", "import", {"total": 5, "succeeded": 3, "failed": 1, "pending": 1})])
    assert "3 succeeded · 1 failed · 1 pending" in svg
    assert "a&lt;b" in svg and "a<b" not in svg


def test_targets_lose_user_info_query_and_fragment() -> None:
    """A target URL is shown without credentials or query; the rehearsal's name as it is."""
    assert redact_target("https://u:p@api.example.com:8443/api/v2?k=s#f") == (
        "https://api.example.com:8443/api/v2"
    )
    assert redact_target("sandbox") == "sandbox"


def test_the_verdict_says_how_the_last_run_ended() -> None:
    """Words for exit 1, an interruption, a kill and a run in progress."""
    totals = {"total": 10, "succeeded": 8, "failed": 2, "skipped": 0, "needs_action": 0,
              "unknown": 0, "pending": 0}  # fmt: skip
    assert verdict(totals, [RUN], running=False).startswith("Finished with 2 number(s) failed")
    assert "resume" in verdict(totals, [RUN | {"exit_code": 130}], running=False)
    assert "killed" in verdict(totals, [RUN | {"exit_code": None}], running=False)
    assert verdict(totals, [RUN], running=True) == "In progress: 10 of 10 finished."


def test_only_loopback_addresses_serve_without_a_token() -> None:
    """127.0.0.0/8, ::1 and localhost are loopback; anything else needs the token."""
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.5", "::", "example.com"]))


def test_a_failure_group_with_several_descriptions_says_so() -> None:
    """Invalid inputs share a code but not a reason: the group names the commonest reason and
    how many others there are."""
    from orchestrator.cutover.run_view import _failures

    def failed(raw: str, why: str) -> ReportRow:
        return ReportRow("s", "import", None, raw, "f", "failed", None, None, "INVALID_INPUT",
                         why, None, 0, 1.0)  # fmt: skip

    rows = [failed("a", "letters"), failed("b", "letters"), failed("12", "too short")]
    (group,) = _failures(rows)
    assert group.description == (
        "letters (and 1 other description(s): each number's is in the table)"
    )
    assert group.numbers == ["a", "b", "12"]
