/**
 * The visits as JSON (issue 11):
 *
 *   GET /api/visits       ?from ?to (ms or ISO: visits overlapping [from, to)) ?zone (entered
 *                         that zone) ?limit 1..500 (default 50) ?offset ?order=asc|desc
 *                         → {total, count, visits: VisitJson[], next} (next: the following page)
 *   GET /api/visits/:id   → VisitDetailJson: the visit, its tracks, its crossings one by one, its
 *                         stills as /api/events items, its clips (from `opts.clips`, else [])
 *   GET /api/counts       ?from ?to ?bucket=minute|hour|day → src/http/counts.ts
 *
 * Bad values: 400 naming the parameter; an unknown id: 404. Without the scene analyzer
 * (ServerDeps.scene, read at each request) every route answers 404 {error: "visits_unavailable"}.
 */
import { Elysia } from "elysia";
import { eventJson, type EventJson } from "../../events/archive.ts";
import { visitDetailJson, visitJson } from "../../events/visit-json.ts";
import type { VisitQuery } from "../../events/visit-types.ts";
import { BUCKETS, countsJson, countsRange } from "../counts.ts";
import type { SceneDeps, ServerDeps } from "../deps.ts";
import { MAX_LIMIT, choiceParam, intParam, nameParam, orderParam, timeParam } from "../query.ts";
import { ID_RE, json, searchParams } from "../respond.tsx";

export type VisitApiDeps = Pick<ServerDeps, "scene" | "archive">;

export interface VisitApiOptions {
  /** A visit's clips as JSON (the clips of issue 12); without it `clips` is []. */
  clips?: (visitId: number) => unknown[];
}

export const DEFAULT_VISITS_LIMIT = 50;

export function visitApiRoutes(deps: VisitApiDeps, opts: VisitApiOptions = {}) {
  const withScene = (fn: (scene: SceneDeps) => Response): Response =>
    deps.scene ? fn(deps.scene) : unavailable();
  return new Elysia()
    .get("/api/visits", ({ request }) => withScene((s) => listVisits(s, searchParams(request))))
    .get("/api/visits/:id", ({ params }) => withScene((s) => oneVisit(s, deps, opts, params.id)))
    .get("/api/counts", ({ request }) => withScene((s) => counts(s, searchParams(request))));
}

export function unavailable(): Response {
  const reason = "visits are not available in this server (it runs without the scene analyzer)";
  return json({ error: "visits_unavailable", reason }, 404);
}

/** The filters of /api/visits. */
function visitQuery(sp: URLSearchParams): Omit<VisitQuery, "limit" | "offset" | "order"> {
  return { from: timeParam(sp, "from"), to: timeParam(sp, "to"), zone: nameParam(sp, "zone") };
}

function listVisits(scene: SceneDeps, sp: URLSearchParams): Response {
  const limit = intParam(sp, "limit", 1, MAX_LIMIT) ?? DEFAULT_VISITS_LIMIT;
  const offset = intParam(sp, "offset", 0, 1_000_000_000) ?? 0;
  const q = visitQuery(sp);
  const order = orderParam(sp) ?? "desc";
  const visits = scene.visits.list({ ...q, limit, offset, order });
  const total = scene.visits.count(q);
  let next: string | null = null;
  if (visits.length === limit && offset + limit < total) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
    p.set("limit", String(limit));
    p.set("offset", String(offset + limit));
    if (order === "asc") p.set("order", "asc");
    next = `/api/visits?${p}`;
  }
  return json({ total, count: visits.length, visits: visits.map((v) => visitJson(v)), next });
}

function oneVisit(
  scene: SceneDeps,
  deps: VisitApiDeps,
  opts: VisitApiOptions,
  id: string,
): Response {
  const v = ID_RE.test(id) ? scene.visits.get(Number(id)) : null;
  if (!v) return json({ error: "not_found", id }, 404);
  const stills: EventJson[] = [];
  for (const sid of v.stillIds) {
    const e = deps.archive.get(sid);
    if (e) stills.push(eventJson(e)); // a still removed by retention is left out
  }
  return json(visitDetailJson(v, stills, opts.clips?.(v.id) ?? []));
}

function counts(scene: SceneDeps, sp: URLSearchParams): Response {
  const range = countsRange(
    {
      from: timeParam(sp, "from"),
      to: timeParam(sp, "to"),
      bucket: choiceParam(sp, "bucket", BUCKETS),
    },
    Date.now(),
  );
  const cfg = scene.zones.current();
  const names = { zones: cfg.zones.map((z) => z.name), lines: cfg.lines.map((l) => l.name) };
  return json(countsJson(range, scene.visits.activity(range), names));
}
