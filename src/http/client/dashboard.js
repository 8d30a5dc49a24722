/*
 * The dashboard's browser script (served inline by src/http/pages/dashboard.tsx; plain ES5, no
 * build step). One WebSocket per tab, /api/live (src/http/live/tabs.ts): binary messages are
 * the camera's JPEGs, shown in <img id="live"> through object URLs (the newest one wins while
 * one decodes; each URL is revoked once the next picture replaced it); text messages are JSON
 * {type, data}: "frame" (detections, drawn on the #overlay canvas, with "#id" on person boxes
 * when the scene's tracks come along), "status" and "saved" (prepended to the thumbnails).
 *
 * The other dashboard scripts (zone editor, scene panel, activity chart) listen to window events
 * instead of opening streams of their own: "hazardcam:frame", "hazardcam:status" and
 * "hazardcam:saved", whose details are the payloads of the SSE events of the same names
 * (/api/stream): with the scene analyzer, the frame's `tracks` and the status's zone_people,
 * people_in_zones, lines, day, visit and zones_error at its top level.
 *
 * A hidden tab tells the server, which then sends it no pictures (only state) until it shows
 * again. A lost socket (server restart, network drop, or 12 s of silence) is reopened with
 * backoff (0.5 s doubling to 5 s, jittered) while the badge says "reconnecting"; the page
 * closes it on pagehide so the back/forward cache never keeps a dead one, and reopens it on
 * pageshow.
 */
