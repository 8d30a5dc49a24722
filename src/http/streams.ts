/**
 * Live fan-out to many clients without queues: the MJPEG stream (/video) and the dashboard's
 * server-sent events (/api/stream).
 *
 * Each client is a pull-based ReadableStream (highWaterMark 0): the runtime pulls the next chunk
 * only once the previous one went out to the socket, and a pull always takes the NEWEST frame.
 * So a slow client skips frames instead of queueing them: at most one pending part per client.
 * Frames are signalled by deps.onFrame; the subscription exists only while a client is connected.
 */
import type { Archive, EventRecord } from "../events/archive.ts";
import { eventJson } from "../events/archive.ts";
import { logger } from "../shared/log.ts";
import type { FrameState } from "../shared/types.ts";

const log = logger("http");

export const BOUNDARY = "frame";
/** While offline, the no-signal frame is repeated this often (ms). */
export const NO_SIGNAL_INTERVAL_MS = 1000;
/** SSE comment sent when nothing else was sent for this long (ms), so proxies keep the stream. */
const SSE_KEEPALIVE_MS = 15_000;
/** SSE status event period (ms): counters that do not ride on frames (clients, events_total). */
const SSE_STATUS_MS = 5_000;
/** Saved events kept for a slow SSE client before the oldest is dropped. */
const SSE_MAX_PENDING_EVENTS = 20;
/** After a /latest.jpg request, keep asking the pipeline for annotated frames this long (ms). */
const LATEST_DEMAND_MS = 10_000;

export interface StreamSource {
  latest(): FrameState | null;
  annotatedJpeg(): Uint8Array | null;
  wantAnnotated(on: boolean): void;
  onFrame(cb: (s: FrameState) => void): () => void;
  /** Why we are offline (for the no-signal frame and the SSE status). */
  offlineReason(): string;
  /** True while the pipeline reports the camera online. */
  online(): boolean;
  noSignalJpeg(reason: string): Uint8Array;
  archive: Archive;
  /** Detections at or above this score are sent to the dashboard. */
  threshold: number;
  /** Extra status fields pushed to dashboards every few seconds. */
  statusJson(): Record<string, unknown>;
}

interface Client {
  kind: "video" | "sse";
  /** Needs annotated frames (a /video client without ?raw=1). */
  annotated: boolean;
  close(): void;
  /** Wakes a pending pull (a frame or a saved event arrived). */
  wake(): void;
}

const enc = new TextEncoder();

function multipartPart(jpeg: Uint8Array): Uint8Array {
  const head = enc.encode(
    `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.byteLength}\r\n\r\n`,
  );
  const out = new Uint8Array(head.byteLength + jpeg.byteLength + 2);
  out.set(head, 0);
  out.set(jpeg, head.byteLength);
  out[out.byteLength - 2] = 13;
  out[out.byteLength - 1] = 10;
  return out;
}

/** Sleeps up to `ms`, or less when woken; returns the wake-up function through `arm`. */
function sleep(ms: number, arm: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(t);
      arm(() => undefined);
      resolve();
    }
    arm(done);
  });
}

export interface VideoOptions {
  /** Send the camera's own JPEG instead of the annotated one. */
  raw: boolean;
  /** Max frames per second for this client, or null for every frame. */
  fps: number | null;
  signal?: AbortSignal;
}

export interface SseOptions {
  /** Max frame events per second. */
  fps: number;
  signal?: AbortSignal;
}

export class StreamHub {
  private readonly clients = new Set<Client>();
  private unsubFrame: (() => void) | null = null;
  private unsubSaved: (() => void) | null = null;
  private annotatedWanted = false;
  private latestDemandUntil = 0;
  private latestDemandTimer: ReturnType<typeof setTimeout> | null = null;
  /** One encoded part per source buffer, shared by every client. */
  private partCache = new WeakMap<Uint8Array, Uint8Array>();
  private sseFrameCache: { seq: number; text: string } | null = null;
  private noSignalCache: { key: string; part: Uint8Array } | null = null;

  constructor(private readonly src: StreamSource) {}

  get videoClients(): number {
    let n = 0;
    for (const c of this.clients) if (c.kind === "video") n++;
    return n;
  }

  get sseClients(): number {
    let n = 0;
    for (const c of this.clients) if (c.kind === "sse") n++;
    return n;
  }

  /** True while the hub holds a frame subscription (tests check it is dropped). */
  get subscribed(): boolean {
    return this.unsubFrame !== null;
  }

  /** Ends every open stream (call before app.stop, or on shutdown). */
  closeAll(): void {
    for (const c of [...this.clients]) c.close();
    if (this.latestDemandTimer) clearTimeout(this.latestDemandTimer);
    this.latestDemandTimer = null;
    this.latestDemandUntil = 0;
    this.updateDemand();
  }

