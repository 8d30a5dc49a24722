/**
 * The dashboard's scene panel (issue 11): people now, in total and per zone, the line totals
 * since local midnight, and the open visit with a link to it. Rendered hidden and filled by its
 * script (src/http/client/scene-panel.js) from the dashboard's window events, so a server
 * without the scene analyzer shows nothing. The ids are what the script updates.
 */
// @ts-expect-error: a text import of a .js file (no declaration; Bun gives its text)
import scenePanelJsText from "../client/scene-panel.js" with { type: "text" };

export const SCENE_PANEL_JS: string = scenePanelJsText as string;

const SCENE_CSS = `
#scene-panel table { margin-top: 8px; }
#scene-panel td.num, #scene-panel th.num { text-align: right; width: 4.5em; }
#scene-panel .visit-now { margin: 10px 0 0; }
#scene-zones-error { margin: 8px 0 0; padding: 6px 10px; border-radius: 8px; background: #fef2f2;
  color: #991b1b; border: 1px solid #fecaca; }
`;

export function ScenePanel(): JSX.Element {
  return (
    <section class="card hidden" id="scene-panel">
      <style>{SCENE_CSS}</style>
      <h2>
        Zones and lines <a href="/visits">visits →</a>
      </h2>
      <div class="stats">
        <div class="stat big">
          <div class="k">People in zones</div>
          <div class="v" id="scene-in-zones">
            0
          </div>
        </div>
      </div>
      <table>
        <thead>
          <tr>
            <th>Zone</th>
            <th class="num">People</th>
          </tr>
        </thead>
        <tbody id="scene-zones"></tbody>
      </table>
      <table>
        <thead>
          <tr>
            <th>
              Line <small class="muted" id="scene-day"></small>
            </th>
            <th class="num">In</th>
            <th class="num">Out</th>
          </tr>
        </thead>
        <tbody id="scene-lines"></tbody>
      </table>
      <p class="visit-now" id="scene-visit">
        No visit open.
      </p>
      <p class="hidden" id="scene-zones-error" role="alert"></p>
      <script>{SCENE_PANEL_JS}</script>
    </section>
  );
}
