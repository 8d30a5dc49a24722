/** The events gallery (/events): filters by day and reason, thumbnails, and a pager. */
import type { EventRecord } from "../../events/archive.ts";
import type { VisitRecord } from "../../events/visit-types.ts";
import { Layout, type PageInfo } from "./layout.tsx";
import { Pager } from "./pager.tsx";
import { Thumb } from "./thumb.tsx";
import { VisitStrip } from "./visit-bits.tsx";

export interface GalleryProps {
  info: PageInfo;
  events: EventRecord[];
  /** Recent visits (issue 11; of `day` when set), shown above the events; undefined: none. */
  visits?: VisitRecord[];
  total: number;
  /** Events matching the filters. */
  matching: number;
  page: number;
  pages: number;
  day: string | undefined;
  reason: string | undefined;
  days: { day: string; count: number }[];
  /** Query string for a given page, keeping the filters. */
  pageHref: (page: number) => string;
  /** The day's activity panel (src/http/pages/day-activity.tsx), above the filters. */
  activity?: JSX.Element;
}

export function Gallery(p: GalleryProps): JSX.Element {
  const filtered = p.day !== undefined || p.reason !== undefined;
  return (
    <Layout title="hazardcam · events" active="events" info={p.info}>
      <h1>
        Events <small>{filtered ? `${p.matching} of ${p.total}` : String(p.total)} total</small>
      </h1>
      {p.activity ?? ""}
      <Filters {...p} filtered={filtered} />
      <VisitStrip visits={p.visits} day={p.day} />
      {p.events.length === 0 ? (
        <div class="card muted">No events{filtered ? " match these filters" : " yet"}.</div>
      ) : (
        <div class="thumbs" id="gallery">
          {p.events.map((e) => (
            <Thumb e={e} />
          ))}
        </div>
      )}
      <Pager page={p.page} pages={p.pages} pageHref={p.pageHref} />
    </Layout>
  );
}

type FilterProps = Pick<GalleryProps, "day" | "reason" | "days"> & { filtered: boolean };

/** Day and reason selects; they submit on change (the button is for browsers without JS). */
function Filters(p: FilterProps): JSX.Element {
  return (
    <form class="filters" method="get" action="/events">
      <select name="day" aria-label="day" onchange="this.form.submit()">
        <option value="">All days</option>
        {p.days.map((d) => (
          <option value={d.day} selected={d.day === p.day}>
            {`${d.day} (${d.count})`}
          </option>
        ))}
      </select>
      <select name="reason" aria-label="reason" onchange="this.form.submit()">
        <option value="">All reasons</option>
        {["auto", "snapshot", "import"].map((r) => (
          <option value={r} selected={r === p.reason}>
            {r}
          </option>
        ))}
      </select>
      <button type="submit">Filter</button>
      {p.filtered ? (
        <a class="button secondary" href="/events">
          Clear
        </a>
      ) : (
        ""
      )}
    </form>
  );
}
