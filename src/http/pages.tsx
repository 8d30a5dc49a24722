/**
 * The HTML pages (kitajs JSX renders to strings). Children are NOT escaped by kitajs unless marked
 * `safe`: every text derived from config, files or the index goes through `safe`. Attribute values
 * are quoted by kitajs; URLs only ever contain archive names that passed SAFE_JPEG_NAME.
 */
import type { PropsWithChildren } from "@kitajs/html";
import { thumbUrl, type EventRecord } from "../events/archive.ts";
import { CSS, DASHBOARD_JS } from "./assets.ts";

const pad = (n: number): string => String(n).padStart(2, "0");

/** Local `YYYY-MM-DD HH:MM:SS`. */
export function fmtTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

const fmt1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : "0.0");

export interface PageInfo {
  version: string;
  model: string;
}

function Layout(
  props: PropsWithChildren<{ title: string; active: "live" | "events" | ""; info: PageInfo }>,
): JSX.Element {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title safe>{props.title}</title>
        <style>{CSS}</style>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            hazardcam
          </a>
          <nav>
            <a href="/" class={props.active === "live" ? "on" : ""}>
              Live
            </a>
            <a href="/events" class={props.active === "events" ? "on" : ""}>
              Events
            </a>
            <a href="/status">Status</a>
          </nav>
        </header>
        <main>{props.children}</main>
        <footer>
          hazardcam <span safe>{props.info.version}</span> · model{" "}
          <span safe>{props.info.model}</span>
        </footer>
      </body>
    </html>
  );
}

function ReasonBadge({ reason }: { reason: string }): JSX.Element {
  return (
    <span class={`badge ${reason}`} safe>
      {reason}
    </span>
  );
}

/** `HH:MM:SS` for today, else `MM-DD HH:MM` (thumbnail captions are narrow). */
export function fmtShort(ms: number, nowMs: number = Date.now()): string {
  const d = new Date(ms);
  const n = new Date(nowMs);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === n.toDateString()) return `${time}:${pad(d.getSeconds())}`;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

function Thumb({ e }: { e: EventRecord }): JSX.Element {
  return (
    <a class="thumb" href={`/events/${e.id}`} data-id={String(e.id)} title={fmtTime(e.time)}>
      <img src={thumbUrl(e)} alt={`${e.reason} ${e.people} people`} loading="lazy" />
      <div class="meta">
        <span class="t" safe>
          {fmtShort(e.time)}
        </span>
        <span class="muted">
          {e.people === 1 ? "1 person" : `${e.people} people`}
          {e.reason === "auto" ? "" : ` · ${e.reason}`}
        </span>
      </div>
    </a>
  );
}

export interface DashboardProps {
  info: PageInfo;
  online: boolean;
  offlineReason: string | null;
  backend: string | null;
  people: number;
  fps: number;
  detectFps: number;
  inferMs: number;
  width: number;
  height: number;
  threshold: number;
  source: string;
  clients: number;
  eventsTotal: number;
  recent: EventRecord[];
}

export function Dashboard(p: DashboardProps): JSX.Element {
  return (
    <Layout title="hazardcam · live" active="live" info={p.info}>
      <div class="layout">
        <section class="card">
          <h2>
            Live <small safe>{p.source}</small>{" "}
            <span
              id="state"
              data-online
              class={`badge ${p.online ? "online" : "offline"}`}
              style="float:right"
            >
              {p.online ? "online" : "offline"}
            </span>
          </h2>
          <div class="stage" style={`aspect-ratio: ${p.width} / ${p.height}`}>
            <img
              id="live"
              data-live
              src="/video?raw=1"
              alt="live camera"
              width={p.width}
              height={p.height}
            />
            <canvas id="overlay"></canvas>
          </div>
          <div id="offline" class={p.online ? "offline-msg hidden" : "offline-msg"}>
            No signal:{" "}
            <span id="offline-reason" safe>
              {p.offlineReason ?? "no frames yet"}
            </span>
          </div>
          <form class="actions" method="post" action="/snapshot">
            <button type="submit" id="snapshot" data-snapshot>
              Take snapshot
            </button>
            <a class="button secondary" href="/latest.jpg" target="_blank">
              Current frame
            </a>
          </form>
        </section>
        <div class="side">
          <section class="card">
            <div class="stats">
              <div class="stat big">
                <div class="k">People</div>
                <div class="v" id="people" data-people>
                  {String(p.people)}
                </div>
              </div>
              <div class="stat">
                <div class="k">Capture fps</div>
                <div class="v" id="fps" data-fps>
                  {fmt1(p.fps)}
                </div>
              </div>
              <div class="stat">
                <div class="k">Detect fps</div>
                <div class="v" id="detect-fps" data-detect-fps>
                  {fmt1(p.detectFps)}
                </div>
              </div>
              <div class="stat">
                <div class="k">Inference ms</div>
                <div class="v" id="infer-ms" data-infer-ms>
                  {fmt1(p.inferMs)}
                </div>
              </div>
              <div class="stat">
                <div class="k">Backend</div>
                <div class="v" id="backend" safe>
                  {p.backend ?? "–"}
                </div>
              </div>
              <div class="stat">
                <div class="k">Events</div>
                <div class="v" id="events-total" data-events-total>
                  {String(p.eventsTotal)}
                </div>
              </div>
              <div class="stat">
                <div class="k">Viewers</div>
                <div class="v" id="clients">
                  {String(p.clients)}
                </div>
              </div>
            </div>
            <p class="muted" style="margin:10px 0 0">
              Threshold {String(p.threshold)} · boxes drawn by your browser
            </p>
          </section>
          <section class="card">
            <h2>
              Latest events <a href="/events">all →</a>
            </h2>
            <div class="thumbs small" id="recent">
              {p.recent.length === 0 ? (
                <p class="muted" id="no-events">
                  No events yet.
                </p>
              ) : (
                p.recent.map((e) => <Thumb e={e} />)
              )}
            </div>
          </section>
        </div>
      </div>
      <script>{DASHBOARD_JS}</script>
    </Layout>
  );
}

