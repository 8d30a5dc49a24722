/** Response helpers shared by the routes: JSON and HTML bodies, 404, and raw URL parts. */
import { NotFoundPage } from "./pages/not-found.tsx";
import type { PageInfo } from "./pages/layout.tsx";

export const NO_STORE = "no-store, no-cache, must-revalidate, max-age=0";

export function json(body: unknown, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": NO_STORE,
      ...extra,
    },
  });
}

export function page(body: JSX.Element, status = 200): Response {
  return new Response(`<!doctype html>${String(body)}`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": NO_STORE },
  });
}

function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html");
}

/** 404: the HTML page for browsers, else JSON. */
export function notFound(request: Request, info: PageInfo): Response {
  return wantsHtml(request)
    ? page(<NotFoundPage info={info} />, 404)
    : json({ error: "not_found" }, 404);
}

export function searchParams(request: Request): URLSearchParams {
  const url = request.url;
  const q = url.indexOf("?");
  return new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
}

/** The raw (still percent-encoded) path of a request. */
export function rawPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/** An event id in a path: 1..15 digits, no leading zero. */
export const ID_RE = /^[1-9]\d{0,14}$/;

/** What the pages show in their footer. */
export function pageInfo(config: { version: string; model: string }): PageInfo {
  return { version: config.version, model: config.model };
}
