/**
 * The status page's HTML: one self-contained document (inline CSS and a small inline script,
 * both under the response's CSP nonce; no external assets, no framework). The script fetches
 * /status.json every 2 s and re-renders with DOM calls only (textContent, never innerHTML),
 * since model names and the like come from clients.
 */

const CSS = `
:root { --bg:#f4f5f7; --card:#fff; --line:#e3e6eb; --text:#1c2230; --muted:#6b7385; --ok:#137333; --ok-bg:#e5f4ea;
  --warn:#8a5300; --warn-bg:#fdf0d5; --bad:#b3261e; --bad-bg:#fce8e6; --info:#1a56b0; --info-bg:#e7effc; --bar:#3b7ddd; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; padding: 14px 24px; background: #1c2230; color: #fff; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; letter-spacing: .2px; }
header h1 span { color: #9aa3b5; font-weight: 400; }
header .meta { margin-left: auto; color: #c5cbd8; font-size: 13px; display: flex; gap: 16px; align-items: center; }
header .meta .stale { color: #ffb4ab; font-weight: 600; }
main { padding: 18px 24px 32px; display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; align-items: start; max-width: 1600px; margin: 0 auto; }
@media (max-width: 980px) { main { grid-template-columns: minmax(0, 1fr); padding: 12px; } header { padding: 12px; } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .7px; color: var(--muted); margin: 0 0 10px; font-weight: 600; display: flex; gap: 8px; align-items: center; }
h3 { font-size: 14px; margin: 14px 0 6px; display: flex; gap: 8px; align-items: center; font-weight: 600; }
h3:first-child { margin-top: 0; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 500; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 5px 8px; border-bottom: 1px solid #f0f1f4; vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin-bottom: 10px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; background: #eceef2; color: #4a5263; }
.pill.ok { background: var(--ok-bg); color: var(--ok); }
.pill.warn { background: var(--warn-bg); color: var(--warn); }
.pill.bad { background: var(--bad-bg); color: var(--bad); }
.pill.info { background: var(--info-bg); color: var(--info); }
header .pill { font-size: 13px; padding: 2px 10px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
code { background: #f1f3f6; padding: 1px 5px; border-radius: 4px; margin: 0 4px 2px 0; display: inline-block; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.arrow { color: var(--muted); padding: 0 4px; }
.error { background: var(--bad-bg); color: var(--bad); border-radius: 6px; padding: 8px 10px; }
.empty { color: var(--muted); padding: 6px 0; }
.use { min-width: 120px; }
.note { min-width: 200px; }
.use .n { font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { height: 5px; background: #eceff3; border-radius: 3px; margin-top: 3px; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--bar); }
.bar.warn span { background: #e09a13; }
.bar.bad span { background: var(--bad); }
form input { width: 100%; padding: 6px 8px; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
form button { padding: 6px 14px; font: inherit; border-radius: 6px; border: 1px solid #2c3a55; background: #1c2230; color: #fff; cursor: pointer; }
footer { grid-column: 1 / -1; color: var(--muted); font-size: 12px; text-align: center; }
`;

