// switchboard admin page: polls /servers and /admin/recent, searches /admin/catalog, posts to
// /analyze and /admin/reload. No framework and nothing fetched from elsewhere: it works offline.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const token = () => sessionStorage.getItem("switchboard-token");

  async function call(path, options = {}) {
    const headers = Object.assign({ accept: "application/json" }, options.headers || {});
    if (token()) headers.authorization = "Bearer " + token();
    const resp = await fetch(path, Object.assign({}, options, { headers }));
    if (resp.status === 401 || resp.status === 403) {
      $("auth").hidden = false;
      throw new Error("needs admin credentials (" + resp.status + ")");
    }
    const body = await resp.json().catch(() => ({}));
    return { status: resp.status, body };
  }

  const cell = (row, text, cls) => {
    const td = row.insertCell();
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (cls) td.className = cls;
    return td;
  };
  const us = (v) => (v === null || v === undefined ? "" : (v / 1000).toFixed(1) + " ms");

  async function servers() {
    try {
      const { body } = await call("/servers");
      const tbody = $("servers-table").tBodies[0];
      tbody.replaceChildren();
      for (const s of body.servers || []) {
        const row = tbody.insertRow();
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = s.server;
        row.appendChild(th);
        cell(row, s.state, "state state-" + s.state);
        cell(row, s.protocol);
        cell(row, s.breaker);
        cell(row, s.restarts);
        cell(row, s.tools);
        cell(row, us(s.latency_p50_us));
        cell(row, us(s.latency_p99_us));
        cell(row, s.last_error, "error");
      }
      $("servers-updated").textContent =
        (body.servers || []).length + " servers, " + body.sessions + " sessions; updated " +
        new Date().toLocaleTimeString();
      showConfig(body.config || {});
    } catch (e) {
      $("servers-updated").textContent = "cannot read /servers: " + e.message;
    }
  }

  function showConfig(c) {
    const dl = $("config-status");
    dl.replaceChildren();
    const item = (k, v) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    };
    item("Source", c.source || "");
    item("Loaded at", c.loaded_at ? new Date(c.loaded_at * 1000).toLocaleString() : "");
    item("Reloads", c.reloads === undefined ? "" : c.reloads);
    item("Last error", c.last_error || "none");
  }

  let catalog = [];
  async function loadCatalog() {
    try {
      catalog = (await call("/admin/catalog")).body.tools || [];
      showCatalog();
    } catch (e) {
      $("catalog-count").textContent = "cannot read the catalog: " + e.message;
    }
  }
  function showCatalog() {
    const q = $("catalog-search").value.trim().toLowerCase();
    const shown = catalog.filter((t) =>
      !q || [t.name, t.server, t.description || ""].some((f) => f.toLowerCase().includes(q)));
    const ul = $("catalog-list");
    ul.replaceChildren();
    for (const t of shown.slice(0, 200)) {
      const li = document.createElement("li");
      const name = document.createElement("code");
      name.textContent = t.name;
      li.append(name, " ", Object.assign(document.createElement("span"), {
        className: "muted", textContent: (t.server ? "(" + t.server + ") " : "") + (t.description || ""),
      }));
      ul.appendChild(li);
    }
    $("catalog-count").textContent = shown.length + " of " + catalog.length + " tools";
  }

  // The analysis' matches are byte offsets into the UTF-8 prompt.
  function highlight(prompt, matches) {
    const bytes = new TextEncoder().encode(prompt);
    const dec = new TextDecoder();
    const spans = matches.filter((m) => m.points > 0 && m.end > m.start)
      .map((m) => [m.start, m.end, m.server + ": " + m.kind + " " + m.term])
      .sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const out = $("highlighted");
    out.replaceChildren();
    let at = 0;
    for (const [start, end, title] of spans) {
      if (start < at) continue; // overlapped by an earlier match
      out.append(dec.decode(bytes.slice(at, start)));
      const mark = document.createElement("mark");
      mark.textContent = dec.decode(bytes.slice(start, end));
      mark.title = title;
      out.appendChild(mark);
      at = end;
    }
    out.append(dec.decode(bytes.slice(at)));
  }

  async function analyze(ev) {
    ev.preventDefault();
    const prompt = $("prompt").value;
    const ol = $("ranking");
    ol.replaceChildren();
    try {
      const { status, body } = await call("/analyze", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt }),
      });
      if (status !== 200) throw new Error(body.error || JSON.stringify(body));
      const matches = [];
      for (const s of body.ranking || []) {
        for (const m of s.matches || []) matches.push(Object.assign({ server: s.server }, m));
        const li = document.createElement("li");
        li.textContent = s.server + ": " + s.score.toFixed(2) +
          (s.tools && s.tools.length ? " (tools: " + s.tools.join(", ") + ")" : "") +
          ((body.selected || []).includes(s.server) ? ", selected" : "");
        ol.appendChild(li);
      }
      highlight(prompt, matches);
      if (!(body.ranking || []).length) {
        ol.appendChild(Object.assign(document.createElement("li"), { textContent: "no server matched" }));
      }
    } catch (e) {
      $("highlighted").textContent = "cannot analyze: " + e.message;
    }
  }

  async function reload() {
    const out = $("reload-result");
    out.className = "";
    out.textContent = "reloading...";
    try {
      const { status, body } = await call("/admin/reload", { method: "POST" });
      if (status === 200) {
        const a = body.applied || {};
        out.className = "applied";
        out.textContent = "Applied. Added: " + (a.added || []).join(", ") + "; replaced: " +
          (a.replaced || []).join(", ") + "; removed: " + (a.removed || []).join(", ") +
          ((a.need_restart || []).length ? "; needs a restart: " + a.need_restart.join(", ") : "");
        loadCatalog();
      } else {
        out.className = "refused";
        out.textContent = "Refused: " + (body.error || JSON.stringify(body));
      }
    } catch (e) {
      out.className = "refused";
      out.textContent = "Refused: " + e.message;
    }
    servers();
  }

  async function recent() {
    try {
      const { body } = await call("/admin/recent");
      const tbody = $("recent-table").tBodies[0];
      tbody.replaceChildren();
      for (const r of (body.requests || []).slice(0, 50)) {
        const row = tbody.insertRow();
        cell(row, new Date(r.at * 1000).toLocaleTimeString());
        cell(row, r.method);
        cell(row, r.name);
        cell(row, r.server);
        const o = cell(row, r.outcome, r.outcome === "ok" ? "state-ready" : "state-failed");
        if (r.error) o.title = r.error;
        cell(row, r.latency_ms.toFixed(1));
      }
    } catch (_) { /* shown by the servers table */ }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("auth-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      sessionStorage.setItem("switchboard-token", $("token").value);
      $("auth").hidden = true;
      servers(); loadCatalog(); recent();
    });
    $("catalog-search").addEventListener("input", showCatalog);
    $("analyze-form").addEventListener("submit", analyze);
    $("reload").addEventListener("click", reload);
    call("/").then(({ body }) => { $("version").textContent = body.version || ""; }).catch(() => {});
    servers(); loadCatalog(); recent();
    setInterval(servers, 2000);
    setInterval(recent, 3000);
  });
})();
