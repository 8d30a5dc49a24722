/**
 * The zone editor's panel on the dashboard (issue 11), under the live picture: a summary of the
 * zones, masks and lines, "Edit zones" and its tools (draw a zone, a mask or a line; name;
 * delete; save; cancel), the save result, and how each kind counts. Rendered hidden: the script
 * (src/http/client/zones.js, painting in zones-draw.js) shows it once GET /api/zones answers,
 * so a server without the scene analyzer shows nothing. The ids are what the script uses.
 */
// @ts-expect-error: a text import of a .js file (no declaration; Bun gives its text)
import zonesDrawJsText from "../client/zones-draw.js" with { type: "text" };
// @ts-expect-error: a text import of a .js file
import zonesJsText from "../client/zones.js" with { type: "text" };
import { LINE_DIRECTION_TEXT } from "../../track/zones.ts";

/** Both scripts, painting first; served verbatim inside one <script>. */
export const ZONES_JS: string = `${zonesDrawJsText as string}\n${zonesJsText as string}`;

const ZONES_CSS = `
.zones-panel { margin-top: 12px; padding-top: 10px; border-top: 1px solid var(--line); }
.zones-panel h3 { font-size: 15px; margin: 0 0 4px; display: flex; align-items: center;
  justify-content: space-between; gap: 10px; }
.zones-panel p { margin: 4px 0; }
.zones-panel button { padding: 6px 12px; }
.zones-panel button[aria-pressed="true"] { background: #1e3a8a; box-shadow: inset 0 0 0 2px #93c5fd; }
.zones-panel button:disabled { opacity: .5; cursor: default; }
.zones-panel .actions { margin-top: 8px; align-items: center; }
.zones-panel input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 8px;
  width: 14em; max-width: 100%; }
.zones-panel input:invalid { border-color: var(--bad); outline-color: var(--bad); }
#zones-msg[data-state="ok"] { color: var(--ok); font-weight: 600; }
#zones-msg[data-state="bad"] { color: var(--bad); font-weight: 600; }
.zones-file-error { padding: 6px 10px; border-radius: 8px; background: #fef2f2; color: #991b1b;
  border: 1px solid #fecaca; }
.zones-panel details { color: var(--muted); font-size: 13px; margin-top: 6px; }
`;

export function ZonesPanel(): JSX.Element {
  return (
    <div class="zones-panel hidden" id="zones-panel">
      <style>{ZONES_CSS}</style>
      <h3>
        Zones, masks and lines
        <button type="button" id="zones-edit">
          Edit zones
        </button>
      </h3>
      <p class="muted" id="zones-summary"></p>
      <p class="zones-file-error hidden" id="zones-file-error" role="alert"></p>
      <div id="zones-tools" class="hidden">
        <div class="actions">
          <button type="button" data-zones-tool="zones">
            Draw zone
          </button>
          <button type="button" data-zones-tool="masks">
            Draw mask
          </button>
          <button type="button" data-zones-tool="lines">
            Draw line
          </button>
        </div>
        <div class="actions">
          <label>
            Name{" "}
            <input id="zones-name" maxlength="32" autocomplete="off" spellcheck="false" disabled />
          </label>
          <button type="button" id="zones-delete" class="secondary button" disabled>
            Delete
          </button>
        </div>
        <div class="actions">
          <button type="button" id="zones-save">
            Save
          </button>
          <button type="button" id="zones-cancel" class="secondary button">
            Cancel
          </button>
        </div>
      </div>
      <p id="zones-msg" role="status" aria-live="polite"></p>
      <ZonesHelp />
      <script>{ZONES_JS}</script>
    </div>
  );
}

function ZonesHelp(): JSX.Element {
  return (
    <details>
      <summary>How zones, masks and lines count</summary>
      <p>
        A person is in a zone when the bottom centre of their box (their feet) is inside it; without
        zones the whole picture is one. People whose feet are in a mask are ignored (a TV, a poster,
        the street). A line counts each person crossing it once, as in or out:{" "}
        <span safe>{LINE_DIRECTION_TEXT}</span> The arrow on the picture points to the in side.
      </p>
    </details>
  );
}