  /** A /latest.jpg poller wants annotated frames for a while. */
  noteLatestDemand(): void {
    this.latestDemandUntil = Date.now() + LATEST_DEMAND_MS;
    if (this.latestDemandTimer) clearTimeout(this.latestDemandTimer);
    this.latestDemandTimer = setTimeout(() => {
      this.latestDemandTimer = null;
      this.updateDemand();
    }, LATEST_DEMAND_MS + 10);
    this.latestDemandTimer.unref?.();
    this.updateDemand();
  }

  private updateDemand(): void {
    let want = Date.now() < this.latestDemandUntil;
    for (const c of this.clients) if (c.annotated) want = true;
    if (want !== this.annotatedWanted) {
      this.annotatedWanted = want;
      try {
        this.src.wantAnnotated(want);
      } catch (e) {
        log.once("wantAnnotated", "warn", `wantAnnotated failed: ${(e as Error).message}`);
      }
    }
  }

  private add(c: Client): void {
    this.clients.add(c);
    if (!this.unsubFrame) {
      this.unsubFrame = this.src.onFrame(() => {
        for (const cl of this.clients) cl.wake();
      });
    }
    if (c.kind === "sse" && !this.unsubSaved) {
      this.unsubSaved = this.src.archive.onSaved((e) => this.broadcastSaved(e));
    }
    this.updateDemand();
  }

  private remove(c: Client): void {
    if (!this.clients.delete(c)) return;
    if (this.clients.size === 0 && this.unsubFrame) {
      this.unsubFrame();
      this.unsubFrame = null;
    }
    if (this.sseClients === 0 && this.unsubSaved) {
      this.unsubSaved();
      this.unsubSaved = null;
    }
    this.updateDemand();
  }

  private readonly savedQueues = new Map<Client, EventRecord[]>();

  private broadcastSaved(e: EventRecord): void {
    for (const [c, q] of this.savedQueues) {
      q.push(e);
      if (q.length > SSE_MAX_PENDING_EVENTS) q.shift();
      c.wake();
    }
  }

  private part(jpeg: Uint8Array): Uint8Array {
    let p = this.partCache.get(jpeg);
    if (!p) {
      p = multipartPart(jpeg);
      this.partCache.set(jpeg, p);
    }
    return p;
  }

  /** The no-signal part, encoded at most once per second and reason for all clients. */
  private noSignalPart(): Uint8Array {
    const reason = this.src.offlineReason();
    const key = `${Math.floor(Date.now() / NO_SIGNAL_INTERVAL_MS)}|${reason}`;
    if (this.noSignalCache?.key !== key) {
      this.noSignalCache = { key, part: multipartPart(this.src.noSignalJpeg(reason)) };
    }
    return this.noSignalCache.part;
  }

  /** The JPEG a client gets for `frame` (annotated unless raw; camera JPEG as fallback). */
  private frameJpeg(frame: FrameState, raw: boolean): Uint8Array {
    if (raw) return frame.jpeg;
    return this.src.annotatedJpeg() ?? frame.jpeg;
  }

