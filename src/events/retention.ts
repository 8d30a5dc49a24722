/**
 * Retention, oldest first: keepDays (age), maxEvents (count), minFreeMb (free space on the file
 * system holding outdir); 0 disables a rule. Runs at open, after every save and on a timer
 * (src/serve.ts), and after each clip (src/pipeline/clips.ts). The free-space rule never deletes
 * the newest event: deleting what was just saved would save nothing at all. Synchronous: a few
 * unlinks and rows.
 *
 * The visit clips (issue 12, <outdir>/clips, rows in the same index: migration 3) go through the
 * same rules first, in enforceClips(): see there.
 */
import { join } from "node:path";
import { clipCount, clipsBefore, deleteClip, oldestClips, type ClipRow } from "../clips/store.ts";
import { HcError, errorMessage } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { EventIndex, FileRow } from "./db.ts";
import type { Folders } from "./reconcile.ts";
import { unlinkQuiet } from "./files.ts";
import type { VisitFileRow } from "./visit-files.ts";
import { DEFAULT_RETENTION, type ArchiveOptions, type RetentionOptions } from "./types.ts";

/** The rules of `opts` with the defaults filled in; throws ARCHIVE_RETENTION on nonsense. */
export function retentionOf(opts: ArchiveOptions): RetentionOptions {
  const r: RetentionOptions = {
    keepDays: opts.keepDays ?? DEFAULT_RETENTION.keepDays,
    maxEvents: opts.maxEvents ?? DEFAULT_RETENTION.maxEvents,
    minFreeMb: opts.minFreeMb ?? DEFAULT_RETENTION.minFreeMb,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new HcError("ARCHIVE_RETENTION", `${k} must be a number >= 0, got ${v}`, "", 2);
    }
  }
  return r;
}

export interface RetentionContext {
  index: EventIndex;
  dirs: Folders;
  rules: Readonly<RetentionOptions>;
  /** ms since epoch. */
  now: () => number;
  /** Free MB on the file system holding `dir`, or null if unknown. */
  freeMb: (dir: string) => number | null;
  log: Logger;
}

/** Deletes the files, then the row, of each event; returns how many went. */
function deleteEvents(ctx: RetentionContext, rows: FileRow[]): number {
  let n = 0;
  for (const r of rows) {
    try {
      unlinkQuiet(join(ctx.dirs.outdir, r.file));
      if (r.thumb) unlinkQuiet(join(ctx.dirs.thumbsDir, r.thumb));
    } catch (e) {
      ctx.log.once("delete", "warn", `cannot delete ${r.file}: ${errorMessage(e)}`);
      continue;
    }
    ctx.index.delete(r.id);
    n++;
  }
  return n;
}

function byFreeSpace(ctx: RetentionContext): number {
  const { minFreeMb } = ctx.rules;
  let deleted = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    const free = ctx.freeMb(ctx.dirs.outdir);
    if (free === null || free >= minFreeMb) break;
    const batch = ctx.index.oldest(Math.max(0, Math.min(5, ctx.index.count() - 1)));
    if (batch.length === 0) {
      ctx.log.once(
        "lowdisk",
        "warn",
        `only ${free} MB free in ${ctx.dirs.outdir} (--min-free-mb ${minFreeMb}) and no events left to delete`,
      );
      break;
    }
    const n = deleteEvents(ctx, batch);
    if (n === 0) break;
    deleted += n;
  }
  return deleted;
}

/** Deletes each clip's two files, then its row; returns how many went and their bytes. */
function deleteClips(ctx: RetentionContext, rows: ClipRow[]): { n: number; bytes: number } {
  const db = ctx.index.database();
  const out = { n: 0, bytes: 0 };
  for (const c of rows) {
    try {
      deleteClip(db, ctx.dirs.outdir, c);
    } catch (e) {
      ctx.log.once("delete-clip", "warn", `cannot delete clip ${c.file}: ${errorMessage(e)}`);
      continue;
    }
    out.n++;
    out.bytes += c.bytes;
  }
  return out;
}

/**
 * The clips' retention, before the events' (enforce calls it first), with the same rules:
 * keepDays by the clip's last frame; maxEvents caps the number of clips too; and below minFreeMb
 * the oldest clips are deleted first, down to none, before any event: clips are the big files
 * (a few MB each against ~100 KB per event). A clip being recorded is never deleted (its row
 * says "recording"). Returns how many clips went.
 */
