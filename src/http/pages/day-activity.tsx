/**
 * The events page's activity panel (issue 12): a day timeline (the visits as bars on the local
 * day's 24 h axis, each a link to /visits/:id, over grey bars of the most people at once per
 * 10 minutes), a day picker on the gallery's own `?day=` (so the gallery below shows the same
 * day), the visits as a list of links (the timeline's text alternative), and the week overview
 * (src/http/pages/week-overview.tsx).
 *
 * Why SVG rendered on the server rather than uPlot here: the bars are links, which SVG <a>
 * gives for free (keyboard focus, middle-click, no script); a day of visits is a few hundred
 * elements at most; and the page works without JavaScript. The SVG is one unit per minute
 * (viewBox 0..1440, 1380 or 1500 on a DST day) stretched to the card's width; the hour labels
 * are HTML below it, so text is never stretched.
 */
import { escapeHtml } from "@kitajs/html";
import { localDay } from "../../events/names.ts";
import type { VisitRecord, VisitsReader } from "../../events/visit-types.ts";
import { logger } from "../../shared/log.ts";
import { addLocalDays } from "../activity-data.ts";
import { loadDayActivity, type DayActivityData } from "../day-activity.ts";
import { DAY_ACTIVITY_CSS, clock, duration, people } from "./activity-format.ts";
import { WeekOverview } from "./week-overview.tsx";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const SVG_H = 64;
const VISIT_Y = 4;
const VISIT_H = 26;
const PEOPLE_BASE = SVG_H - 2;
const PEOPLE_H = 28;

const log = logger("http");

export interface DayActivityProps {
  /** null: no visits store (the scene analysis is off), or it failed (`error`). */
  data: DayActivityData | null;
  error?: string;
  /** The gallery's other filter, kept in the day links. */
  reason?: string | undefined;
}

/**
 * The panel for the events page: `day` from its day filter (default today). A failing store
 * costs the panel, never the page.
 */
export function dayActivityPanel(
  visits: VisitsReader | undefined,
  day: string | undefined,
  reason: string | undefined,
): JSX.Element {
  if (!visits) return <DayActivity data={null} />;
  try {
    return <DayActivity data={loadDayActivity(visits, day)} reason={reason} />;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.once(`activity:${msg}`, "error", `events page: activity not read: ${msg}`);
    return <DayActivity data={null} error={msg} />;
  }
}

/** `/events?day=...` keeping the reason filter. */
function dayHref(day: string, reason: string | undefined): string {
  const p = new URLSearchParams({ day });
  if (reason) p.set("reason", reason);
  return `/events?${p}`;
}

export function DayActivity(p: DayActivityProps): JSX.Element {
  if (!p.data) {
    return (
      <section class="card day-activity" id="day-activity" data-state="unavailable">
        <style>{DAY_ACTIVITY_CSS}</style>
        <h2>Activity</h2>
        <p class="muted" safe>
          {p.error
            ? `No activity data: ${p.error}`
            : "No activity data: the scene analysis (visits store) is not running."}
        </p>
      </section>
    );
  }
  const d = p.data;
  const empty = d.visitsTotal === 0 && d.tenMin.length === 0;
  return (
    <section
      class="card day-activity"
      id="day-activity"
      data-day={d.day}
      data-state={empty ? "empty" : "drawn"}
    >
      <style>{DAY_ACTIVITY_CSS}</style>
      <h2>
        Activity <small safe>{d.day}</small>
      </h2>
      <DayPicker data={d} reason={p.reason} />
      {empty ? <p class="muted empty-note">No activity on this day.</p> : ""}
      <Timeline data={d} />
      <HourLabels start={d.start} end={d.end} />
      <VisitList data={d} />
      <WeekOverview week={d.week} selected={d.day} href={(day) => dayHref(day, p.reason)} />
    </section>
  );
}

/** A date input on the gallery's `day` parameter, and the previous/next day and today. */
function DayPicker({ data, reason }: { data: DayActivityData; reason?: string | undefined }) {
  const today = localDay(data.nowMs);
  const prev = localDay(addLocalDays(data.start, -1));
  const next = localDay(data.end);
  return (
    <form class="day-picker" method="get" action="/events">
      <a class="button secondary" href={dayHref(prev, reason)} aria-label={`previous day, ${prev}`}>
        ←
      </a>
      <input type="date" name="day" value={data.day} max={today} aria-label="day" required />
      {reason ? <input type="hidden" name="reason" value={reason} /> : ""}
      <button type="submit">Show</button>
      {data.day < today ? (
        <a class="button secondary" href={dayHref(next, reason)} aria-label={`next day, ${next}`}>
          →
        </a>
      ) : (
        ""
      )}
      {data.day !== today ? (
        <a class="button secondary" href={dayHref(today, reason)}>
          Today
        </a>
      ) : (
        ""
      )}
    </form>
  );
}

