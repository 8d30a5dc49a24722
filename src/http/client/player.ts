/**
 * The visit clip player's browser code (issue 12), as one script for the visit page's clip
 * section (src/http/pages/clip-section.tsx): the zone editor's painter (zones-draw.js, to draw
 * the zones and lines of the clip's time as the editor does), the player's pure logic
 * (player-core.js), its fetching and decoding (player-load.js) and the player (player.js). Plain
 * .js files next to this one, imported as text (Bun inlines them in the binary), served verbatim
 * inside one <script>: no external assets.
 */
// @ts-expect-error: a text import of a .js file (no declaration; Bun gives its text)
import zonesDrawJsText from "./zones-draw.js" with { type: "text" };
// @ts-expect-error: a text import of a .js file
import coreJsText from "./player-core.js" with { type: "text" };
// @ts-expect-error: a text import of a .js file
import loadJsText from "./player-load.js" with { type: "text" };
// @ts-expect-error: a text import of a .js file
import playerJsText from "./player.js" with { type: "text" };

/** The pure logic alone (unit tests evaluate it). */
export const PLAYER_CORE_JS: string = coreJsText;

export const PLAYER_JS: string = [
  zonesDrawJsText as string,
  PLAYER_CORE_JS,
  loadJsText as string,
  playerJsText as string,
].join("\n");
