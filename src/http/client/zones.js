// The dashboard's zone editor (issue 11), in the browser. Shows the zones, masks and lines of
// /api/zones on a canvas of its own over the live picture (img#live), at all times; "Edit zones"
// draws, moves, names and deletes them with mouse or finger (Pointer Events) and saves with PUT.
// Coordinates are [x, y], 0..1 of the picture's displayed rect, y down. People per zone and line
// totals come from the dashboard's "hazardcam:status" events (no stream of its own). Painting is
// in zones-draw.js (loaded first). Served verbatim inside a <script>.
(() => {
  "use strict";
  const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
  const MAX_POINTS = 64;
  const MIN_LINE = 0.01; // the server refuses shorter lines
  const KINDS = ["zones", "masks", "lines"];
  const SINGULAR = { zones: "zone", masks: "mask", lines: "line" };
  const RELOAD_MS = 30000; // a file edited by hand shows up within this, when not editing
  const $ = (id) => document.getElementById(id);
  const panel = $("zones-panel");
  const img = $("live");
  if (!panel || !img || !window.fetch || !window.hazardcamZonesPainter) return;
  const cv = document.createElement("canvas");
  cv.id = "zones-layer";
  const ctx = cv.getContext("2d");

  const st = {
    server: null, // {zones, masks, lines} as the server has it
    cfg: { zones: [], masks: [], lines: [] }, // what is drawn: the working copy while editing
    editing: false,
    tool: null, // "zones" | "masks" | "lines" while drawing a new one
    draft: null, // points of the one being drawn
    hover: null, // the pointer while drawing (the rubber band)
    sel: null, // {kind, i}
    drag: null, // {point: index, or -1 for the whole shape; from; orig}
    people: {}, // zone name -> people now
    totals: {}, // line name -> {in, out} since midnight
    fileError: null, // why the file on disk is not the one in use
    fetchedAt: 0,
    statusError: null,
  };

  const clone = (v) => JSON.parse(JSON.stringify(v));
  const pts = (kind, item) => (kind === "lines" ? [item.a, item.b] : item.points);
  const selected = () => (st.sel ? st.cfg[st.sel.kind][st.sel.i] : null);
  const round4 = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  const configOf = (j) => ({ zones: j.zones, masks: j.masks, lines: j.lines });

  function setPt(kind, item, k, p) {
    if (kind !== "lines") item.points[k] = p;
    else if (k === 0) item.a = p;
    else item.b = p;
  }

  function each(fn) {
    for (const kind of KINDS) st.cfg[kind].forEach((item, i) => fn(kind, item, i));
  }

  // ---- loading and saving ----

  async function load() {
    st.fetchedAt = Date.now();
    let j = null;
    try {
      const r = await fetch("/api/zones", { cache: "no-store", credentials: "same-origin" });
      if (r.ok) j = await r.json();
    } catch {
      return; // the server is away: the dashboard says so; keep what is drawn
    }
    // 404 without the scene analyzer: no layer, the panel stays hidden.
    if (!j) return;
    if (!cv.parentNode) attach();
    st.server = configOf(j);
    st.fileError = j.error;
    if (!st.editing) st.cfg = clone(st.server);
    panel.classList.remove("hidden");
    sync();
  }

  async function save() {
    if (st.draft) finishDraft();
    const bad = firstBadName();
    if (bad) return say(bad, "bad");
    say("saving…", "");
    let r, j;
    try {
      r = await fetch("/api/zones", {
        method: "PUT",
        credentials: "same-origin",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(st.cfg),
      });
      j = await r.json().catch(() => ({}));
    } catch {
      return say("Not saved: the server did not answer.", "bad");
    }
    if (!r.ok) return refused(r.status, j);
    st.server = configOf(j);
    st.fileError = j.error;
    setEditing(false);
    say("saved", "ok");
  }

  // A 400 names the key ("zones[1].points"): select that one so its name or shape can be fixed.
  function refused(status, j) {
    const m = /^(zones|masks|lines)\[(\d+)\]/.exec(j.key || "");
    if (m && st.cfg[m[1]][+m[2]]) st.sel = { kind: m[1], i: +m[2] };
    const why = j.reason || (status === 401 ? "log in again" : `HTTP ${status}`);
    say(`Not saved: ${why}`, "bad");
    sync();
  }

  // ---- names, checked as the server does ----

  function nameProblem(name, self) {
    if (!NAME_RE.test(name))
      return `"${name}": 1-32 letters, digits, "_" or "-", starting with a letter or digit`;
    let dup = null;
    each((kind, item) => {
      if (item !== self && item.name.toLowerCase() === name.toLowerCase()) dup = SINGULAR[kind];
    });
    return dup ? `"${name}" is already the name of a ${dup} (names are unique, any case)` : null;
  }

  function firstBadName() {
    let bad = null;
    each((kind, item, i) => {
      const p = bad ? null : nameProblem(item.name, item);
      if (p) [bad, st.sel] = [p, { kind, i }];
    });
    return bad;
  }

  function nextName(kind) {
    for (let n = 1; ; n++) if (!nameProblem(SINGULAR[kind] + n, null)) return SINGULAR[kind] + n;
  }

  // ---- the panel ----

  function say(text, state) {
    const m = $("zones-msg");
    m.textContent = text;
    m.setAttribute("data-state", state);
  }

  function summary() {
    const parts = KINDS.filter((k) => st.cfg[k].length).map((k) => {
      const n = st.cfg[k].length;
      return `${n} ${SINGULAR[k]}${n === 1 ? "" : "s"}`;
    });
    if (!st.cfg.zones.length) parts.push("no zones: the whole picture counts");
    return parts.join(" · ");
  }

  function sync() {
    const item = selected();
    const name = $("zones-name");
    $("zones-summary").textContent = summary();
    const fe = $("zones-file-error");
    fe.textContent = st.fileError ? `The zones file is not in use: ${st.fileError.message}` : "";
    fe.classList.toggle("hidden", !st.fileError);
    $("zones-edit").classList.toggle("hidden", st.editing);
    $("zones-tools").classList.toggle("hidden", !st.editing);
    name.disabled = !item;
    if (document.activeElement !== name) name.value = item ? item.name : "";
    $("zones-delete").disabled = !item;
    for (const b of panel.querySelectorAll("[data-zones-tool]"))
      b.setAttribute("aria-pressed", String(st.tool === b.getAttribute("data-zones-tool")));
    cv.style.pointerEvents = st.editing ? "auto" : "none";
    cv.style.touchAction = st.editing ? "none" : "";
    cv.style.cursor = st.tool ? "crosshair" : "default";
    draw();
  }

  function setEditing(on) {
    Object.assign(st, { editing: on, tool: null, draft: null, sel: null, drag: null });
    if (!on && st.server) st.cfg = clone(st.server);
    say(on ? "Choose what to draw, or select one to drag it or its corners." : "", "");
    sync();
  }

  function startTool(kind) {
    Object.assign(st, { tool: kind, draft: null, sel: null });
    say(
      kind === "lines"
        ? "Click or tap the two ends of the line: a, then b."
        : "Click or tap the corners; close it on the first one, with a double-click or Enter. Escape cancels.",
      "",
    );
    sync();
  }

  function rename() {
    const item = selected();
    if (!item) return;
    const name = $("zones-name");
    item.name = name.value.trim();
    const p = nameProblem(item.name, item);
    name.setCustomValidity(p || "");
    say(p || "", p ? "bad" : "");
    sync();
  }

  function remove() {
    if (!st.sel) return;
    st.cfg[st.sel.kind].splice(st.sel.i, 1);
    st.sel = null;
    sync();
  }

  function bindPanel() {
    $("zones-edit").addEventListener("click", () => setEditing(true));
    $("zones-cancel").addEventListener("click", () => setEditing(false));
    $("zones-save").addEventListener("click", save);
    $("zones-delete").addEventListener("click", remove);
    $("zones-name").addEventListener("input", rename);
    for (const b of panel.querySelectorAll("[data-zones-tool]"))
      b.addEventListener("click", () => startTool(b.getAttribute("data-zones-tool")));
  }

  // ---- drawing a new one ----

  /** p and q within tolPx CSS pixels of each other on the screen. */
  function near(p, q, tolPx) {
    const r = cv.getBoundingClientRect();
    return Math.hypot((p[0] - q[0]) * r.width, (p[1] - q[1]) * r.height) <= tolPx;
  }

  function addPoint(p, tolPx) {
    const d = st.draft || (st.draft = []);
    if (!d.length) return void d.push(p);
    if (st.tool === "lines") {
      if (Math.hypot(p[0] - d[0][0], p[1] - d[0][1]) < MIN_LINE) return;
      d.push(p);
      return finishDraft();
    }
    // The first point again, or the last one twice (a double-click or double tap): close it.
    if (d.length >= 3 && near(p, d[0], tolPx)) return finishDraft();
    if (near(p, d[d.length - 1], tolPx)) return d.length >= 3 ? finishDraft() : undefined;
    d.push(p);
    if (d.length >= MAX_POINTS) finishDraft();
  }

  function finishDraft() {
    const kind = st.tool;
    const d = st.draft || [];
    Object.assign(st, { tool: null, draft: null, hover: null });
    if (kind === "lines" ? d.length !== 2 : d.length < 3) return sync();
    const name = nextName(kind);
    st.cfg[kind].push(kind === "lines" ? { name, a: d[0], b: d[1] } : { name, points: d });
    st.sel = { kind, i: st.cfg[kind].length - 1 };
    say("Name it, then Save.", "");
    sync();
    $("zones-name").focus();
    $("zones-name").select();
  }

  function cancelDraft() {
    Object.assign(st, { tool: null, draft: null, hover: null });
    say("", "");
    sync();
  }

  // ---- selecting and moving ----

  /** Even-odd rule (the server counts the edge as inside; a few pixels do not matter here). */
  function pointIn(p, poly) {
    let inside = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [a, b] = [poly[i], poly[j]];
      if (
        a[1] > p[1] !== b[1] > p[1] &&
        p[0] < a[0] + ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1])
      )
        inside = !inside;
    }
    return inside;
  }

  function nearSegment(p, a, b, tolPx) {
    const r = cv.getBoundingClientRect();
    const [ax, ay] = [a[0] * r.width, a[1] * r.height];
    const [dx, dy] = [b[0] * r.width - ax, b[1] * r.height - ay];
    const [px, py] = [p[0] * r.width - ax, p[1] * r.height - ay];
    const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy || 1)));
    return Math.hypot(px - t * dx, py - t * dy) <= tolPx;
  }

  /** The selected one's corners first, then any corner, a line, a zone, a mask (top first). */
  function hitTest(p, tolPx) {
    const order = st.sel ? [st.sel] : [];
    for (const kind of ["lines", "zones", "masks"])
      for (let i = st.cfg[kind].length - 1; i >= 0; i--) order.push({ kind, i });
    const points = (ref) => pts(ref.kind, st.cfg[ref.kind][ref.i]);
    for (const ref of order) {
      const k = points(ref).findIndex((q) => near(p, q, tolPx));
      if (k >= 0) return { ...ref, point: k };
    }
    for (const ref of order) {
      const ps = points(ref);
      const inside = ref.kind === "lines" ? nearSegment(p, ps[0], ps[1], tolPx) : pointIn(p, ps);
      if (inside) return { ...ref, point: -1 };
    }
    return null;
  }

  function dragTo(p) {
    const g = st.drag;
    const item = selected();
    if (!g || !item) return;
    if (g.point >= 0) return setPt(st.sel.kind, item, g.point, p);
    // The whole shape, kept inside the picture.
    const orig = pts(st.sel.kind, g.orig);
    const xs = orig.map((q) => q[0]);
    const ys = orig.map((q) => q[1]);
    const dx = Math.min(1 - Math.max(...xs), Math.max(-Math.min(...xs), p[0] - g.from[0]));
    const dy = Math.min(1 - Math.max(...ys), Math.max(-Math.min(...ys), p[1] - g.from[1]));
    orig.forEach((q, k) => setPt(st.sel.kind, item, k, [round4(q[0] + dx), round4(q[1] + dy)]));
  }

  // ---- pointer and keys ----

  function at(ev) {
    const r = cv.getBoundingClientRect();
    return [round4((ev.clientX - r.left) / r.width), round4((ev.clientY - r.top) / r.height)];
  }
  // A fingertip is less precise than a mouse pointer.
  const tolerance = (ev) => (ev.pointerType === "mouse" ? 10 : 22);

  function onDown(ev) {
    if (!st.editing || (ev.pointerType === "mouse" && ev.button !== 0)) return;
    ev.preventDefault();
    const p = at(ev);
    if (st.tool) {
      addPoint(p, tolerance(ev));
      return sync();
    }
    const h = hitTest(p, tolerance(ev));
    st.sel = h ? { kind: h.kind, i: h.i } : null;
    st.drag = h ? { point: h.point, from: p, orig: clone(selected()) } : null;
    if (h) cv.setPointerCapture(ev.pointerId);
    say("", "");
    sync();
  }

  function onMove(ev) {
    if (!st.editing || !(st.tool || st.drag)) return;
    if (st.tool) st.hover = at(ev);
    else dragTo(at(ev));
    draw();
  }

  function onKey(ev) {
    if (!st.editing) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) {
      if (ev.key === "Enter") t.blur();
      return;
    }
    if (ev.key === "Escape" && st.tool) cancelDraft();
    else if (ev.key === "Escape") ((st.sel = null), sync());
    else if (ev.key === "Enter" && st.draft) (ev.preventDefault(), finishDraft());
    else if ((ev.key === "Delete" || ev.key === "Backspace") && st.sel)
      (ev.preventDefault(), remove());
  }

  // ---- the layer ----

  function attach() {
    img.parentNode.appendChild(cv);
    cv.addEventListener("pointerdown", onDown);
    cv.addEventListener("pointermove", onMove);
    cv.addEventListener("pointerup", () => (st.drag = null));
    cv.addEventListener("pointercancel", () => (st.drag = null));
    document.addEventListener("keydown", onKey);
    bindPanel();
    if (window.ResizeObserver) new ResizeObserver(fit).observe(img);
    window.addEventListener("resize", fit);
    img.addEventListener("load", fit);
    fit();
  }

  /** The layer covers exactly the picture's displayed rect (the stage may be taller). */
  function fit() {
    const dpr = window.devicePixelRatio || 1;
    const [w, h] = [img.offsetWidth, img.offsetHeight];
    Object.assign(cv.style, {
      left: `${img.offsetLeft}px`,
      top: `${img.offsetTop}px`,
      width: `${w}px`,
      height: `${h}px`,
    });
    const [pw, ph] = [Math.max(1, Math.round(w * dpr)), Math.max(1, Math.round(h * dpr))];
    if (cv.width === pw && cv.height === ph) return;
    [cv.width, cv.height] = [pw, ph];
    draw();
  }

  function draw() {
    if (!cv.parentNode) return;
    const dpr = window.devicePixelRatio || 1;
    const paint = window.hazardcamZonesPainter(ctx, cv.width, cv.height, dpr);
    const drawn = [];
    ctx.clearRect(0, 0, cv.width, cv.height);
    ctx.font = `${Math.round(13 * dpr)}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    each((kind, item, i) => {
      const on = !!st.sel && st.sel.kind === kind && st.sel.i === i;
      paint[kind](item, on, (kind === "zones" ? st.people : st.totals)[item.name]);
      drawn.push(`${SINGULAR[kind]}:${item.name}`);
    });
    if (st.draft) paint.draft(st.tool, st.draft, st.hover);
    // What is on the layer, for tests and the curious (a canvas does not say).
    cv.setAttribute("data-drawn", drawn.join(","));
  }

  window.addEventListener("hazardcam:status", (ev) => {
    const s = ev.detail || {};
    const sc = s.scene || s; // the scene fields, top level or under "scene"
    if (sc.zone_people) st.people = sc.zone_people;
    if (sc.lines && !Array.isArray(sc.lines)) st.totals = sc.lines;
    const err = sc.zones_error || null;
    const stale = Date.now() - st.fetchedAt > RELOAD_MS;
    if (!st.editing && (err !== st.statusError || stale)) load();
    st.statusError = err;
    draw();
  });

  load();
})();
