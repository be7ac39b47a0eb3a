// The /debug/graph page: the module picture (fxgraph.ModuleView, laid out
// here by cytoscape-dagre) and the details of what is clicked, read from the
// collected Graph. It builds the DOM with textContent only: type names are
// data, never markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const g = data.graph, view = data.view;
  const providers = new Map(g.providers.map(p => [p.id, p]));
  const modules = new Map(g.modules.map(m => [m.name, m]));
  const groups = new Map((g.groups || []).map(gr => [gr.type, gr]));
  const nodeOf = new Map(view.nodes.map(n => [n.id, n]));
  const moduleID = name => "m:" + name;
  const groupID = type => "g:" + type;
  const eventID = name => "e:" + name;
  const eventsByName = new Map((g.events || []).map(ev => [ev.name, ev]));

  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined) e.append(k);
    return e;
  };
  const code = s => el("code", {}, s);
  const list = (items, render) => el("ul", {}, items.map(i => el("li", {}, render(i))));
  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
  const section = (title, items, render) => items.length ? [el("h3", {}, title), list(items, render)] : [];
  const link = (id, text) => el("a", { "data-node": id, onclick: () => select(id) }, text);
  // A module the picture leaves out (the root when it is fx alone) is named
  // without a link.
  const moduleLink = name => nodeOf.has(moduleID(name)) ? link(moduleID(name), name) : el("span", {}, name);
  // An event the picture leaves out (one within its module) is named
  // without a link.
  const eventLink = ev => nodeOf.has(eventID(ev.name)) ? link(eventID(ev.name), ev.name) : code(ev.name);
  const joined = (items, f, sep) => items.flatMap((x, i) => i ? [sep, f(x)] : [f(x)]);

  // Node sizes: room for the label, and bigger for what holds more.
  const font = "13px system-ui, sans-serif", labelFont = "11px system-ui, sans-serif";
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = font;
  const textWidth = s => Math.max(...s.split("\n").map(l => ctx.measureText(l).width));

  // Each arrow is drawn as a label node between two segments, so that the
  // layout gives its label room like any box: no label sits on a box or on
  // another label, however many modules there are. The label node and the
  // two segments share the arrow's id (data "edge").
  const elements = [];
  for (const n of view.nodes) {
    const w = Math.ceil(Math.max(textWidth(n.label) + 28, 70 + 14 * Math.sqrt(n.size)));
    const h = Math.ceil(38 + 3 * Math.sqrt(n.size));
    elements.push({ group: "nodes", data: { id: n.id, kind: n.kind, name: n.name, label: n.label, w, h }, classes: n.kind });
  }
  ctx.font = labelFont;
  for (const e of view.edges) {
    const d = { edge: e.id, kind: e.kind, from: e.from, to: e.to, label: e.label, types: e.types };
    if (e.quiet) {
      elements.push({ group: "edges", data: { ...d, id: "q|" + e.id, source: e.from, target: e.to }, classes: "head quiet " + e.kind });
      continue;
    }
    // A publication needs no label: the arrow into an event says it all.
    if (e.kind === "publishes") {
      elements.push({ group: "edges", data: { ...d, id: "q|" + e.id, source: e.from, target: e.to }, classes: "head " + e.kind });
      continue;
    }
    elements.push({ group: "nodes", data: { ...d, id: "l|" + e.id, w: Math.ceil(textWidth(e.label) + 10), h: 17 }, classes: "label " + e.kind });
    elements.push({ group: "edges", data: { ...d, id: "s|" + e.id, source: e.from, target: "l|" + e.id }, classes: "tail " + e.kind });
    elements.push({ group: "edges", data: { ...d, id: "t|" + e.id, source: "l|" + e.id, target: e.to }, classes: "head " + e.kind });
  }
  const arrow = id => cy.elements().filter(x => x.data("edge") === id);

  const cy = cytoscape({
    container: document.getElementById("graph"),
    elements,
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: false,
    autoungrabify: true,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "text-wrap": "wrap", "text-valign": "center", "text-halign": "center",
        "font-family": "system-ui, sans-serif", "font-size": 13, "color": "#111827",
        "width": "data(w)", "height": "data(h)", "border-width": 1 } },
      { selector: "node.module", style: { "shape": "round-rectangle", "background-color": "#dde7f5", "border-color": "#475569" } },
      { selector: "node.group", style: { "shape": "barrel", "background-color": "#fef3c7", "border-color": "#b45309", "border-style": "dashed" } },
      { selector: "node.label", style: {
        "shape": "round-rectangle", "background-color": "#ffffff", "border-color": "#d1d5db", "font-size": 11, "color": "#374151" } },
      { selector: "node.label.group", style: { "color": "#92400e", "border-color": "#f3d9a4" } },
      { selector: "node.event", style: { "shape": "hexagon", "background-color": "#efe0f3", "border-color": "#7c3aed" } },
      { selector: "node.label.publishes, node.label.subscribes", style: { "color": "#5b21b6", "border-color": "#ddd6fe" } },
      { selector: "edge", style: {
        "width": 1.5, "line-color": "#6b7280", "target-arrow-color": "#6b7280", "arrow-scale": 0.9, "curve-style": "bezier" } },
      { selector: "edge.head", style: { "target-arrow-shape": "triangle" } },
      { selector: "edge[se]", style: { "source-endpoint": "data(se)", "target-endpoint": "data(te)" } },
      { selector: "edge.routed", style: {
        "curve-style": "segments", "edge-distances": "intersection", "segment-radius": 12, "radius-type": "influence-radius",
        "segment-weights": e => e.data("cpw"), "segment-distances": e => e.data("cpd") } },
      { selector: "edge.quiet", style: { "width": 1, "line-color": "#cbd5e1", "target-arrow-color": "#94a3b8" } },
      { selector: "edge.group", style: { "line-style": "dashed", "line-color": "#b45309", "target-arrow-color": "#b45309" } },
      { selector: "edge.publishes, edge.subscribes", style: { "width": 2, "line-color": "#7c3aed", "target-arrow-color": "#7c3aed" } },
      { selector: ".faded", style: { "opacity": 0.15 } },
      { selector: "node.hit", style: { "border-width": 3, "border-color": "#2563eb" } },
      { selector: "edge.hit", style: { "width": 3, "line-color": "#2563eb", "target-arrow-color": "#2563eb" } },
      { selector: "node.member", style: { "border-width": 3, "border-color": "#b45309" } },
      { selector: "node.focus", style: { "border-width": 3, "border-color": "#f59e0b", "background-color": "#fde68a" } },
      { selector: "edge.focus", style: { "width": 3, "line-color": "#f59e0b", "target-arrow-color": "#f59e0b" } },
    ],
  });
  window.cy = cy; // for the console (and the browser test)

  // Layered, consumers above what they consume (the platform near the
  // bottom: the window is wider than tall, and a layer of many modules is
  // a row rather than a column); an arrow that spans
  // several layers follows the route dagre gives it around the boxes.
  cy.layout({
    name: "dagre", rankDir: "TB", nodeSep: 10, edgeSep: 8, rankSep: 30, padding: 24,
    useDagreEdgeControlPoints: true, automaticDagreEdgeStyle: false,
  }).run();
  cy.edges().forEach(e => {
    const cpw = e.scratch("controlPointWeights"), cpd = e.scratch("controlPointDistances");
    if (cpw && cpw.length && cpd && cpd.length === cpw.length) {
      e.data({ cpw, cpd });
      e.addClass("routed");
    }
  });
  // Arrows leave and enter boxes through their bottom and top, as the
  // layers run (one leaving a box sideways would cross its neighbours),
  // spread along the side towards where they go.
  const side = v => Math.round(Math.max(-42, Math.min(42, v)));
  cy.edges().forEach(e => {
    const s = e.source(), t = e.target(), sp = s.position(), tp = t.position();
    const dy = tp.y - sp.y;
    if (Math.abs(dy) <= 1) return;
    const pts = e.hasClass("routed") ? e.segmentPoints() : null;
    const next = pts && pts.length ? pts[0] : tp, prev = pts && pts.length ? pts[pts.length - 1] : sp;
    const down = dy > 0 ? "50%" : "-50%", up = dy > 0 ? "-50%" : "50%";
    e.data({ se: side((next.x - sp.x) / s.width() * 100) + "% " + down, te: side((prev.x - tp.x) / t.width() * 100) + "% " + up });
  });
  const fit = () => {
    cy.fit(undefined, 24);
    // A small graph is not blown up beyond its natural size.
    if (cy.zoom() > 1) { cy.zoom(1); cy.center(); }
  };
  fit();

  // Details.
  const detail = document.getElementById("detail-body");
  const show = (...kids) => { detail.replaceChildren(...kids.flat()); detail.parentElement.scrollTop = 0; };
  const groupsAddedBy = name => (g.groups || []).filter(gr => gr.members.some(id => providers.get(id).module === name));

  // The other modules whose constructors consume p's values.
  const usedBy = p => {
    const names = [...new Set((p.consumers || []).map(id => providers.get(id).module))].filter(n => n !== p.module).sort();
    return names.length ? el("span", { class: "muted" }, " · used by ", joined(names, moduleLink, ", ")) : null;
  };

  function showModule(m) {
    const out = g.uses.filter(u => u.from === m.name), inc = g.uses.filter(u => u.to === m.name);
    const hooks = m.hooks || [], routes = m.routes || [], invokes = m.invokes || [];
    const facts = [plural(m.providers.length, "provider"), plural(routes.length, "route"), plural(hooks.length, "hook"), plural(invokes.length, "invoke")];
    show(
      el("h2", { id: "detail-title" }, m.name),
      el("p", { class: "muted" }, "module · " + facts.join(" · ")),
      section("Consumes", out, u => [moduleLink(u.to), ": ", ...joined(u.types, code, ", ")]),
      section("Consumed by", inc, u => [moduleLink(u.from), ": ", ...joined(u.types, code, ", ")]),
      section("Adds to value groups", groupsAddedBy(m.name), gr => [link(groupID(gr.type), gr.name), " (" + gr.members.filter(id => providers.get(id).module === m.name).length + " of " + gr.members.length + ")"]),
      section("Collects value groups", (g.groups || []).filter(gr => (gr.consumers || []).includes(m.name)), gr => link(groupID(gr.type), gr.name)),
      section("Providers", m.providers.map(id => providers.get(id)), p => [code(p.constructor), " → ", joined(p.outputs, code, ", "),
        p.private ? el("span", { class: "private" }, " (private)") : null, usedBy(p)]),
      section("Routes", routes, r => code(r.method + " " + r.path)),
      section("Publishes events", (g.events || []).filter(ev => (ev.publishers || []).includes(m.name)), eventLink),
      section("Subscribes to events", (g.events || []).flatMap(ev => (ev.subscribers || []).filter(s => s.module === m.name).map(s => [ev, s])),
        ([ev, s]) => [eventLink(ev), " as ", code(s.subscription)]),
      section("Hooks", hooks, h => [[h.on_start ? "OnStart" : "", h.on_stop ? "OnStop" : ""].filter(Boolean).join("+") + " registered by ", code(h.registered_by)]),
      section("Invokes", invokes, code));
  }

  function showGroup(gr) {
    const members = gr.members.map(id => providers.get(id));
    const from = new Set(members.map(p => p.module));
    show(
      el("h2", { id: "detail-title" }, gr.name),
      el("p", { class: "muted" }, "value group · " + plural(members.length, "member") + " from " + plural(from.size, "module")),
      el("p", {}, code(gr.type)),
      section("Members", members, p => [moduleLink(p.module), " · ", code(p.constructor)]),
      section("Collected by", gr.consumers || [], moduleLink));
  }

  function showEvent(ev) {
    show(
      el("h2", { id: "detail-title" }, ev.name),
      el("p", { class: "muted" }, "domain event · " + plural((ev.publishers || []).length, "publisher") + " · " +
        plural((ev.subscribers || []).length, "subscriber")),
      el("p", {}, code(ev.type)),
      section("Published by", ev.publishers || [], moduleLink),
      section("Subscribed to by", ev.subscribers || [], s => [moduleLink(s.module), " · ", code(s.subscription)]));
  }

  function showArrow(e) {
    const src = nodeOf.get(e.from), dst = nodeOf.get(e.to);
    const what = {
      group: () => src.name + " collects every member of the " + dst.name + " group",
      publishes: () => src.name + " publishes " + dst.name + " in the transaction of the change",
      subscribes: () => dst.name + " receives " + src.name + " through its subscription, as a job",
    }[e.kind] || (() => src.name + " consumes " + plural(e.types.length, "type") + " from " + dst.name);
    show(
      el("h2", { id: "detail-title" }, src.name + " → " + dst.name),
      el("p", { class: "muted" }, what()),
      section(e.kind === "subscribes" ? "Subscription" : "Types", e.types, code));
  }

  const arrows = new Map(view.edges.map(e => [e.id, e]));
  const clear = () => cy.elements().removeClass("faded focus member hit");
  // An arrow touching a node, and the node at its other end.
  const around = id => {
    let c = cy.collection();
    for (const e of view.edges) {
      if (e.from === id || e.to === id) c = c.union(arrow(e.id)).union(cy.getElementById(e.from === id ? e.to : e.from));
    }
    return c;
  };

  // select shows the details of a module, a group (by node id) or an arrow
  // (by its id), and fades what is not connected to it.
  function select(id) {
    const node = cy.getElementById(id);
    let keep;
    if (node.nonempty() && !node.hasClass("label")) {
      clear();
      node.addClass("focus");
      keep = node.union(around(id));
      const kind = node.data("kind");
      const related = kind === "group"
        ? groups.get(id.slice("g:".length)).members.map(pid => moduleID(providers.get(pid).module))
        : kind === "event" ? []
        : groupsAddedBy(node.data("name")).map(gr => groupID(gr.type));
      const marked = cy.collection(related.map(r => cy.getElementById(r))).addClass("member");
      keep = keep.union(marked);
      if (kind === "group") showGroup(groups.get(id.slice("g:".length)));
      else if (kind === "event") showEvent(eventsByName.get(node.data("name")));
      else showModule(modules.get(node.data("name")));
    } else if (arrows.has(id) || node.hasClass("label")) {
      const e = arrows.get(arrows.has(id) ? id : node.data("edge"));
      clear();
      keep = arrow(e.id).union(cy.getElementById(e.from)).union(cy.getElementById(e.to));
      keep.addClass("focus");
      showArrow(e);
    } else {
      return;
    }
    cy.elements().difference(keep).addClass("faded");
  }

  cy.on("tap", "node", ev => select(ev.target.id()));
  cy.on("tap", "edge", ev => select(ev.target.data("edge")));
  cy.on("tap", ev => { if (ev.target === cy) { clear(); } });
  // The full list of an arrow's types, as a tooltip.
  const container = cy.container();
  cy.on("mouseover", "node.label, edge", ev => { container.title = ev.target.data("types").join("\n"); });
  cy.on("mouseover", "node.module, node.group, node.event", ev => { container.title = ev.target.data("label"); });
  cy.on("mouseout", "node, edge", () => { container.title = ""; });
  document.getElementById("fit").addEventListener("click", fit);

  // Search by type: modules that provide or consume a matching type, and
  // the groups and arrows that carry it.
  const search = document.getElementById("search");
  const count = document.getElementById("count");
  const summary = () => view.nodes.filter(n => n.kind === "module").length + " modules · " +
    view.nodes.filter(n => n.kind === "group").length + " value groups · " +
    view.nodes.filter(n => n.kind === "event").length + " events · " + g.providers.length + " providers";
  function runSearch() {
    const q = search.value.trim().toLowerCase();
    clear();
    if (!q) { count.textContent = summary(); return; }
    const match = t => t.toLowerCase().includes(q);
    const provide = new Map(), consume = new Map();
    for (const p of g.providers) {
      for (const t of p.outputs) if (match(t)) (provide.get(p.module) || provide.set(p.module, []).get(p.module)).push([p, t]);
      for (const t of p.inputs || []) if (match(t)) (consume.get(p.module) || consume.set(p.module, []).get(p.module)).push([p, t]);
    }
    let hits = cy.collection();
    for (const name of new Set([...provide.keys(), ...consume.keys()])) hits = hits.union(cy.getElementById(moduleID(name)));
    for (const gr of g.groups || []) if (match(gr.type)) hits = hits.union(cy.getElementById(groupID(gr.type)));
    for (const ev of g.events || []) if (match(ev.name) || match(ev.type)) hits = hits.union(cy.getElementById(eventID(ev.name)));
    for (const e of view.edges) if (e.types.some(match)) hits = hits.union(arrow(e.id));
    hits.addClass("hit");
    cy.elements().difference(hits.union(hits.connectedNodes()).union(hits.connectedEdges().connectedNodes())).addClass("faded");
    count.textContent = plural(provide.size, "module") + " provide, " + consume.size + " consume “" + search.value.trim() + "”";
    const rows = m => [...m].map(([name, ps]) => [name, ps]);
    show(
      el("h2", { id: "detail-title" }, "“" + search.value.trim() + "”"),
      section("Provided by", rows(provide), ([name, ps]) => [moduleLink(name), ": ", ...joined(ps, ([p, t]) => [code(t), " (" + p.constructor + ")"], ", ")]),
      section("Consumed by", rows(consume), ([name, ps]) => [moduleLink(name), ": ", ...joined(ps, ([p, t]) => [code(t), " (" + p.constructor + ")"], ", ")]),
      provide.size + consume.size ? [] : el("p", { class: "muted" }, "No module provides or consumes a matching type."));
  }
  search.addEventListener("input", runSearch);
  count.textContent = summary();

  // Deep links: #q=<type>&select=<node id>.
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("q")) { search.value = params.get("q"); runSearch(); }
  if (params.get("select")) select(params.get("select"));
  document.body.dataset.ready = "true";
})();
