/**
 * The `Range` request header (RFC 9110 §14), for one byte range: `bytes=a-b`, `bytes=a-` and
 * `bytes=-n` (the last n bytes). Pure: no I/O, used by /out images, /latest.jpg and clips.
 *
 * What a server may do and we do: a header it cannot parse, another unit, or several ranges
 * (which would need multipart/byteranges) is ignored and the whole body is sent (200). A range
 * that starts at or past the end is unsatisfiable (416).
 */

/** What to send for a body of `size` bytes. `start` and `end` are inclusive byte offsets. */
export type RangeAnswer =
  { kind: "full" } | { kind: "partial"; start: number; end: number } | { kind: "unsatisfiable" };

const FULL: RangeAnswer = { kind: "full" };
const UNSATISFIABLE: RangeAnswer = { kind: "unsatisfiable" };

/** One range-spec: `first-last`, `first-` or `-suffix` (digits only, no signs or spaces). */
const SPEC_RE = /^(\d*)-(\d*)$/;

/**
 * Reads `header` (the Range value, or null) against a body of `size` bytes.
 * Offsets beyond 2^53 are compared as numbers (they are all past any real file).
 */
export function parseRange(header: string | null, size: number): RangeAnswer {
  if (header === null) return FULL;
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return FULL;
  // Empty list elements (`bytes=0-1, ,`) are allowed by the list syntax (RFC 9110 §5.6.1).
  const specs = header
    .slice(eq + 1)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (specs.length !== 1) return FULL;
  const m = SPEC_RE.exec(specs[0] as string);
  if (!m) return FULL;
  const [, first = "", last = ""] = m;
  if (first === "") {
    if (last === "") return FULL; // "-" alone
    const suffix = Number(last);
    if (suffix === 0) return UNSATISFIABLE;
    // A suffix of an empty body has no byte to name: send the (empty) body.
    if (size === 0) return FULL;
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (end < start) return FULL; // invalid: last before first
  if (start >= size) return UNSATISFIABLE;
  return { kind: "partial", start, end: Math.min(end, size - 1) };
}

/** The Content-Range value of an answer: `bytes 0-99/1234`, or `bytes *\/1234` for a 416. */
export function contentRange(answer: RangeAnswer, size: number): string | null {
  if (answer.kind === "partial") return `bytes ${answer.start}-${answer.end}/${size}`;
  if (answer.kind === "unsatisfiable") return `bytes */${size}`;
  return null;
}
