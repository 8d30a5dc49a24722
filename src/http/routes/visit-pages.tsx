/**
 * The visit pages (issue 11): /visits (?day=YYYY-MM-DD ?zone=NAME ?page=N) and /visits/:id.
 * Without the scene analyzer (ServerDeps.scene, read at each request) both are 404. The visit
 * page's clip player gets the visit's clips (ServerDeps.clips, issue 12) as their JSON.
 */
import { Elysia } from "elysia";
import type { EventRecord } from "../../events/archive.ts";
import type { VisitQuery, VisitRecord, VisitsReader } from "../../events/visit-types.ts";
import type { SceneDeps, ServerDeps } from "../deps.ts";
import type { PageInfo } from "../pages/layout.tsx";
import { VisitPage } from "../pages/visit.tsx";
import { visitClipsJson } from "./clips.ts";
import { VisitsPage } from "../pages/visits.tsx";
import { dayParam, intParam, nameParam } from "../query.ts";
import { ID_RE, notFound, page, pageInfo, searchParams } from "../respond.tsx";

export type VisitPageDeps = Pick<ServerDeps, "config" | "archive" | "scene" | "clips">;

const VISITS_PAGE_SIZE = 48;

export function visitPageRoutes(deps: VisitPageDeps) {
  const info = pageInfo(deps.config);
  return new Elysia()
    .get("/visits", ({ request }) => {
      const scene = deps.scene;
      return scene ? visitsList(scene, info, searchParams(request)) : notFound(request, info);
    })
    .get("/visits/:id", ({ params, request }) => {
      const v =
        deps.scene && ID_RE.test(params.id) ? deps.scene.visits.get(Number(params.id)) : null;
      if (!deps.scene || !v) return notFound(request, info);
      const stills = v.stillIds
        .map((id) => deps.archive.get(id))
        .filter((e): e is EventRecord => e !== null);
      const { previous, next } = neighbours(deps.scene.visits, v);
      const clips = deps.clips && {
        enabled: deps.clips.status().recorder.enabled,
        list: visitClipsJson(deps, v.id),
      };
      return page(
        <VisitPage
          info={info}
          v={v}
          stills={stills}
          previous={previous}
          next={next}
          clips={clips}
        />,
      );
    });
}

/** Local midnight of a YYYY-MM-DD day and of the next one (23 or 25 hours on DST days). */
export function dayRange(day: string): { from: number; to: number } {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return { from: new Date(y, m - 1, d).getTime(), to: new Date(y, m - 1, d + 1).getTime() };
}

/** The visit that started before `v`, and the one that started after it. */
export function neighbours(
  visits: Pick<VisitsReader, "list">,
  v: VisitRecord,
): { previous: VisitRecord | null; next: VisitRecord | null } {
  const other = (list: VisitRecord[], after: boolean): VisitRecord | null =>
    list.find((o) => o.id !== v.id && (after ? o.start > v.start : o.start < v.start)) ?? null;
  return {
    previous: other(visits.list({ to: v.start, limit: 2, order: "desc" }), false),
    next: other(visits.list({ from: v.end + 1, limit: 2, order: "asc" }), true),
  };
}

function visitsList(scene: SceneDeps, info: PageInfo, sp: URLSearchParams): Response {
  const pageNo = intParam(sp, "page", 1, 1_000_000) ?? 1;
  const day = dayParam(sp);
  const zone = nameParam(sp, "zone");
  const q: VisitQuery = { ...(day ? dayRange(day) : {}), zone };
  const matching = scene.visits.count(q);
  const visits = scene.visits.list({
    ...q,
    limit: VISITS_PAGE_SIZE,
    offset: (pageNo - 1) * VISITS_PAGE_SIZE,
  });
  const pageHref = (n: number): string => {
    const p = new URLSearchParams();
    if (day) p.set("day", day);
    if (zone) p.set("zone", zone);
    if (n > 1) p.set("page", String(n));
    const s = p.toString();
    return s ? `/visits?${s}` : "/visits";
  };
  return page(
    <VisitsPage
      info={info}
      visits={visits}
      total={day || zone ? scene.visits.count() : matching}
      matching={matching}
      page={pageNo}
      pages={Math.max(1, Math.ceil(matching / VISITS_PAGE_SIZE))}
      day={day}
      zone={zone}
      zones={scene.zones.current().zones.map((z) => z.name)}
      pageHref={pageHref}
    />,
  );
}