(function () {
  "use strict";
  var $ = function (id) {
    return document.getElementById(id);
  };
  var img = $("live"),
    cv = $("overlay"),
    ctx = cv.getContext("2d");
  var last = null,
    online = true;
  var maxThumbs = 9;
  var BACKOFF_MIN_MS = 500,
    BACKOFF_MAX_MS = 5000,
    SILENT_MS = 12000;

  // ---- boxes on the canvas --------------------------------------------------------------------

  /** Sizes the canvas to the picture (device pixels); redraws only when something changed. */
  function fit(force) {
    var r = img.getBoundingClientRect(),
      dpr = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(r.width * dpr)),
      h = Math.max(1, Math.round(r.height * dpr));
    if (cv.width !== w || cv.height !== h) {
      cv.width = w;
      cv.height = h;
      force = true;
    }
    if (force) draw();
  }

  /** Intersection over union of two [ymin, xmin, ymax, xmax] boxes. */
  function iou(a, b) {
    var h = Math.min(a[2], b[2]) - Math.max(a[0], b[0]),
      w = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
    if (h <= 0 || w <= 0) return 0;
    var inter = h * w;
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
  }

  /** " #id" of the track that best covers a person box, or "". */
  function trackLabel(d) {
    var tracks = last.tracks;
    if (!tracks || d.l !== "person") return "";
    var best = null,
      bestIou = 0.3;
    for (var i = 0; i < tracks.length; i++) {
      var v = iou(d.b, tracks[i].box);
      if (v > bestIou) {
        bestIou = v;
        best = tracks[i];
      }
    }
    return best ? " #" + best.id : "";
  }

  function drawBox(d, W, H, dpr) {
    var b = d.b;
    var x = b[1] * W,
      y = b[0] * H,
      w = (b[3] - b[1]) * W,
      h = (b[2] - b[0]) * H;
    var color = d.l === "person" ? "#22c55e" : "#f59e0b";
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, w, h);
    var text = d.l + trackLabel(d) + " " + Math.round(d.s * 100) + "%";
    var th = Math.round(17 * dpr),
      tw = ctx.measureText(text).width + 8 * dpr;
    var ty = y - th < 0 ? y : y - th;
    ctx.fillStyle = color;
    ctx.fillRect(x, ty, tw, th);
    ctx.fillStyle = "#000";
    ctx.fillText(text, x + 4 * dpr, ty + 2 * dpr);
  }

  function draw() {
    var W = cv.width,
      H = cv.height,
      dpr = window.devicePixelRatio || 1;
    ctx.clearRect(0, 0, W, H);
    if (!last || !online) return;
    ctx.lineWidth = Math.max(2, 2 * dpr);
    ctx.font = Math.round(13 * dpr) + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (var i = 0; i < last.det.length; i++) drawBox(last.det[i], W, H, dpr);
  }

  // ---- counters, badge, thumbnails ------------------------------------------------------------

  function setText(id, v) {
    var el = $(id);
    if (el && el.textContent !== v) el.textContent = v; // unchanged text: no relayout
  }
  function fmt1(v) {
    return (Math.round(v * 10) / 10).toFixed(1);
  }

  function setBadge(text, cls) {
    var b = $("state");
    b.textContent = text;
    b.className = "badge" + (cls ? " " + cls : "");
  }

  function setOnline(on, reason) {
    online = on;
    setBadge(on ? "online" : "offline", on ? "online" : "offline");
    var m = $("offline");
    if (on) m.classList.add("hidden");
    else {
      m.classList.remove("hidden");
      setText("offline-reason", reason || "no signal");
    }
    draw();
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }
  function fmtTime(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function thumb(e) {
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
    p.textContent =
      (e.people === 1 ? "1 person" : e.people + " people") +
      (e.reason === "auto" ? "" : " \u00b7 " + e.reason);
    meta.appendChild(t);
    meta.appendChild(p);
    a.appendChild(im);
    a.appendChild(meta);
    return a;
  }

  function addEvent(e) {
    var list = $("recent");
    var empty = $("no-events");
    if (empty) empty.remove();
    list.insertBefore(thumb(e), list.firstChild);
    while (list.children.length > maxThumbs) list.removeChild(list.lastChild);
    var total = $("events-total");
    if (total) total.textContent = String((parseInt(total.textContent, 10) || 0) + 1);
  }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent("hazardcam:" + name, { detail: detail }));
  }

  // ---- messages -------------------------------------------------------------------------------

  /** What the overlay shows of a frame: its boxes and tracks (most frames repeat them). */
  var drawnKey = "";
  function boxesKey(f) {
    return JSON.stringify(f.det) + (f.tracks ? JSON.stringify(f.tracks) : "");
  }

  function onFrame(f) {
    var key = boxesKey(f);
    var changed = key !== drawnKey || !online;
    drawnKey = key;
    last = f;
    setText("people", String(f.people));
    setText("fps", fmt1(f.fps));
    setText("detect-fps", fmt1(f.detect_fps));
    setText("infer-ms", fmt1(f.infer_ms));
    if (!online) setOnline(true, null);
    fit(changed);
    emit("frame", f);
  }

  function onStatus(s) {
    setOnline(!!s.online, s.offline_reason);
    setText("backend", s.backend || "none");
    if (typeof s.events_total === "number") setText("events-total", String(s.events_total));
    if (typeof s.clients === "number") setText("clients", String(s.clients + (s.ws_clients || 0)));
    if (!s.online) {
      setText("people", "0");
      setText("fps", "0.0");
      setText("detect-fps", "0.0");
    }
    emit("status", s);
  }

  function onText(text) {
    var m;
    try {
      m = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (m.type === "frame") onFrame(m.data);
    else if (m.type === "status") onStatus(m.data);
    else if (m.type === "saved") {
      addEvent(m.data);
      emit("saved", m.data);
    }
  }

  // ---- the picture: newest JPEG wins, one object URL alive at a time --------------------------

  var shownUrl = null,
    loadingUrl = null,
    nextBlob = null;

  function showJpeg(blob) {
    if (loadingUrl) {
      nextBlob = blob; // the one waiting is dropped: only the newest is decoded next
      return;
    }
    loadingUrl = URL.createObjectURL(blob);
    img.src = loadingUrl;
  }

  function pictureSettled() {
    if (!loadingUrl) return;
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = loadingUrl;
    loadingUrl = null;
    if (nextBlob) {
      var b = nextBlob;
      nextBlob = null;
      showJpeg(b);
    }
  }

  // ---- the socket -----------------------------------------------------------------------------

  var ws = null,
    retryMs = 0,
    retryTimer = null,
    lastMsgAt = 0,
    paused = false;

  function isHidden() {
    return document.visibilityState === "hidden";
  }

  function liveUrl() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/api/live" + (isHidden() ? "?hidden=1" : "");
  }

  function sendVisibility() {
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ type: "visibility", visible: !isHidden() }));
    }
  }

  function onMessage(ev) {
    lastMsgAt = Date.now();
    if (typeof ev.data === "string") onText(ev.data);
    else showJpeg(ev.data);
  }

  function connect() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    if (ws || paused) return;
    var s;
    try {
      s = new WebSocket(liveUrl());
    } catch (e) {
      return retryLater();
    }
    ws = s;
    s.binaryType = "blob";
    s.onopen = function () {
      retryMs = 0;
      lastMsgAt = Date.now();
      sendVisibility(); // it may have changed while connecting
    };
    s.onmessage = function (ev) {
      if (ws === s) onMessage(ev);
    };
    s.onclose = function () {
      if (ws === s) dropSocket(true);
    };
  }

  /** Forgets the socket (closing it); with `retry`, says so and tries again later. */
  function dropSocket(retry) {
    var s = ws;
    ws = null;
    if (s) {
      s.onclose = s.onmessage = s.onopen = null;
      try {
        s.close(1000);
      } catch (e) {
        // already closed
      }
    }
    if (!retry) return;
    setBadge("reconnecting", "");
    retryLater();
  }

  function retryLater() {
    if (retryTimer || paused) return;
    retryMs = retryMs ? Math.min(BACKOFF_MAX_MS, retryMs * 2) : BACKOFF_MIN_MS;
    retryTimer = setTimeout(connect, retryMs * (0.5 + Math.random() * 0.5));
  }

  /** Right now instead of after the backoff (the network came back, the tab was shown). */
  function reconnectNow() {
    retryMs = 0;
    if (!ws) connect();
  }

  function watchdog() {
    // The server sends at least its status every 5 s: silence means a dead connection.
    if (ws && ws.readyState === 1 && Date.now() - lastMsgAt > SILENT_MS) dropSocket(true);
  }

  // ---- start ----------------------------------------------------------------------------------

  var refit = function () {
    fit(false);
  };
  if (window.ResizeObserver) new ResizeObserver(refit).observe(img);
  window.addEventListener("resize", refit);
  img.addEventListener("load", function () {
    pictureSettled();
    fit(false);
  });
  img.addEventListener("error", pictureSettled);
  fit(true);

  if (!window.WebSocket) {
    img.src = "/video?raw=1"; // the picture at least; no live state without WebSockets
    return;
  }
  document.addEventListener("visibilitychange", function () {
    sendVisibility();
    if (!isHidden()) reconnectNow();
  });
  window.addEventListener("online", reconnectNow);
  window.addEventListener("pagehide", function () {
    paused = true;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    dropSocket(false);
  });
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    paused = false;
    reconnectNow();
  });
  setInterval(watchdog, 2000);
  connect();
})();
