/**
 * The event archive: annotated JPEGs in outdir (names as the original, src/events/names.ts),
 * thumbnails in outdir/thumbs (same name), and a bun:sqlite index outdir/.hazardcam-index.sqlite.
 * The Archive class is the one owner of all three; its parts:
 *
 * - src/events/db.ts          opening the index (an unreadable one is moved aside and rebuilt),
 *                             and every query;
 * - src/events/migrations.ts  the schema as numbered migrations (PRAGMA user_version);
 * - src/events/files.ts       atomic writes, off the main thread (tmp + fsync + link + dir fsync);
 * - src/events/save.ts        one event: a free name, the image, the thumbnail, the row;
 * - src/events/reconcile.ts   at open: the index made to agree with the folder;
 * - src/events/retention.ts   keepDays, maxEvents, minFreeMb, oldest first;
 * - src/events/json.ts        the JSON of an event (API, SSE, MQTT, webhooks);
 * - src/events/types.ts       the shapes and names shared by all of them.
 *
 * Saves are async and run one at a time, in call order (a promise chain): their file I/O is on
 * Bun's thread pool, the row and retention on the main thread once the files are whole. Queries
 * are synchronous. close() stops new saves at once, lets those already called finish, then
 * closes the index; its promise says when.
 */
import type { Database } from "bun:sqlite";
import fs from "node:fs";
import { join, resolve } from "node:path";
import { HcError, errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import { openIndex, type EventIndex } from "./db.ts";
import { defaultFreeMb, diskFull, nameTaken } from "./files.ts";
import { reconcile } from "./reconcile.ts";
import { enforce, retentionOf, type RetentionContext } from "./retention.ts";
import { writeEvent } from "./save.ts";
import {
  INDEX_FILE,
  MAX_LIMIT,
  THUMBS_DIR,
  type ArchiveOptions,
  type ArchiveStats,
  type EventQuery,
  type EventRecord,
  type ReconcileResult,
  type RetentionOptions,
  type SaveInput,
} from "./types.ts";

export * from "./types.ts";
export { eventJson, thumbUrl, type EventJson } from "./json.ts";

const closedError = () => new HcError("ARCHIVE_CLOSED", "the event archive is closed");

/** Creates outdir and outdir/thumbs; returns outdir's real path. */
function makeOutdir(outdir: string): string {
  try {
    fs.mkdirSync(join(outdir, THUMBS_DIR), { recursive: true });
    return fs.realpathSync(resolve(outdir));
  } catch (e) {
    throw new HcError(
      "OUTDIR",
      `cannot create output directory ${outdir}: ${errorMessage(e)}`,
      "pass a writable directory as <outdir>",
      2,
    );
  }
}

export class Archive {
  readonly outdir: string;
  readonly thumbsDir: string;
  readonly indexPath: string;
  readonly retention: Readonly<RetentionOptions>;
  /** Null once closed for good (after the saves in flight at close()). */
  private index: EventIndex | null;
  /** Set by close(): resolves when the index is closed. */
  private closing: Promise<void> | null = null;
  /** Tail of the save chain; never rejects. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Saves called and not yet settled. */
  private inFlight = 0;
  private readonly now: () => number;
  private readonly freeMbFn: (dir: string) => number | null;
  private readonly log: Logger;
  private readonly listeners = new Set<(e: EventRecord) => void>();
  private lastError: string | null = null;

  private constructor(
    outdir: string,
    index: EventIndex,
    rules: RetentionOptions,
    opts: ArchiveOptions,
    log: Logger,
  ) {
    this.outdir = outdir;
    this.thumbsDir = join(outdir, THUMBS_DIR);
    this.indexPath = join(outdir, INDEX_FILE);
    this.index = index;
    this.retention = rules;
    this.log = log;
    this.now = opts.now ?? Date.now;
    this.freeMbFn = opts.freeMb ?? defaultFreeMb;
  }

  /** Creates outdir (and thumbs), opens or rebuilds the index, reconciles, applies retention. */
  static open(outdir: string, opts: ArchiveOptions = {}): Archive {
    const log = opts.log ?? logger("events");
    const rules = retentionOf(opts);
    const dir = makeOutdir(outdir);
    const index = openIndex(join(dir, INDEX_FILE), log);
    const archive = new Archive(dir, index, rules, opts, log);
    try {
      const r = reconcile(index, archive, log);
      if (r.added || r.removed || r.tmpRemoved) {
        log.info(
          `reconciled ${dir}: ${r.added} added, ${r.removed} removed, ${r.tmpRemoved} temp files deleted`,
        );
      }
      enforce(archive.retentionContext(index));
    } catch (e) {
      index.close(); // the caller never gets the archive: nobody else would close it
      throw e;
    }
    return archive;
  }

  /** The index for queries; throws ARCHIVE_CLOSED from the moment close() is called. */
  private get conn(): EventIndex {
    if (this.closing || !this.index) throw closedError();
    return this.index;
  }

  /** The index for the saves in flight, which may finish after close() was called. */
  private live(): EventIndex {
    if (!this.index) throw closedError();
    return this.index;
  }

  /**
   * The index's database, for the tables other modules keep in it (the clips, migration 3). Ask
   * each time, do not keep it: the index is reopened if outdir is deleted while running, and this
   * throws ARCHIVE_CLOSED from the moment close() is called.
   */
  database(): Database {
    return this.conn.database();
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Idempotent. New saves and queries fail (ARCHIVE_CLOSED) at once; saves already called still
   * finish, then the index closes: await the promise before the process exits. Never rejects.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.listeners.clear();
    if (this.inFlight === 0) {
      this.closeIndex();
      this.closing = Promise.resolve();
    } else {
      this.closing = this.queue.then(() => this.closeIndex());
    }
    return this.closing;
  }

  private closeIndex(): void {
    const index = this.index;
    this.index = null;
    try {
      index?.close();
    } catch (e) {
      this.log.warn(`closing the index failed: ${errorMessage(e)}`);
    }
  }

  /** Called after every successful save (auto and snapshot); returns the unsubscribe. */
  onSaved(cb: (e: EventRecord) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * Syncs the index with the folder (src/events/reconcile.ts); open() does. Not while saves are
   * in flight: it would delete their temp files (ARCHIVE_BUSY).
   */
  reconcile(): ReconcileResult {
    const index = this.conn;
    if (this.inFlight > 0) {
      throw new HcError("ARCHIVE_BUSY", "cannot reconcile while events are being saved");
    }
    return reconcile(index, this, this.log);
  }

  /**
   * Saves an event; never overwrites (suffix `_2`, `_3`... within one second). Resolves once the
   * files are whole on disk and the row is committed, after the onSaved listeners ran. The
   * jpeg and thumbJpeg buffers are written as they are then: do not change them before.
   */
  async save(input: SaveInput): Promise<EventRecord> {
    if (this.closing || !this.index) throw closedError(); // before anything is queued
    if (!(input.jpeg instanceof Uint8Array) || input.jpeg.byteLength === 0) {
      throw new HcError("ARCHIVE_EMPTY_JPEG", "refusing to save an empty image");
    }
    this.inFlight++;
    // One save at a time, in call order: no two saves pick the same name.
    const run = this.queue.then(() => this.saveNow(input));
    this.queue = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      this.inFlight--;
    }
  }

  private async saveNow(input: SaveInput): Promise<EventRecord> {
    let rec: EventRecord;
    try {
      rec = await writeEvent(this.saveTarget(await this.reopenIfGone()), input);
    } catch (e) {
      rec = await this.retryWhenFull(e, input);
    }
    this.afterSave(rec);
    return rec;
  }

  /** A failed save: on a full disk retention frees the oldest events, then one more try. */
  private async retryWhenFull(e: unknown, input: SaveInput): Promise<EventRecord> {
    if (!diskFull(e)) {
      this.lastError = `save failed: ${errorMessage(e)}`;
      throw new HcError(
        "STORAGE_WRITE",
        `could not save the event in ${this.outdir}: ${errorMessage(e)}`,
        "check that outdir is writable",
      );
    }
    enforce(this.retentionContext(this.live()));
    try {
      return await writeEvent(this.saveTarget(this.live()), input);
    } catch (e2) {
      this.lastError = `disk full: ${errorMessage(e2)}`;
      throw new HcError(
        "STORAGE_FULL",
        `no space left to save the event in ${this.outdir}`,
        "free space on the card, or lower --keep-days / --max-events, or raise --min-free-mb",
      );
    }
  }

  /** The row is committed: clear the error, apply retention, tell the listeners. */
  private afterSave(rec: EventRecord): void {
    this.lastError = null;
    if (rec.thumb !== null) this.log.clear("thumb");
    try {
      enforce(this.retentionContext(this.live()));
    } catch (e) {
      this.log.once("retention", "warn", `retention failed: ${errorMessage(e)}`);
    }
    for (const cb of this.listeners) {
      try {
        cb(rec);
      } catch (e) {
        this.log.once("listener", "warn", `event listener failed: ${errorMessage(e)}`);
      }
    }
  }

  private saveTarget(index: EventIndex) {
    return { index, dirs: this, log: this.log };
  }

  /**
   * outdir (and the index in it) deleted while running: the open index is an unlinked file that
   * no restart would see. Make a new one from what is in the folder (nothing, usually).
   */
  private async reopenIfGone(): Promise<EventIndex> {
    const index = this.live();
    if (await nameTaken(this.indexPath)) return index;
    this.log.warn(`${this.indexPath} was deleted while running: recreating outdir and the index`);
    fs.mkdirSync(this.thumbsDir, { recursive: true });
    try {
      index.close();
    } catch {
      // The old handle only matters to the deleted file.
    }
    this.index = openIndex(this.indexPath, this.log);
    reconcile(this.index, this, this.log);
    return this.index;
  }

  private retentionContext(index: EventIndex): RetentionContext {
    return {
      index,
      dirs: this,
      rules: this.retention,
      now: this.now,
      freeMb: this.freeMbFn,
      log: this.log,
    };
  }

  /** Applies retention, oldest first; returns how many events were deleted. */
  enforce(): number {
    return enforce(this.retentionContext(this.conn));
  }

  list(q: EventQuery = {}): EventRecord[] {
    const limit = Math.min(MAX_LIMIT, Math.max(0, Math.floor(q.limit ?? 100)));
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    return this.conn.list(q, limit, offset);
  }

  count(q: EventQuery = {}): number {
    return this.conn.count(q);
  }

  get(id: number): EventRecord | null {
    return this.conn.get(id);
  }

  byFile(file: string): EventRecord | null {
    return this.conn.byFile(file);
  }

  byThumb(thumb: string): EventRecord | null {
    return this.conn.byThumb(thumb);
  }

  /** The events just newer and just older than `e` in (time, id) order. */
  neighbors(e: EventRecord): { newer: EventRecord | null; older: EventRecord | null } {
    return this.conn.neighbors(e);
  }

  /** Local days that have events, newest first, with their counts (for the day filter). */
  days(): { day: string; count: number }[] {
    return this.conn.days();
  }

  stats(): ArchiveStats {
    const r = this.conn.totals();
    return {
      total: r.n,
      diskFreeMb: this.freeMbFn(this.outdir),
      oldest: r.oldest,
      newest: r.newest,
      lastError: this.lastError,
    };
  }

  /** Absolute path of an image (or thumbnail) file name; the caller checks the name first. */
  pathOf(file: string, thumb = false): string {
    return join(thumb ? this.thumbsDir : this.outdir, file);
  }
}
