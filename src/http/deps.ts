/**
 * What the HTTP server needs from the rest of the program (implemented in src/serve.ts over the
 * pipeline and the archive). Each route module takes only the members it uses (a Pick of these).
 *
 *   config        what /status and the pages show; `auth` turns on HTTP Basic for every route.
 *   latest()      newest FrameState, null before the first frame and while offline.
 *   annotatedJpeg() newest frame with boxes + overlay (q80), null if none was encoded.
 *   wantAnnotated(on) called on changes of "does anyone need annotated frames": a /video client
 *                 without ?raw=1, or a /latest.jpg request in the last 10 s.
 *   onFrame(cb)   subscribe to new frames (returns the unsubscribe); held only while a stream
 *                 client is connected.
 *   status()      PipelineStatus; a superset is fine.
 *   snapshot()    saves the current frame (reason "snapshot") through the archive; null before
 *                 the first frame (or when the save failed: then archive.stats().lastError says why).
 *   noSignalJpeg(reason) a "no signal" JPEG with the reason and the time.
 *   archive       the event archive (src/events/archive.ts); /out serves only its files.
 *   startedAt     Date.now() at start.
 *   integrations? MQTT/webhook state for /status and the telemetry behind /metrics and /healthz
 *                 (src/integrations/); without it those routes use status() alone.
 *   scene?        tracks, zones, lines and visits (issue 11): the live feed, the zones file and
 *                 the stored visits; without it the routes answer as before issue 11.
 *   clips?        the visit clips (issue 12): their rows and folder, the recorder's /status;
 *                 set once the clips started (src/pipeline/clips.ts), read at request time.
 */
import type { Archive, EventRecord } from "../events/archive.ts";
import type { VisitsReader } from "../events/visit-types.ts";
import type { Integrations } from "../integrations/index.ts";
import type { ClipsService } from "../pipeline/clips-api.ts";
import type { SceneFeed, ZonesService } from "../pipeline/scene-api.ts";
import type { BasicAuth } from "../shared/config.ts";
import type { PipelineStatus } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";

export interface ServerConfig {
  model: string;
  /** As given on the command line ("0", "/dev/video2", "clip.mjpeg", "http://..."). */
  cam: string;
  threshold: number;
  /** Requested capture size (the actual one comes from status()). */
  width: number;
  height: number;
  outdir: string;
  cooldownSec: number;
  version: string;
  /** Informational: /status reports the archive's own retention (archive.retention). */
  keepDays?: number;
  maxEvents?: number;
  minFreeMb?: number;
  /** HTTP Basic credentials for every route; null/undefined = open (as the original). */
  auth?: BasicAuth | null;
}

export interface ServerDeps {
  config: ServerConfig;
  latest(): FrameState | null;
  annotatedJpeg(): Uint8Array | null;
  wantAnnotated(on: boolean): void;
  onFrame(cb: (s: FrameState) => void): () => void;
  status(): PipelineStatus;
  snapshot(): Promise<EventRecord | null>;
  noSignalJpeg(reason: string): Uint8Array;
  archive: Archive;
  startedAt: number;
  /** MQTT, webhooks and the telemetry behind /metrics and /healthz (src/integrations/). */
  integrations?: Integrations;
  scene?: SceneDeps;
  /** The visit clips (issue 12). */
  clips?: ClipsService;
}

/** The live scene and the stored visits (issue 11). */
export interface SceneDeps {
  feed: SceneFeed;
  zones: ZonesService;
  visits: VisitsReader;
}

/** Client counts of the live streams (the StreamHub), for /status, /metrics and the dashboard. */
export interface StreamCounts {
  readonly videoClients: number;
  readonly sseClients: number;
  /** The dashboard tabs on the WebSocket (/api/live); absent where no server runs them. */
  readonly live?: LiveCounts;
}

/** The dashboard tabs on the WebSocket (src/http/live/tabs.ts). */
export interface LiveCounts {
  clients: number;
  /** JPEGs sent to tabs since start, closed tabs included. */
  framesSent: number;
  /** The connected tabs, oldest first. */
  tabs: {
    /** Numbered from 1 in order of connection. */
    id: number;
    /** Shown (gets frames); a hidden tab gets state only. */
    visible: boolean;
    framesSent: number;
    /** New frames this tab did not get while visible: its socket was still busy. */
    framesSkipped: number;
    /** Bytes handed to its socket and not yet written. */
    bufferedBytes: number;
  }[];
}
