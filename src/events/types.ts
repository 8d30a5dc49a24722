/**
 * The shapes of the event archive (src/events/archive.ts): what a save takes, what a stored event
 * is, the queries, the retention rules and the folder names. Types and constants only, so every
 * module of the archive can share them without importing the Archive class.
 */
import type { Logger } from "../shared/log.ts";
import type { Detection } from "../shared/types.ts";
import type { SaveReason } from "./names.ts";

/** "import": an image put into outdir by hand whose name is not one of ours. */
export type EventReason = SaveReason | "import";
export const EVENT_REASONS: readonly EventReason[] = ["auto", "snapshot", "import"];

export interface EventRecord {
  id: number;
  /** ms since epoch. */
  time: number;
  reason: EventReason;
  people: number;
  detections: Detection[];
  inferMs: number;
  fps: number;
  /** Image file name inside outdir. */
  file: string;
  /** Thumbnail file name inside outdir/thumbs, or null (imported images have none). */
  thumb: string | null;
  /** Image size in bytes. */
  bytes: number;
}

export interface SaveInput {
  /** Annotated JPEG (quality 95). */
  jpeg: Uint8Array;
  thumbJpeg?: Uint8Array | null;
  reason: SaveReason;
  at: Date;
  people: number;
  detections: Detection[];
  inferMs: number;
  fps: number;
}

export interface RetentionOptions {
  /** Delete events older than this many days; 0 keeps them forever. */
  keepDays: number;
  /** Keep at most this many events; 0 means no limit. */
  maxEvents: number;
  /** Delete the oldest events while the outdir file system has less free space; 0 disables. */
  minFreeMb: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionOptions> = {
  keepDays: 30,
  maxEvents: 10000,
  minFreeMb: 500,
};

export interface ArchiveOptions extends Partial<RetentionOptions> {
  /** Clock for retention (ms since epoch); tests inject one. */
  now?: () => number;
  /** Free MB on the file system holding `dir`, or null if unknown; tests inject one. */
  freeMb?: (dir: string) => number | null;
  log?: Logger;
}

export interface EventQuery {
  /** Only events with time < before (ms since epoch). */
  before?: number;
  /** Only events with time > after (ms since epoch). */
  after?: number;
  reason?: EventReason;
  /** Local day `YYYY-MM-DD`. */
  day?: string;
  /** Default 100, at most 500. */
  limit?: number;
  offset?: number;
  /** Default "desc" (newest first). */
  order?: "asc" | "desc";
}

export interface ArchiveStats {
  total: number;
  diskFreeMb: number | null;
  /** Times (ms) of the oldest and newest events, null when empty. */
  oldest: number | null;
  newest: number | null;
  /** Last storage error (e.g. ENOSPC), cleared by the next successful save. */
  lastError: string | null;
}

export interface ReconcileResult {
  added: number;
  removed: number;
  tmpRemoved: number;
}

/** The sqlite index inside outdir (with its `-wal` and `-shm` companions). */
export const INDEX_FILE = ".hazardcam-index.sqlite";
/** Thumbnails, under the image's own name. */
export const THUMBS_DIR = "thumbs";
/** Most events one list() returns. */
export const MAX_LIMIT = 500;
/** Prefix of files being written; any left at open are a crash's and are deleted. */
export const TMP_PREFIX = ".tmp-";