const SCRIPT = `
(function () {
  "use strict";
  var REFRESH_MS = 2000;
  var lastOkAt = 0;
  var lastError = "";

  function h(tag, cls, children, title) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (title) el.title = title;
    [].concat(children === undefined || children === null ? [] : children).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return el;
  }
  function pill(text, kind, title) { return h("span", "pill " + (kind || ""), text, title); }
  function fill(id, nodes) {
    var el = document.getElementById(id);
    el.replaceChildren.apply(el, [].concat(nodes));
  }
  function table(head, rows, numeric) {
    var tr = h("tr", "", head.map(function (c, i) { return h("th", numeric && numeric.indexOf(i) >= 0 ? "num" : "", c); }));
    var body = rows.map(function (r) {
      return h("tr", "", r.map(function (c, i) { return h("td", numeric && numeric.indexOf(i) >= 0 ? "num" : "", c); }));
    });
    return h("div", "scroll", h("table", "", [h("thead", "", tr), h("tbody", "", body)]));
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(iso) {
    if (!iso) return "–";
    var d = new Date(iso), now = new Date();
    var t = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    return d.toDateString() === now.toDateString() ? t : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + t;
  }
  function ms(v) {
    if (v === null || v === undefined) return "–";
    if (v < 1000) return Math.round(v) + " ms";
    if (v < 60000) return (v / 1000).toFixed(v < 10000 ? 2 : 1) + " s";
    return Math.floor(v / 60000) + " m " + Math.round((v % 60000) / 1000) + " s";
  }
  function num(v) { return v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"); }
  function duration(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }
  function kv(pairs) {
    var out = [];
    pairs.forEach(function (p) { out.push(h("dt", "", p[0]), h("dd", "", p[1])); });
    return h("dl", "kv", out);
  }

  var HEALTH = { up: ["up", "ok"], degraded: ["degraded (HTTPS fallback)", "warn"], down: ["down", "bad"] };
  var TUNNEL = { up: "ok", connecting: "warn", down: "bad", off: "" };
  var MEMBER = { healthy: "ok", probing: "info", cooling: "warn", disabled: "bad" };

  function renderLink(d) {
    var l = d.link;
    if (!l) return fill("link", h("p", "empty", "No link configured: this office uses local models only."));
    var hl = HEALTH[l.health] || [l.health, ""];
    var t = l.tunnel;
    var edges = l.edges.map(function (e) {
      return [h("span", "mono", e.url), e.healthy ? pill("healthy", "ok") : pill("dead", "bad", "skipped until " + clock(e.deadUntil)),
        e.healthy ? "" : h("span", "muted small", "retry after " + clock(e.deadUntil))];
    });
    fill("link", [
      kv([
        ["Link", pill(hl[0], hl[1])],
        ["Transport", l.transport],
        ["Tunnel", t.state === "off" ? h("span", "muted", "not used (https)") : pill(t.state, TUNNEL[t.state])],
        ["Tunnel edge", t.edge ? h("span", "mono", t.edge) : "–"],
        ["RTT", t.rttMs === undefined ? h("span", "muted", t.state === "up" ? "not measured yet (first heartbeat pending)" : "–") : ms(t.rttMs)],
        ["Connects", num(t.connects)],
        ["Open streams", num(t.openStreams)],
      ]),
      table(["Edge", "State", ""], edges),
    ]);
  }

  function memberNote(m) {
    if (m.state === "disabled") return "key refused" + (m.disabledStatus ? " (upstream " + m.disabledStatus + ")" : "") + ": change the key at the edge";
    if (m.state === "cooling") {
      var models = m.cooldowns.filter(function (c) { return Date.parse(c.until) > Date.now(); })
        .map(function (c) { return (c.model === "*" ? "all models" : c.model) + ": " + c.class.replace("_", " "); });
      return "until " + clock(m.coolingUntil) + (models.length ? " (" + models.join(", ") + ")" : "");
    }
    if (m.state === "probing") return "cool-down over; next request probes it";
    return "";
  }

  function renderPools(d) {
    var p = d.pools;
    if (!p) return fill("pools", h("p", "empty", "No link: no edge pools."));
    if (!p.ok) return fill("pools", [h("div", "error", "Could not read the edge's pool health: " + p.error), h("p", "muted small", "tried at " + clock(p.fetchedAt))]);
    var out = [];
    if (!p.pools.length) out.push(h("p", "empty", "The edge offers this companion no pools."));
    p.pools.forEach(function (pool) {
      var healthy = pool.members.filter(function (m) { return m.state === "healthy" || m.state === "probing"; }).length;
      var total = pool.members.length;
      var summary = total && healthy === 0 ? pill("exhausted", "bad") : healthy < total ? pill(healthy + "/" + total + " available", "warn") : pill(healthy + "/" + total + " available", "ok");
      out.push(h("h3", "", [pool.name, h("span", "muted small", pool.type), summary, pool.routed ? null : pill("not routed", "", "no edgePools entry in the companion config")]));
      out.push(table(["Member", "State", "Weight", "Failure score", "In flight", ""], pool.members.map(function (m) {
        return [h("span", "mono", m.id), pill(m.state, MEMBER[m.state]), num(m.weight), m.failureScore.toFixed(2), num(m.inFlight), h("div", "muted small note", memberNote(m))];
      }), [2, 3, 4]));
    });
    out.push(h("p", "muted small", "From " + p.edge + " at " + clock(p.fetchedAt) + " (refreshed every 5 s)"));
    fill("pools", out);
  }

  function use(used, limit) {
    if (used === undefined || used === null) return "–";
    if (!limit) return h("div", "use", [h("span", "n", num(used)), h("span", "muted small", " · no limit")]);
    var f = Math.min(1, used / limit);
    var b = h("div", "bar" + (f >= 1 ? " bad" : f >= 0.8 ? " warn" : ""), h("span"));
    b.firstChild.style.width = Math.round(f * 100) + "%";
    return h("div", "use", [h("span", "n", num(used) + " / " + num(limit)), b]);
  }

  function renderProjects(d) {
    if (!d.projects.length) return fill("projects", h("p", "empty", "No projects."));
    var day = d.projects[0] && d.projects[0].day;
    fill("projects", [
      table(["Project", "Requests today", "Tokens today", "This minute", "Concurrent"], d.projects.map(function (p) {
        if (p.error) return [h("strong", "", p.id), h("span", "error small", p.error), "", "", ""];
        return [h("strong", "", p.id), use(p.requestsToday, p.limits.requestsPerDay), use(p.tokensToday, p.limits.tokensPerDay),
          use(p.requestsThisMinute, p.limits.requestsPerMinute), use(p.concurrent, p.limits.concurrent)];
      })),
      h("p", "muted small", "Day " + (day || "–") + " in " + d.companion.timeZone + "."),
    ]);
  }

  function renderModels(d) {
    if (!d.models.length) return fill("models", h("p", "empty", "No models configured."));
    fill("models", table(["Model", "Targets, in order"], d.models.map(function (m) {
      return [h("span", "mono", [m.name, m.listed ? null : h("span", "muted small", " pattern")]), m.targets.map(function (t) { return h("code", "", t); })];
    })));
  }

  function statusPill(r) {
    var kind = r.status < 300 ? "ok" : r.status === 499 ? "" : r.status < 500 ? "warn" : "bad";
    return [pill(String(r.status), kind), r.errorClass ? h("div", "muted small", r.errorClass) : null];
  }

  function renderRecent(d) {
    document.getElementById("recent-count").textContent = d.recent.length ? "(last " + d.recent.length + ")" : "";
    if (!d.recent.length) return fill("recent", h("p", "empty", "No requests yet."));
    fill("recent", table(["Time", "Project", "Model requested → served", "Target", "Status", "Tokens in / out", "TTFB", "Duration", "Client"], d.recent.map(function (r) {
      var served = r.servedModel && r.servedModel !== r.requestedModel ? [h("span", "arrow", "→"), r.servedModel] : [];
      return [
        h("span", "", clock(r.time), r.id),
        r.project || h("span", "muted", "–"),
        h("span", "mono", [r.requestedModel || "–"].concat(served)),
        [r.target || h("span", "muted", "–"), r.fallbacks ? h("div", "muted small", r.fallbacks + " fallback" + (r.fallbacks > 1 ? "s" : "")) : null],
        statusPill(r),
        r.inputTokens === null && r.outputTokens === null ? "–" : num(r.inputTokens) + " / " + num(r.outputTokens),
        ms(r.ttfbMs),
        ms(r.durationMs),
        h("span", "mono muted", r.clientIp || "–"),
      ];
    }), [5, 6, 7]));
  }

  function overall(d) {
    var members = d.pools && d.pools.ok ? [].concat.apply([], d.pools.pools.map(function (p) { return p.members; })) : [];
    var bad = d.link && d.link.health === "down";
    var warn = (d.link && d.link.health === "degraded") || (d.pools && !d.pools.ok) ||
      members.some(function (m) { return m.state === "disabled" || m.state === "cooling"; });
    var el = document.getElementById("overall");
    el.className = "pill " + (bad ? "bad" : warn ? "warn" : "ok");
    el.textContent = bad ? "link down" : warn ? "needs attention" : "all good";
  }

  function render(d) {
    overall(d);
    renderLink(d);
    renderPools(d);
    renderProjects(d);
    renderModels(d);
    renderRecent(d);
    document.getElementById("uptime").textContent = "up " + duration(d.companion.uptimeS) +
      (d.companion.notify ? " · notifications → " + d.companion.notify.webhookHost : "");
  }

  function showUpdated() {
    var el = document.getElementById("updated");
    if (!lastOkAt) { el.textContent = lastError || "loading…"; el.className = lastError ? "stale" : ""; return; }
    var ago = Math.round((Date.now() - lastOkAt) / 1000);
    el.textContent = "last updated " + clock(new Date(lastOkAt).toISOString()) + (ago >= 2 ? " (" + ago + " s ago)" : "") + (lastError ? " · " + lastError : "");
    el.className = lastError ? "stale" : "";
  }

  function refresh() {
    fetch("/status.json", { cache: "no-store", credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (res) {
        if (res.status === 401) throw new Error("signed out: reload to sign in");
        if (!res.ok) throw new Error("status.json answered " + res.status);
        return res.json();
      })
      .then(function (d) { render(d); lastOkAt = Date.now(); lastError = ""; })
      .catch(function (e) { lastError = "update failed: " + e.message; })
      .then(function () { showUpdated(); setTimeout(refresh, REFRESH_MS); });
  }
  setInterval(showUpdated, 1000);
  refresh();
})();
`;

