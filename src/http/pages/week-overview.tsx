/**
 * The week overview of the events page's activity panel: the seven local days up to the chosen
 * one, each a row with a strip of its hours (shaded by person-seconds, relative to the busiest
 * hour of the week; the hour's numbers in each cell's title), its visits, most people at once
 * and line crossings, and a link that picks the day. A day without any data says "no data".
 */
import type { BucketJson } from "../activity-data.ts";
import type { WeekDay } from "../day-activity.ts";
import { clock, personMinutes, weekday } from "./activity-format.ts";

const HOUR_MS = 3_600_000;

export interface WeekProps {
  week: WeekDay[];
  /** The day shown above (highlighted). */
  selected: string;
  href: (day: string) => string;
}

export function WeekOverview(p: WeekProps): JSX.Element {
  const maxSec = Math.max(0, ...p.week.flatMap((d) => d.hours.map((h) => h.person_seconds)));
  return (
    <div class="week-wrap">
      <table class="week" aria-label="the last seven days by hour">
        <thead>
          <tr>
            <th>Day</th>
            <th>By hour</th>
            <th>Visits</th>
            <th>Most</th>
            <th>In/out</th>
          </tr>
        </thead>
        <tbody>
          {p.week.map((d) => (
            <WeekRow d={d} on={d.day === p.selected} maxSec={maxSec} href={p.href(d.day)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WeekRow(p: { d: WeekDay; on: boolean; maxSec: number; href: string }): JSX.Element {
  const d = p.d;
  const none = d.hours.length === 0 && d.visits === 0;
  const c = d.totals.crossings;
  return (
    <tr class={p.on ? "on" : ""} data-day={d.day} data-state={none ? "empty" : "data"}>
      <td>
        <a href={p.href}>{`${weekday(d.start)} ${d.day.slice(5)}`}</a>
      </td>
      <td class="strip">
        {none ? <span class="none">no data</span> : <HourStrip d={d} maxSec={p.maxSec} />}
      </td>
      <td class="num">{none ? "–" : String(d.visits)}</td>
      <td class="num">{none ? "–" : String(d.totals.people_max)}</td>
      <td class="num">{none ? "–" : `${c.in} / ${c.out}`}</td>
    </tr>
  );
}

/** One cell per local hour of the day (23 or 25 on a DST day). */
function HourStrip({ d, maxSec }: { d: WeekDay; maxSec: number }): JSX.Element {
  const n = Math.round((d.end - d.start) / HOUR_MS);
  const byStart = new Map<number, BucketJson>(d.hours.map((h) => [h.start, h]));
  const cells: JSX.Element[] = [];
  for (let i = 0; i < n; i++) {
    const t = d.start + i * HOUR_MS;
    const h = byStart.get(t);
    const sec = h?.person_seconds ?? 0;
    const title = h
      ? `${clock(t)}: most at once ${h.people_max}, ${personMinutes(sec)}, ${h.crossings.in} in / ${h.crossings.out} out`
      : `${clock(t)}: nobody`;
    const opacity = sec > 0 && maxSec > 0 ? 0.2 + 0.8 * (sec / maxSec) : 1;
    cells.push(
      <rect
        class={sec > 0 ? "cell" : "zero"}
        x={i + 0.05}
        y="0"
        width="0.9"
        height="1"
        opacity={opacity.toFixed(2)}
      >
        <title>{title}</title>
      </rect>,
    );
  }
  return (
    <svg
      viewBox={`0 0 ${n} 1`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${d.day} by hour`}
    >
      {cells}
    </svg>
  );
}
