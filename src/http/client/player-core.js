// The clip player's pure logic, used by src/http/client/player.js: the clip index read as it
// arrives, where a time or a frame is in the visit's consecutive clips ("parts"), the playback
// clock, which byte range to fetch next, and what to draw of a frame's overlay. No DOM, no I/O:
// unit-tested by test/unit/player-core.test.ts. Served inside a <script>; defines one global.
//
// Shapes:
//   frame  {o, n, t, s, d, z?, zs}: the index record (src/clips/format.ts: byte offset and
//          length in the .mjpeg, capture time ms since the epoch, seq, overlay, zones when they
//          changed) plus zs, the zones in force at that frame (the last z so far, or null)
//   part   {start, end, count, frames: frame[], complete}: one clip; start/end/count are the
//          server's (ms, frames) until its index is read, complete once the index was read to
//          its end (then count is frames.length)
//   pos    {p, i}: frame i of part p; "global" frame numbers count across the parts
var hazardcamClipCore = (function () {
  "use strict";

  var INDEX_VERSION = 1;

  function isObj(v) {
    return typeof v === "object" && v !== null && !Array.isArray(v);
  }

  // Reads a clip index given in pieces (push), as parseIndex does on the server: a header, frames
  // contiguous from byte 0, a trailer. The first torn, unparsable or out-of-place line ends it
  // (what a crash leaves); a last line without "\n" is not a line yet.
  function IndexReader() {
    this.header = null;
    this.frames = [];
    this.trailer = null;
    // No more lines are taken: the trailer was read, or a bad line.
    this.done = false;
    this.rest = "";
    this.offset = 0;
    this.zones = null;
  }

  // Returns how many frames the text added.
  IndexReader.prototype.push = function (text) {
    if (this.done) return 0;
    var buf = this.rest + text;
    var start = 0;
    var before = this.frames.length;
    while (!this.done) {
      var nl = buf.indexOf("\n", start);
      if (nl < 0) break;
      this.line(buf.slice(start, nl));
      start = nl + 1;
    }
    this.rest = this.done ? "" : buf.slice(start);
    return this.frames.length - before;
  };

  IndexReader.prototype.line = function (text) {
    var v;
    try {
      v = JSON.parse(text);
    } catch (e) {
      this.done = true;
      return;
    }
    if (!isObj(v)) {
      this.done = true;
    } else if (this.header === null) {
      if (v.v === INDEX_VERSION && Number.isFinite(v.startMs)) this.header = v;
      else this.done = true;
    } else if (v.o === this.offset && Number.isInteger(v.n) && v.n >= 4 && Number.isFinite(v.t)) {
      if (v.z !== undefined) this.zones = v.z;
      v.zs = this.zones;
      this.frames.push(v);
      this.offset += v.n;
    } else {
      if ("end" in v) this.trailer = v;
      this.done = true;
    }
  };

  function parseIndexText(text) {
    var r = new IndexReader();
    r.push(text);
    return r;
  }

  // Frames a part has, or is known to have.
  function partCount(part) {
    return part.complete ? part.frames.length : Math.max(part.count, part.frames.length);
  }

  function total(parts) {
    var n = 0;
    for (var k = 0; k < parts.length; k++) n += partCount(parts[k]);
    return n;
  }

  function toGlobal(parts, pos) {
    var g = 0;
    for (var k = 0; k < pos.p && k < parts.length; k++) g += partCount(parts[k]);
    return g + pos.i;
  }

  // The frame with global number g, clamped to the timeline.
  function fromGlobal(parts, g) {
    var left = Math.max(0, Math.floor(g));
    for (var p = 0; p < parts.length; p++) {
      var n = partCount(parts[p]);
      if (left < n) return { p: p, i: left };
      if (p === parts.length - 1) return { p: p, i: Math.max(0, n - 1) };
      left -= n;
    }
    return { p: 0, i: 0 };
  }

  // The last frame shot at or before t (a binary search over capture times), 0 before the first.
  function frameAt(frames, t) {
    var lo = 0;
    var hi = frames.length - 1;
    if (hi < 0 || t < frames[0].t) return 0;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (frames[mid].t <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // When a part starts: its first frame's time once known, else the server's.
  function partStart(part) {
    return part.frames.length > 0 ? part.frames[0].t : part.start;
  }

  // Where time t (ms since the epoch) is: the last part started by then, its frame at t.
  function locate(parts, t) {
    var p = 0;
    for (var k = 1; k < parts.length; k++) if (partStart(parts[k]) <= t) p = k;
    return { p: p, i: frameAt(parts[p].frames, t) };
  }

  // The frame `delta` frames away (clamped), across parts.
  function step(parts, pos, delta) {
    return fromGlobal(parts, toGlobal(parts, pos) + delta);
  }

  // Capture time of a frame, or null while its part's index has not reached it.
  function timeOf(parts, pos) {
    var part = parts[pos.p];
    var f = part && part.frames[pos.i];
    return f ? f.t : null;
  }

  // The last frame of the timeline, once the last part's index is read.
  function isLast(parts, pos) {
    var last = parts[parts.length - 1];
    return pos.p === parts.length - 1 && last.complete && pos.i >= last.frames.length - 1;
  }

  // Playback time, ms since the epoch of the clip's frames: `t` at wall time `wall`
  // (performance.now() ms), moving at `speed` while playing.
  function Clock() {
    this.playing = false;
    this.speed = 1;
    this.t = 0;
    this.wall = 0;
  }
  Clock.prototype.now = function (wall) {
    return this.playing ? this.t + (wall - this.wall) * this.speed : this.t;
  };
  Clock.prototype.set = function (t, wall) {
    this.t = t;
    this.wall = wall;
  };
  Clock.prototype.play = function (wall) {
    this.wall = wall;
    this.playing = true;
  };
  Clock.prototype.pause = function (wall) {
    this.t = this.now(wall);
    this.playing = false;
  };
  Clock.prototype.setSpeed = function (speed, wall) {
    this.t = this.now(wall);
    this.wall = wall;
    this.speed = speed;
  };

  // The next byte range to fetch of one part: from the first frame in [from, to] that `has` says
  // is neither fetched nor being fetched, the consecutive frames after it that are not had
  // either, at most maxFrames of them and (beyond the first) maxBytes. Null when all are had.
  function nextBatch(frames, from, to, has, maxFrames, maxBytes) {
    var last = Math.min(to, frames.length - 1);
    var a = from;
    while (a <= last && has(a)) a++;
    if (a > last) return null;
    var b = a;
    var bytes = frames[a].n;
    while (
      b + 1 <= last &&
      b + 1 - a < maxFrames &&
      !has(b + 1) &&
      bytes + frames[b + 1].n <= maxBytes
    ) {
      b++;
      bytes += frames[b].n;
    }
    var end = frames[b].o + frames[b].n - 1;
    return { a: a, b: b, start: frames[a].o, end: end, range: "bytes=" + frames[a].o + "-" + end };
  }

  // Where each frame of a fetched batch is in its body: the body starts at byte `base` of the
  // .mjpeg (the range's start for a 206, 0 for a whole-file 200).
  function slices(frames, a, b, base) {
    var out = [];
    for (var i = a; i <= b; i++) {
      var start = frames[i].o - base;
      out.push({ i: i, start: start, end: start + frames[i].n });
    }
    return out;
  }

  // What to draw of a frame's overlay (src/pipeline/clips-api.ts ClipOverlay): the confirmed
  // tracks with their ids, and the detections. box: [ymin, xmin, ymax, xmax] 0..1.
  function boxesOf(d) {
    var out = [];
    if (!isObj(d)) return out;
    var tracks = Array.isArray(d.tracks) ? d.tracks : [];
    var det = Array.isArray(d.det) ? d.det : [];
    tracks.forEach(function (t) {
      if (Array.isArray(t.box)) out.push({ kind: "track", box: t.box, label: "#" + t.id });
    });
    det.forEach(function (x) {
      if (!Array.isArray(x.box)) return;
      var label = (x.label || "?") + " " + Math.round((x.score || 0) * 100) + "%";
      out.push({ kind: "det", box: x.box, label: label });
    });
    return out;
  }

  // The names of the zones, masks and lines of a zones config, for the data-zones attribute.
  function zoneNames(z) {
    if (!isObj(z)) return [];
    var out = [];
    ["zones", "masks", "lines"].forEach(function (k) {
      (Array.isArray(z[k]) ? z[k] : []).forEach(function (item) {
        out.push(item.name);
      });
    });
    return out;
  }

  // "1:05.3": minutes, seconds and tenths of a duration in ms.
  function fmtClip(ms) {
    var tenths = Math.max(0, Math.floor(ms / 100));
    var s = Math.floor(tenths / 10);
    var sec = String(s % 60);
    return Math.floor(s / 60) + ":" + (sec.length < 2 ? "0" + sec : sec) + "." + (tenths % 10);
  }

  return {
    SPEEDS: [0.5, 1, 2, 4],
    IndexReader: IndexReader,
    parseIndexText: parseIndexText,
    partCount: partCount,
    total: total,
    toGlobal: toGlobal,
    fromGlobal: fromGlobal,
    frameAt: frameAt,
    partStart: partStart,
    locate: locate,
    step: step,
    timeOf: timeOf,
    isLast: isLast,
    Clock: Clock,
    nextBatch: nextBatch,
    slices: slices,
    boxesOf: boxesOf,
    zoneNames: zoneNames,
    fmtClip: fmtClip,
  };
})();
