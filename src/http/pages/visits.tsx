/** The visits list (/visits, issue 11): filters by day and zone, visit cards, and a pager. */
import type { VisitRecord } from "../../events/visit-types.ts";
import { Layout, type PageInfo } from "./layout.tsx";
import { Pager } from "./pager.tsx";
import { VISITS_CSS, VisitThumb } from "./visit-bits.tsx";

export interface VisitsPageProps {
  info: PageInfo;
  visits: VisitRecord[];
  /** Visits in total, and those matching the filters. */
  total: number;
  matching: number;
  page: number;
  pages: number;
  day: string | undefined;
  zone: string | undefined;
  /** The zones of the zones file, for the zone filter. */
  zones: string[];
  /** The link of a page, keeping the filters. */
  pageHref: (page: number) => string;
}

export function VisitsPage(p: VisitsPageProps): JSX.Element {
  const filtered = p.day !== undefined || p.zone !== undefined;
  return (
    <Layout title="hazardcam · visits" active="events" info={p.info}>
      <style>{VISITS_CSS}</style>
      <h1>
        Visits <small>{filtered ? `${p.matching} of ${p.total}` : String(p.total)} total</small>
      </h1>
      <p class="muted">
        A visit lasts from the first person in a zone until nobody has been in one for the visit
        gap. <a href="/events">All events →</a>
      </p>
      <Filters {...p} filtered={filtered} />
      {p.visits.length === 0 ? (
        <div class="card muted">No visits{filtered ? " match these filters" : " yet"}.</div>
      ) : (
        <div class="thumbs" id="visits">
          {p.visits.map((v) => (
            <VisitThumb v={v} />
          ))}
        </div>
      )}
      <Pager {...p} />
    </Layout>
  );
}

type FilterProps = Pick<VisitsPageProps, "day" | "zone" | "zones"> & { filtered: boolean };

function Filters(p: FilterProps): JSX.Element {
  const zones = p.zone && !p.zones.includes(p.zone) ? [...p.zones, p.zone] : p.zones;
  return (
    <form class="filters" method="get" action="/visits">
      <input
        type="date"
        name="day"
        aria-label="day"
        value={p.day ?? ""}
        onchange="this.form.submit()"
      />
      {zones.length > 0 ? (
        <select name="zone" aria-label="zone" onchange="this.form.submit()">
          <option value="">All zones</option>
          {zones.map((z) => (
            <option value={z} selected={z === p.zone} safe>
              {z}
            </option>
          ))}
        </select>
      ) : (
        ""
      )}
      <button type="submit">Filter</button>
      {p.filtered ? (
        <a class="button secondary" href="/visits">
          Clear
        </a>
      ) : (
        ""
      )}
    </form>
  );
}
