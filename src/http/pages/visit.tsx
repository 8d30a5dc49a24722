/**
 * One visit (/visits/:id, issue 11): the best snapshot with the clip player's place under it
 * (clip-section.tsx), the facts (start, end, duration, zones, people, most at once), the line
 * crossings, the people (tracks), the cooldown stills as thumbnails linking to their events,
 * and the previous/next visit.
 */
import type { EventRecord } from "../../events/archive.ts";
import { visitImagePath } from "../../events/visit-json.ts";
import type { VisitDetail, VisitRecord } from "../../events/visit-types.ts";
import { ClipSection } from "./clip-section.tsx";
import { fmtTime } from "./format.ts";
import { Layout, type PageInfo } from "./layout.tsx";
import { Thumb } from "./thumb.tsx";
import { VISITS_CSS, fmtDuration, zonesText } from "./visit-bits.tsx";

export interface VisitPageProps {
  info: PageInfo;
  v: VisitDetail;
  /** The stills still in the archive, oldest first. */
  stills: EventRecord[];
  /** The visit before this one, and the one after. */
  previous: VisitRecord | null;
  next: VisitRecord | null;
}

export function VisitPage(p: VisitPageProps): JSX.Element {
  const { v } = p;
  const nav = <VisitNav previous={p.previous} next={p.next} />;
  return (
    <Layout title={`hazardcam · visit ${v.id}`} active="events" info={p.info}>
      <style>{VISITS_CSS}</style>
      <h1>
        Visit {String(v.id)} <small safe>{fmtTime(v.start)}</small>{" "}
        {v.open ? <span class="badge visit-open">open</span> : ""}
      </h1>
      {nav}
      <div class="layout">
        <div class="side">
          <section class="card photo" id="visit-snapshot">
            <BestSnapshot v={v} />
          </section>
          <ClipSection visit={v} />
        </div>
        <div class="side">
          <section class="card">
            <VisitFacts v={v} />
          </section>
          <section class="card">
            <h2>Line crossings</h2>
            <Crossings v={v} />
          </section>
          <section class="card">
            <h2>
              People <small>{String(v.tracks.length)}</small>
            </h2>
            <Tracks v={v} />
          </section>
        </div>
      </div>
      <section class="card" style="margin-top:16px">
        <h2>
          Stills <small>{String(p.stills.length)}</small>
        </h2>
        {p.stills.length === 0 ? (
          <p class="muted">No stills were saved during this visit.</p>
        ) : (
          <div class="thumbs" id="visit-stills">
            {p.stills.map((e) => (
              <Thumb e={e} />
            ))}
          </div>
        )}
      </section>
      {nav}
    </Layout>
  );
}

function VisitNav(p: Pick<VisitPageProps, "previous" | "next">): JSX.Element {
  return (
    <nav class="prevnext">
      {p.previous ? (
        <a href={`/visits/${p.previous.id}`} rel="prev">
          ← Previous visit
        </a>
      ) : (
        <span class="muted">← Previous visit</span>
      )}
      <a href="/visits">All visits</a>
      {p.next ? (
        <a href={`/visits/${p.next.id}`} rel="next">
          Next visit →
        </a>
      ) : (
        <span class="muted">Next visit →</span>
      )}
    </nav>
  );
}

function BestSnapshot({ v }: { v: VisitDetail }): JSX.Element {
  if (!v.image) {
    return (
      <p class="muted">
        {v.open
          ? "The best snapshot is saved when the visit ends."
          : "No snapshot was saved for this visit."}
      </p>
    );
  }
  const src = visitImagePath(v.image);
  return (
    <a href={src}>
      <img src={src} alt={`best snapshot of visit ${v.id}`} />
    </a>
  );
}

/** One row of the facts table. */
function Row(p: { k: string; v: string; cls?: string }): JSX.Element {
  return (
    <tr>
      <th>{p.k}</th>
      <td class={p.cls ?? ""} safe>
        {p.v}
      </td>
    </tr>
  );
}

function VisitFacts({ v }: { v: VisitDetail }): JSX.Element {
  return (
    <table class="visit-facts" id="visit-facts">
      <tbody>
        <Row k="Start" v={fmtTime(v.start)} />
        <Row k={v.open ? "Last seen" : "End"} v={fmtTime(v.end)} />
        <Row k="Duration" v={`${fmtDuration(v.durationMs)}${v.open ? " so far" : ""}`} />
        <Row k="Zones" v={zonesText(v.zones)} cls="zones" />
        <Row k="People" v={String(v.people)} cls="num" />
        <Row k="Most at once" v={String(v.maxPeople)} cls="num" />
        <Row k="Stills" v={String(v.stills)} cls="num" />
      </tbody>
    </table>
  );
}

function Crossings({ v }: { v: VisitDetail }): JSX.Element {
  const lines = Object.entries(v.crossings);
  if (lines.length === 0) return <p class="muted">No line was crossed.</p>;
  return (
    <table id="visit-crossings">
      <thead>
        <tr>
          <th>Line</th>
          <th>In</th>
          <th>Out</th>
        </tr>
      </thead>
      <tbody>
        {lines.map(([name, c]) => (
          <tr>
            <td safe>{name}</td>
            <td class="num">{String(c.in)}</td>
            <td class="num">{String(c.out)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Tracks({ v }: { v: VisitDetail }): JSX.Element {
  if (v.tracks.length === 0) return <p class="muted">No tracks recorded.</p>;
  return (
    <table id="visit-tracks">
      <thead>
        <tr>
          <th>Track</th>
          <th>Seen</th>
          <th>Zones</th>
        </tr>
      </thead>
      <tbody>
        {v.tracks.map((t) => (
          <tr>
            <td class="num">#{String(t.trackId)}</td>
            <td class="num" safe>
              {`${fmtTime(t.firstSeen).slice(11)} · ${fmtDuration(t.lastSeen - t.firstSeen)}`}
            </td>
            <td safe>{zonesText(t.zones)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
