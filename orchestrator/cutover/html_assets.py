"""The report page's stylesheet and its two small scripts, inlined into every page.

Inlined so that the report is one file that opens offline. No framework: the table script pages
through rows kept as JSON (100,000 rows stay responsive because only one page of 100 is ever in
the DOM), and sets text with `textContent` only, never markup. The live script swaps in the
server-rendered summary every few seconds.
"""

from __future__ import annotations

CSS = """
:root { --bg:#fff; --fg:#1b1f24; --muted:#59636e; --line:#d1d9e0; --card:#f6f8fa;
  --ok:#1a7f37; --bad:#cf222e; --skip:#8c959f; --act:#bf8700; --unk:#8250df; --pend:#b6c2cf;
  --bar:#0969da; --limit:#cf222e; --mark:#59636e; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --line:#3d444d; --card:#151b23;
    --ok:#3fb950; --bad:#f85149; --skip:#6e7681; --act:#d29922; --unk:#a371f7; --pend:#3d444d;
    --bar:#4493f8; --limit:#f85149; --mark:#9198a1; }
  .chart .seg-label { fill:#0d1117; } }
body { background:var(--bg); color:var(--fg); margin:0 auto; max-width:64rem; padding:1rem 1.5rem;
  font:15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size:1.5rem; margin:.2rem 0; } h2 { font-size:1.15rem; margin:1.6rem 0 .5rem;
  border-bottom:1px solid var(--line); padding-bottom:.2rem; }
.verdict { font-size:1.15rem; font-weight:600; padding:.6rem .8rem; background:var(--card);
  border-left:.35rem solid var(--bar); }
.muted, .chart .muted { color:var(--muted); fill:var(--muted); font-size:.85rem; }
.chart { width:100%; height:auto; font-size:12px; } .chart text { fill:var(--fg); }
.chart .label { font-weight:600; } .chart .seg-label { fill:#fff; font-weight:600; }
.s-succeeded { fill:var(--ok); } .s-failed { fill:var(--bad); } .s-skipped { fill:var(--skip); }
.s-needs_action { fill:var(--act); } .s-unknown { fill:var(--unk); }
.s-pending { fill:var(--pend); }
.chart .seg-label.on-light { fill:var(--fg); }
.seg { stroke:var(--bg); stroke-width:1; } .bar { fill:var(--bar); }
.axis { stroke:var(--line); } .line { fill:none; stroke:var(--bar); stroke-width:2; }
.l-done { stroke:var(--ok); } .limit { stroke:var(--limit); stroke-dasharray:6 4; }
.chart .limit-label, .chart .m-429 text { fill:var(--limit); font-weight:600; }
.chart .m-retry text { fill:var(--act); font-weight:600; }
.m-429 line { stroke:var(--limit); stroke-width:2; }
.m-retry line { stroke:var(--act); stroke-width:2; }
.mark { stroke:var(--mark); stroke-dasharray:2 3; } .chart .mark-label { fill:var(--muted); }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:.25rem .5rem; border-bottom:1px solid var(--line);
  vertical-align:baseline; } th { background:var(--card); } td.n, th.n { text-align:right; }
code, .num { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:.88em; }
.group { background:var(--card); padding:.5rem .8rem; margin:.5rem 0; }
.group h3 { font-size:1rem; margin:0 0 .3rem; }
.controls { display:flex; gap:.6rem; flex-wrap:wrap; align-items:center; margin:.5rem 0; }
input, select, button { font:inherit; color:var(--fg); background:var(--bg);
  border:1px solid var(--line); padding:.25rem .5rem; border-radius:4px; }
.print-only { display:none; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
@media print {
  :root { --bg:#fff; --fg:#000; --card:#fff; color-scheme: light; }
  .controls, .no-print { display:none !important; } body { max-width:none; }
  .print-only { display:block; }
  details > *:not(summary) { display:block; } h2 { break-after:avoid; } svg { break-inside:avoid; }
}
"""

TABLE_JS = r"""
(function () {
  var src = document.getElementById('rows-data');
  if (!src) return;
  var d = JSON.parse(src.textContent), T = d.strings, R = d.rows, G = d.groups, size = 100;
  var q = document.getElementById('q'), st = document.getElementById('status-filter');
  var body = document.getElementById('rows'), info = document.getElementById('page-info');
  var prev = document.getElementById('prev'), next = document.getElementById('next');
  var keys = null, view = R, page = 0, timer = null;
  function key(r) {
    return (r[1] + ' ' + r[2] + ' ' + T[r[0]] + ' ' + T[r[3]] + ' ' + T[r[4]] + ' ' + T[r[5]])
      .toLowerCase();
  }
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function render() {
    var n = view.length, pages = Math.max(1, Math.ceil(n / size));
    page = Math.min(Math.max(page, 0), pages - 1);
    var frag = document.createDocumentFragment();
    view.slice(page * size, (page + 1) * size).forEach(function (r) {
      var tr = document.createElement('tr');
      cell(tr, T[r[0]]); cell(tr, r[1], 'num'); cell(tr, r[2] || r[1]); cell(tr, T[r[3]]);
      cell(tr, T[r[4]], 'num'); cell(tr, T[r[5]]); cell(tr, T[r[6]]);
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    info.textContent = n
      ? 'rows ' + (page * size + 1) + '\u2013' + Math.min(n, (page + 1) * size) + ' of ' + n +
        (n !== R.length ? ' (filtered from ' + R.length + ')' : '') +
        ', page ' + (page + 1) + ' of ' + pages
      : 'no row matches (of ' + R.length + ')';
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  function apply() {
    var s = q.value.trim().toLowerCase(), f = st.value;
    if (s && !keys) keys = R.map(key);
    view = (s || f) ? R.filter(function (r, i) {
      return (!f || T[r[3]] === f) && (!s || keys[i].indexOf(s) >= 0);
    }) : R;
    page = 0;
    render();
  }
  q.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(apply, 150); });
  st.addEventListener('change', apply);
  prev.addEventListener('click', function () { page -= 1; render(); });
  next.addEventListener('click', function () { page += 1; render(); });
  document.querySelectorAll('details[data-group]').forEach(function (det) {
    det.addEventListener('toggle', function () {
      var ul = det.querySelector('ul');
      if (!det.open || ul.childElementCount) return;
      G[+det.dataset.group].forEach(function (num) {
        var li = document.createElement('li');
        li.textContent = num;
        ul.appendChild(li);
      });
    });
  });
  render();
})();
"""

LIVE_JS = r"""
(function () {
  var box = document.getElementById('live'), stamp = document.getElementById('updated');
  function tick() {
    fetch('fragment' + location.search, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (html) {
      box.innerHTML = html;  // server-rendered, every value escaped there
      stamp.textContent = 'updated ' + new Date().toLocaleTimeString();
    }).catch(function (e) {
      stamp.textContent = 'cannot reach bwmigrate status --serve (' + e.message + ')';
    });
  }
  setInterval(tick, %(interval_ms)d);
})();
"""