export interface GalleryProps {
  info: PageInfo;
  events: EventRecord[];
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
}

export function Gallery(p: GalleryProps): JSX.Element {
  const filtered = p.day !== undefined || p.reason !== undefined;
  return (
    <Layout title="hazardcam · events" active="events" info={p.info}>
      <h1>
        Events <small>{filtered ? `${p.matching} of ${p.total}` : String(p.total)} total</small>
      </h1>
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
        {filtered ? (
          <a class="button secondary" href="/events">
            Clear
          </a>
        ) : (
          ""
        )}
      </form>
      {p.events.length === 0 ? (
        <div class="card muted">No events{filtered ? " match these filters" : " yet"}.</div>
      ) : (
        <div class="thumbs" id="gallery">
          {p.events.map((e) => (
            <Thumb e={e} />
          ))}
        </div>
      )}
      <nav class="pager">
        {p.page > 1 ? (
          <a href={p.pageHref(p.page - 1)}>← Newer</a>
        ) : (
          <span class="muted">← Newer</span>
        )}
        <span>
          Page {String(p.page)} of {String(Math.max(1, p.pages))}
        </span>
        {p.page < p.pages ? (
          <a href={p.pageHref(p.page + 1)}>Older →</a>
        ) : (
          <span class="muted">Older →</span>
        )}
      </nav>
    </Layout>
  );
}

export interface EventPageProps {
  info: PageInfo;
  e: EventRecord;
  newer: EventRecord | null;
  older: EventRecord | null;
}

export function EventPage({ info, e, newer, older }: EventPageProps): JSX.Element {
  const nav = (
    <nav class="prevnext">
      {newer ? <a href={`/events/${newer.id}`}>← Newer</a> : <span class="muted">← Newer</span>}
      <a href="/events">All events</a>
      {older ? <a href={`/events/${older.id}`}>Older →</a> : <span class="muted">Older →</span>}
    </nav>
  );
  return (
    <Layout title={`hazardcam · event ${e.id}`} active="events" info={info}>
      <h1>
        Event {String(e.id)} <small safe>{fmtTime(e.time)}</small> <ReasonBadge reason={e.reason} />
      </h1>
      {nav}
      <div class="layout">
        <section class="card photo">
          <a href={`/out/${e.file}`}>
            <img src={`/out/${e.file}`} alt={`event ${e.id}`} />
          </a>
        </section>
        <div class="side">
          <section class="card">
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
          </section>
          <section class="card">
            <h2>
              Detections <small>{String(e.detections.length)}</small>
            </h2>
            {e.detections.length === 0 ? (
              <p class="muted">No detections recorded for this image.</p>
            ) : (
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
            )}
          </section>
        </div>
      </div>
      {nav}
    </Layout>
  );
}

export function NotFoundPage({ info }: { info: PageInfo }): JSX.Element {
  return (
    <Layout title="hazardcam · not found" active="" info={info}>
      <div class="card">
        <h1>Not found</h1>
        <p>
          Nothing here. Go to the <a href="/">live view</a> or the <a href="/events">events</a>.
        </p>
      </div>
    </Layout>
  );
}
