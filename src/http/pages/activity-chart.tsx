/**
 * The dashboard's "Activity today" panel (issue 12): two uPlot charts drawn in the browser by
 * src/http/client/activity-chart.js from /api/activity (people per 10 minutes, line crossings
 * per hour), a note for "no activity today yet" or "no activity data", and the same numbers as
 * text (#activity-summary). Included in the dashboard with one line; it takes no props: the
 * script fetches today's numbers and keeps them live.
 */
import { ACTIVITY_CHART_JS, UPLOT_CSS_URL, UPLOT_JS_URL } from "../client/activity.ts";

const ACTIVITY_CSS = `
.activity { margin-top: 16px; }
.activity h3 { font-size: 14px; font-weight: 600; margin: 12px 0 4px; color: var(--muted); }
.activity .chart { min-height: 170px; overflow: hidden; }
.activity .chart .uplot { width: 100%; }
.activity .u-legend { font-size: 12px; }
.activity .u-legend .u-marker { width: .8em; height: .8em; }
.activity[data-state="unavailable"] .chart { display: none; }
.activity .summary { margin: 8px 0 0; font-size: 14px; }
`;

export function ActivityChart(): JSX.Element {
  return (
    <section class="card activity" id="activity" data-state="loading" aria-labelledby="activity-h">
      <style>{ACTIVITY_CSS}</style>
      <link rel="stylesheet" href={UPLOT_CSS_URL} />
      <h2 id="activity-h">
        Activity today <a href="/events">timeline →</a>
      </h2>
      <p id="activity-note" class="muted">
        Loading…
      </p>
      <h3>People per 10 minutes</h3>
      <div class="chart" data-chart="people" aria-hidden="true"></div>
      <h3>Line crossings per hour</h3>
      <div class="chart" data-chart="crossings" aria-hidden="true"></div>
      <p id="activity-summary" class="summary" aria-live="polite"></p>
      <script src={UPLOT_JS_URL}></script>
      <script>{ACTIVITY_CHART_JS}</script>
    </section>
  );
}
