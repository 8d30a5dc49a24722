/**
 * The live scene as HTTP and the integrations use it (issue 11): the analyzer's updates, the
 * zones file, and the JSON for /status and the live dashboard. Implemented in src/pipeline/
 * (the analyzer listens to the store's results; the zones file is loaded, watched and saved
 * there); consumers take these interfaces, so tests give them fakes.
 */
import type { VisitRecord } from "../events/visit-types.ts";
import type { SceneStatusJson } from "../shared/status.ts";
import type { SceneUpdate } from "../track/scene.ts";
import type { ZonesConfig } from "../track/zones.ts";

export type { SceneUpdate } from "../track/scene.ts";
export type { ZonesConfig } from "../track/zones.ts";

/**
 * A visit opened or closed, once the store has it: "open" when the visit rules open it, "close"
 * after its row is final and its best snapshot saved (so MQTT, webhooks and clips can link it).
 */
export interface VisitEvent {
  type: "open" | "close";
  /** When it happened (ms since the epoch): the open time, or the close time (end + the gap). */
  at: number;
  visit: VisitRecord;
}

export interface SceneFeed {
  /** Every analyzer update, one per detection result (tracks, crossings, visit open/close). */
  onUpdate(cb: (u: SceneUpdate) => void): () => void;
  /** Visits as stored: for MQTT, webhooks and the clip recorder. */
  onVisit(cb: (e: VisitEvent) => void): () => void;
  /** The live scene now, for /status, the SSE stream and the WebSocket. */
  statusJson(): SceneStatusJson;
}

export interface ZonesError {
  message: string;
  /** The offending key, e.g. "zones[1].points[2][0]", or null (unreadable file). */
  key: string | null;
  /** When the bad file was seen (ms since the epoch). */
  at: number;
}

export interface ZonesService {
  /** The file: <outdir>/zones.json or --zones PATH. */
  readonly path: string;
  /** The config in use (the last good one). */
  current(): ZonesConfig;
  /** Why the file on disk is not the one in use, or null. */
  error(): ZonesError | null;
  /**
   * Validates (a ZonesError-coded HcError naming the key: answer 400), writes the file
   * atomically, applies it live and returns it.
   */
  save(config: unknown): Promise<ZonesConfig>;
  /** After every applied change (a save, or the file edited by hand). */
  onChange(cb: (c: ZonesConfig) => void): () => void;
}
