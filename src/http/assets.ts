/**
 * Inline CSS and browser scripts. Served verbatim inside <style>/<script> (never escaped, never
 * templated: the original broke on CSS braces). No external assets: the Pi may be offline.
 */

export const CSS = `
:root {
  --bg: #f3f4f6; --card: #fff; --ink: #111827; --muted: #6b7280; --line: #e5e7eb;
  --head: #111827; --accent: #2563eb; --ok: #16a34a; --bad: #dc2626; --warn: #d97706;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top {
  background: var(--head); color: #f9fafb; display: flex; align-items: center; gap: 16px;
  padding: 10px 16px; flex-wrap: wrap; position: sticky; top: 0; z-index: 10;
}
header.top .brand { color: #fff; font-weight: 700; font-size: 18px; letter-spacing: .02em; }
header.top nav { display: flex; gap: 4px; flex: 1; }
header.top nav a { color: #d1d5db; padding: 6px 10px; border-radius: 6px; }
header.top nav a.on, header.top nav a:hover { background: #374151; color: #fff; text-decoration: none; }
.badge {
  display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  background: #4b5563; color: #fff; white-space: nowrap;
}
.badge.online { background: var(--ok); }
.badge.offline { background: var(--bad); }
.badge.auto { background: #0891b2; }
.badge.snapshot { background: #7c3aed; }
.badge.import { background: #6b7280; }
main { max-width: 1200px; margin: 0 auto; padding: 16px; }
h1 { font-size: 22px; margin: 4px 0 14px; }
h1 small, h2 small { color: var(--muted); font-weight: 400; font-size: 15px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px;
  box-shadow: 0 1px 2px rgba(0,0,0,.04);
}
.layout {
  display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 16px; align-items: start;
}
.side { display: flex; flex-direction: column; gap: 16px; }
.stage { position: relative; background: #000; border-radius: 8px; overflow: hidden; line-height: 0; }
.stage img { width: 100%; height: auto; display: block; }
.stage canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.offline-msg {
  margin-top: 10px; padding: 8px 12px; border-radius: 8px; background: #fef2f2; color: #991b1b;
  border: 1px solid #fecaca;
}
.hidden { display: none !important; }
.stats { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
.stat { background: var(--bg); border-radius: 8px; padding: 8px 10px; }
.stat .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.stat .v { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.stat.big { grid-column: span 2; }
.stat.big .v { font-size: 40px; }
.actions { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 12px; }
button, .button {
  font: inherit; font-weight: 600; border: 0; border-radius: 8px; padding: 10px 16px; cursor: pointer;
  background: var(--accent); color: #fff; display: inline-block;
}
.button.secondary { background: #e5e7eb; color: var(--ink); }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; }
.thumbs.small { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.thumb { display: block; color: var(--ink); background: var(--card); border: 1px solid var(--line);
  border-radius: 8px; overflow: hidden; }
.thumb:hover { text-decoration: none; border-color: var(--accent); }
.thumb img { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; display: block; background: #000; }
.thumb .meta { padding: 5px 8px 6px; font-size: 12px; display: flex; flex-direction: column; }
.thumb .meta span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.thumb .meta .t { font-weight: 600; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-bottom: 14px; }
select { font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--line); background: #fff; }
.pager { display: flex; gap: 12px; align-items: center; justify-content: center; margin: 18px 0 4px; }
.photo img { width: 100%; height: auto; display: block; border-radius: 8px; background: #000; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
td.file { overflow-wrap: anywhere; word-break: break-all; }
.prevnext { display: flex; justify-content: space-between; gap: 10px; margin: 12px 0; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 20px 16px 28px; word-break: break-all; }
@media (max-width: 820px) {
  .layout { grid-template-columns: minmax(0, 1fr); }
  main { padding: 10px; }
  .thumbs { grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); }
  .thumbs.small { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
`;

/**
 * Dashboard script: EventSource("/api/stream") → counters, online badge, boxes on a canvas over
 * the raw MJPEG <img>, new events prepended to the thumbnail strip. DOM built with textContent.
 */
