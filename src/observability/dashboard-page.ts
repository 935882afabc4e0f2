/**
 * The dashboard's single HTML page: inline CSS and JS, no build step, no CDN. Every value from the
 * API is rendered with `textContent` (never as HTML), and only http(s) links become anchors, so
 * repository names, errors and model output cannot inject markup. The run page's part lives in
 * `dashboard-run-page.ts`.
 */
import { RUN_PAGE_SCRIPT, RUN_PAGE_STYLE } from "./dashboard-run-page.ts";

const STYLE = `
:root { --bg:#f6f8fa; --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --card:#fff; --ok:#1a7f37; --bad:#cf222e; --run:#9a6700; --q:#0969da; --skip:#818b98; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; align-items:center; gap:12px; padding:12px 24px; background:#24292f; color:#fff; }
header h1 { font-size:16px; margin:0; font-weight:600; }
header .spacer { flex:1; }
header select { font:inherit; padding:3px 6px; border-radius:6px; border:1px solid #57606a; background:#32383f; color:#fff; }
header button, form button { font:inherit; padding:4px 12px; border-radius:6px; border:1px solid #57606a; background:#32383f; color:#fff; cursor:pointer; }
main { padding:16px 24px; max-width:1400px; margin:0 auto; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:12px; margin-bottom:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
.card .label { color:var(--muted); font-size:12px; }
.card .value { font-size:20px; font-weight:600; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f0f3f6; font-weight:600; font-size:12px; color:var(--muted); }
tr.run { cursor:pointer; }
tr.run:hover { background:#f6f8fa; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
a { color:#0969da; text-decoration:none; } a:hover { text-decoration:underline; }
.status { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; background:var(--skip); }
.s-succeeded, .s-closed { background:var(--ok); } .s-failed, .s-open { background:var(--bad); }
.s-running, .s-half_open { background:var(--run); } .s-queued, .s-pending { background:var(--q); }
.muted { color:var(--muted); }
.error { color:var(--bad); white-space:pre-wrap; word-break:break-word; }
section { margin-top:20px; } h2 { font-size:15px; margin:0 0 8px; }
.timeline { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px; }
.lane { display:flex; align-items:center; gap:8px; margin:4px 0; }
.lane .name { width:180px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.lane .track { flex:1; position:relative; height:16px; background:#eef1f4; border-radius:4px; }
.lane .bar { position:absolute; top:0; height:16px; border-radius:4px; min-width:2px; background:var(--skip); }
.lane .bar.s-succeeded { background:var(--ok); } .lane .bar.s-failed { background:var(--bad); } .lane .bar.s-running { background:var(--run); }
.card.breakers { grid-column: span 2; }
.breaker { display:flex; justify-content:space-between; align-items:center; gap:6px; margin-top:3px; }
td.time { white-space:nowrap; }
pre { white-space:pre-wrap; word-break:break-word; margin:0; font-size:12px; }
#login { max-width:420px; margin:60px auto; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:20px; }
#login input { width:100%; padding:6px 8px; margin:8px 0; font:inherit; }
#login button { background:#1f883d; border-color:#1f883d; }
.hidden { display:none; }
`;

