/**
 * The events as JSON: /api/events (?before ?after as ms or ISO, ?limit 1..500 default 100,
 * ?offset, ?reason, ?day, ?order=asc|desc; `next` links the following page) and /api/events/:id.
 */
import { Elysia } from "elysia";
import { eventJson } from "../../events/archive.ts";
import type { ServerDeps } from "../deps.ts";
import { MAX_LIMIT, dayParam, intParam, orderParam, reasonParam, timeParam } from "../query.ts";
import { ID_RE, json, searchParams } from "../respond.tsx";

export type ApiDeps = Pick<ServerDeps, "archive">;

export function apiRoutes({ archive }: ApiDeps) {
  return new Elysia()
    .get("/api/events", ({ request }) => listEvents({ archive }, searchParams(request)))
    .get("/api/events/:id", ({ params }) => {
      const e = ID_RE.test(params.id) ? archive.get(Number(params.id)) : null;
      return e ? json(eventJson(e)) : json({ error: "not_found", id: params.id }, 404);
    });
}

function listEvents({ archive }: ApiDeps, sp: URLSearchParams): Response {
  const limit = intParam(sp, "limit", 1, MAX_LIMIT) ?? 100;
  const offset = intParam(sp, "offset", 0, 1_000_000_000) ?? 0;
  const q = {
    before: timeParam(sp, "before"),
    after: timeParam(sp, "after"),
    reason: reasonParam(sp),
    day: dayParam(sp),
  };
  const order = orderParam(sp) ?? "desc";
  const events = archive.list({ ...q, limit, offset, order });
  const total = archive.count(q);
  let next: string | null = null;
  if (events.length === limit && offset + limit < total) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
    p.set("limit", String(limit));
    p.set("offset", String(offset + limit));
    if (order === "asc") p.set("order", "asc");
    next = `/api/events?${p}`;
  }
  return json({ total, count: events.length, events: events.map((e) => eventJson(e)), next });
}