export const DASHBOARD_JS = `
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var img = $("live"), cv = $("overlay"), ctx = cv.getContext("2d");
  var last = null, online = true, opened = false, dropped = false;
  var maxThumbs = 9;

  function fit() {
    var r = img.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(r.width * dpr)), h = Math.max(1, Math.round(r.height * dpr));
    if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
    draw();
  }

  function draw() {
    var W = cv.width, H = cv.height, dpr = window.devicePixelRatio || 1;
    ctx.clearRect(0, 0, W, H);
    if (!last || !online) return;
    ctx.lineWidth = Math.max(2, 2 * dpr);
    ctx.font = Math.round(13 * dpr) + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (var i = 0; i < last.det.length; i++) {
      var d = last.det[i], b = d.b;
      var x = b[1] * W, y = b[0] * H, w = (b[3] - b[1]) * W, h = (b[2] - b[0]) * H;
      var color = d.l === "person" ? "#22c55e" : "#f59e0b";
      ctx.strokeStyle = color;
      ctx.strokeRect(x, y, w, h);
      var text = d.l + " " + Math.round(d.s * 100) + "%";
      var th = Math.round(17 * dpr), tw = ctx.measureText(text).width + 8 * dpr;
      var ty = y - th < 0 ? y : y - th;
      ctx.fillStyle = color;
      ctx.fillRect(x, ty, tw, th);
      ctx.fillStyle = "#000";
      ctx.fillText(text, x + 4 * dpr, ty + 2 * dpr);
    }
  }

  function setText(id, v) { var el = $(id); if (el) el.textContent = v; }
  function fmt1(v) { return (Math.round(v * 10) / 10).toFixed(1); }

  function setOnline(on, reason) {
    online = on;
    var b = $("state");
    b.textContent = on ? "online" : "offline";
    b.className = "badge " + (on ? "online" : "offline");
    var m = $("offline");
    if (on) m.classList.add("hidden");
    else { m.classList.remove("hidden"); setText("offline-reason", reason || "no signal"); }
    draw();
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmtTime(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function addEvent(e) {
    var list = $("recent");
    var empty = $("no-events");
    if (empty) empty.remove();
    var a = document.createElement("a");
    a.className = "thumb";
    a.href = e.page_url;
    a.setAttribute("data-id", String(e.id));
    var im = document.createElement("img");
    im.src = e.thumb_url;
    im.alt = e.reason + " " + e.people + " people";
    im.loading = "lazy";
    var meta = document.createElement("div");
    meta.className = "meta";
    var t = document.createElement("span");
    t.className = "t";
    t.textContent = fmtTime(e.time);
    var p = document.createElement("span");
    p.className = "muted";
    p.textContent = (e.people === 1 ? "1 person" : e.people + " people") +
      (e.reason === "auto" ? "" : " \u00b7 " + e.reason);
    meta.appendChild(t); meta.appendChild(p);
    a.appendChild(im); a.appendChild(meta);
    list.insertBefore(a, list.firstChild);
    while (list.children.length > maxThumbs) list.removeChild(list.lastChild);
    var total = $("events-total");
    if (total) total.textContent = String((parseInt(total.textContent, 10) || 0) + 1);
  }

  // The other dashboard scripts (zones editor, activity chart) listen to these window events
  // instead of opening streams of their own: "hazardcam:frame" (detections of each frame),
  // "hazardcam:status" (the status every few seconds), "hazardcam:saved" (a new event).
  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("hazardcam:" + name, { detail: detail }));
  }

  if (window.ResizeObserver) new ResizeObserver(fit).observe(img);
  window.addEventListener("resize", fit);
  img.addEventListener("load", fit);
  fit();

  if (!window.EventSource) return;
  var es = new EventSource("/api/stream");
  es.addEventListener("open", function () {
    // After a server restart the MJPEG connection is gone: reopen it.
    if (opened && dropped) img.src = "/video?raw=1&t=" + Date.now();
    opened = true; dropped = false;
  });
  es.addEventListener("error", function () {
    dropped = true;
    var b = $("state");
    b.textContent = "reconnecting";
    b.className = "badge";
  });
  es.addEventListener("frame", function (ev) {
    last = JSON.parse(ev.data);
    setText("people", String(last.people));
    setText("fps", fmt1(last.fps));
    setText("detect-fps", fmt1(last.detect_fps));
    setText("infer-ms", fmt1(last.infer_ms));
    if (!online) setOnline(true, null);
    fit();
    emit("frame", last);
  });
  es.addEventListener("status", function (ev) {
    var s = JSON.parse(ev.data);
    setOnline(!!s.online, s.offline_reason);
    setText("backend", s.backend || "none");
    if (typeof s.events_total === "number") setText("events-total", String(s.events_total));
    if (typeof s.clients === "number") setText("clients", String(s.clients));
    if (!s.online) { setText("people", "0"); setText("fps", "0.0"); setText("detect-fps", "0.0"); }
    emit("status", s);
  });
  es.addEventListener("saved", function (ev) {
    var e = JSON.parse(ev.data);
    addEvent(e);
    emit("saved", e);
  });
})();
`;