const SCRIPT = `
"use strict";
var KEY = "octoflow.dashboard.token";
var base = location.pathname.replace(/\\/dashboard\\/?$/, "");
var refreshTimer = null;

(function takeTokenFromUrl() {
  var params = new URLSearchParams(location.search);
  var t = params.get("token");
  if (t) {
    sessionStorage.setItem(KEY, t);
    params.delete("token");
    var q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }
})();

function el(tag, props) {
  var node = document.createElement(tag);
  if (props) for (var k in props) {
    if (k === "text") node.textContent = props[k] == null ? "" : String(props[k]);
    else if (k === "cls") node.className = props[k];
    else node.setAttribute(k, props[k]);
  }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c == null) continue;
    node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}
function link(href, text) {
  if (typeof href !== "string" || !/^https?:\\/\\//.test(href)) return el("span", { text: text });
  return el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: text });
}
function badge(status) { return el("span", { cls: "status s-" + String(status).replace(/[^a-z_]/g, ""), text: String(status).replace("_", "-") }); }
function dur(ms) {
  if (ms == null) return "–";
  var s = ms / 1000;
  if (s < 60) return s.toFixed(1) + " s";
  if (s < 3600) return Math.floor(s / 60) + "m " + Math.round(s % 60) + "s";
  return Math.floor(s / 3600) + "h " + Math.round((s % 3600) / 60) + "m";
}
function secs(s) { return s == null ? "–" : dur(s * 1000); }
function usd(n) { return "$" + (n || 0).toFixed(n >= 1 ? 2 : 4); }
function num(n) { return (n || 0).toLocaleString("en-US"); }
function when(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function api(path) {
  var token = sessionStorage.getItem(KEY);
  if (!token) { showLogin(); return Promise.reject(new Error("no token")); }
  return fetch(base + path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" }).then(function (res) {
    if (res.status === 401) { sessionStorage.removeItem(KEY); showLogin("The token was not accepted."); throw new Error("unauthorized"); }
    if (!res.ok) throw new Error("HTTP " + res.status);
    return res.json();
  });
}

function showLogin(message) {
  document.getElementById("app").classList.add("hidden");
  document.getElementById("login").classList.remove("hidden");
  document.getElementById("login-error").textContent = message || "";
}
document.getElementById("login-form").addEventListener("submit", function (e) {
  e.preventDefault();
  var value = document.getElementById("token").value.trim();
  if (!value) return;
  sessionStorage.setItem(KEY, value);
  document.getElementById("token").value = "";
  document.getElementById("login").classList.add("hidden");
  document.getElementById("app").classList.remove("hidden");
  route();
});
document.getElementById("refresh").addEventListener("click", function () { route(); });
document.getElementById("filter-status").addEventListener("change", function () { location.hash = ""; route(); });
document.getElementById("logout").addEventListener("click", function () { sessionStorage.removeItem(KEY); showLogin(); });
window.addEventListener("hashchange", function () { route(); });

function card(label, value) { return el("div", { cls: "card" }, el("div", { cls: "label", text: label }), el("div", { cls: "value", text: value })); }

function renderSummary(s) {
  var cards = clear(document.getElementById("summary"));
  cards.appendChild(card("Runs listed", num(s.runs)));
  cards.appendChild(card("Success rate", s.successRate == null ? "–" : (s.successRate * 100).toFixed(1) + "%"));
  cards.appendChild(card("p95 run", secs(s.p95RunSeconds)));
  cards.appendChild(card("p95 step", secs(s.p95StepSeconds)));
  cards.appendChild(card("p95 model call", secs(s.p95AgentSeconds)));
  cards.appendChild(card("Tokens", num(s.tokens)));
  cards.appendChild(card("Cost", usd(s.costUsd)));
  var b = el("div", { cls: "card breakers" }, el("div", { cls: "label", text: "Circuit breakers" }));
  var names = Object.keys(s.breakers || {});
  if (names.length === 0) b.appendChild(el("div", { cls: "muted", text: "no providers yet" }));
  names.forEach(function (p) { b.appendChild(el("div", { cls: "breaker" }, el("span", { text: p }), badge(s.breakers[p]))); });
  cards.appendChild(b);
}

function renderRuns(data) {
  document.getElementById("summary").classList.remove("hidden");
  renderSummary(data.summary);
  var view = clear(document.getElementById("view"));
  var head = el("tr", null);
  ["Repository", "Workflow", "Trigger", "Status", "Duration", "Tokens", "Cost", "Links", "Created"].forEach(function (h) { head.appendChild(el("th", { text: h })); });
  var body = el("tbody", null);
  if (data.runs.length === 0) body.appendChild(el("tr", null, el("td", { colspan: "9", cls: "muted", text: "No runs yet." })));
  data.runs.forEach(function (r) {
    var ref = (r.trigger.isPullRequest ? "PR " : "issue ") + "#" + r.trigger.number;
    var links = el("td", null, link(r.links.issue, ref));
    if (r.links.checkRun) { links.appendChild(document.createTextNode(" · ")); links.appendChild(link(r.links.checkRun, "check run")); }
    if (r.links.pullRequest) { links.appendChild(document.createTextNode(" · ")); links.appendChild(link(r.links.pullRequest, "result PR")); }
    var tr = el("tr", { cls: "run", "data-run-id": r.id },
      el("td", null, el("a", { href: "#run/" + encodeURIComponent(r.id), cls: "open-run", text: r.repository })),
      el("td", { text: r.workflow }),
      el("td", null, el("span", { text: r.trigger.kind }), el("div", { cls: "muted", text: "by " + r.trigger.actor })),
      el("td", null, badge(r.status), r.error ? el("div", { cls: "error", text: r.error.slice(0, 140) }) : null),
      el("td", { cls: "num", text: dur(r.durationMs) }),
      el("td", { cls: "num", text: num(r.tokens.total) }),
      el("td", { cls: "num", text: usd(r.costUsd) }),
      links,
      el("td", { cls: "muted", text: when(r.createdAt) }));
    tr.addEventListener("click", function (e) { if (e.target.tagName !== "A") location.hash = "#run/" + encodeURIComponent(r.id); });
    body.appendChild(tr);
  });
  view.appendChild(el("section", null, el("h2", { text: "Recent runs" }), el("table", { id: "runs" }, el("thead", null, head), body)));
}

function statusFilter() {
  var v = document.getElementById("filter-status").value;
  return v ? "&status=" + encodeURIComponent(v) : "";
}

function route() {
  clearTimeout(refreshTimer);
  var m = /^#run\\/(.+)$/.exec(location.hash);
  var status = document.getElementById("status");
  var p = m ? api("/api/runs/" + m[1]).then(renderDetail) : api("/api/runs?limit=100" + statusFilter()).then(function (d) { renderRuns(d); return true; });
  p.then(function (live) {
    status.textContent = "Updated " + new Date().toLocaleTimeString();
    if (live) refreshTimer = setTimeout(route, 15000);
  }, function (err) {
    if (err.message !== "unauthorized" && err.message !== "no token") status.textContent = "Could not load: " + err.message;
  });
}
`;

