/** One event (/events/:id): the full image, its facts, its detections, newer/older links. */
import type { EventRecord } from "../../events/archive.ts";
import type { VisitRecord } from "../../events/visit-types.ts";
import { fmt1, fmtTime } from "./format.ts";
import { Layout, type PageInfo } from "./layout.tsx";
import { ReasonBadge } from "./thumb.tsx";
import { PartOfVisit } from "./visit-bits.tsx";

export interface EventPageProps {
  info: PageInfo;
  e: EventRecord;
  newer: EventRecord | null;
  older: EventRecord | null;
  /** The visit the still fell in (issue 11), or null. */
  visit?: VisitRecord | null;
}

export function EventPage({ info, e, newer, older, visit }: EventPageProps): JSX.Element {
  const nav = <EventNav newer={newer} older={older} />;
  return (
    <Layout title={`hazardcam · event ${e.id}`} active="events" info={info}>
      <h1>
        Event {String(e.id)} <small safe>{fmtTime(e.time)}</small> <ReasonBadge reason={e.reason} />
      </h1>
      <PartOfVisit v={visit} />
      {nav}
      <div class="layout">
        <section class="card photo">
          <a href={`/out/${e.file}`}>
            <img src={`/out/${e.file}`} alt={`event ${e.id}`} />
          </a>
        </section>
        <div class="side">
          <section class="card">
            <EventFacts e={e} />
          </section>
          <section class="card">
            <h2>
              Detections <small>{String(e.detections.length)}</small>
            </h2>
            <Detections e={e} />
          </section>
        </div>
      </div>
      {nav}
    </Layout>
  );
}

function EventNav({ newer, older }: Pick<EventPageProps, "newer" | "older">): JSX.Element {
  return (
    <nav class="prevnext">
      {newer ? <a href={`/events/${newer.id}`}>← Newer</a> : <span class="muted">← Newer</span>}
      <a href="/events">All events</a>
      {older ? <a href={`/events/${older.id}`}>Older →</a> : <span class="muted">Older →</span>}
    </nav>
  );
}

function EventFacts({ e }: { e: EventRecord }): JSX.Element {
  return (
    <table>
      <tbody>
        <tr>
          <th>Time</th>
          <td safe>{fmtTime(e.time)}</td>
        </tr>
        <tr>
          <th>Reason</th>
          <td safe>{e.reason}</td>
        </tr>
        <tr>
          <th>People</th>
          <td class="num">{String(e.people)}</td>
        </tr>
        <tr>
          <th>Inference</th>
          <td class="num">{fmt1(e.inferMs)} ms</td>
        </tr>
        <tr>
          <th>fps</th>
          <td class="num">{fmt1(e.fps)}</td>
        </tr>
        <tr>
          <th>File</th>
          <td class="file">
            <a href={`/out/${e.file}`} safe>
              {e.file}
            </a>
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/** Score and box (normalized ymin, xmin, ymax, xmax) of each stored detection. */
function Detections({ e }: { e: EventRecord }): JSX.Element {
  if (e.detections.length === 0) {
    return <p class="muted">No detections recorded for this image.</p>;
  }
  return (
    <table id="detections">
      <thead>
        <tr>
          <th>Label</th>
          <th>Score</th>
          <th>Box (ymin, xmin, ymax, xmax)</th>
        </tr>
      </thead>
      <tbody>
        {e.detections.map((d) => (
          <tr>
            <td safe>{String(d.label)}</td>
            <td class="num">{Number(d.score).toFixed(3)}</td>
            <td class="num">
              {[d.box.ymin, d.box.xmin, d.box.ymax, d.box.xmax]
                .map((v) => Number(v).toFixed(3))
                .join(", ")}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
