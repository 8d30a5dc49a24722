/**
 * /api/visits/:id/clip.mjpeg: a visit's clip(s) replayed in real time as multipart/x-mixed-replace
 * (the /video format: same boundary and headers), for Home Assistant or any MJPEG viewer.
 *
 * - Frame times come from the clip index (src/clips/format.ts): frame i is due at its capture
 *   time minus the first frame's, from the moment the first frame is sent. The visit's clips
 *   (consecutive parts of a long visit) play one after the other on the same clock.
 * - Pull-based (highWaterMark 0), as the live clients (live/client.ts): the runtime asks for the
 *   next part only once the previous one went out, and a pull that finds the replay more than
 *   SKIP_BEHIND_MS behind sends the NEWEST due frame: a slow client skips frames and never
 *   queues them.
 * - A clip still being recorded (the visit is open, or its post-roll runs) is followed: at the
 *   end of what is written the index is read again, until the clip is finished or nothing new
 *   came for FOLLOW_IDLE_MS. Then the stream ends (the viewer shows the last frame).
 * - Frames are read with async file I/O, one at a time, as they are sent.
 */
import { join } from "node:path";
import { fileNames, parseIndex } from "../../clips/format.ts";
import type { ClipRow } from "../../pipeline/clips-api.ts";
import { multipartPart } from "./mjpeg.ts";

/**
 * Frames are skipped only when the replay is this far behind (ms): a timer that fires late on a
 * busy machine sends its frame late rather than dropping it.
 */
export const SKIP_BEHIND_MS = 250;
/** Re-read a recording clip's index this often (ms) once its written frames are sent. */
export const FOLLOW_POLL_MS = 500;
/** Stop following a recording clip after this long without a new frame (ms). */
export const FOLLOW_IDLE_MS = 10_000;

export interface ReplaySource {
  /** <outdir>/clips */
  dir: string;
  /** The visit's clips now, in time order (read again while one is recording). */
  clips(): ClipRow[];
}

interface ReplayFrame {
  /** Capture time, ms since epoch. */
  t: number;
  /** The clip's base name (the file name without .mjpeg). */
  base: string;
  o: number;
  n: number;
}

/** A clip's index: the final name first, then the recording one; null when neither is there. */
async function readIndex(dir: string, base: string): Promise<Uint8Array | null> {
  const names = fileNames(base);
  for (const name of [names.index, names.partIndex]) {
    try {
      return await Bun.file(join(dir, name)).bytes();
    } catch {
      // Not there (yet, or any more): try the other name.
    }
  }
  return null;
}

/** The frames of `clips`, in time order, strictly later than `afterMs`. */
export async function loadFrames(
  dir: string,
  clips: readonly ClipRow[],
  afterMs = -Infinity,
): Promise<ReplayFrame[]> {
  const out: ReplayFrame[] = [];
  let last = afterMs;
  for (const c of clips) {
    if (c.endMs <= last && c.status !== "recording") continue;
    const base = c.file.replace(/\.mjpeg$/, "");
    const bytes = await readIndex(dir, base);
    if (!bytes) continue;
    for (const f of parseIndex(bytes).frames) {
      if (f.t <= last) continue;
      out.push({ t: f.t, base, o: f.o, n: f.n });
      last = f.t;
    }
  }
  return out;
}

/** The JPEG of `f`, or null when it cannot be read whole (the file was renamed or removed). */
async function readFrame(dir: string, f: ReplayFrame): Promise<Uint8Array | null> {
  const names = fileNames(f.base);
  for (const name of [names.data, names.partData]) {
    try {
      const b = await Bun.file(join(dir, name))
        .slice(f.o, f.o + f.n)
        .bytes();
      const whole = b.length === f.n && b[0] === 0xff && b[1] === 0xd8 && b[f.n - 2] === 0xff;
      if (whole && b[f.n - 1] === 0xd9) return b;
    } catch {
      // Try the other name.
    }
  }
  return null;
}

/**
 * The frame to send at `elapsedMs`: the next one once due, or the newest due one when the replay
 * is more than SKIP_BEHIND_MS behind (a slow client); -1 if none is due yet.
 */
function dueFrame(frames: readonly ReplayFrame[], from: number, elapsedMs: number): number {
  const first = frames[0];
  const next = frames[from];
  if (!first || !next || next.t - first.t > elapsedMs) return -1;
  if (elapsedMs - (next.t - first.t) < SKIP_BEHIND_MS) return from;
  let j = from;
  while (j + 1 < frames.length && (frames[j + 1] as ReplayFrame).t - first.t <= elapsedMs) j++;
  return j;
}

export interface ReplayOptions {
  signal?: AbortSignal;
  /** Called once when the stream ends (closed, cancelled or aborted). */
  onClose?: () => void;
}

/** The replay as a stream of multipart parts; `frames` are the visit's frames loaded so far. */
export function replayStream(
  src: ReplaySource,
  frames: ReplayFrame[],
  opts: ReplayOptions = {},
): { stream: ReadableStream<Uint8Array>; close(): void } {
  const state = new ReplayState(src, frames, opts);
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => state.start(c),
      pull: (c) => state.pull(c),
      cancel: () => state.close(),
    },
    { highWaterMark: 0 },
  );
  return { stream, close: () => state.close() };
}

class ReplayState {
  private next = 0;
  private startedAt: number | null = null;
  private lastNewFrameAt = performance.now();
  private closed = false;
  private wake: () => void = () => undefined;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;

  constructor(
    private readonly src: ReplaySource,
    private frames: ReplayFrame[],
    private readonly opts: ReplayOptions,
  ) {
    opts.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = c;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    try {
      this.controller?.close();
    } catch {
      // Already closed or cancelled.
    }
    this.opts.onClose?.();
  }

  async pull(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (!this.closed) {
      const now = performance.now();
      // The clock starts with the first frame sent.
      const j = dueFrame(
        this.frames,
        this.next,
        this.startedAt === null ? 0 : now - this.startedAt,
      );
      if (j >= 0) {
        this.startedAt ??= now;
        this.next = j + 1;
        const jpeg = await readFrame(this.src.dir, this.frames[j] as ReplayFrame);
        if (this.closed) return;
        if (jpeg) return c.enqueue(multipartPart(jpeg));
        continue;
      }
      if (this.next < this.frames.length && this.startedAt !== null) {
        const first = (this.frames[0] as ReplayFrame).t;
        const dueAt = this.startedAt + ((this.frames[this.next] as ReplayFrame).t - first);
        await this.sleep(dueAt - now);
      } else if (!(await this.follow())) {
        return this.close();
      }
    }
  }

  /** At the end of the frames: waits for more of a clip being recorded; false when done. */
  private async follow(): Promise<boolean> {
    const clips = this.src.clips();
    const recording = clips.some((c) => c.status === "recording");
    const lastT = this.frames.at(-1)?.t ?? -Infinity;
    const more = await loadFrames(this.src.dir, clips, lastT);
    if (more.length > 0) {
      this.frames = this.frames.concat(more);
      this.lastNewFrameAt = performance.now();
      return true;
    }
    if (!recording || performance.now() - this.lastNewFrameAt > FOLLOW_IDLE_MS) return false;
    await this.sleep(FOLLOW_POLL_MS);
    return !this.closed;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wake = () => undefined;
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      this.wake = done;
    });
  }
}
