/**
 * Sends a body that has a validator, honouring the conditional and range headers in the order
 * RFC 9110 §13.2.2 gives: If-None-Match (→ 304), then If-Range and Range (→ 206 or 416).
 * Used by /out images and thumbnails, /latest.jpg, and the clips of the next issue.
 */
import { contentRange, parseRange, type RangeAnswer } from "./range.ts";
import { json } from "./respond.tsx";

export interface Sendable {
  /** Bytes in the whole body. */
  size: number;
  /** A strong entity tag, quoted (`"abc"`). */
  etag: string;
  /** HTTP date of the last change (If-Range may carry it instead of the tag). */
  lastModified?: string;
  /** The bytes from `start` to `end` (inclusive); called at most once, before sendBody returns. */
  read(start: number, end: number): Bun.BodyInit;
}

/** An opaque tag without its weakness prefix: `W/"x"` → `"x"`. */
const opaque = (tag: string): string => tag.trim().replace(/^W\//, "");

/** If-None-Match uses the weak comparison: W/"x" matches "x"; `*` matches anything. */
export function noneMatch(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const want = opaque(etag);
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === want);
}

/**
 * If-Range: the range applies only while the body is the one the client has: the same strong
 * tag (a weak one never matches), or exactly the same Last-Modified date. Absent: it applies.
 */
export function ifRangeHolds(ifRange: string | null, etag: string, lastModified?: string): boolean {
  if (ifRange === null) return true;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith("W/")) return v === etag && !etag.startsWith("W/");
  return lastModified !== undefined && v === lastModified;
}

/**
 * 304, 206, 416 or 200 for `body`. `headers` go on every answer (the validator, caching);
 * `contentType` on the ones with a body.
 */
export function sendBody(
  request: Request,
  body: Sendable,
  contentType: string,
  headers: Record<string, string>,
): Response {
  const h = request.headers;
  const common = { ...headers, etag: body.etag };
  if (noneMatch(h.get("if-none-match"), body.etag)) {
    return new Response(null, { status: 304, headers: common });
  }
  const range: RangeAnswer = ifRangeHolds(h.get("if-range"), body.etag, body.lastModified)
    ? parseRange(h.get("range"), body.size)
    : { kind: "full" };
  // Last-Modified only with a body: a 304 that has an ETag should not repeat it (§15.4.5).
  const withBody: Record<string, string> = {
    ...common,
    "content-type": contentType,
    "accept-ranges": "bytes",
  };
  if (body.lastModified) withBody["last-modified"] = body.lastModified;
  if (range.kind === "unsatisfiable") {
    const reason = `the range starts at or past the end (${body.size} bytes)`;
    return json({ error: "range_not_satisfiable", reason }, 416, {
      "accept-ranges": "bytes",
      "content-range": contentRange(range, body.size) as string,
    });
  }
  if (range.kind === "partial") {
    return new Response(body.read(range.start, range.end), {
      status: 206,
      headers: { ...withBody, "content-range": contentRange(range, body.size) as string },
    });
  }
  return new Response(body.read(0, body.size - 1), { headers: withBody });
}