  videoHeaders(): Record<string, string> {
    return {
      "content-type": `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      "cache-control": "no-store, no-cache, must-revalidate, max-age=0",
      pragma: "no-cache",
      "x-accel-buffering": "no",
    };
  }

  sseHeaders(): Record<string, string> {
    return {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store, no-cache, max-age=0",
      "x-accel-buffering": "no",
    };
  }

  /** multipart/x-mixed-replace response for /video. */
  video(opts: VideoOptions): Response {
    const minIntervalMs = opts.fps ? 1000 / opts.fps : 0;
    let closed = false;
    let wakeFn: () => void = () => undefined;
    let lastSeq = -1;
    let lastSentAt = -Infinity;
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
    const hub = this;

    const client: Client = {
      kind: "video",
      annotated: !opts.raw,
      wake: () => wakeFn(),
      close: () => {
        if (closed) return;
        closed = true;
        wakeFn();
        hub.remove(client);
        try {
          controllerRef?.close();
        } catch {
          // Already closed or errored by the runtime.
        }
      },
    };
    opts.signal?.addEventListener("abort", () => client.close(), { once: true });

    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          controllerRef = controller;
        },
        async pull(controller) {
          for (;;) {
            if (closed) return;
            const now = performance.now();
            const frame = hub.src.latest();
            if (frame && frame.seq !== lastSeq) {
              const dueIn = lastSentAt + minIntervalMs - now;
              if (dueIn <= 0) {
                lastSeq = frame.seq;
                lastSentAt = now;
                controller.enqueue(hub.part(hub.frameJpeg(frame, opts.raw)));
                return;
              }
              await sleep(dueIn, (w) => (wakeFn = w));
              continue;
            }
            const sinceMs = now - lastSentAt;
            // No new frame: while offline (or before the first frame) repeat the no-signal picture.
            if (sinceMs >= NO_SIGNAL_INTERVAL_MS && (!frame || !hub.src.online())) {
              lastSentAt = now;
              lastSeq = -1;
              controller.enqueue(hub.noSignalPart());
              return;
            }
            const waitMs = NO_SIGNAL_INTERVAL_MS - sinceMs;
            await sleep(waitMs > 0 ? waitMs : NO_SIGNAL_INTERVAL_MS, (w) => (wakeFn = w));
          }
        },
        cancel() {
          client.close();
        },
      },
      { highWaterMark: 0 },
    );
    this.add(client);
    return new Response(stream, { headers: this.videoHeaders() });
  }

  private sseFrameText(frame: FrameState): string {
    if (this.sseFrameCache?.seq === frame.seq) return this.sseFrameCache.text;
    const t = this.src.threshold;
    const data = {
      seq: frame.seq,
      t: frame.grabbedAt,
      w: frame.width,
      h: frame.height,
      people: frame.people,
      fps: round1(frame.captureFps),
      detect_fps: round1(frame.detectFps),
      infer_ms: round1(frame.inferMs),
      det: frame.detections
        .filter((d) => d.score >= t)
        .map((d) => ({
          l: d.label,
          s: Math.round(d.score * 1000) / 1000,
          b: [d.box.ymin, d.box.xmin, d.box.ymax, d.box.xmax].map(
            (v) => Math.round(v * 10000) / 10000,
          ),
        })),
    };
    const text = sseMessage("frame", data);
    this.sseFrameCache = { seq: frame.seq, text };
    return text;
  }

  /** text/event-stream for the dashboard: `status`, `frame` and `saved` events. */
  sse(opts: SseOptions): Response {
    const minIntervalMs = 1000 / opts.fps;
    let closed = false;
    let wakeFn: () => void = () => undefined;
    let lastSeq = -1;
    let lastFrameAt = -Infinity;
    let lastWriteAt = performance.now();
    let lastStatusAt = -Infinity;
    let lastOnline: boolean | null = null;
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
    const hub = this;
    const queue: EventRecord[] = [];

    const client: Client = {
      kind: "sse",
      annotated: false,
      wake: () => wakeFn(),
      close: () => {
        if (closed) return;
        closed = true;
        wakeFn();
        hub.savedQueues.delete(client);
        hub.remove(client);
        try {
          controllerRef?.close();
        } catch {
          // Already closed.
        }
      },
    };
    opts.signal?.addEventListener("abort", () => client.close(), { once: true });

    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          controllerRef = controller;
          controller.enqueue(enc.encode("retry: 2000\n\n"));
        },
        async pull(controller) {
          for (;;) {
            if (closed) return;
            const now = performance.now();
            const send = (text: string): void => {
              lastWriteAt = now;
              controller.enqueue(enc.encode(text));
            };
            if (queue.length) {
              send(
                queue
                  .splice(0)
                  .map((e) => sseMessage("saved", eventJson(e)))
                  .join(""),
              );
              return;
            }
            const online = hub.src.online();
            if (online !== lastOnline || now - lastStatusAt >= SSE_STATUS_MS) {
              lastOnline = online;
              lastStatusAt = now;
              send(sseMessage("status", hub.src.statusJson()));
              return;
            }
            const frame = hub.src.latest();
            if (frame && frame.seq !== lastSeq) {
              const dueIn = lastFrameAt + minIntervalMs - now;
              if (dueIn <= 0) {
                lastSeq = frame.seq;
                lastFrameAt = now;
                send(hub.sseFrameText(frame));
                return;
              }
              await sleep(dueIn, (w) => (wakeFn = w));
              continue;
            }
            if (now - lastWriteAt >= SSE_KEEPALIVE_MS) {
              send(": keepalive\n\n");
              return;
            }
            // Wake at least once a second to notice offline/online changes.
            await sleep(1000, (w) => (wakeFn = w));
          }
        },
        cancel() {
          client.close();
        },
      },
      { highWaterMark: 0 },
    );
    this.savedQueues.set(client, queue);
    this.add(client);
    return new Response(stream, { headers: this.sseHeaders() });
  }
}

function round1(v: number): number {
  return Number.isFinite(v) ? Math.round(v * 10) / 10 : 0;
}

/** One SSE message; JSON never contains a raw newline, so one `data:` line suffices. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
