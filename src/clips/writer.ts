/**
 * Writes clips: `<outdir>/clips/<base>.mjpeg` and its `<base>.jsonl` index (format.ts), with
 * async file I/O only (node:fs/promises runs on Bun's thread pool), so the main thread never
 * blocks on the disk and the HTTP thread is never held up.
 *
 * API (main thread, one owner):
 *   const w = new ClipWriter({ outdir, onEvent });
 *   w.apply(plan.frame(f));   // or start()/append()/finish() with the plan's clip numbers
 *   w.stats()                 // queued bytes, dropped frames, last error
 *   await w.idle()            // everything queued so far is on disk
 *   await w.close()           // finishes open clips ("stopping"), then refuses new work
 *   await w.abort()           // closes the files as they are (what kill -9 leaves): tests
 * Events (onEvent), in order: "started" when a clip's files exist (insert its row, status
 * recording), "finished" when it is fsynced and renamed into place (update the row), or
 * "discarded" when nothing of it could be kept (delete the row, if any).
 *
 * - One queue, worked in order by one async loop: a clip's frames land in the order given, its
 *   index record is written after its frame's bytes, and clips finish before the next starts.
 * - Bounded: the frames waiting in the queue hold at most maxQueueBytes of JPEG (default 8 MiB,
 *   a few seconds at 15 fps). A frame arriving when that is full is dropped and counted (a gap
 *   in the clip, visible in the index times), logged once until the queue drains.
 * - While recording the files are `.part-<base>.*`; at the end: trailer line, fsync both, rename
 *   the index then the data into place, fsync the folder. recover.ts finishes what a crash left.
 * - A write error (ENOSPC above all) is reported as an HcError with its code and fix; the clip is
 *   cut back to its last whole frame (both files truncated) and finished cleanly, status
 *   "complete", reason "error"; its remaining frames are dropped. The next clip tries again.
 */
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { HcError, errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import {
  CLIPS_DIR,
  clipBase,
  fileNames,
  frameLine,
  headerLine,
  trailerLine,
  type ClipFileNames,
  type ClipStatus,
} from "./format.ts";
import { exists, syncDir, writeAll } from "./io.ts";
import type { ClipAction, FinishReason } from "./plan.ts";
import type { RingFrame } from "./ring.ts";

export interface ClipStart {
  visitId: number;
  visitStartMs: number;
  part: number;
  /** Capture time of the first frame. */
  firstMs: number;
}

/** A clip as the sqlite row needs it. */
export interface ClipInfo {
  /** The plan's clip number (unique per run), not the sqlite id. */
  clip: number;
  visitId: number;
  part: number;
  /** Final names inside <outdir>/clips. */
  file: string;
  index: string;
  startMs: number;
  /** Capture time of the last frame written (startMs until then). */
  endMs: number;
  frames: number;
  /** Bytes of the .mjpeg plus its index. */
  bytes: number;
}

export type ClipEvent =
  | { kind: "started"; clip: ClipInfo }
  | {
      kind: "finished";
      clip: ClipInfo;
      /** "complete" once renamed; "recording" if the rename failed (recovered next start). */
      status: ClipStatus;
      reason: FinishReason;
      error: HcError | null;
    }
  | { kind: "discarded"; clip: number; file: string | null; error: HcError | null };

export interface WriterOptions {
  /** The run's outdir; clips go into outdir/clips (created when needed). */
  outdir: string;
  /** JPEG bytes allowed to wait in the queue (default 8 MiB). */
  maxQueueBytes?: number;
  onEvent?: (e: ClipEvent) => void;
  log?: Logger;
}

export interface WriterStats {
  queuedBytes: number;
  queuedFrames: number;
  /** Frames dropped because the queue was full (the disk is slower than the camera). */
  droppedFrames: number;
  /** Frames dropped because their clip had failed or was unknown. */
  lostFrames: number;
  writtenFrames: number;
  writtenBytes: number;
  /** The last write error, or null. */
  lastError: HcError | null;
}

type Op =
  | { kind: "start"; clip: number; meta: ClipStart }
  | { kind: "frame"; clip: number; frame: RingFrame }
  | { kind: "finish"; clip: number; reason: FinishReason };

interface Open {
  info: ClipInfo;
  names: ClipFileNames;
  data: FileHandle;
  index: FileHandle;
  /** End of the last whole frame in data, end of the last whole line in index. */
  dataBytes: number;
  indexBytes: number;
}

export const DEFAULT_MAX_QUEUE_BYTES = 8 * 2 ** 20;
const encoder = new TextEncoder();

export class ClipWriter {
  readonly dir: string;
  private readonly maxQueueBytes: number;
  private readonly onEvent: (e: ClipEvent) => void;
  private readonly log: Logger;
  private queue: Op[] = [];
  private draining: Promise<void> | null = null;
  /** Clips being written (their start op has run and they have not ended). */
  private clips = new Map<number, Open>();
  private closed = false;
  private aborted = false;
  private dirReady = false;
  private readonly s: WriterStats = {
    queuedBytes: 0,
    queuedFrames: 0,
    droppedFrames: 0,
    lostFrames: 0,
    writtenFrames: 0,
    writtenBytes: 0,
    lastError: null,
  };

  constructor(opts: WriterOptions) {
    this.dir = join(opts.outdir, CLIPS_DIR);
    this.maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.log = opts.log ?? logger("clips");
  }

  stats(): WriterStats {
    return { ...this.s };
  }

  /** Applies the plan's actions, in order. */
  apply(actions: readonly ClipAction<RingFrame>[]): void {
    for (const a of actions) {
      if (a.kind === "start") this.start(a.clip, a);
      else if (a.kind === "append") this.append(a.clip, a.frames);
      else this.finish(a.clip, a.reason);
    }
  }

  start(clip: number, meta: ClipStart): void {
    this.enqueue({ kind: "start", clip, meta });
  }

  append(clip: number, frames: readonly RingFrame[]): void {
    for (const frame of frames) {
      const n = frame.jpeg.byteLength;
      if (this.closed) {
        this.s.lostFrames++;
        continue;
      }
      if (this.s.queuedBytes + n > this.maxQueueBytes) {
        this.s.droppedFrames++;
        this.log.once(
          "queue-full",
          "warn",
          `the disk is slower than the camera: dropping clip frames (queue full, ${this.maxQueueBytes} bytes)`,
        );
        continue;
      }
      this.s.queuedBytes += n;
      this.s.queuedFrames++;
      this.enqueue({ kind: "frame", clip, frame });
    }
  }

  finish(clip: number, reason: FinishReason): void {
    this.enqueue({ kind: "finish", clip, reason });
  }

  /** Resolves when everything queued so far has been done. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Finishes every open clip ("stopping") after the queued work; idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      for (const clip of this.clips.keys()) this.finish(clip, "stopping");
      this.closed = true;
    }
    await this.idle();
    // Clips whose start was still queued above.
    for (const [clip, o] of this.clips) await this.end(o, clip, "stopping", null);
  }

  /** Drops the queue and closes the files unfinished, as kill -9 would leave them. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.closed = true;
    this.queue = [];
    this.s.queuedBytes = 0;
    this.s.queuedFrames = 0;
    await this.idle();
    for (const o of this.clips.values()) {
      await Promise.allSettled([o.data.close(), o.index.close()]);
    }
    this.clips.clear();
  }

  private enqueue(op: Op): void {
    if (this.aborted || (this.closed && op.kind === "start")) return;
    this.queue.push(op);
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (let op = this.queue.shift(); op; op = this.queue.shift()) {
        if (op.kind === "frame") {
          this.s.queuedBytes -= op.frame.jpeg.byteLength;
          this.s.queuedFrames--;
          if (this.s.queuedBytes <= this.maxQueueBytes / 2) this.log.clear("queue-full");
        }
        await this.run(op);
      }
    } finally {
      this.draining = null;
    }
  }

  private async run(op: Op): Promise<void> {
    try {
      if (op.kind === "start") await this.begin(op.clip, op.meta);
      else if (op.kind === "frame") await this.write(op.clip, op.frame);
      else {
        const o = this.clips.get(op.clip);
        if (o) await this.end(o, op.clip, op.reason, null);
      }
    } catch (e) {
      // begin/write/end handle their I/O errors; this is a bug, not a disk problem.
      this.log.error(`${op.kind} of clip ${op.clip} failed: ${errorMessage(e)}`);
    }
  }

  private async begin(clip: number, meta: ClipStart): Promise<void> {
    let claimed: { names: ClipFileNames; data: FileHandle } | null = null;
    let index: FileHandle | null = null;
    try {
      if (!this.dirReady) await mkdir(this.dir, { recursive: true });
      this.dirReady = true;
      claimed = await this.claim(meta);
      index = await open(join(this.dir, claimed.names.partIndex), "w");
      const header = encoder.encode(
        headerLine({
          visitId: meta.visitId,
          visitStartMs: meta.visitStartMs,
          part: meta.part,
          startMs: meta.firstMs,
        }),
      );
      await writeAll(index, header, 0);
      const info: ClipInfo = {
        clip,
        visitId: meta.visitId,
        part: meta.part,
        file: claimed.names.data,
        index: claimed.names.index,
        startMs: meta.firstMs,
        endMs: meta.firstMs,
        frames: 0,
        bytes: header.length,
      };
      const o = { info, names: claimed.names, data: claimed.data, index, dataBytes: 0 };
      this.clips.set(clip, { ...o, indexBytes: header.length });
      this.emit({ kind: "started", clip: { ...info } });
    } catch (e) {
      // The folder may be gone (outdir deleted while running): make it again for the next clip.
      this.dirReady = false;
      const err = this.failure(e);
      await Promise.allSettled([claimed?.data.close(), index?.close()]);
      if (claimed) await this.unlinkParts(claimed.names);
      this.emit({ kind: "discarded", clip, file: claimed?.names.data ?? null, error: err });
    }
  }

  /** Creates `.part-<base>.mjpeg` with the first free base (neither final nor part exists). */
  private async claim(meta: ClipStart): Promise<{ names: ClipFileNames; data: FileHandle }> {
    for (let n = 1; ; n++) {
      const names = fileNames(clipBase(meta.visitStartMs, meta.part, n));
      const taken = await Promise.all(
        [names.data, names.index, names.partIndex].map((f) => exists(join(this.dir, f))),
      );
      if (taken.some(Boolean)) continue;
      try {
        return { names, data: await open(join(this.dir, names.partData), "wx") };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || n > 999) throw e;
      }
    }
  }

  private async write(clip: number, frame: RingFrame): Promise<void> {
    const o = this.clips.get(clip);
    if (!o) {
      this.s.lostFrames++;
      return;
    }
    const n = frame.jpeg.byteLength;
    const line = encoder.encode(
      frameLine({ o: o.dataBytes, n, t: frame.atMs, s: frame.seq, d: frame.overlay }),
    );
    try {
      await writeAll(o.data, frame.jpeg, o.dataBytes);
      await writeAll(o.index, line, o.indexBytes);
    } catch (e) {
      // Cut both files back to the last whole frame and record, then end the clip there.
      await Promise.allSettled([o.data.truncate(o.dataBytes), o.index.truncate(o.indexBytes)]);
      this.s.lostFrames++;
      await this.end(o, clip, "error", this.failure(e));
      return;
    }
    o.dataBytes += n;
    o.indexBytes += line.length;
    o.info.frames++;
    o.info.endMs = frame.atMs;
    this.s.writtenFrames++;
    this.s.writtenBytes += n + line.length;
  }

  /** Trailer, fsync, close, rename into place (or remove when no frame was written). */
  private async end(
    o: Open,
    clip: number,
    reason: FinishReason,
    error: HcError | null,
  ): Promise<void> {
    this.clips.delete(clip);
    if (o.info.frames === 0) {
      await Promise.allSettled([o.data.close(), o.index.close()]);
      await this.unlinkParts(o.names);
      this.emit({ kind: "discarded", clip, file: o.names.data, error });
      return;
    }
    const trailer = encoder.encode(
      trailerLine({
        end: "complete",
        frames: o.info.frames,
        bytes: o.dataBytes,
        endMs: o.info.endMs,
        reason,
      }),
    );
    try {
      await writeAll(o.index, trailer, o.indexBytes);
      o.indexBytes += trailer.length;
    } catch {
      // The trailer is a convenience: the clip is whole without it.
      await o.index.truncate(o.indexBytes).catch(() => undefined);
    }
    o.info.bytes = o.dataBytes + o.indexBytes;
    let status: ClipStatus = "complete";
    try {
      await Promise.all([o.data.sync(), o.index.sync()]);
      await Promise.allSettled([o.data.close(), o.index.close()]);
      await rename(join(this.dir, o.names.partIndex), join(this.dir, o.names.index));
      await rename(join(this.dir, o.names.partData), join(this.dir, o.names.data));
      await syncDir(this.dir);
    } catch (e) {
      await Promise.allSettled([o.data.close(), o.index.close()]);
      error ??= this.failure(e);
      status = "recording";
    }
    if (!error) this.log.clear("write");
    this.emit({ kind: "finished", clip: { ...o.info }, status, reason, error });
  }

  /** A listener's exception must not stop the queue. */
  private emit(e: ClipEvent): void {
    try {
      this.onEvent(e);
    } catch (err) {
      this.log.error(`clip event listener failed: ${errorMessage(err)}`);
    }
  }

  private failure(e: unknown): HcError {
    const code = (e as NodeJS.ErrnoException).code;
    const err =
      code === "ENOSPC"
        ? new HcError(
            "CLIP_DISK_FULL",
            `no space left on the disk of ${this.dir}`,
            "free space there, or lower --keep-days / raise --min-free-mb so that retention deletes old clips",
          )
        : new HcError(
            "CLIP_WRITE_FAILED",
            `cannot write a clip in ${this.dir}: ${errorMessage(e)}`,
            "check that the folder exists, is writable and its disk is healthy",
          );
    this.s.lastError = err;
    this.log.once("write", "error", `${err.message} (${err.code})`);
    return err;
  }

  private async unlinkParts(names: ClipFileNames): Promise<void> {
    await Promise.allSettled(
      [names.partData, names.partIndex].map((f) => unlink(join(this.dir, f))),
    );
  }
}