function shell(nonce: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style nonce="${nonce}">${CSS}</style>
</head>
${body}
</html>
`;
}

export function statusPage(nonce: string): string {
  return shell(
    nonce,
    "Ferry companion status",
    `<body>
<header>
  <h1>Ferry <span>companion status</span></h1>
  <span id="overall" class="pill">loading…</span>
  <div class="meta"><span id="uptime"></span><span id="updated">loading…</span></div>
</header>
<main>
  <section><h2>Link to the edge</h2><div id="link"><p class="empty">loading…</p></div></section>
  <section><h2>Edge pools</h2><div id="pools"><p class="empty">loading…</p></div></section>
  <section><h2>Projects today</h2><div id="projects"><p class="empty">loading…</p></div></section>
  <section><h2>Served models</h2><div id="models"><p class="empty">loading…</p></div></section>
  <section class="wide"><h2>Recent requests <span id="recent-count"></span></h2><div id="recent"><p class="empty">loading…</p></div></section>
  <footer>Refreshes every 2 s from /status.json. No prompt text or keys are shown.</footer>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>`,
  );
}

/** The 401 page: a form that sends the key once (GET /status?key=), which then sets the cookie. */
export function loginPage(nonce: string, message?: string): string {
  const note = message ? `<p class="error">${message}</p>` : "";
  return shell(
    nonce,
    "Ferry companion status: sign in",
    `<body>
<header><h1>Ferry <span>companion status</span></h1></header>
<main>
  <section>
    <h2>Admin key required</h2>
    ${note}
    <form method="get" action="/status">
      <p><label for="key">The companion's <code>server.adminKey</code>:</label></p>
      <p><input id="key" name="key" type="password" autocomplete="current-password" required></p>
      <p><button type="submit">Sign in</button> <span class="muted small">Sets a cookie for 12 hours; API clients can send <code>Authorization: Bearer &lt;adminKey&gt;</code> instead.</span></p>
    </form>
  </section>
</main>
</body>`,
  );
}