export function enforceClips(ctx: RetentionContext): number {
  const { keepDays, maxEvents, minFreeMb } = ctx.rules;
  const db = ctx.index.database();
  const gone = { n: 0, bytes: 0 };
  const add = (d: { n: number; bytes: number }): number => {
    gone.n += d.n;
    gone.bytes += d.bytes;
    return d.n;
  };
  if (keepDays > 0) add(deleteClips(ctx, clipsBefore(db, ctx.now() - keepDays * 86_400_000)));
  if (maxEvents > 0) {
    const excess = clipCount(db) - maxEvents;
    if (excess > 0) add(deleteClips(ctx, oldestClips(db, excess)));
  }
  for (let guard = 0; minFreeMb > 0 && guard < 100_000; guard++) {
    const free = ctx.freeMb(ctx.dirs.outdir);
    if (free === null || free >= minFreeMb) break;
    const batch = oldestClips(db, 5);
    if (batch.length === 0 || add(deleteClips(ctx, batch)) === 0) break;
  }
  if (gone.n) {
    const mb = Math.round(gone.bytes / 2 ** 20);
    ctx.log.info(`retention deleted ${gone.n} old clip(s), ${mb} MB`);
  }
  return gone.n;
}

/** Applies the rules, oldest first, the clips' before the events'; returns the events deleted. */
export function enforce(ctx: RetentionContext): number {
  const { keepDays, maxEvents, minFreeMb } = ctx.rules;
  enforceClips(ctx);
  let deleted = 0;
  if (keepDays > 0) {
    deleted += deleteEvents(ctx, ctx.index.olderThan(ctx.now() - keepDays * 86_400_000));
  }
  if (maxEvents > 0) {
    const excess = ctx.index.count() - maxEvents;
    if (excess > 0) deleted += deleteEvents(ctx, ctx.index.oldest(excess));
  }
  if (minFreeMb > 0) deleted += byFreeSpace(ctx);
  if (deleted) ctx.log.info(`retention deleted ${deleted} old event(s)`);
  return deleted;
}

/** What visit retention needs of the visits store (src/events/visits.ts). */
export interface VisitsRetention {
  /** Where the visit images are, for the free-space rule. */
  readonly dirs: { visitsDir: string };
  /** Closed visits that ended before cutoffMs, oldest first. */
  endedBefore(cutoffMs: number): VisitFileRow[];
  /** Deletes those visits (files, rows, tracks), and crossings and activity before cutoffMs. */
  deleteVisits(rows: readonly VisitFileRow[], cutoffMs: number): void;
  /** The oldest visits that still have an image, never the newest visit. */
  oldestImages(limit: number): VisitFileRow[];
  /** Deletes a visit's images; the visit stays. */
  dropImages(r: VisitFileRow): void;
}

export interface VisitRetentionContext {
  store: VisitsRetention;
  rules: Pick<RetentionOptions, "keepDays" | "minFreeMb">;
  now: () => number;
  freeMb: (dir: string) => number | null;
  log: Logger;
}

/**
 * Visits follow the events' rules (issue 11): older than keepDays, a visit goes with its images,
 * tracks and stills' links, and the crossings and activity minutes of that age go too; under
 * minFreeMb free, the oldest visit images go (the visits stay, without a picture), never the
 * newest one's. Returns how many visits were deleted.
 */
export function enforceVisits(ctx: VisitRetentionContext): number {
  const { keepDays, minFreeMb } = ctx.rules;
  let deleted = 0;
  if (keepDays > 0) {
    const cutoff = ctx.now() - keepDays * 86_400_000;
    const rows = ctx.store.endedBefore(cutoff);
    ctx.store.deleteVisits(rows, cutoff);
    deleted = rows.length;
    if (deleted) ctx.log.info(`retention deleted ${deleted} old visit(s)`);
  }
  if (minFreeMb > 0) {
    let dropped = 0;
    for (let guard = 0; guard < 100_000; guard++) {
      const free = ctx.freeMb(ctx.store.dirs.visitsDir);
      if (free === null || free >= minFreeMb) break;
      const batch = ctx.store.oldestImages(5);
      if (batch.length === 0) break;
      try {
        for (const r of batch) ctx.store.dropImages(r);
      } catch (e) {
        ctx.log.once("delete-visit", "warn", `cannot delete a visit snapshot: ${errorMessage(e)}`);
        break;
      }
      dropped += batch.length;
    }
    if (dropped) ctx.log.info(`low disk space: deleted the snapshots of ${dropped} old visit(s)`);
  }
  return deleted;
}
