/**
 * Third-party browser code embedded in the binary and served from it, never from a CDN (the Pi
 * may have no internet). Bun inlines these text imports at build time, so `bun build --compile`
 * carries them without any file next to the binary.
 *
 * uPlot (https://github.com/leeoniya/uPlot, MIT, pinned in package.json): the activity charts of
 * issue 12; about 51 KB of minified JS (~23 KB gzipped) and 2 KB of CSS. Serve each string with
 * its content type (application/javascript, text/css, text/plain for the license) and a
 * long-lived cache header keyed by UPLOT_VERSION; the page loads the IIFE build, which defines
 * the global `uPlot`.
 *
 * The imports are files TypeScript has no declaration for (`.js` without allowJs, `.css`, a file
 * without extension): @ts-expect-error covers that; the `string` annotations below are the real
 * types (Bun's `type: "text"` always yields the file's text).
 */
// @ts-expect-error: a text import of a .js file (no declaration; Bun gives its text)
import uplotJsText from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
// @ts-expect-error: a text import of a .css file
import uplotCssText from "uplot/dist/uPlot.min.css" with { type: "text" };
// @ts-expect-error: a text import of the license file
import uplotLicenseText from "uplot/LICENSE" with { type: "text" };

/** The version in package.json (exact pin), for cache keys and the license notice. */
export const UPLOT_VERSION = "1.6.32";

/** uPlot's minified IIFE build: defines `window.uPlot`. */
export const uplotJs: string = uplotJsText;
/** uPlot's stylesheet. */
export const uplotCss: string = uplotCssText;
/** uPlot's MIT license, to serve alongside (e.g. /assets/uplot.LICENSE.txt). */
export const uplotLicense: string = uplotLicenseText;
