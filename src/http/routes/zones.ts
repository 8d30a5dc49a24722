/**
 * The zones file over HTTP (issue 11), for the dashboard's zone editor:
 *
 *   GET /api/zones   200 {zones, masks, lines, path, error, direction}: the config in use, the
 *                    file it comes from, why the file on disk is not the one in use (the
 *                    ZonesService error {message, key, at}, or null), and LINE_DIRECTION_TEXT.
 *   PUT /api/zones   the whole config as JSON (≤ MAX_ZONES_BODY_BYTES, else 413) → validated
 *                    (400 {error: "bad_zones", key, reason} naming the offending key), written
 *                    atomically and applied live by the ZonesService → 200, same body as GET.
 *
 * Without the scene (ServerDeps.scene absent) both answer 404 {error: "zones_unavailable"}.
 * The login is the server's own (every route). A page of another site cannot make a logged-in
 * browser save: PUT is not a "simple" method, so the browser asks a CORS preflight first, and
 * this server never grants one.
 */
import { Elysia } from "elysia";
import type { ZonesService } from "../../pipeline/scene-api.ts";
import { HcError, errorMessage } from "../../shared/errors.ts";
import { LINE_DIRECTION_TEXT, ZonesError, validateZones } from "../../track/zones.ts";
import type { ServerDeps } from "../deps.ts";
import { json } from "../respond.tsx";

export type ZonesDeps = Pick<ServerDeps, "scene">;

/** A zones file with every limit used is ~40 KB of JSON; anything bigger is not a config. */
export const MAX_ZONES_BODY_BYTES = 64 * 1024;

export function zonesRoutes({ scene }: ZonesDeps) {
  const zones = scene?.zones ?? null;
  return new Elysia()
    .get("/api/zones", () => (zones ? json(zonesJson(zones)) : unavailable()))
    .put("/api/zones", ({ request }) => (zones ? putZones(zones, request) : unavailable()), {
      parse: "none",
    });
}

function zonesJson(zones: ZonesService) {
  const c = zones.current();
  return {
    zones: c.zones,
    masks: c.masks,
    lines: c.lines,
    path: zones.path,
    error: zones.error(),
    direction: LINE_DIRECTION_TEXT,
  };
}

function unavailable(): Response {
  const reason = "zones are not available in this server (it runs without the scene analyzer)";
  return json({ error: "zones_unavailable", reason }, 404);
}

async function putZones(zones: ZonesService, request: Request): Promise<Response> {
  const body = await readCapped(request, MAX_ZONES_BODY_BYTES);
  if (body === null) {
    const reason = `the body is larger than ${MAX_ZONES_BODY_BYTES} bytes`;
    return json({ error: "too_large", reason, max_bytes: MAX_ZONES_BODY_BYTES }, 413);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
    // The service validates too; checking here first keeps the 400 independent of it.
    validateZones(value);
    await zones.save(value);
  } catch (e) {
    return saveError(e);
  }
  return json(zonesJson(zones));
}

function saveError(e: unknown): Response {
  if (e instanceof SyntaxError) {
    return json({ error: "bad_zones", key: "", reason: `not valid JSON (${e.message})` }, 400);
  }
  if (e instanceof ZonesError || (e instanceof HcError && e.code === "ZONES_INVALID")) {
    const key = (e as Partial<ZonesError>).key ?? "";
    return json({ error: "bad_zones", key, reason: e.what }, 400);
  }
  // The file could not be written (disk full, read-only card): the config in use is unchanged.
  return json({ error: "save_failed", reason: errorMessage(e) }, 503);
}

/** The body, or null when it is over `maxBytes` (by its Content-Length or as it streams in). */
async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
