/**
 * Activity (issue 12): GET /api/activity?from&to&bucket=minute|10min|hour|day, the numbers the
 * charts draw (shape and rules in src/http/activity-data.ts), and the charting library served
 * from the binary (never a CDN: the Pi may have no internet):
 *
 *   /assets/uplot.min.js    uPlot's IIFE build (defines window.uPlot)
 *   /assets/uplot.min.css   its stylesheet
 *   /assets/uplot.LICENSE   its MIT license
 *
 * The assets never change within a build: a year of caching, `immutable`, a strong ETag from
 * the bytes (304 on If-None-Match), gzip when the browser takes it (compressed once, on first
 * use), Range like the other files. The pages link them with `?v=<version>` so that a new uPlot
 * is a new URL.
 *
 * Without the scene (ServerDeps.scene absent: no visits store) /api/activity answers 503 JSON
 * with the reason; the charts show "no activity data".
 */
import { Elysia } from "elysia";
import type { ServerDeps } from "../deps.ts";
import { parseActivityQuery, readActivity } from "../activity-data.ts";
import { json, searchParams } from "../respond.tsx";
import { sendBody } from "../send.ts";
import { UPLOT_VERSION, uplotCss, uplotJs, uplotLicense } from "../vendor.ts";

export type ActivityDeps = Pick<ServerDeps, "scene">;

const IMMUTABLE = "public, max-age=31536000, immutable";

interface Asset {
  type: string;
  plain: Uint8Array<ArrayBuffer>;
  etag: string;
  gzip?: { bytes: Uint8Array<ArrayBuffer>; etag: string };
}

function asset(text: string, type: string): Asset {
  const plain = new TextEncoder().encode(text);
  const tag = `${UPLOT_VERSION}-${Bun.hash.wyhash(plain).toString(36)}`;
  return { type, plain, etag: `"${tag}"` };
}

/** Built on first use (the license is rarely asked for). */
function lazy(text: () => string, type: string): () => Asset {
  let a: Asset | null = null;
  return () => (a ??= asset(text(), type));
}

const UPLOT_JS = lazy(() => uplotJs, "application/javascript; charset=utf-8");
const UPLOT_CSS = lazy(() => uplotCss, "text/css; charset=utf-8");
const UPLOT_LICENSE = lazy(() => uplotLicense, "text/plain; charset=utf-8");

const takesGzip = (request: Request): boolean =>
  /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");

/** The asset, gzipped when the browser takes it (a representation with its own tag). */
function sendAsset(request: Request, a: Asset): Response {
  const headers: Record<string, string> = { "cache-control": IMMUTABLE, vary: "accept-encoding" };
  let bytes = a.plain;
  let etag = a.etag;
  if (takesGzip(request)) {
    a.gzip ??= { bytes: Bun.gzipSync(a.plain, { level: 9 }), etag: `${a.etag.slice(0, -1)}-gz"` };
    bytes = a.gzip.bytes;
    etag = a.gzip.etag;
    headers["content-encoding"] = "gzip";
  }
  const body = {
    size: bytes.byteLength,
    etag,
    read: (s: number, e: number) => bytes.slice(s, e + 1),
  };
  return sendBody(request, body, a.type, headers);
}

export function activityRoutes(deps: ActivityDeps) {
  return new Elysia()
    .get("/api/activity", ({ request }) => {
      // Parse first: a bad value is a 400 whether or not the store is there.
      const q = parseActivityQuery(searchParams(request));
      const visits = deps.scene?.visits;
      if (!visits) {
        const reason = "no activity data: the scene analysis (visits store) is not running";
        return json({ error: "unavailable", reason }, 503, { "retry-after": "60" });
      }
      return json(readActivity(visits, q));
    })
    .get("/assets/uplot.min.js", ({ request }) => sendAsset(request, UPLOT_JS()))
    .get("/assets/uplot.min.css", ({ request }) => sendAsset(request, UPLOT_CSS()))
    .get("/assets/uplot.LICENSE", ({ request }) => sendAsset(request, UPLOT_LICENSE()));
}
