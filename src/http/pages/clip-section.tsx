/**
 * The visit page's clip section (issue 12), under the best snapshot: the clip player (a canvas
 * with its controls, played by src/http/client/player.js from the clip index and Range requests
 * of the .mjpeg), the download links of the visit's clips (the consecutive parts of a long visit
 * play as one timeline), the MJPEG replay, and plain messages when there is nothing to play: no
 * clip (clips off, writing failed, deleted by retention) or a clip still being recorded.
 *
 * The clips are given by the route as their JSON (src/http/routes/clips.ts ClipJson) and handed
 * to the script in data-clips; the ids and data-* are what the script and the tests use.
 */
import type { VisitDetail } from "../../events/visit-types.ts";
import { PLAYER_JS } from "../client/player.ts";

/** What the player needs of a clip (a subset of ClipJson, src/http/routes/clips.ts). */
export interface PlayerClip {
  part: number;
  file: string;
  url: string;
  index_url: string;
  /** Capture times of the first and last frames, ms since epoch. */
  start: number;
  end: number;
  frames: number;
  bytes: number;
  status: "recording" | "complete" | "recovered";
  reason: string | null;
}

export interface ClipSectionProps {
  visit: VisitDetail;
  /**
   * The visit's clips in time order and whether clips are being recorded at all (--no-clips, or
   * --clip-pre 0 --clip-post 0, turn them off); absent when the server has no clips.
   */
  clips?: { enabled: boolean; list: PlayerClip[] };
}

const PLAYER_CSS = `
.clip h2 small { margin-left: 4px; }
.player .clip-stage { background: #000; border-radius: 8px; position: relative; line-height: 0; }
.player canvas { width: 100%; height: auto; display: block; border-radius: 8px; cursor: pointer;
  touch-action: manipulation; }
.player .clip-msg { position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%);
  background: rgba(17, 24, 39, .8); color: #f9fafb; border-radius: 8px; padding: 6px 12px;
  line-height: 1.4; font-size: 14px; max-width: 90%; text-align: center; }
.player .controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 8px; }
.player .controls button { padding: 8px 12px; min-width: 44px; min-height: 40px; }
.player .controls button.secondary { background: #e5e7eb; color: var(--ink); }
.player .controls button[aria-pressed="true"] { background: var(--ink); color: #fff; }
.player .speeds { display: flex; gap: 4px; }
.player #clip-scrub { width: 100%; margin: 10px 0 2px; min-height: 28px; accent-color: var(--accent); }
.player #clip-time { font-variant-numeric: tabular-nums; font-size: 14px; flex: 1; min-width: 12em; }
.player .layers { display: flex; gap: 12px; font-size: 14px; }
.player .layers label { display: flex; gap: 4px; align-items: center; min-height: 32px; }
.clip .notes { margin: 10px 0 0; font-size: 14px; }
.clip ul.files { margin: 8px 0 0; padding-left: 18px; font-size: 14px; overflow-wrap: anywhere; }
@media (max-width: 520px) {
  .player .controls button { padding: 8px 10px; }
  .player .speeds { order: 5; }
}
`;

