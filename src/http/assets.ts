/**
 * Inline CSS and browser scripts. Served verbatim inside <style>/<script> (never escaped, never
 * templated: the original broke on CSS braces). No external assets: the Pi may be offline.
 */
// @ts-expect-error: a text import of a .js file (no declaration; Bun gives its text)
import dashboardJs from "./client/dashboard.js" with { type: "text" };

export const CSS = `
:root {
  --bg: #f3f4f6; --card: #fff; --ink: #111827; --muted: #6b7280; --line: #e5e7eb;
  --head: #111827; --accent: #2563eb; --ok: #16a34a; --bad: #dc2626; --warn: #d97706;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top {
  background: var(--head); color: #f9fafb; display: flex; align-items: center; gap: 16px;
  padding: 10px 16px; flex-wrap: wrap; position: sticky; top: 0; z-index: 10;
}
header.top .brand { color: #fff; font-weight: 700; font-size: 18px; letter-spacing: .02em; }
header.top nav { display: flex; gap: 4px; flex: 1; }
header.top nav a { color: #d1d5db; padding: 6px 10px; border-radius: 6px; }
header.top nav a.on, header.top nav a:hover { background: #374151; color: #fff; text-decoration: none; }
.badge {
  display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  background: #4b5563; color: #fff; white-space: nowrap;
}
.badge.online { background: var(--ok); }
.badge.offline { background: var(--bad); }
.badge.auto { background: #0891b2; }
.badge.snapshot { background: #7c3aed; }
.badge.import { background: #6b7280; }
main { max-width: 1200px; margin: 0 auto; padding: 16px; }
h1 { font-size: 22px; margin: 4px 0 14px; }
h1 small, h2 small { color: var(--muted); font-weight: 400; font-size: 15px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px;
  box-shadow: 0 1px 2px rgba(0,0,0,.04);
}
.layout {
  display: grid; grid-template-columns: minmax(0, 2fr) minmax(260px, 1fr); gap: 16px; align-items: start;
}
.side { display: flex; flex-direction: column; gap: 16px; }
.stage { position: relative; background: #000; border-radius: 8px; overflow: hidden; line-height: 0; }
.stage img { width: 100%; height: auto; display: block; }
.stage canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
.offline-msg {
  margin-top: 10px; padding: 8px 12px; border-radius: 8px; background: #fef2f2; color: #991b1b;
  border: 1px solid #fecaca;
}
.hidden { display: none !important; }
.stats { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
.stat { background: var(--bg); border-radius: 8px; padding: 8px 10px; }
.stat .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.stat .v { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.stat.big { grid-column: span 2; }
.stat.big .v { font-size: 40px; }
.actions { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 12px; }
button, .button {
  font: inherit; font-weight: 600; border: 0; border-radius: 8px; padding: 10px 16px; cursor: pointer;
  background: var(--accent); color: #fff; display: inline-block;
}
.button.secondary { background: #e5e7eb; color: var(--ink); }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; }
.thumbs.small { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.thumb { display: block; color: var(--ink); background: var(--card); border: 1px solid var(--line);
  border-radius: 8px; overflow: hidden; }
.thumb:hover { text-decoration: none; border-color: var(--accent); }
.thumb img { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; display: block; background: #000; }
.thumb .meta { padding: 5px 8px 6px; font-size: 12px; display: flex; flex-direction: column; }
.thumb .meta span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.thumb .meta .t { font-weight: 600; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-bottom: 14px; }
select { font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--line); background: #fff; }
.pager { display: flex; gap: 12px; align-items: center; justify-content: center; margin: 18px 0 4px; }
.photo img { width: 100%; height: auto; display: block; border-radius: 8px; background: #000; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
td.file { overflow-wrap: anywhere; word-break: break-all; }
.prevnext { display: flex; justify-content: space-between; gap: 10px; margin: 12px 0; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 20px 16px 28px; word-break: break-all; }
@media (max-width: 820px) {
  .layout { grid-template-columns: minmax(0, 1fr); }
  main { padding: 10px; }
  .thumbs { grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); }
  .thumbs.small { grid-template-columns: repeat(3, minmax(0, 1fr)); }
}
`;

/**
 * The dashboard's script (src/http/client/dashboard.js: one WebSocket per tab for the picture
 * and the state). Bun inlines the text import at build time, so the binary carries it.
 */
export const DASHBOARD_JS: string = dashboardJs;
