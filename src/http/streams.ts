/**
 * Live fan-out to many clients without queues: the MJPEG stream (/video, live/mjpeg.ts) and the
 * dashboard's server-sent events (/api/stream, live/sse.ts). Each client is a pull-based stream
 * that always takes the newest frame (live/client.ts), so a slow client skips frames.
 *
 * The hub counts the clients, holds the frame subscription (deps.onFrame) only while a client is
 * connected and the saved-event subscription only while an SSE client is, and tells the pipeline
 * whether anyone needs annotated frames.
 */
import type { Archive, EventRecord } from "../events/archive.ts";
import { logger } from "../shared/log.ts";
import type { FrameState } from "../shared/types.ts";
import { PullClient, type ClientKind, type ClientLoop } from "./live/client.ts";
import {
  MJPEG_HEADERS,
  MjpegParts,
  mjpegLoop,
  type MjpegSource,
  type VideoOptions,
} from "./live/mjpeg.ts";
import { SSE_HEADERS, SseFrames, sseLoop, type SseOptions, type SseSource } from "./live/sse.ts";

export type { VideoOptions } from "./live/mjpeg.ts";
export type { SseOptions } from "./live/sse.ts";

const log = logger("http");

/** Saved events kept for a slow SSE client before the oldest is dropped. */
const SSE_MAX_PENDING_EVENTS = 20;
/** After a /latest.jpg request, keep asking the pipeline for annotated frames this long (ms). */
const LATEST_DEMAND_MS = 10_000;

export interface StreamSource extends MjpegSource, SseSource {
  wantAnnotated(on: boolean): void;
  onFrame(cb: (s: FrameState) => void): () => void;
  archive: Archive;
}

export class StreamHub {
  private readonly clients = new Set<PullClient>();
  /** Saved events not yet sent, per SSE client. */
  private readonly savedQueues = new Map<PullClient, EventRecord[]>();
  private unsubFrame: (() => void) | null = null;
  private unsubSaved: (() => void) | null = null;
  private annotatedWanted = false;
  private latestDemandUntil = 0;
  private latestDemandTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly parts: MjpegParts;
  private readonly sseFrames: SseFrames;

  constructor(private readonly src: StreamSource) {
    this.parts = new MjpegParts(src);
    this.sseFrames = new SseFrames(src);
  }

  get videoClients(): number {
    return this.count("video");
  }

  get sseClients(): number {
    return this.count("sse");
  }

  private count(kind: ClientKind): number {
    let n = 0;
    for (const c of this.clients) if (c.kind === kind) n++;
    return n;
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

  videoHeaders(): Record<string, string> {
    return { ...MJPEG_HEADERS };
  }

  sseHeaders(): Record<string, string> {
    return { ...SSE_HEADERS };
  }

  /** multipart/x-mixed-replace response for /video. */
  video(opts: VideoOptions): Response {
    const loop = mjpegLoop(this.parts, opts);
    const stream = this.open("video", !opts.raw, loop, opts.signal);
    return new Response(stream, { headers: this.videoHeaders() });
  }

  /** text/event-stream for the dashboard: `status`, `frame` and `saved` events. */
  sse(opts: SseOptions): Response {
    const queue: EventRecord[] = [];
    const loop = sseLoop(this.sseFrames, opts, queue);
    const stream = this.open("sse", false, loop, opts.signal, queue);
    return new Response(stream, { headers: this.sseHeaders() });
  }

  private open(
    kind: ClientKind,
    annotated: boolean,
    loop: ClientLoop,
    signal: AbortSignal | undefined,
    savedQueue?: EventRecord[],
  ): ReadableStream<Uint8Array> {
    const client: PullClient = new PullClient(kind, annotated, loop, () => this.remove(client));
    signal?.addEventListener("abort", () => client.close(), { once: true });
    if (savedQueue) this.savedQueues.set(client, savedQueue);
    this.add(client);
    return client.stream;
  }

  private add(c: PullClient): void {
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

  private remove(c: PullClient): void {
    this.savedQueues.delete(c);
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

  private broadcastSaved(e: EventRecord): void {
    for (const [c, q] of this.savedQueues) {
      q.push(e);
      if (q.length > SSE_MAX_PENDING_EVENTS) q.shift();
      c.wake();
    }
  }

  private updateDemand(): void {
    let want = Date.now() < this.latestDemandUntil;
    for (const c of this.clients) if (c.annotated) want = true;
    if (want === this.annotatedWanted) return;
    this.annotatedWanted = want;
    try {
      this.src.wantAnnotated(want);
    } catch (e) {
      log.once("wantAnnotated", "warn", `wantAnnotated failed: ${(e as Error).message}`);
    }
  }
}