/** JSON for an attribute: kitajs quotes it; `<`, `>` and `&` are escaped inside the JSON too. */
function attrJson(v: unknown): string {
  return JSON.stringify(v).replace(
    /[<>&]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function fmtBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function fmtSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** Why there is no clip, in words. */
function noClipText(p: ClipSectionProps): string {
  if (!p.clips || !p.clips.enabled) {
    return "No clip: clips are off on this camera (--no-clips, or --clip-pre 0 --clip-post 0).";
  }
  if (p.visit.open) return "No clip yet: it starts with the visit. Reload in a moment.";
  return "No clip was kept for this visit: writing it failed, or retention deleted it.";
}

export function ClipSection(p: ClipSectionProps): JSX.Element {
  const list = p.clips?.list ?? [];
  const playable = list.filter((c) => c.status !== "recording");
  const recording = list.some((c) => c.status === "recording");
  const spanMs = list.length > 0 ? list[list.length - 1]!.end - list[0]!.start : 0;
  const replay = `/api/visits/${p.visit.id}/clip.mjpeg`;
  return (
    <section class="card clip" id="visit-clip">
      {playable.length > 0 ? (
        // The browser fetches the index while it still parses the page (the script's fetch
        // then takes this response: same URL, mode and credentials).
        <link rel="preload" href={playable[0]!.index_url} as="fetch" crossorigin="anonymous" />
      ) : (
        ""
      )}
      <style>{PLAYER_CSS}</style>
      <h2>
        Clip{" "}
        {list.length > 0 ? (
          <small safe>
            {`${fmtSeconds(spanMs)}${list.length > 1 ? ` in ${list.length} parts` : ""}`}
          </small>
        ) : (
          ""
        )}
      </h2>
      {list.length === 0 ? (
        <p class="muted" id="clip-none" safe>
          {noClipText(p)}
        </p>
      ) : (
        <ClipPlayer visitId={p.visit.id} list={list} playable={playable.length > 0} />
      )}
      {recording ? (
        <p class="notes" id="clip-recording">
          {playable.length > 0
            ? "The last part is still being recorded: it joins the player when it is finished. "
            : "This clip is still being recorded (the visit is open, or its last seconds are being written): it plays here when it is finished, and this page follows. "}
          <a href={replay}>Watch it as it is recorded</a> (MJPEG replay).
        </p>
      ) : (
        ""
      )}
      {playable.length > 0 ? <ClipFiles list={playable} replay={replay} /> : ""}
      {list.length > 0 ? <script>{PLAYER_JS}</script> : ""}
    </section>
  );
}

function ClipPlayer(p: { visitId: number; list: PlayerClip[]; playable: boolean }): JSX.Element {
  return (
    <div
      class="player"
      id="clip-player"
      data-state={p.playable ? "loading" : "waiting"}
      data-clips={attrJson(p.list)}
      data-clips-url={`/api/visits/${p.visitId}/clips`}
    >
      {p.playable ? <PlayerControls /> : ""}
    </div>
  );
}

function PlayerControls(): JSX.Element {
  return (
    <>
      <div class="clip-stage">
        <canvas
          width="640"
          height="480"
          aria-label="the visit's clip; click to play or pause"
        ></canvas>
        <div class="clip-msg">Loading…</div>
      </div>
      <noscript>
        <p class="notes">The player needs JavaScript: download the clip below.</p>
      </noscript>
      <input
        type="range"
        id="clip-scrub"
        min="0"
        max="0"
        step="1"
        value="0"
        aria-label="position in the clip (one step per frame)"
      />
      <div class="controls">
        <button
          type="button"
          class="secondary"
          id="clip-prev"
          aria-label="previous frame"
          title="previous frame (←)"
        >
          ◀︎|
        </button>
        <button type="button" id="clip-play" aria-label="Play" title="play / pause (space)">
          ▶ Play
        </button>
        <button
          type="button"
          class="secondary"
          id="clip-next"
          aria-label="next frame"
          title="next frame (→)"
        >
          |▶︎
        </button>
        <span id="clip-time" aria-live="off">
          0:00.0
        </span>
        <span class="speeds" role="group" aria-label="speed">
          {["0.5", "1", "2", "4"].map((s) => (
            <button
              type="button"
              class="secondary"
              data-speed-to={s}
              aria-pressed={s === "1" ? "true" : "false"}
            >
              {`${s}×`}
            </button>
          ))}
        </span>
        <span class="layers">
          <label>
            <input type="checkbox" id="clip-show-boxes" checked /> boxes
          </label>
          <label>
            <input type="checkbox" id="clip-show-zones" checked /> zones
          </label>
        </span>
      </div>
    </>
  );
}

function ClipFiles(p: { list: PlayerClip[]; replay: string }): JSX.Element {
  return (
    <>
      <ul class="files" id="clip-downloads">
        {p.list.map((c) => (
          <li>
            <a href={c.url} download={c.file} safe>
              {c.file}
            </a>{" "}
            <span class="muted" safe>
              {`${c.frames} frames · ${fmtBytes(c.bytes)}${c.status === "recovered" ? " · cut short by a crash, kept to its last whole frame" : ""}`}
            </span>
          </li>
        ))}
      </ul>
      <p class="notes muted">
        Download the .mjpeg (VLC and ffmpeg play it), or{" "}
        <a href={p.replay}>replay it as a stream</a> (any MJPEG viewer). Keys: ← → a frame, space
        play/pause.
      </p>
    </>
  );
}
