/** Times, durations and styles of the events page's activity panel (day-activity.tsx). */

const pad = (n: number): string => String(n).padStart(2, "0");

/** Local `HH:MM`. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `45 s`, `2 min 30 s`, `1 h 05 min`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${pad(m % 60)} min`;
}

export const people = (n: number): string => (n === 1 ? "1 person" : `${n} people`);

/** Person-seconds as person-minutes with one decimal. */
export const personMinutes = (sec: number): string => `${(sec / 60).toFixed(1)} person-min`;

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** `Tue` for a local day start. */
export const weekday = (ms: number): string => WEEKDAYS[new Date(ms).getDay()] as string;

export const DAY_ACTIVITY_CSS = `
.day-activity { margin-bottom: 14px; }
.day-picker { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-bottom: 10px; }
.day-picker input { font: inherit; padding: 7px 8px; border-radius: 8px; border: 1px solid var(--line); }
.day-picker .button { padding: 8px 12px; }
.timeline { display: block; width: 100%; height: 64px; background: var(--bg); border-radius: 6px; }
.timeline .grid line { stroke: #d1d5db; stroke-width: 1; vector-effect: non-scaling-stroke; }
.timeline .grid line.major { stroke: #9ca3af; }
.timeline .people rect { fill: #9ca3af; opacity: .55; }
.timeline .visits rect { fill: var(--accent); }
.timeline .visits rect.open { fill: var(--warn); }
.timeline .visits a:hover rect, .timeline .visits a:focus rect { fill: #1e40af; }
.timeline .now { stroke: var(--bad); stroke-width: 2; vector-effect: non-scaling-stroke; }
.day-activity .hours { position: relative; height: 18px; font-size: 12px; color: var(--muted); }
.day-activity .hours span { position: absolute; transform: translateX(-50%); }
.day-activity .hours span:first-child { transform: none; }
.visit-list { margin: 6px 0 10px; font-size: 14px; }
.visit-list ol { margin: 6px 0; padding-left: 22px; columns: 2 300px; }
.week-wrap { overflow-x: auto; margin-top: 12px; }
.week td, .week th { padding: 4px 5px; white-space: nowrap; }
.week tr.on { background: #eff6ff; }
.week td.strip { width: 100%; min-width: 72px; }
.week svg { display: block; width: 100%; height: 18px; }
.week svg rect.cell { fill: var(--accent); }
.week svg rect.zero { fill: #e5e7eb; }
.week .none { color: var(--muted); font-style: italic; }
`;
