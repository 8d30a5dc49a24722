/**
 * Clip file names and the clip index format, shared by the writer, recovery, the store and (later)
 * the HTTP routes and the browser player.
 *
 * Files, in `<outdir>/clips/`:
 *   <base>.mjpeg   the frames: the camera's JPEGs concatenated, nothing between them
 *   <base>.jsonl   the index: one JSON object per line (UTF-8, "\n" after each)
 * While recording, both carry the prefix `.part-` (hidden, and never matched by SAFE_CLIP_NAME).
 *
 * <base> = `YYYYmmdd_HHMMSS_clip` from the visit's start in local time (as the event images,
 * src/events/names.ts), then `_pNNN` for the consecutive parts 2.. of a capped visit, then `_N`
 * (2..) when the name is taken: names sort by time and need no URL escaping.
 *
 * Index lines, in order:
 *   header  {"v":1,"visitId":7,"visitStartMs":…,"part":1,"startMs":…}       (first line, once)
 *   frame   {"o":0,"n":51234,"t":1714557600123,"s":42,"d":<overlay>,"z":<zones>} (one per frame)
 *   trailer {"end":"complete"|"recovered","frames":N,"bytes":B,"endMs":…,"reason":"post-roll"}
 * o = byte offset of the frame's SOI in the .mjpeg, n = its byte length (SOI..EOI), t = capture
 * time ms since epoch, s = capture seq, d = the frame's overlay (detections, track boxes: opaque),
 * z = the zones file in force from this frame on (ZonesConfig: opaque here), only on a clip's first
 * frame and on the frames where it changed; absent in indexes written before the player (issue
 * 12), and without the scene engine. Readers take the last z at or before a frame. Extra keys
 * never break a reader: parseIndex (and so recovery) ignores them, old readers skip z too.
 * Frame records are contiguous: o of a record is o + n of the one before, the first is 0.
 *
 * Why a JSON-lines sidecar rather than sqlite rows or a binary file:
 * - kill -9: the sidecar is append-only and each record is written after its frame's bytes, so
 *   the index is never ahead of the data after a process crash; a torn last line is simply an
 *   unparsable line without "\n" and is dropped. sqlite rows would be a second, separately
 *   synced store (a row could outlive or lag its bytes) and its writes are synchronous on the
 *   main thread, which must only do async file I/O.
 * - Seeking: the player fetches the index once (a 120 s clip at 15 fps is 1,800 lines, ~100 KB,
 *   compressible), then each frame with `Range: bytes=o-(o+n-1)`; finding the frame at a time is
 *   a binary search over `t` in memory. A binary index would seek without parsing but cannot hold
 *   the variable-size overlay, and needs its own reader in the browser.
 * - The clip and its index are self-describing: the sqlite row can be rebuilt from them.
 */
import { stamp } from "../events/names.ts";

export const CLIPS_DIR = "clips";
export const PART_PREFIX = ".part-";
export const DATA_EXT = ".mjpeg";
export const INDEX_EXT = ".jsonl";
export const INDEX_VERSION = 1;

/** Clip and index names the HTTP routes may serve: no separators, no `%`, no leading dot. */
export const SAFE_CLIP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.(?:mjpeg|jsonl)$/;

export interface IndexHeader {
  v: number;
  visitId: number;
  visitStartMs: number;
  part: number;
  /** Capture time of the first frame. */
  startMs: number;
}

export interface IndexFrame<O = unknown> {
  /** Byte offset of the frame in the .mjpeg. */
  o: number;
  /** Byte length of the frame (SOI..EOI). */
  n: number;
  /** Capture time, ms since epoch. */
  t: number;
  /** Capture seq. */
  s: number;
  /** Overlay data, as given to the recorder. */
  d: O;
  /** The zones in force from this frame on (first frame of a clip, and where they changed). */
  z?: unknown;
}

export type ClipStatus = "recording" | "complete" | "recovered";

export interface IndexTrailer {
  end: "complete" | "recovered";
  frames: number;
  /** Bytes of the .mjpeg. */
  bytes: number;
  /** Capture time of the last frame. */
  endMs: number;
  reason: string;
}

const pad = (v: number, width: number): string => String(v).padStart(width, "0");

