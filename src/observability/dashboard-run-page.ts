/**
 * The dashboard's run page (`#run/<id>`), as a fragment of the page's inline script and style: the
 * run's header and links, the failed steps' errors, the workflow graph drawn as SVG from the layout
 * the API computed (`run-graph-layout.ts`), the attempt timeline (`run-timeline.ts`), the steps and
 * the events. Like the rest of the page it builds DOM nodes and sets text with `textContent` only,
 * and draws with no library and nothing fetched but the API.
 */

export const RUN_PAGE_STYLE = `
.run-head h2 { font-size:18px; display:flex; align-items:center; gap:8px; }
.failure { background:#ffebe9; border:1px solid #ffcecb; border-radius:8px; padding:10px 14px; margin-top:12px; }
.failure h3 { margin:0 0 6px; font-size:14px; color:var(--bad); }
.graph { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px; overflow-x:auto; }
.graph svg { display:block; margin:0 auto; } /* natural size: a wide graph scrolls instead of shrinking its text */
.graph .edge { fill:none; stroke:#8c959f; stroke-width:1.6; }
.graph .node rect.box { fill:#f6f8fa; stroke:#8c959f; stroke-width:1.5; }
.graph .node rect.stripe { fill:#8c959f; }
.graph .node text { font-size:12.5px; fill:var(--fg); }
.graph .node text.sub { font-size:11px; fill:var(--muted); }
.graph .node text.icon { font-size:14px; font-weight:700; fill:var(--skip); }
.graph .node.s-succeeded text.icon { fill:var(--ok); } .graph .node.s-failed text.icon { fill:var(--bad); }
.graph .node.s-running text.icon { fill:var(--run); } .graph .node.s-pending text.icon { fill:var(--q); }
.graph .node { cursor:pointer; }
.graph .node.s-succeeded rect.box { fill:#dafbe1; stroke:var(--ok); } .graph .node.s-succeeded rect.stripe { fill:var(--ok); }
.graph .node.s-failed rect.box { fill:#ffebe9; stroke:var(--bad); } .graph .node.s-failed rect.stripe { fill:var(--bad); }
.graph .node.s-running rect.box { fill:#fff8c5; stroke:var(--run); } .graph .node.s-running rect.stripe { fill:var(--run); }
.graph .node.s-pending rect.box { fill:#ddf4ff; stroke:var(--q); } .graph .node.s-pending rect.stripe { fill:var(--q); }
.graph .node.s-skipped rect.box, .graph .node.s-cancelled rect.box { fill:#f6f8fa; stroke:var(--skip); stroke-dasharray:5 3; }
.legend { display:flex; gap:12px; flex-wrap:wrap; margin-top:6px; font-size:12px; color:var(--muted); }
.legend .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:-1px; background:var(--skip); }
.legend .swatch.s-succeeded { background:var(--ok); } .legend .swatch.s-failed { background:var(--bad); }
.legend .swatch.s-running { background:var(--run); } .legend .swatch.s-pending { background:var(--q); }
.legend .swatch.s-retried { background:#bc4c00; } .legend .swatch.s-wait { background:repeating-linear-gradient(135deg, #afb8c1 0 3px, transparent 3px 6px); }
.lane .track .wait { position:absolute; top:3px; height:10px; border-radius:2px; background:repeating-linear-gradient(135deg, #afb8c1 0 3px, transparent 3px 6px); }
.lane .bar.s-retried { background:#bc4c00; } .lane .bar.s-pending { background:var(--q); } .lane .bar.s-cancelled { background:var(--skip); }
.lane .facts { width:260px; text-align:right; font-size:12px; color:var(--muted); font-variant-numeric:tabular-nums; white-space:nowrap; }
.lane .skipped { position:absolute; left:6px; top:0; font-size:11px; line-height:16px; color:var(--muted); }
.axis { display:flex; justify-content:space-between; margin:6px 268px 0 188px; font-size:11px; color:var(--muted); }
tr.flash { background:#fff8c5; }
details.events summary { cursor:pointer; font-weight:600; margin-bottom:8px; }
`;

