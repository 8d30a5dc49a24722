// The visit page's clip player (issue 12), over the markup of src/http/pages/clip-section.tsx,
// the pure logic of player-core.js (hazardcamClipCore) and the fetching of player-load.js
// (hazardcamClipLoader); zones are painted by the zone editor's painter (zones-draw.js). Served
// inside a <script> after the markup.
//
// - Frames (fetched by byte ranges, decoded by the loader) are drawn on the canvas at their
//   capture times (the Clock), with the overlay's track boxes and ids, the detections, and the
//   zones of that time. While a frame is not there yet the clock waits on it (buffering).
// - The first frame is drawn as soon as the index's first lines and its bytes arrived: nothing
//   waits for the whole index or the whole .mjpeg. Playing starts by itself.
// - Controls: play/pause, scrub bar (one step per frame), previous/next frame, 0.5×/1×/2×/4×,
//   boxes and zones on or off; keys: ←/→ a frame, space or k play/pause, Home/End; a tap or
//   click on the picture plays/pauses.
// - For tests and the curious, the root's data-* say what is on the canvas: data-state
//   (loading, playing, paused, buffering, ended, waiting, error), data-frame (global frame
//   number), data-t (its capture time), data-time (ms from the first frame), data-boxes (boxes
//   drawn), data-zones (zones, masks and lines drawn), data-speed, data-first-frame-ms.
// - Parts still being recorded are not served yet: the page says so; the list is polled and the
//   parts that finish join the timeline (or the page reloads when nothing was playable yet).
(function () {
  "use strict";
  const root = document.getElementById("clip-player");
  const core = window.hazardcamClipCore;
  if (!root || !core) return;
  const $ = (sel) => root.querySelector(sel);
  const cv = $("canvas");
  const msg = $(".clip-msg");
  const scrub = $("#clip-scrub");
  const timeEl = $("#clip-time");
  const playBtn = $("#clip-play");
  const ctx = cv && cv.getContext("2d");
  const say = (text) => {
    if (!msg) return;
    msg.textContent = text || "";
    msg.classList.toggle("hidden", !text);
  };
  const POLL_MS = 5000;
  const STALL_NOTE_MS = 400;

  const clipsUrl = root.getAttribute("data-clips-url");
  let list = [];
  try {
    list = JSON.parse(root.getAttribute("data-clips") || "[]");
  } catch (e) {
    list = [];
  }
  const st = {
    parts: [],
    pos: { p: 0, i: 0 },
    clock: new core.Clock(),
    load: null, // hazardcamClipLoader
    shown: null, // { bm, pos }
    waitingSince: 0,
    errors: 0,
    dragging: false,
    boxes: true,
    zones: true,
    raf: 0,
    firstShown: false,
    wantPlay: true,
    ended: false, // played to the last frame (until played again or moved)
  };

  function makePart(c) {
    return {
      file: c.file,
      url: c.url,
      indexUrl: c.index_url,
      start: c.start,
      end: c.end,
      count: c.frames,
      bytes: c.bytes,
      frames: [],
      complete: false,
      loading: null,
    };
  }

  function fail(text) {
    st.errors++;
    root.setAttribute("data-state", "error");
    say(text + " The download link below still works.");
  }

  // The frame wanted now: the clock's while playing, else the one chosen.
  function wanted(now) {
    if (!st.clock.playing) return st.pos;
    return core.locate(st.parts, st.clock.now(now));
  }

  function tick(now) {
    st.raf = 0;
    if (st.parts.length === 0) return;
    const part0 = st.parts[0];
    if (part0.frames.length === 0) {
      st.load.index(0);
      return;
    }
    if (!st.firstShown && st.clock.t === 0) st.clock.set(part0.frames[0].t, now);
    const pos = wanted(now);
    const part = st.parts[pos.p];
    if (part.frames.length <= pos.i) {
      st.load.index(pos.p);
      return stall(now, pos);
    }
    st.pos = pos;
    st.load.prepare(pos);
    const bm = st.load.bitmap(pos);
    if (!bm) return stall(now, pos);
    st.waitingSince = 0;
    if (!st.shown || st.shown.bm !== bm) show(pos, bm);
    if (st.clock.playing && core.isLast(st.parts, pos)) {
      st.clock.pause(now);
      st.clock.set(core.timeOf(st.parts, pos), now);
      st.ended = true;
      setState("ended");
    } else if (st.clock.playing) {
      setState("playing");
      wake();
    } else {
      setState(st.ended ? "ended" : "paused");
    }
    if (!st.firstShown) {
      st.firstShown = true;
      root.setAttribute("data-first-frame-ms", String(Math.round(performance.now())));
      if (st.wantPlay) play();
    }
  }

  // The frame is not there yet: the clock waits on it (buffering), the loop runs on.
  function stall(now, pos) {
    const t = core.timeOf(st.parts, pos);
    if (st.clock.playing && t !== null) st.clock.set(t, now);
    if (!st.waitingSince) st.waitingSince = now;
    if (now - st.waitingSince > STALL_NOTE_MS && st.errors === 0) {
      setState(st.firstShown ? "buffering" : "loading");
    }
    if (st.errors === 0) wake();
  }

  function setState(s) {
    if (root.getAttribute("data-state") === s) return;
    root.setAttribute("data-state", s);
    playBtn.textContent = s === "playing" || s === "buffering" ? "❚❚ Pause" : "▶ Play";
    playBtn.setAttribute("aria-label", s === "playing" ? "Pause" : "Play");
    say(s === "buffering" || s === "loading" ? "Loading…" : "");
  }

  function wake() {
    if (!st.raf) st.raf = requestAnimationFrame(tick);
  }

  // Something arrived (index lines, bytes, a decoded frame): on at once, not at the next frame.
  function kick() {
    if (st.raf) cancelAnimationFrame(st.raf);
    st.raf = 0;
    updateScrub();
    tick(performance.now());
  }

  function show(pos, bm) {
    st.shown = { bm: bm, pos: pos };
    st.load.keep(bm);
    draw();
  }

  function draw() {
    const sh = st.shown;
    if (!sh) return;
    const bm = sh.bm;
    if (cv.width !== bm.width || cv.height !== bm.height) {
      cv.width = bm.width;
      cv.height = bm.height;
    }
    const W = cv.width;
    const H = cv.height;
    // Line widths and labels in screen pixels, however large the picture is shown.
    const k = W / Math.max(1, cv.clientWidth || W);
    ctx.drawImage(bm, 0, 0);
    const f = st.parts[sh.pos.p].frames[sh.pos.i];
    const zonesDrawn = st.zones ? drawZones(f.zs, W, H, k) : [];
    const boxes = st.boxes ? drawBoxes(core.boxesOf(f.d), W, H, k) : 0;
    const g = core.toGlobal(st.parts, sh.pos);
    const first = st.parts[0].frames[0].t;
    root.setAttribute("data-frame", String(g));
    root.setAttribute("data-t", String(f.t));
    root.setAttribute("data-time", String(f.t - first));
    root.setAttribute("data-boxes", String(boxes));
    root.setAttribute("data-zones", zonesDrawn.join(","));
    if (!st.dragging) scrub.value = String(g);
    const last = st.parts[st.parts.length - 1];
    const endT =
      last.complete && last.frames.length ? last.frames[last.frames.length - 1].t : last.end;
    const clock = new Date(f.t).toLocaleTimeString([], { hour12: false });
    const partNote = st.parts.length > 1 ? " · part " + (sh.pos.p + 1) + "/" + st.parts.length : "";
    timeEl.textContent =
      core.fmtClip(f.t - first) + " / " + core.fmtClip(endT - first) + " · " + clock + partNote;
  }

  function drawZones(z, W, H, k) {
    if (!z || !window.hazardcamZonesPainter) return [];
    const paint = window.hazardcamZonesPainter(ctx, W, H, k);
    ctx.font = Math.round(13 * k) + "px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    (z.masks || []).forEach((m) => paint.masks(m, false));
    (z.zones || []).forEach((zone) => paint.zones(zone, false));
    (z.lines || []).forEach((l) => paint.lines(l, false, null));
    return core.zoneNames(z);
  }

  function drawBoxes(list, W, H, k) {
    ctx.font = Math.round(13 * k) + "px system-ui, sans-serif";
    ctx.textBaseline = "top";
    list.forEach((b) => {
      const [y0, x0, y1, x1] = b.box;
      const x = x0 * W;
      const y = y0 * H;
      const track = b.kind === "track";
      const color = track ? "#22c55e" : "#f59e0b";
      ctx.strokeStyle = color;
      ctx.lineWidth = (track ? 3 : 1.5) * k;
      ctx.setLineDash(track ? [] : [5 * k, 4 * k]);
      ctx.strokeRect(x, y, (x1 - x0) * W, (y1 - y0) * H);
      ctx.setLineDash([]);
      const th = 17 * k;
      const tw = ctx.measureText(b.label).width + 8 * k;
      // Track ids above the box, detections inside it: both stay readable.
      const ty = track ? (y - th < 0 ? y : y - th) : Math.min(y + 2 * k, H - th);
      const tx = track ? x : Math.max(0, x + (x1 - x0) * W - tw);
      ctx.fillStyle = color;
      ctx.fillRect(tx, ty, tw, th);
      ctx.fillStyle = "#000";
      ctx.fillText(b.label, tx + 4 * k, ty + 2 * k);
    });
    return list.length;
  }

  function play() {
    const now = performance.now();
    st.ended = false;
    if (core.isLast(st.parts, st.pos)) {
      // At the end: from the start again.
      st.pos = { p: 0, i: 0 };
      st.clock.set(st.parts[0].frames[0].t, now);
    }
    st.clock.play(now);
    setState("playing");
    wake();
  }

  function pause() {
    st.wantPlay = false;
    st.clock.pause(performance.now());
    const t = core.timeOf(st.parts, st.shown ? st.shown.pos : st.pos);
    if (t !== null) st.clock.set(t, performance.now());
    if (st.shown) st.pos = st.shown.pos;
    setState("paused");
    wake();
  }

  function toggle() {
    if (st.clock.playing) pause();
    else play();
  }

  // Shows global frame g (paused, or playing on from it).
  function seek(g) {
    const pos = core.fromGlobal(st.parts, g);
    st.ended = false;
    st.pos = pos;
    const go = () => {
      const t = core.timeOf(st.parts, pos);
      if (t === null) return;
      st.clock.set(t, performance.now());
      wake();
    };
    if (st.parts[pos.p].frames.length > pos.i) go();
    else st.load.index(pos.p).then(go);
  }

  function stepBy(delta) {
    if (!st.firstShown) return;
    // Paused, st.pos is the frame asked for last (shown or on its way): steps add up.
    if (st.clock.playing) pause();
    seek(core.toGlobal(st.parts, st.pos) + delta);
  }

  function updateScrub() {
    scrub.max = String(Math.max(0, core.total(st.parts) - 1));
  }

  function setSpeed(speed) {
    st.clock.setSpeed(speed, performance.now());
    if (st.load) st.load.speed = speed;
    root.setAttribute("data-speed", String(speed));
    root.querySelectorAll("[data-speed-to]").forEach((b) => {
      b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-speed-to")) === speed));
    });
    wake();
  }

  function bind() {
    playBtn.addEventListener("click", toggle);
    cv.addEventListener("click", toggle);
    $("#clip-prev").addEventListener("click", () => stepBy(-1));
    $("#clip-next").addEventListener("click", () => stepBy(1));
    root.querySelectorAll("[data-speed-to]").forEach((b) => {
      b.addEventListener("click", () => setSpeed(Number(b.getAttribute("data-speed-to"))));
    });
    scrub.addEventListener("input", () => {
      st.dragging = true;
      seek(Number(scrub.value));
    });
    scrub.addEventListener("change", () => {
      st.dragging = false;
      seek(Number(scrub.value));
    });
    const toggleLayer = (id, name) => {
      const box = $(id);
      box.addEventListener("change", () => {
        st[name] = box.checked;
        draw();
      });
    };
    toggleLayer("#clip-show-boxes", "boxes");
    toggleLayer("#clip-show-zones", "zones");
    document.addEventListener("keydown", onKey);
    window.addEventListener("resize", draw);
  }

  function onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || !st.firstShown) return;
    const t = e.target;
    const tag = t && t.tagName;
    // The scrub bar steps by itself; text fields and other controls keep their keys.
    if (t === scrub || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      stepBy(e.key === "ArrowRight" ? 1 : -1);
    } else if ((e.key === " " && tag !== "BUTTON" && tag !== "A") || e.key === "k") {
      toggle();
    } else if (e.key === "Home" || e.key === "End") {
      if (st.clock.playing) pause();
      seek(e.key === "Home" ? 0 : core.total(st.parts) - 1);
    } else {
      return;
    }
    e.preventDefault();
  }

  // While a part is being recorded: the parts that finish join the timeline.
  function poll() {
    if (!clipsUrl || !list.some((c) => c.status === "recording")) return;
    setTimeout(async () => {
      try {
        const res = await fetch(clipsUrl, { headers: { accept: "application/json" } });
        if (res.ok) merge(await res.json());
      } catch (e) {
        // Offline for a moment: the next poll tries again.
      }
      poll();
    }, POLL_MS);
  }

  function merge(fresh) {
    const had = new Set(st.parts.map((p) => p.file));
    const added = fresh.filter((c) => c.status !== "recording" && !had.has(c.file));
    list = fresh;
    if (added.length === 0) return;
    if (st.parts.length === 0) return location.reload();
    added.forEach((c) => st.parts.push(makePart(c)));
    const links = document.getElementById("clip-downloads");
    added.forEach((c) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = c.url;
      a.download = c.file;
      a.textContent = c.file;
      li.appendChild(a);
      if (links) links.appendChild(li);
    });
    if (!list.some((c) => c.status === "recording")) {
      const note = document.getElementById("clip-recording");
      if (note) note.classList.add("hidden");
    }
    updateScrub();
    wake();
  }

  st.parts = list.filter((c) => c.status !== "recording").map(makePart);
  if (st.parts.length === 0) {
    root.setAttribute("data-state", "waiting");
    poll();
    return;
  }
  if (!ctx || !window.fetch || !window.createImageBitmap || !window.TextDecoder) {
    root.setAttribute("data-state", "error");
    say("This browser cannot play the clip here: use the download link or the replay.");
    return;
  }
  bind();
  updateScrub();
  setSpeed(1);
  setState("loading");
  st.load = window.hazardcamClipLoader(st.parts, core, { changed: kick, failed: fail });
  st.load.speed = st.clock.speed;
  st.load.start().then(() => {
    for (let p = 1; p < st.parts.length; p++) st.load.index(p);
  });
  wake();
  poll();
})();
