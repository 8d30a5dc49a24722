/** The HTML pages: the dashboard (/), the gallery (/events) and one event (/events/:id). */
import { Elysia } from "elysia";
import type { VisitRecord } from "../../events/visit-types.ts";
import type { ServerDeps, StreamCounts } from "../deps.ts";
import { Dashboard } from "../pages/dashboard.tsx";
import { EventPage } from "../pages/event.tsx";
import { dayActivityPanel } from "../pages/day-activity.tsx";
import { Gallery } from "../pages/gallery.tsx";
import type { PageInfo } from "../pages/layout.tsx";
import { dayParam, intParam, reasonParam, timeParam } from "../query.ts";
import { ID_RE, notFound, page, pageInfo, searchParams } from "../respond.tsx";
import { dayRange } from "./visit-pages.tsx";

export type PageDeps = Pick<ServerDeps, "config" | "status" | "latest" | "archive" | "scene">;

const GALLERY_PAGE_SIZE = 48;
const DASHBOARD_RECENT = 9;
const GALLERY_VISITS = 6;

export function pageRoutes(deps: PageDeps, streams: StreamCounts) {
  const info = pageInfo(deps.config);
  return new Elysia()
    .get("/", () => dashboard(deps, info, streams))
    .get("/events", ({ request }) => gallery(deps, info, searchParams(request)))
    .get("/events/:id", ({ params, request }) => {
      const e = ID_RE.test(params.id) ? deps.archive.get(Number(params.id)) : null;
      if (!e) return notFound(request, info);
      const { newer, older } = deps.archive.neighbors(e);
      const visit = deps.scene?.visits.at(e.time) ?? null;
      return page(<EventPage info={info} e={e} newer={newer} older={older} visit={visit} />);
    })
    .get("/favicon.ico", () => new Response(null, { status: 204 }));
}

function dashboard(deps: PageDeps, info: PageInfo, streams: StreamCounts): Response {
  const st = deps.status();
  const frame = deps.latest();
  return page(
    <Dashboard
      info={info}
      online={st.online}
      offlineReason={st.online ? null : (st.offlineReason ?? "no frames yet")}
      backend={st.backend}
      people={frame?.people ?? 0}
      fps={st.captureFps}
      detectFps={st.detectFps}
      inferMs={st.inferMs}
      width={st.actualWidth || deps.config.width}
      height={st.actualHeight || deps.config.height}
      threshold={deps.config.threshold}
      source={st.source || deps.config.cam}
      clients={streams.videoClients + (streams.live?.clients ?? 0)}
      eventsTotal={deps.archive.count()}
      recent={deps.archive.list({ limit: DASHBOARD_RECENT })}
    />,
  );
}

/** /events: ?page=N ?before=<ms|ISO> ?day=YYYY-MM-DD ?reason=auto|snapshot|import. */
function gallery(deps: PageDeps, info: PageInfo, sp: URLSearchParams): Response {
  const archive = deps.archive;
  const pageNo = intParam(sp, "page", 1, 1_000_000) ?? 1;
  const q = { before: timeParam(sp, "before"), day: dayParam(sp), reason: reasonParam(sp) };
  const matching = archive.count(q);
  const filtered = q.day || q.reason || q.before !== undefined;
  const events = archive.list({
    ...q,
    limit: GALLERY_PAGE_SIZE,
    offset: (pageNo - 1) * GALLERY_PAGE_SIZE,
  });
  const pageHref = (n: number): string => {
    const p = new URLSearchParams();
    if (q.day) p.set("day", q.day);
    if (q.reason) p.set("reason", q.reason);
    if (q.before !== undefined) p.set("before", String(q.before));
    if (n > 1) p.set("page", String(n));
    const s = p.toString();
    return s ? `/events?${s}` : "/events";
  };
  return page(
    <Gallery
      info={info}
      events={events}
      visits={recentVisits(deps, q.day)}
      total={filtered ? archive.count() : matching}
      matching={matching}
      page={pageNo}
      pages={Math.max(1, Math.ceil(matching / GALLERY_PAGE_SIZE))}
      day={q.day}
      reason={q.reason}
      days={archive.days()}
      pageHref={pageHref}
      activity={dayActivityPanel(deps.scene?.visits, q.day, q.reason)}
    />,
  );
}

/** The gallery's visit strip: the day's visits (or the latest ones); undefined without the scene. */
function recentVisits(deps: PageDeps, day: string | undefined): VisitRecord[] | undefined {
  const visits = deps.scene?.visits;
  if (!visits) return undefined;
  return visits.list({ ...(day ? dayRange(day) : {}), limit: GALLERY_VISITS });
}