export const RUN_PAGE_SCRIPT = `
var SVG_NS = "http://www.w3.org/2000/svg";
// plain symbols that every system font has (no emoji font needed)
var ICON = { pending: "○", running: "◔", succeeded: "✓", failed: "✗", skipped: "⊘", cancelled: "⊗" };
function svg(tag, attrs) {
  var node = document.createElementNS(SVG_NS, tag);
  for (var k in attrs || {}) node.setAttribute(k, String(attrs[k]));
  return node;
}
function svgText(x, y, text, cls) { var t = svg("text", { x: x, y: y }); if (cls) t.setAttribute("class", cls); t.textContent = text; return t; }
function clip(text, n) { text = String(text == null ? "" : text); return text.length > n ? text.slice(0, n - 1) + "…" : text; }
function cls(status) { return "s-" + String(status).replace(/[^a-z_]/g, ""); }
function sep(parent) { if (parent.childNodes.length > 0) parent.appendChild(document.createTextNode(" · ")); }

function waitingList(lines) {
  if (!lines || lines.length === 0) return null;
  var list = el("ul", { id: "run-waiting" });
  lines.forEach(function (w) { list.appendChild(el("li", { text: "waiting — " + w })); });
  return list;
}

function runHeader(r, d) {
  var links = el("p", { cls: "links" });
  [[r.links.issue, (r.trigger.isPullRequest ? "pull request #" : "issue #") + r.trigger.number],
   [r.links.checkRun, "check run"], [r.links.comment, "progress comment"], [r.links.pullRequest, "result pull request"]]
    .forEach(function (l) { if (l[0]) { sep(links); links.appendChild(link(l[0], l[1])); } });
  var head = el("section", { cls: "run-head" },
    el("p", null, el("a", { href: "#", id: "back", text: "← all runs" })),
    el("h2", null, el("span", { text: r.repository + " · " + r.workflow }), badge(r.status)),
    el("p", { cls: "muted", text: "Run " + r.id + " · " + r.trigger.kind + " by " + r.trigger.actor + " · created " + when(r.createdAt) +
      " · " + dur(r.durationMs) + " · " + r.steps.succeeded + "/" + r.steps.total + " steps succeeded · " + num(r.tokens.total) + " tokens · " + usd(r.costUsd) }),
    links,
    waitingList(r.waiting),
    r.error ? el("pre", { cls: "error", id: "run-error", text: r.error }) : null);
  head.querySelector("#back").addEventListener("click", function (e) { e.preventDefault(); location.hash = ""; });
  d.steps.filter(function (s) { return s.status === "failed" && s.error; }).forEach(function (s) {
    head.appendChild(el("div", { cls: "failure", "data-step-id": s.id },
      el("h3", { text: "✗ " + s.name + " failed after " + s.attempts + (s.attempts === 1 ? " attempt" : " attempts") }),
      el("pre", { cls: "error", text: s.error })));
  });
  return head;
}

function showStep(id) {
  var row = document.querySelector('#steps tr[data-step-id="' + CSS.escape(id) + '"]');
  if (!row) return;
  row.scrollIntoView({ block: "center" });
  row.classList.add("flash");
  setTimeout(function () { row.classList.remove("flash"); }, 1500);
}

function runGraph(d) {
  var g = d.graph, byId = {};
  d.steps.forEach(function (s) { byId[s.id] = s; });
  var root = svg("svg", { id: "graph", viewBox: "0 0 " + g.width + " " + g.height, width: g.width, height: g.height, role: "img" });
  var defs = svg("defs");
  var marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.appendChild(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8c959f" }));
  defs.appendChild(marker);
  root.appendChild(defs);
  var box = {};
  g.nodes.forEach(function (n) { box[n.id] = n; });
  g.edges.forEach(function (e) {
    var a = box[e.from], b = box[e.to];
    if (!a || !b) return;
    var x1 = a.x + a.width, y1 = a.y + a.height / 2, x2 = b.x - 2, y2 = b.y + b.height / 2, mid = (x1 + x2) / 2;
    var path = svg("path", { "class": "edge", d: "M" + x1 + "," + y1 + " C" + mid + "," + y1 + " " + mid + "," + y2 + " " + x2 + "," + y2, "marker-end": "url(#arrow)" });
    path.setAttribute("data-from", e.from);
    path.setAttribute("data-to", e.to);
    root.appendChild(path);
  });
  g.nodes.forEach(function (n) {
    var s = byId[n.id] || { name: n.id, status: "pending", role: "", attempts: 0, tokens: 0, costUsd: 0 };
    var node = svg("g", { "class": "node " + cls(s.status), transform: "translate(" + n.x + "," + n.y + ")" });
    node.setAttribute("data-step-id", n.id);
    node.setAttribute("data-status", s.status);
    var title = svg("title");
    title.textContent = s.name + " (" + s.role + "): " + s.status + (s.error ? "\\n" + s.error.slice(0, 400) : "");
    node.appendChild(title);
    node.appendChild(svg("rect", { "class": "box", width: n.width, height: n.height, rx: 7 }));
    node.appendChild(svg("rect", { "class": "stripe", width: 5, height: n.height - 2, x: 1, y: 1, rx: 2 }));
    node.appendChild(svgText(14, 22, ICON[s.status] || "", "icon"));
    node.appendChild(svgText(30, 22, clip(s.name, 27)));
    var facts = [s.role, s.durationMs != null ? dur(s.durationMs) : s.status];
    if (s.attempts > 1) facts.push(s.attempts + " attempts");
    if (s.tokens) facts.push(num(s.tokens) + " tok");
    node.appendChild(svgText(30, 40, clip(facts.join(" · "), 32), "sub"));
    node.addEventListener("click", function () { showStep(n.id); });
    root.appendChild(node);
  });
  var legend = el("div", { cls: "legend" });
  ["succeeded", "failed", "running", "pending", "skipped"].forEach(function (st) {
    legend.appendChild(el("span", null, el("span", { cls: "swatch " + cls(st) }), st));
  });
  return el("section", null, el("h2", { text: "Workflow graph" }), el("div", { cls: "graph" }, root, legend));
}

function runTimeline(d) {
  var t = d.timeline, t0 = Date.parse(t.startedAt), span = Math.max(1, Date.parse(t.endedAt) - t0);
  var pct = function (ms) { return Math.max(0, Math.min(100, (ms / span) * 100)) + "%"; };
  var tl = el("div", { cls: "timeline", id: "timeline" });
  function lane(name, facts, fill, id) {
    var track = el("div", { cls: "track" });
    fill(track);
    var row = el("div", { cls: "lane" }, el("div", { cls: "name", text: name, title: name }), track, el("div", { cls: "facts", text: facts }));
    if (id) row.setAttribute("data-step-id", id);
    tl.appendChild(row);
  }
  if (t.queuedMs) lane("queued", "waited " + dur(t.queuedMs), function (track) {
    var w = el("div", { cls: "wait", title: "waited in the queue for " + dur(t.queuedMs) });
    w.style.left = "0%"; w.style.width = pct(t.queuedMs);
    track.appendChild(w);
  });
  d.steps.forEach(function (s) {
    var attempts = t.attempts.filter(function (a) { return a.stepId === s.id; });
    var facts = attempts.length === 0 ? s.status : (attempts.length > 1 ? attempts.length + " attempts · " : "") + dur(s.durationMs) +
      (s.tokens ? " · " + num(s.tokens) + " tok · " + usd(s.costUsd) : "");
    lane(s.name, facts, function (track) {
      if (attempts.length === 0) track.appendChild(el("span", { cls: "skipped", text: s.status === "skipped" ? clip("skipped" + (s.error ? ": " + s.error : ""), 110) : s.status }));
      attempts.forEach(function (a) {
        var start = Date.parse(a.startedAt) - t0;
        var bar = el("div", { cls: "bar attempt " + cls(a.outcome), "data-attempt": a.attempt,
          title: "Attempt " + a.attempt + ": " + when(a.startedAt) + " → " + (a.endedAt ? when(a.endedAt) : "now") + " (" + dur(a.durationMs) + ") · " + a.outcome +
            (a.tokens ? " · " + num(a.tokens) + " tokens" : "") + (a.costUsd ? " · " + usd(a.costUsd) : "") + (a.error ? "\\n" + a.error.slice(0, 300) : "") });
        bar.style.left = pct(start); bar.style.width = pct(a.durationMs);
        track.appendChild(bar);
        if (a.waitMs) {
          var w = el("div", { cls: "wait", title: "back-off before attempt " + (a.attempt + 1) + ": " + dur(a.waitMs) });
          w.style.left = pct(start + a.durationMs); w.style.width = pct(a.waitMs);
          track.appendChild(w);
        }
      });
    }, s.id);
  });
  var axis = el("div", { cls: "axis" });
  [0, 0.25, 0.5, 0.75, 1].forEach(function (f) { axis.appendChild(el("span", { text: "+" + dur(f * span) })); });
  tl.appendChild(axis);
  var legend = el("div", { cls: "legend" });
  [["succeeded", "attempt succeeded"], ["failed", "attempt failed"], ["retried", "attempt retried"], ["wait", "waiting (queue, back-off)"], ["running", "running"]].forEach(function (k) {
    legend.appendChild(el("span", null, el("span", { cls: "swatch s-" + k[0] }), k[1]));
  });
  tl.appendChild(legend);
  return el("section", null, el("h2", { text: "Timeline of attempts" }), tl);
}

function stepsTable(d) {
  var sh = el("tr", null);
  ["Step", "Role", "Needs", "Status", "Attempts", "Duration", "Tokens", "Cost", "Model", "Result / error"].forEach(function (h) { sh.appendChild(el("th", { text: h })); });
  var sb = el("tbody", null);
  d.steps.forEach(function (s) {
    sb.appendChild(el("tr", { "data-step-id": s.id }, el("td", { text: s.name }), el("td", { text: s.role }), el("td", { text: s.needs.join(", ") || "–" }),
      el("td", null, badge(s.status), s.note ? el("div", { cls: "muted note", text: s.note }) : null), el("td", { cls: "num", text: s.attempts }), el("td", { cls: "num", text: dur(s.durationMs) }),
      el("td", { cls: "num", text: num(s.tokens) }), el("td", { cls: "num", text: usd(s.costUsd) }), el("td", { cls: "muted", text: s.model || "–" }),
      el("td", null, s.error ? el("pre", { cls: "error", text: s.error }) : null, s.text ? el("pre", { text: s.text.slice(0, 600) }) : null)));
  });
  return el("section", null, el("h2", { text: "Steps" }), el("table", { id: "steps" }, el("thead", null, sh), sb));
}

function eventsTable(d) {
  var eb = el("tbody", null);
  d.events.forEach(function (e) {
    var rest = Object.assign({}, e); delete rest.type; delete rest.at; delete rest.runId;
    eb.appendChild(el("tr", null, el("td", { cls: "muted time", text: e.at ? new Date(e.at).toLocaleTimeString() : "–" }), el("td", { cls: "time", text: e.type }),
      el("td", null, el("pre", { cls: e.error ? "error" : "", text: JSON.stringify(rest) }))));
  });
  return el("section", null, el("details", { cls: "events" }, el("summary", { text: "Events (" + d.events.length + ")" }), el("table", { id: "events" }, eb)));
}

function renderDetail(d) {
  document.getElementById("summary").classList.add("hidden");
  var view = clear(document.getElementById("view"));
  view.setAttribute("data-run-id", d.run.id);
  view.appendChild(runHeader(d.run, d));
  view.appendChild(runGraph(d));
  view.appendChild(runTimeline(d));
  view.appendChild(stepsTable(d));
  view.appendChild(eventsTable(d));
  return d.run.status === "running" || d.run.status === "queued" || d.run.status === "waiting";
}
`;