/** What a visit bar and its list entry say. */
function visitText(v: VisitRecord): string {
  const zones = v.zones.length ? ` · ${v.zones.join(", ")}` : "";
  const open = v.open ? " · still open" : "";
  return `${clock(v.start)}–${clock(v.end)} · ${duration(v.durationMs)} · ${people(v.people)}${zones}${open}`;
}

function Timeline({ data }: { data: DayActivityData }): JSX.Element {
  const w = (data.end - data.start) / MINUTE_MS;
  const x = (ms: number): number => Math.min(w, Math.max(0, (ms - data.start) / MINUTE_MS));
  const maxPeople = Math.max(1, ...data.tenMin.map((b) => b.people_max));
  // A visit of seconds still gets a bar one can see and hit: at least 0.4 % of the day.
  const minW = w / 250;
  const grid: JSX.Element[] = [];
  for (let t = data.start + HOUR_MS, i = 1; t < data.end; t += HOUR_MS, i++) {
    grid.push(<line class={i % 6 === 0 ? "major" : ""} x1={x(t)} x2={x(t)} y1="0" y2={SVG_H} />);
  }
  const now = data.nowMs > data.start && data.nowMs < data.end;
  return (
    <svg
      class="timeline"
      viewBox={`0 0 ${w} ${SVG_H}`}
      preserveAspectRatio="none"
      role="group"
      aria-label={`visits on ${data.day} on a 24 hour axis`}
    >
      <g class="grid">{grid}</g>
      <g class="people">
        {data.tenMin.map((b) => {
          const h = (b.people_max / maxPeople) * PEOPLE_H;
          const title = `${clock(b.start)}–${clock(b.end)}: most at once ${b.people_max}`;
          return (
            <rect x={x(b.start)} y={PEOPLE_BASE - h} width={x(b.end) - x(b.start)} height={h}>
              <title>{title}</title>
            </rect>
          );
        })}
      </g>
      <g class="visits">
        {data.visits.map((v) => {
          const x0 = x(v.start);
          const width = Math.max(minW, x(v.end) - x0);
          const text = visitText(v);
          return (
            <a href={`/visits/${v.id}`} data-visit={String(v.id)} aria-label={escapeHtml(text)}>
              <title safe>{text}</title>
              <rect
                class={v.open ? "open" : ""}
                x={x0}
                y={VISIT_Y}
                width={width}
                height={VISIT_H}
              />
            </a>
          );
        })}
      </g>
      {now ? <line class="now" x1={x(data.nowMs)} x2={x(data.nowMs)} y1="0" y2={SVG_H} /> : ""}
    </svg>
  );
}

/** Every third local hour under the axis, placed by its real time (a DST day has 23 or 25). */
function HourLabels({ start, end }: { start: number; end: number }): JSX.Element {
  const labels: JSX.Element[] = [];
  for (let t = start; t < end; t += HOUR_MS) {
    const h = new Date(t).getHours();
    if (h % 3 !== 0) continue;
    const pct = ((t - start) / (end - start)) * 100;
    labels.push(<span style={`left:${pct.toFixed(3)}%`}>{String(h).padStart(2, "0")}</span>);
  }
  return (
    <div class="hours" aria-hidden="true">
      {labels}
    </div>
  );
}

/** The visits as links: the timeline's text alternative. */
function VisitList({ data }: { data: DayActivityData }): JSX.Element {
  const n = data.visitsTotal;
  const more = n > data.visits.length ? ` (the first ${data.visits.length} shown)` : "";
  if (n === 0) return <p class="muted visit-count">No visits on this day.</p>;
  return (
    <details class="visit-list">
      <summary>
        {n === 1 ? "1 visit" : `${n} visits`} on this day{more}
      </summary>
      <ol>
        {data.visits.map((v) => (
          <li>
            <a href={`/visits/${v.id}`} safe>
              {visitText(v)}
            </a>
          </li>
        ))}
      </ol>
    </details>
  );
}