/**
 * Renders the dashboard page. The nonce must match the response's `Content-Security-Policy`.
 *
 * @example
 * res.end(renderDashboardPage({ nonce }));
 */
export function renderDashboardPage(options: { nonce: string }): string {
  const nonce = options.nonce.replace(/[^A-Za-z0-9+/=]/g, "");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Octoflow · runs</title>
<style nonce="${nonce}">${STYLE}${RUN_PAGE_STYLE}</style>
</head>
<body>
<header><h1>Octoflow runs</h1><span class="spacer"></span><span id="status" class="muted"></span><select id="filter-status" aria-label="Filter by status"><option value="">all runs</option><option value="running">running</option><option value="queued">queued</option><option value="waiting">waiting</option><option value="failed">failed</option><option value="succeeded">succeeded</option><option value="cancelled">cancelled</option></select><button id="refresh" type="button">Refresh</button><button id="logout" type="button">Sign out</button></header>
<div id="login" class="hidden">
  <h2>Dashboard token</h2>
  <p class="muted">Paste the value of <code>DASHBOARD_TOKEN</code>. It is kept in this tab only.</p>
  <form id="login-form"><input id="token" type="password" autocomplete="off" aria-label="Dashboard token"><button type="submit">Open dashboard</button></form>
  <p id="login-error" class="error"></p>
</div>
<main id="app"><div id="summary" class="cards"></div><div id="view"></div></main>
<script nonce="${nonce}">${SCRIPT}${RUN_PAGE_SCRIPT}route();</script>
</body>
</html>
`;
}
