/** Numbers and times as the pages show them (local time of the server). */

const pad = (n: number): string => String(n).padStart(2, "0");

/** Local `YYYY-MM-DD HH:MM:SS`. */
export function fmtTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
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

/** One decimal; "0.0" for NaN and infinities. */
export const fmt1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : "0.0");
