/**
 * The activity charts' browser code and where the pages load uPlot from (issue 12). The script
 * is a plain .js file next to this one, imported as text (Bun inlines it in the binary) and put
 * in its own <script> by src/http/pages/activity-chart.tsx. The uPlot URLs carry the version so
 * that a new uPlot is a new URL under the routes' year-long caching (src/http/routes/activity.ts).
 */
// @ts-expect-error: a text import of a .js file (no declaration; Bun gives its text)
import chartJsText from "./activity-chart.js" with { type: "text" };
import { UPLOT_VERSION } from "../vendor.ts";

/** The dashboard's chart script (activity-chart.js). */
export const ACTIVITY_CHART_JS: string = chartJsText;

export const UPLOT_JS_URL = `/assets/uplot.min.js?v=${UPLOT_VERSION}`;
export const UPLOT_CSS_URL = `/assets/uplot.min.css?v=${UPLOT_VERSION}`;
