// What the clip player (player.js) has to fetch and decode: each part's index, read as it
// streams in; the frames by their byte ranges (Range: bytes=o-…, a few consecutive frames per
// request, a few ahead of the playhead); JPEG decoding with createImageBitmap; and letting go of
// what is far from the playhead. Served inside a <script> with player-core.js; defines one global.
//
//   const load = hazardcamClipLoader(parts, core, { changed, failed });
//   load.start()        the first part's index, and at once a guess of its first frames' bytes
//                       (the first frame starts at byte 0: no need to wait for the index)
//   load.index(p)       a part's index (a promise; once per part)
//   load.prepare(pos)   fetch and decode around the frame wanted now (call it again whenever)
//   load.bitmap(pos)    the decoded frame, or undefined
//   load.keep(bm)       the bitmap on the canvas (never let go of)
//   load.speed = 2      fetch and decode further ahead when playing fast
// hooks.changed() after anything arrived (frames of an index, bytes, a decoded frame);
// hooks.failed(text) when the index or the frames cannot be read.
var hazardcamClipLoader = function (parts, core, hooks) {
  "use strict";
  const AHEAD_FRAMES = 8; // fetched ahead of the playhead at 1×
  const BATCH_FRAMES = 6; // frames per Range request
  const BATCH_BYTES = 512 * 1024;
  const MAX_REQUESTS = 2;
  const DECODE_AHEAD = 3; // decoded ahead at 1×
  const MAX_DECODES = 3;
  const KEEP_JPEGS = 400; // fetched JPEGs kept (about 8 MB of 20 KB frames)
  // The first request: enough for the first frames at the clip's average frame size.
  const GUESS_MIN_BYTES = 64 * 1024;
  const GUESS_MAX_BYTES = 1024 * 1024;

  const jpegs = new Map(); // "p:i" → Blob
  const fetching = new Set();
  const bitmaps = new Map(); // "p:i" → ImageBitmap
  const decoding = new Set();
  let requests = 0;
  let kept = null;
  // The first part's first bytes, fetched before its index is known: { bytes, buf, pending }.
  let guess = null;
  const key = (p, i) => p + ":" + i;
  const self = { speed: 1 };

  function fail(what, e) {
    hooks.failed("Cannot read the clip's " + what + " (" + (e && e.message) + ").");
  }

  // Reads a part's index as it streams in; hooks.changed() as frames become known.
  self.index = function (p) {
    const part = parts[p];
    if (part.loading) return part.loading;
    part.loading = (async () => {
      const res = await fetch(part.indexUrl);
      if (!res.ok) throw new Error("HTTP " + res.status);
      const reader = new core.IndexReader();
      const dec = new TextDecoder();
      const got = (text) => {
        if (reader.push(text) === 0) return;
        part.frames = reader.frames;
        if (p === 0) fromGuess();
        hooks.changed();
      };
      if (res.body && res.body.getReader) {
        const body = res.body.getReader();
        for (let r = await body.read(); !r.done; r = await body.read()) {
          got(dec.decode(r.value, { stream: true }));
        }
        got(dec.decode());
      } else {
        got(await res.text());
      }
      part.frames = reader.frames;
      part.count = reader.frames.length;
      part.complete = true;
      if (p === 0) fromGuess();
      if (guess && !guess.pending && p === 0) guess = null;
      hooks.changed();
    })().catch((e) => fail("index", e));
    return part.loading;
  };

  self.start = function () {
    const first = parts[0];
    const avg = first.count > 0 ? first.bytes / first.count : 0;
    const bytes = Math.min(GUESS_MAX_BYTES, Math.max(GUESS_MIN_BYTES, Math.round(3 * avg)));
    guess = { bytes: bytes, buf: null, pending: true };
    fetch(first.url, { headers: { Range: "bytes=0-" + (bytes - 1) } })
      .then((res) => (res.status === 206 || res.status === 200 ? res.arrayBuffer() : null))
      .catch(() => null)
      .then((buf) => {
        guess.buf = buf;
        guess.pending = false;
        fromGuess();
        if (first.complete) guess = null;
        hooks.changed();
      });
    return self.index(0);
  };

  // The frames of the first part that the guessed bytes hold whole.
  function fromGuess() {
    if (!guess || !guess.buf) return;
    const frames = parts[0].frames;
    for (let i = 0; i < frames.length && frames[i].o + frames[i].n <= guess.buf.byteLength; i++) {
      const k = key(0, i);
      if (jpegs.has(k)) continue;
      const bytes = new Uint8Array(guess.buf, frames[i].o, frames[i].n);
      jpegs.set(k, new Blob([bytes], { type: "image/jpeg" }));
    }
  }

  // Had, or on its way (fetching, or in the guessed bytes still coming).
  function has(p, i) {
    if (jpegs.has(key(p, i)) || fetching.has(key(p, i))) return true;
    const f = parts[p].frames[i];
    return !!(p === 0 && guess && guess.pending && f && f.o + f.n <= guess.bytes);
  }

  function fetchAhead(p, i, ahead) {
    while (requests < MAX_REQUESTS) {
      const b = core.nextBatch(
        parts[p].frames,
        i,
        i + ahead,
        (k) => has(p, k),
        BATCH_FRAMES,
        BATCH_BYTES,
      );
      if (!b) return;
      fetchBatch(p, b);
    }
  }

  function fetchBatch(p, b) {
    const part = parts[p];
    const keys = [];
    for (let k = b.a; k <= b.b; k++) keys.push(key(p, k));
    keys.forEach((k) => fetching.add(k));
    requests++;
    fetch(part.url, { headers: { Range: b.range } })
      .then(async (res) => {
        if (res.status !== 206 && res.status !== 200) throw new Error("HTTP " + res.status);
        const buf = await res.arrayBuffer();
        const base = res.status === 206 ? b.start : 0;
        for (const s of core.slices(part.frames, b.a, b.b, base)) {
          const bytes = new Uint8Array(buf, s.start, s.end - s.start);
          jpegs.set(key(p, s.i), new Blob([bytes], { type: "image/jpeg" }));
        }
      })
      .catch((e) => fail("frames", e))
      .finally(() => {
        keys.forEach((k) => fetching.delete(k));
        requests--;
        hooks.changed();
      });
  }

  function decode(pos) {
    const k = key(pos.p, pos.i);
    const blob = jpegs.get(k);
    if (!blob || bitmaps.has(k) || decoding.has(k) || decoding.size >= MAX_DECODES) return;
    decoding.add(k);
    createImageBitmap(blob)
      .then((bm) => bitmaps.set(k, bm))
      .catch(() => jpegs.delete(k)) // fetched again next time
      .finally(() => {
        decoding.delete(k);
        hooks.changed();
      });
  }

  // Fetching and decoding from the frame wanted now on; what is far from it is let go.
  self.prepare = function (pos) {
    if (!parts[pos.p] || parts[pos.p].frames.length <= pos.i) return;
    const fast = Math.max(1, self.speed);
    const ahead = Math.ceil(AHEAD_FRAMES * fast);
    fetchAhead(pos.p, pos.i, ahead);
    if (pos.i + ahead >= core.partCount(parts[pos.p]) && pos.p + 1 < parts.length) {
      self.index(pos.p + 1);
      if (parts[pos.p + 1].frames.length > 0) fetchAhead(pos.p + 1, 0, ahead);
    }
    const g = core.toGlobal(parts, pos);
    const decodeAhead = Math.ceil(DECODE_AHEAD * fast);
    for (let d = 0; d <= decodeAhead; d++) decode(core.fromGlobal(parts, g + d));
    letGo(g, decodeAhead);
  };

  function distance(k, g) {
    const [p, i] = k.split(":").map(Number);
    return core.toGlobal(parts, { p: p, i: i }) - g;
  }

  function letGo(g, decodeAhead) {
    for (const [k, bm] of bitmaps) {
      const off = distance(k, g);
      if ((off < -2 || off > decodeAhead + 2) && bm !== kept) {
        bm.close();
        bitmaps.delete(k);
      }
    }
    if (jpegs.size <= KEEP_JPEGS) return;
    for (const k of jpegs.keys()) {
      if (Math.abs(distance(k, g)) > KEEP_JPEGS / 3) jpegs.delete(k);
    }
  }

  self.bitmap = (pos) => bitmaps.get(key(pos.p, pos.i));
  self.keep = (bm) => {
    kept = bm;
  };
  return self;
};
