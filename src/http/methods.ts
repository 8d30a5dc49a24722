/**
 * 405 Method Not Allowed: a known path asked with a method it does not take (`POST /status`,
 * `DELETE /out/x.jpg`) answers 405 with `Allow` listing the methods it does take; a path no
 * route matches stays 404. The table is read from the app's own routes, so a new route module
 * is covered without listing its methods twice.
 */

/** Methods we answer; anything else in the route list (a WebSocket, "ALL") is not listed. */
const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export interface RouteInfo {
  method: string;
  path: string;
  handler?: unknown;
}

/** Thrown by a route that exists only to refuse its method (see refuseMethod). */
export class MethodNotAllowed extends Error {
  constructor() {
    super("method not allowed");
    this.name = "MethodNotAllowed";
  }
}

/**
 * Handler for a method a GET route must not take implicitly. Elysia answers HEAD by running the
 * GET handler; for GET /snapshot that would save a picture. Such a route is left out of Allow.
 */
export function refuseMethod(): never {
  throw new MethodNotAllowed();
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An Elysia path as a regular expression over the raw path: `:name` is one non-empty segment,
 * a final `*` anything; a static path also matches with one trailing slash (as Elysia does).
 */
export function pathPattern(path: string): RegExp {
  const dynamic = /(^|\/)(:|\*$)/.test(path);
  const body = path
    .split("/")
    .map((seg) => (seg === "*" ? ".*" : seg.startsWith(":") ? "[^/]+" : escapeRe(seg)))
    .join("/");
  const slash = dynamic || path.endsWith("/") ? "" : "/?";
  return new RegExp(`^${body}${slash}$`);
}

export class AllowTable {
  #routes: { re: RegExp; method: string; refused: boolean }[] | null = null;

  /** `routes` is read on first use: all modules are mounted by then. */
  constructor(private readonly routes: () => readonly RouteInfo[]) {}

  /** The methods `rawPath` takes, in a fixed order; empty when no route matches it. */
  allow(rawPath: string): string[] {
    this.#routes ??= this.routes().map((r) => ({
      re: pathPattern(r.path),
      method: r.method.toUpperCase(),
      refused: r.handler === refuseMethod,
    }));
    const taken = new Set<string>();
    const refused = new Set<string>();
    for (const r of this.#routes) {
      if (r.re.test(rawPath)) (r.refused ? refused : taken).add(r.method);
    }
    if (taken.has("GET")) taken.add("HEAD");
    return HTTP_METHODS.filter((m) => taken.has(m) && !refused.has(m));
  }
}
