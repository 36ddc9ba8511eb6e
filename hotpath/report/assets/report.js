/* hotpath HTML report. Plain JS, no framework, no network. Every piece of profile data
   reaches the DOM through textContent or setAttribute, never innerHTML: function names
   and paths come from untrusted profiles. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("hotpath-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var KIND_HUE = { app: 22, library: 208, stdlib: 130, native: 275 };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function pct(x) { return x === null || x === undefined ? "" : (x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1) + "%"; }
  function weight(v) {
    if (v === null || v === undefined) return "";
    if (D.profile.unit === "seconds") return v >= 1 ? v.toFixed(2) + " s" : (v * 1000).toFixed(1) + " ms";
    if (D.profile.unit === "bytes") return (v / 1048576).toFixed(1) + " MiB";
    return Math.round(v).toLocaleString("en-US");
  }
  function hash(s) { var h = 0; for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return Math.abs(h); }
  function colour(kind, name) {
    var hue = KIND_HUE[kind];
    if (hue === undefined) return "#cbd5e1";
    return "hsl(" + hue + ",62%," + (58 + (hash(name) % 16)) + "%)";
  }
  function kindBadge(kind) {
    var b = el("span", { "class": "kind" }, kind);
    b.style.background = colour(kind, "");
    return b;
  }
  function heading(section, text, id) {
    section.appendChild(el("h2", { id: id }, text));
    var toc = document.getElementById("toc");
    toc.appendChild(el("a", { href: "#" + id }, text));
  }

  /* ---------- headline ---------- */
  function renderHeadline() {
    var h = document.getElementById("headline");
    var p = D.profile;
    h.appendChild(el("h1", null, D.title));
    var names = p.sources.map(function (s) { return s.path + " (" + s.format + ")"; });
    var tools = Object.keys(p.tools || {}).map(function (k) { return k + " " + p.tools[k]; });
    h.appendChild(el("p", { "class": "sources" }, (names.length ? "Profiled: " + names.join(", ") : "No source files recorded") +
      (tools.length ? " \u00b7 recorded with " + tools.join(", ") : "")));
    var stats = el("div", { "class": "stats" });
    function stat(value, label) {
      var s = el("div", { "class": "stat" });
      s.appendChild(el("b", null, value));
      s.appendChild(el("span", null, label));
      stats.appendChild(s);
    }
    if (p.samples !== null) stat(p.samples.toLocaleString("en-US"), "samples");
    if (!(p.unit === "samples" && p.samples === p.total))
      stat(weight(p.total), p.unit === "samples" ? "total weight (samples)" : "total " + p.unit);
    if (p.duration_s !== null) stat(p.duration_s.toFixed(1) + " s", "duration");
    stat(D.functions_total.toLocaleString("en-US"), "functions");
    if (D.endpoints) stat(String(D.endpoints.length), "endpoints");
    h.appendChild(stats);
    if (D.pareto && D.pareto.sentence) h.appendChild(el("p", { "class": "sentence", id: "pareto-sentence" }, D.pareto.sentence));
  }

  /* ---------- flame graph ---------- */
  function decodeTree(f) {
    var S = f.strings, K = f.kinds, all = [];
    function make(a, parent, depth) {
      var n = { name: S[a[0]], file: S[a[1]], kind: K[a[2]], total: a[3], self: a[4], hidden: a[5],
                parent: parent, depth: depth, children: [], id: all.length };
      all.push(n);
      return n;
    }
    var root = make(f.root, null, 0), todo = [[f.root, root]], maxDepth = 0;
    while (todo.length) {
      var item = todo.pop(), arr = item[0], node = item[1], kids = arr[6] || [];
      for (var i = 0; i < kids.length; i++) {
        var c = make(kids[i], node, node.depth + 1);
        if (c.depth > maxDepth) maxDepth = c.depth;
        node.children.push(c);
        todo.push([kids[i], c]);
      }
    }
    return { root: root, all: all, maxDepth: maxDepth };
  }

  function renderFlame() {
    var sec = document.getElementById("flame-section");
    heading(sec, "Flame graph", "flame-graph");
    if (!D.flame) { sec.appendChild(el("p", { "class": "empty" }, "No stacks in this profile (call statistics only), so no flame graph.")); return; }
    var T = decodeTree(D.flame), ROW = 18, focus = T.root, matches = null;
    var controls = el("div", { "class": "controls" });
    var search = el("input", { type: "search", id: "flame-search", placeholder: "Search functions or files", "aria-label": "Search frames" });
    var reset = el("button", { type: "button", id: "flame-reset" }, "Reset zoom");
    var result = el("span", { id: "search-result", "aria-live": "polite" });
    controls.appendChild(search); controls.appendChild(reset); controls.appendChild(result);
    var legend = el("span", { "class": "legend" });
    ["app", "library", "stdlib", "native"].forEach(function (k) {
      var item = el("span"); var sw = el("i"); sw.style.background = colour(k, ""); item.appendChild(sw);
      item.appendChild(document.createTextNode(k)); legend.appendChild(item);
    });
    controls.appendChild(legend);
    sec.appendChild(controls);
    var crumbs = el("div", { "class": "crumbs", id: "flame-crumbs" });
    sec.appendChild(crumbs);
    var svg = sv("svg", { id: "flame", role: "img", "aria-label": "Flame graph (icicle): callers above callees" });
    // A thin, very deep stack (imports, recursion) must not push the page down: scroll.
    var box = el("div", { "class": "flame-box" });
    box.appendChild(svg);
    sec.appendChild(box);
    var note = "Width is inclusive " + (D.profile.unit === "samples" ? "samples" : D.profile.unit) +
      "; callers above callees. Click a frame to zoom, hover for details.";
    if (D.flame.hidden_frames > 0) note += " " + D.flame.hidden_frames.toLocaleString("en-US") +
      " smaller frames hidden (each below " + pct(D.flame.min_share) + " of the total).";
    sec.appendChild(el("p", { "class": "note", id: "flame-note" }, note));
    var tip = document.getElementById("tooltip");

    function draw() {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      var width = svg.clientWidth || svg.parentNode.clientWidth || 1000;
      var scale = focus.total > 0 ? width / focus.total : 0, rows = 0;
      // Ancestors of the focus span the full width, dimmed: they are the path to it.
      var anc = [], a = focus.parent;
      while (a) { anc.unshift(a); a = a.parent; }
      anc.forEach(function (n) { addFrame(n, 0, width, true); });
      var todo = [[focus, 0]];
      while (todo.length) {
        var it = todo.pop(), n = it[0], x = it[1], w = n.total * scale;
        if (w < 0.4) continue;
        addFrame(n, x, w, false);
        if (n.depth + 1 > rows) rows = n.depth + 1;
        var cx = x;
        for (var i = 0; i < n.children.length; i++) { todo.push([n.children[i], cx]); cx += n.children[i].total * scale; }
      }
      svg.setAttribute("height", String(Math.max(rows, 1) * ROW + 2));
      svg.setAttribute("viewBox", "0 0 " + width + " " + (Math.max(rows, 1) * ROW + 2));
      var path = anc.concat([focus]).map(function (n) { return n.name; });
      crumbs.textContent = focus === T.root ? "Showing everything" : "Zoomed: " + path.join(" \u203a ");
    }
    function addFrame(n, x, w, ancestor) {
      var cls = "frame" + (ancestor ? " ancestor" : "") + (n.hidden ? " hidden-node" : "") +
        (matches && matches.has(n.id) ? " match" : "");
      var g = sv("g", { "class": cls, "data-id": String(n.id), transform: "translate(" + x.toFixed(2) + "," + (n.depth * ROW) + ")" });
      var r = sv("rect", { width: Math.max(w - 0.5, 0.1).toFixed(2), height: String(ROW - 1), rx: "2" });
      if (!n.hidden) r.setAttribute("fill", colour(n.kind, n.name));
      g.appendChild(r);
      var chars = Math.floor((w - 6) / 6.6);
      if (chars >= 3) {
        var label = n.name.length > chars ? n.name.slice(0, chars - 1) + "\u2026" : n.name;
        g.appendChild(sv("text", { x: "3", y: String(ROW - 5) }, label));
      }
      svg.appendChild(g);
    }
    function nodeOf(target) {
      var g = target && target.closest ? target.closest("g.frame") : null;
      return g ? T.all[Number(g.getAttribute("data-id"))] : null;
    }
    svg.addEventListener("click", function (ev) {
      var n = nodeOf(ev.target);
      if (!n) return;
      focus = n.hidden ? (n.parent || T.root) : n;
      draw();
    });
    svg.addEventListener("mousemove", function (ev) {
      var n = nodeOf(ev.target);
      if (!n) { tip.hidden = true; return; }
      while (tip.firstChild) tip.removeChild(tip.firstChild);
      tip.appendChild(el("div", { "class": "t-name" }, n.name));
      if (n.file) tip.appendChild(el("div", null, n.file));
      var total = T.root.total || 1;
      tip.appendChild(el("div", null, "inclusive " + weight(n.total) + " (" + pct(n.total / total) + ")" +
        (n.hidden ? "" : ", self " + weight(n.self) + " (" + pct(n.self / total) + ")") +
        (n.kind && KIND_HUE[n.kind] !== undefined ? ", " + n.kind : "")));
      tip.hidden = false;
      var x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      tip.style.left = Math.max(x, 4) + "px";
      tip.style.top = (ev.clientY + 16) + "px";
    });
    svg.addEventListener("mouseleave", function () { tip.hidden = true; });
    reset.addEventListener("click", function () { focus = T.root; draw(); });
    function runSearch() {
      var q = search.value.trim().toLowerCase();
      if (!q) { matches = null; result.textContent = ""; draw(); return; }
      matches = new Set();
      var share = 0, count = 0, todo = [[T.root, false]];
      // Share counts each sample once: a match below another match adds nothing.
      while (todo.length) {
        var it = todo.pop(), n = it[0], covered = it[1];
        var hit = !n.hidden && n !== T.root && (n.name.toLowerCase().indexOf(q) >= 0 || n.file.toLowerCase().indexOf(q) >= 0);
        if (hit) { matches.add(n.id); count++; if (!covered) share += n.total; }
        for (var i = 0; i < n.children.length; i++) todo.push([n.children[i], covered || hit]);
      }
      var total = T.root.total || 1;
      result.textContent = count ? count + " frame" + (count === 1 ? "" : "s") + " match, " + pct(share / total) + " of total" : "no match";
      result.setAttribute("data-share", String(share / total));
      draw();
    }
    search.addEventListener("input", runSearch);
    window.addEventListener("resize", draw);
    draw();
  }

  /* ---------- sortable tables ---------- */
  function makeTable(parent, id, columns, rows) {
    var wrap = el("div", { "class": "table-wrap" });
    var table = el("table", { id: id });
    var thead = el("thead"), tr = el("tr"), tbody = el("tbody");
    var state = { key: null, dir: 1 };
    columns.forEach(function (c) {
      var th = el("th", { "class": "sortable", scope: "col", "data-key": c.key, title: "Sort by " + c.label }, c.label);
      th.addEventListener("click", function () {
        state.dir = state.key === c.key ? -state.dir : (c.num ? -1 : 1);
        state.key = c.key;
        Array.prototype.forEach.call(tr.children, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a[c.key], y = b[c.key];
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          if (c.num) return (x - y) * state.dir;
          x = String(x); y = String(y);  // code-point order: predictable for symbols
          return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
        });
        fill();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    function fill() {
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      rows.forEach(function (r) {
        var row = el("tr");
        columns.forEach(function (c) {
          var td = el("td", { "class": c.cls || (c.num ? "num" : "") });
          var v = c.render ? c.render(r) : r[c.key];
          if (v instanceof Node) td.appendChild(v); else td.textContent = v === null || v === undefined ? "" : String(v);
          row.appendChild(td);
        });
        tbody.appendChild(row);
      });
    }
    fill();
    table.appendChild(thead); table.appendChild(tbody); wrap.appendChild(table); parent.appendChild(wrap);
  }
  function shareCell(x) {
    var span = el("span");
    var bar = el("span", { "class": "bar" });
    bar.style.width = Math.round(Math.min(x || 0, 1) * 60) + "px";
    span.appendChild(bar); span.appendChild(document.createTextNode(pct(x)));
    return span;
  }

  function renderEndpoints() {
    var sec = document.getElementById("endpoints-section");
    if (!D.endpoints) return;
    heading(sec, "Endpoints", "endpoints");
    if (!D.endpoints.length) { sec.appendChild(el("p", { "class": "empty" }, "No endpoint was recognised.")); return; }
    var rows = D.endpoints.map(function (e) { var r = Object.assign({}, e); r.top = (e.top_functions || []).join(", "); return r; });
    // Request columns only where some endpoint has them (the middleware measures requests;
    // py-spy profiles have none).
    var cols = [
      { key: "name", label: "endpoint", cls: "name" },
      { key: "share", label: "CPU share", num: true, render: function (r) { return shareCell(r.share); } },
      { key: "wall_share", label: "wall share", num: true, render: function (r) { return pct(r.wall_share); } },
      { key: "samples", label: "weight", num: true, render: function (r) { return weight(r.samples); } },
      { key: "requests", label: "requests", num: true, render: function (r) { return r.requests === null ? "" : r.requests.toLocaleString("en-US"); } },
      { key: "cpu_per_request_s", label: "CPU/request", num: true, render: function (r) { return r.cpu_per_request_s === null ? "" : (r.cpu_per_request_s * 1000).toFixed(2) + " ms"; } },
      { key: "p50_ms", label: "p50", num: true, render: function (r) { return r.p50_ms === null ? "" : r.p50_ms.toFixed(1) + " ms"; } },
      { key: "p99_ms", label: "p99", num: true, render: function (r) { return r.p99_ms === null ? "" : r.p99_ms.toFixed(1) + " ms"; } },
      { key: "top", label: "top functions", cls: "where" }
    ].filter(function (c) {
      if (["wall_share", "requests", "cpu_per_request_s", "p50_ms", "p99_ms"].indexOf(c.key) < 0) return true;
      return rows.some(function (r) { return r[c.key] !== null && r[c.key] !== undefined; });
    });
    makeTable(sec, "endpoint-table", cols, rows);
  }

  function renderFunctions() {
    var sec = document.getElementById("functions-section");
    heading(sec, "Functions", "functions");
    if (!D.functions.length) { sec.appendChild(el("p", { "class": "empty" }, "No functions in this profile.")); return; }
    if (D.functions_total > D.functions.length) sec.appendChild(el("p", { "class": "note" },
      "The " + D.functions.length + " hottest of " + D.functions_total.toLocaleString("en-US") + " functions by inclusive weight."));
    var rows = D.functions.map(function (f, i) { var r = Object.assign({}, f); r.rank = i + 1; r.where = f.file + (f.line !== null ? ":" + f.line : ""); return r; });
    var cols = [
      { key: "rank", label: "#", num: true },
      { key: "name", label: "function", cls: "name" },
      { key: "kind", label: "kind", render: function (r) { return kindBadge(r.kind); } },
      { key: "inclusive_share", label: "inclusive %", num: true, render: function (r) { return shareCell(r.inclusive_share); } },
      { key: "self_share", label: "self %", num: true, render: function (r) { return pct(r.self_share); } },
      { key: "inclusive", label: "inclusive", num: true, render: function (r) { return weight(r.inclusive); } },
      { key: "self", label: "self", num: true, render: function (r) { return weight(r.self); } }
    ];
    if (D.functions.some(function (f) { return f.calls !== null; }))
      cols.push({ key: "calls", label: "calls", num: true, render: function (r) { return r.calls === null ? "" : r.calls.toLocaleString("en-US"); } });
    cols.push({ key: "where", label: "where", cls: "where" });
    makeTable(sec, "function-table", cols, rows);
  }

  /* ---------- Pareto curve ---------- */
  function renderPareto() {
    var sec = document.getElementById("pareto-section");
    if (!D.pareto) return;
    heading(sec, "Pareto curve", "pareto-curve");
    var box = el("div", { id: "pareto" });
    var W = 560, H = 300, L = 48, B = 36, R = 16, TOP = 12, pw = W - L - R, ph = H - B - TOP;
    var svg = sv("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Share of CPU against share of functions and endpoints" });
    for (var t = 0; t <= 100; t += 20) {
      var y = TOP + ph - ph * t / 100, x = L + pw * t / 100;
      svg.appendChild(sv("line", { "class": "grid", x1: L, x2: L + pw, y1: y, y2: y }));
      svg.appendChild(sv("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, t + "%"));
      svg.appendChild(sv("text", { x: x, y: TOP + ph + 16, "text-anchor": "middle" }, t + "%"));
    }
    svg.appendChild(sv("line", { "class": "axis", x1: L, x2: L, y1: TOP, y2: TOP + ph }));
    svg.appendChild(sv("line", { "class": "axis", x1: L, x2: L + pw, y1: TOP + ph, y2: TOP + ph }));
    svg.appendChild(sv("text", { x: L + pw / 2, y: H - 4, "text-anchor": "middle" }, "share of items, hottest first"));
    svg.appendChild(sv("text", { x: 12, y: TOP + ph / 2, transform: "rotate(-90 12 " + (TOP + ph / 2) + ")", "text-anchor": "middle" }, "share of CPU"));
    var series = [["functions", D.pareto.functions, "#c2410c"], ["endpoints", D.pareto.endpoints, "#2563eb"]];
    var ly = TOP + ph - 40;
    series.forEach(function (s) {
      if (!s[1] || !s[1].length) return;
      var pts = [[0, 0]].concat(s[1]).map(function (p) { return (L + pw * p[0]).toFixed(1) + "," + (TOP + ph - ph * p[1]).toFixed(1); });
      svg.appendChild(sv("polyline", { points: pts.join(" "), fill: "none", stroke: s[2], "stroke-width": "2", "class": "pareto-" + s[0] }));
      svg.appendChild(sv("line", { x1: L + pw - 130, x2: L + pw - 110, y1: ly, y2: ly, stroke: s[2], "stroke-width": "2" }));
      svg.appendChild(sv("text", { x: L + pw - 104, y: ly + 4 }, s[0]));
      ly += 16;
    });
    box.appendChild(svg);
    sec.appendChild(box);
    if (D.pareto.sentence) sec.appendChild(el("p", { "class": "note" }, D.pareto.sentence));
  }

  /* ---------- candidates ---------- */
  function renderCandidates() {
    var sec = document.getElementById("candidates-section");
    if (!D.candidates) return;
    heading(sec, "Rewrite candidates", "candidates");
    if (!D.candidates.length) { sec.appendChild(el("p", { "class": "empty" }, "No candidate: nothing the evidence supports rewriting.")); return; }
    var grid = el("div", { "class": "cards" });
    D.candidates.forEach(function (c) {
      var card = el("article", { "class": "card candidate" });
      card.appendChild(el("h3", null, c.target));
      var head = el("div");
      var rec = ["microservice", "extension", "leave"].indexOf(c.recommendation) >= 0 ? c.recommendation : "leave";
      head.appendChild(el("span", { "class": "badge " + rec }, c.recommendation));
      head.appendChild(el("span", { "class": "note" }, c.kind + (c.file ? " \u00b7 " + c.file + (c.line !== null ? ":" + c.line : "") : "") +
        " \u00b7 score " + Number(c.score).toFixed(2)));
      card.appendChild(head);
      var m = el("div", { "class": "meters" });
      [["CPU share", c.share], ["CPU-bound", c.cpu_bound], ["pure Python", c.pure_python], ["isolation", c.isolation]].forEach(function (x) {
        m.appendChild(el("span", null, x[0]));
        var bar = el("div", { "class": "meter" }), fillEl = el("div");
        fillEl.style.width = x[1] === null ? "0" : Math.round(Math.min(Math.max(x[1], 0), 1) * 100) + "%";
        bar.appendChild(fillEl); m.appendChild(bar);
        m.appendChild(el("span", null, x[1] === null ? "n/a" : pct(x[1])));
      });
      card.appendChild(m);
      card.appendChild(el("p", null, "Saving: " + pct(c.saving_share[0]) + " to " + pct(c.saving_share[1]) + " of the CPU"));
      if (c.reasons.length) { var ul = el("ul"); c.reasons.forEach(function (r) { ul.appendChild(el("li", null, r)); }); card.appendChild(ul); }
      var ev = Object.keys(c.evidence || {});
      if (ev.length) { var dl = el("dl"); ev.forEach(function (k) { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, c.evidence[k])); }); card.appendChild(dl); }
      if (c.brief) { var det = el("details"); det.appendChild(el("summary", null, "Extraction brief")); det.appendChild(el("pre", null, c.brief)); card.appendChild(det); }
      grid.appendChild(card);
    });
    sec.appendChild(grid);
  }

  /* ---------- extraction plan ---------- */
  function renderPlan() {
    var sec = document.getElementById("plan-section");
    var plan = D.plan;
    if (!plan || !plan.steps.length) return;
    heading(sec, "Extraction plan", "extraction-plan");
    sec.appendChild(el("p", { "class": "note" }, "Each step is measured on the profile with the earlier steps applied: no sample is saved twice. Rule: " + plan.rule + "."));
    var wrap = el("div", { "class": "table-wrap" });
    var table = el("table", { id: "plan-table" });
    var thead = el("thead"), tr = el("tr"), tbody = el("tbody");
    ["step", "extract", "as", "k", "saves", "cumulative", "covers"].forEach(function (h) { tr.appendChild(el("th", { scope: "col" }, h)); });
    thead.appendChild(tr);
    plan.steps.forEach(function (s) {
      var row = el("tr");
      var what = s.target + (s.kind === "endpoint" && s.entry !== s.target ? " (its view " + s.entry + ")" : "");
      var rec = ["microservice", "extension"].indexOf(s.recommendation) >= 0 ? s.recommendation : "leave";
      var badge = el("td"); badge.appendChild(el("span", { "class": "badge " + rec }, s.recommendation));
      row.appendChild(el("td", { "class": "num" }, s.number));
      row.appendChild(el("td", null, what));
      row.appendChild(badge);
      row.appendChild(el("td", { "class": "num" }, s.speedup + "\u00d7"));
      row.appendChild(el("td", { "class": "num" }, pct(s.saving_share[0]) + " to " + pct(s.saving_share[1])));
      row.appendChild(el("td", { "class": "num cumulative" }, pct(s.cumulative_share[0]) + " to " + pct(s.cumulative_share[1])));
      row.appendChild(el("td", null, s.covers.map(function (c) { return c.target + " (" + c.kind + ")"; }).join(", ")));
      tbody.appendChild(row);
    });
    table.appendChild(thead); table.appendChild(tbody); wrap.appendChild(table); sec.appendChild(wrap);
    var others = plan.left.filter(function (x) { return x.reason.indexOf("covered by") !== 0; });
    if (others.length) {
      var ul = el("ul", { "class": "plan-left" });
      others.forEach(function (x) { ul.appendChild(el("li", null, "Not a step: " + x.target + " (" + x.kind + "): " + x.reason)); });
      sec.appendChild(ul);
    }
  }

  renderHeadline();
  renderFlame();
  renderEndpoints();
  renderPareto();
  renderCandidates();
  renderPlan();
  renderFunctions();
  document.documentElement.setAttribute("data-ready", "1");
  window.__hotpathReadyMs = performance.now();  // read by benchmarks/html_open.py
  // Printing opens every brief so paper shows what the screen hides behind a click.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
})();