/** `<base>` of a clip; see the module comment. n: 1 for the plain name, 2.. when taken. */
export function clipBase(visitStartMs: number, part: number, n = 1): string {
  const p = part > 1 ? `_p${pad(Math.floor(part), 3)}` : "";
  const suffix = n > 1 ? `_${Math.floor(n)}` : "";
  return `${stamp(new Date(visitStartMs))}_clip${p}${suffix}`;
}

export interface ClipFileNames {
  /** Final names, inside the clips folder. */
  data: string;
  index: string;
  /** Names while recording. */
  partData: string;
  partIndex: string;
}

export function fileNames(base: string): ClipFileNames {
  return {
    data: base + DATA_EXT,
    index: base + INDEX_EXT,
    partData: PART_PREFIX + base + DATA_EXT,
    partIndex: PART_PREFIX + base + INDEX_EXT,
  };
}

/** `<base>` of any clip file name (final or part, data or index), or null if not one. */
export function baseOf(
  file: string,
): { base: string; part: boolean; kind: "data" | "index" } | null {
  const part = file.startsWith(PART_PREFIX);
  const name = part ? file.slice(PART_PREFIX.length) : file;
  const kind = name.endsWith(DATA_EXT) ? "data" : name.endsWith(INDEX_EXT) ? "index" : null;
  if (!kind) return null;
  const base = name.slice(0, name.length - (kind === "data" ? DATA_EXT : INDEX_EXT).length);
  if (!SAFE_CLIP_NAME.test(base + DATA_EXT)) return null;
  return { base, part, kind };
}

export function headerLine(h: Omit<IndexHeader, "v">): string {
  return JSON.stringify({ v: INDEX_VERSION, ...h }) + "\n";
}

export function frameLine(f: IndexFrame): string {
  const line = { o: f.o, n: f.n, t: f.t, s: f.s, d: f.d ?? null };
  return JSON.stringify(f.z === undefined ? line : { ...line, z: f.z }) + "\n";
}

export function trailerLine(t: IndexTrailer): string {
  return JSON.stringify(t) + "\n";
}

export interface ParsedIndex {
  header: IndexHeader | null;
  frames: IndexFrame[];
  trailer: IndexTrailer | null;
  /**
   * Byte length of the prefix made of whole, valid lines: header, then frames that are
   * contiguous from offset 0 (a record that breaks the chain ends the prefix).
   */
  validBytes: number;
  /** Byte offset just after each frame's line (frameEnds[i] for frames[i]). */
  frameEnds: number[];
  /** Byte offset just after the header line (0 without a header). */
  headerEnd: number;
}

function isHeader(v: unknown): v is IndexHeader {
  const h = v as IndexHeader;
  return (
    typeof h === "object" &&
    h !== null &&
    h.v === INDEX_VERSION &&
    Number.isFinite(h.visitStartMs) &&
    Number.isFinite(h.startMs) &&
    Number.isInteger(h.part)
  );
}

function isFrame(v: unknown, expectedOffset: number): v is IndexFrame {
  const f = v as IndexFrame;
  return (
    typeof f === "object" &&
    f !== null &&
    f.o === expectedOffset &&
    Number.isInteger(f.n) &&
    f.n >= 4 &&
    Number.isFinite(f.t)
  );
}

function parseLine(bytes: Uint8Array, decoder: TextDecoder): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Parses an index, tolerating what a crash leaves: it stops at the first line that is torn (no
 * "\n"), unparsable, out of place or not contiguous, and reports how many bytes were good.
 */
export function parseIndex(bytes: Uint8Array): ParsedIndex {
  const out: ParsedIndex = {
    header: null,
    frames: [],
    trailer: null,
    validBytes: 0,
    frameEnds: [],
    headerEnd: 0,
  };
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  let offset = 0;
  while (pos < bytes.length && out.trailer === null) {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) break;
    const v = parseLine(bytes.subarray(pos, nl), decoder);
    if (out.header === null) {
      if (!isHeader(v)) break;
      out.header = v;
      out.headerEnd = nl + 1;
    } else if (isFrame(v, offset)) {
      out.frames.push(v);
      out.frameEnds.push(nl + 1);
      offset += v.n;
    } else if (typeof v === "object" && v !== null && "end" in v) {
      out.trailer = v as IndexTrailer;
    } else {
      break;
    }
    pos = nl + 1;
    out.validBytes = pos;
  }
  return out;
}
