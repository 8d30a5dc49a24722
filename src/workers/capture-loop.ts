/**
 * The capture loop: grabs the newest frame, decodes it, hands a model-sized copy to the detector
 * when it is idle or about to be (src/workers/detect-handoff.ts), and publishes every frame; maps each detection result back to its frame,
 * decides the auto-saves (cooldown) and draws the event images and snapshots. A camera that is
 * lost is reopened with backoff; one that stays open but sends nothing is shown offline.
 *
 * Everything it touches comes in: the source factory, the codec, the detect port, a clock, and
 * `post` for what goes to the main thread. The capture Worker only wires messages to it, and the
 * unit tests drive it with a fake source, a fake codec and a fake clock.
 */
import { SourceLost, type FrameSource, type RawFrame, type SourceInfo } from "../camera/types.ts";
import { Cooldown } from "../events/cooldown.ts";
import type { Config } from "../shared/config.ts";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { Detection, DetectionResult, FrameState } from "../shared/types.ts";
import { cooldownPeople, dropMasked } from "../track/scene.ts";
import { EMPTY_ZONES } from "../track/zones.ts";
import {
  countPeople,
  decodeFrame,
  ema,
  encodeAnnotated,
  EVENT_QUALITY,
  RgbPool,
  STREAM_QUALITY,
  thumbnail,
  type Frame,
} from "./capture-frames.ts";
import { untilAborted, type CaptureClock } from "./clock.ts";
import type { CaptureCodec } from "./codec.ts";
import { DetectHandoff, type DetectPort } from "./detect-handoff.ts";
import type {
  CaptureResume,
  CaptureStatus,
  CaptureZones,
  DetectToCapture,
  EventData,
  FromCapture,
} from "./protocol.ts";

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 5000;
/** A replugged camera must stream again within 2 s; a failed open of a V4L2 node costs ~nothing. */
export const V4L2_BACKOFF_MAX_MS = 1000;
/** No frame for this long (ms; or 4 frame intervals, if longer) shows as offline until the next. */
export const STALL_SHOW_MS = 1500;

export type CaptureConfig = Pick<Config, "source" | "fps" | "letterbox" | "cooldownSec">;

export interface CaptureLoopOptions {
  config: CaptureConfig;
  /** A new, unopened source for each (re)open. */
  openSource(): FrameSource;
  codec: CaptureCodec;
  clock: CaptureClock;
  /** To the main thread; `transfer` lists buffers handed over with the message. */
  post(msg: FromCapture, transfer?: ArrayBuffer[]): void;
  /** null at startup: a camera that cannot be opened (not merely unreachable) is fatal. */
  resume?: CaptureResume | null;
  log?: Logger;
  /** Lets messages in between frames (default: one macrotask turn). */
  yieldTurn?: () => Promise<void>;
}

const nextTurn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

export class CaptureLoop {
  readonly #o: CaptureLoopOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  readonly #pool = new RgbPool();
  readonly #detect: DetectHandoff;
  readonly #cooldown: Cooldown;
  /** Frame time of the latest result: the cooldown runs on it, the time in the event's name. */
  #cooldownClockMs = 0;
  #source: FrameSource | null = null;
  #wantAnnotated = false;
  #latest: Frame | null = null;
  /** The newest frame that has detections, for snapshots. */
  #lastDetected: Frame | null = null;
  #detections: Detection[] = [];
  #people = 0;
  #inferMs = 0;
  #seq: number;
  #detectSeq: number;
  readonly #status: CaptureStatus = {
    online: false,
    offlineReason: null,
    captureFps: 0,
    framesCorrupt: 0,
    framesDropped: 0,
    lastError: null,
  };
  /** Latest per-stage times in ms (resize: of the last frame sent to the detector). */
  readonly #stage = { grab: 0, decode: 0, resize: 0 };
  #lastGrabAt = 0;
  /** clock.now() of the last frame or (re)open, for the stall watchdog. */
  #lastFrameAt = 0;
  #lastResultAt = 0;
  #detectFps = 0;
  readonly #snapshots: number[] = [];
  /** Masks (dropped detections) and whether the stills count people in zones only. */
  #zones: CaptureZones = { config: EMPTY_ZONES, stillsInZones: false };

  constructor(opts: CaptureLoopOptions) {
    this.#o = opts;
    this.#log = opts.log ?? logger("cam");
    this.#seq = opts.resume?.frameSeq ?? 0;
    this.#detectSeq = opts.resume?.detectSeq ?? 0;
    this.#cooldown = new Cooldown(opts.config.cooldownSec, () => this.#cooldownClockMs);
    this.#detect = new DetectHandoff((f, w, h, out) => this.#resizeForModel(f, w, h, out));
  }

  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /**
   * Opens the camera and runs until stop(). Rejects when the first open fails for a reason
   * waiting will not fix (a wrong device, a bad file) or on a bug: the Worker reports it fatal.
   */
  async run(): Promise<void> {
    if (!(await this.#open(true))) return;
    while (!this.stopping) {
      const grabStart = this.#o.clock.now();
      let raw: RawFrame;
      try {
        raw = await this.#untilStopped((this.#source as FrameSource).next());
      } catch (e) {
        if (this.stopping) break;
        this.#dropSource(errorMessage(e));
        if (!(await this.#open(false))) break;
        continue;
      }
      this.#onRaw(raw, grabStart);
      await (this.#o.yieldTurn ?? nextTurn)();
    }
  }

  /** Stops at once: a pending open, grab or backoff wait is abandoned. Idempotent. */
  stop(): void {
    this.#stop.abort(new Error("capture stopped"));
    this.#source?.close();
    this.#source = null;
    this.#detect.setPort(null);
  }

  /** The port to the detect Worker (again after that Worker restarted). */
  setDetectPort(port: DetectPort | null): void {
    for (const f of this.#detect.setPort(port)) this.#release(f);
  }

  setWantAnnotated(on: boolean): void {
    this.#wantAnnotated = on;
  }

  /** The zones file changed: from the next result on, its masks and zones apply. */
  setZones(zones: CaptureZones): void {
    this.#zones = zones;
  }

  requestSnapshot(id: number): void {
    this.#snapshots.push(id);
    // With a stalled source no frame comes to answer it: answer from what we have.
    if (!this.#status.online) this.#serveSnapshots();
  }

  onDetect(msg: DetectToCapture): void {
    if (msg.type === "detector" && !msg.info) {
      // Nothing detects until the detector is back: show no stale boxes or counts.
      this.#detections = [];
      this.#people = 0;
    }
    const now = this.#o.clock.now();
    const back = this.#detect.receive(msg, now);
    if (back.kind === "dropped") this.#release(back.frame);
    if (back.kind !== "result") return;
    this.#onResult(back.frame, back.detections, back.low, back.inferMs);
    // Keep the detector busy: when no frame was sent ahead, a newer one may be decoded already,
    // so start on it now instead of at the next grab (on average half a frame interval later).
    if (this.#latest) this.#detect.offer(this.#latest, now, this.#frameMs());
  }

  /** A camera that stays open but sends nothing is shown offline before the source gives up. */
  watchStall(): void {
    if (!this.#status.online || this.#lastFrameAt === 0 || this.stopping) return;
    const fps = this.#status.captureFps || this.#o.config.fps;
    const limitMs = Math.max(STALL_SHOW_MS, fps > 0 ? 4000 / fps : 0);
    if (this.#o.clock.now() - this.#lastFrameAt > limitMs) {
      this.#setOffline(`no frame from the camera for ${(limitMs / 1000).toFixed(1)} s`);
    }
  }

  /** Opens a source, retrying with backoff; false when stopped meanwhile. */
  async #open(initial: boolean): Promise<boolean> {
    const maxMs = this.#o.config.source.kind === "v4l2" ? V4L2_BACKOFF_MAX_MS : BACKOFF_MAX_MS;
    let backoffMs = BACKOFF_MIN_MS;
    while (!this.stopping) {
      const s = this.#o.openSource();
      this.#source = s;
      try {
        this.#opened(await this.#untilStopped(s.open()), initial);
        return true;
      } catch (e) {
        s.close();
        this.#source = null;
        if (this.stopping) return false;
        // At start, a missing or wrong camera is the user's to fix: report it and stop.
        if (initial && !this.#o.resume && !(e instanceof SourceLost)) throw e;
        const reason = errorMessage(e);
        this.#setOffline(reason);
        this.#log.once(
          "lost",
          "warn",
          `camera unavailable: ${reason}; retrying every ${maxMs / 1000} s at most`,
        );
        await this.#o.clock.sleep(backoffMs, this.#stop.signal);
        backoffMs = Math.min(maxMs, backoffMs * 2);
      }
    }
    return false;
  }

  #opened(info: SourceInfo, initial: boolean): void {
    this.#status.online = true;
    this.#status.offlineReason = null;
    this.#lastFrameAt = this.#o.clock.now();
    if (!initial) this.#log.info(`camera is back: ${info.description}`);
    this.#log.clear("lost");
    this.#o.post({ type: "source", info });
    this.#postStatus();
  }

  #dropSource(reason: string): void {
    this.#source?.close();
    this.#source = null;
    this.#setOffline(reason);
    this.#log.once("lost", "warn", `camera lost: ${reason}; reconnecting`);
  }

  /** Settles with `p`, or rejects as soon as stop() is called. */
  #untilStopped<T>(p: Promise<T>): Promise<T> {
    return untilAborted(p, this.#stop.signal);
  }

  #resizeForModel(f: Frame, width: number, height: number, out: Uint8Array): void {
    const t0 = this.#o.clock.now();
    const letterbox = this.#o.config.letterbox;
    this.#o.codec.resizeRgb(f.rgb, f.width, f.height, width, height, { letterbox }, out);
    this.#stage.resize = this.#o.clock.now() - t0;
  }

  #onRaw(raw: RawFrame, grabStart: number): void {
    const clock = this.#o.clock;
    const now = clock.now();
    if (this.#lastGrabAt > 0)
      this.#status.captureFps = ema(this.#status.captureFps, now - this.#lastGrabAt);
    this.#lastGrabAt = now;
    this.#status.framesDropped += raw.dropped;
    // grab includes waiting for the camera; decode and resize are our own work per frame.
    this.#stage.grab = now - grabStart;
    const f = this.#decode(raw);
    this.#stage.decode = clock.now() - now;
    if (!f) return;
    this.#lastFrameAt = now;
    this.#status.online = true;
    this.#status.offlineReason = null;
    const prev = this.#latest;
    this.#latest = f;
    this.#release(prev);
    this.#detect.offer(f, now, this.#frameMs());
    this.#publish(f);
    if (this.#snapshots.length > 0) this.#serveSnapshots();
  }

  #decode(raw: RawFrame): Frame | null {
    try {
      const f = decodeFrame(this.#o.codec, this.#pool, raw, this.#seq + 1, (w, h) =>
        // A camera may change size mid-stream (a reconnect at another mode, an interlaced bridge
        // sending double-height frames): trust the JPEG, and say so once.
        this.#log.once(
          "odd-size",
          "warn",
          `the camera sends ${w}x${h} frames while it announced ${raw.width}x${raw.height}; using each frame's own size`,
        ),
      );
      this.#seq = f.seq;
      return f;
    } catch (e) {
      if (!this.#o.codec.isCorrupt(e)) throw e;
      this.#status.framesCorrupt++;
      this.#log.once(
        "corrupt",
        "warn",
        `skipping a corrupt frame (${errorMessage(e)}); further ones are only counted in /status`,
      );
      return null;
    }
  }

  /** Back to the pool, unless the frame is still in use. */
  #release(f: Frame | null): void {
    if (f && f !== this.#latest && f !== this.#lastDetected && !this.#detect.holds(f))
      this.#pool.give(f.rgb);
  }

  /** The camera's frame interval (ms), measured or as configured. */
  #frameMs(): number {
    return 1000 / (this.#status.captureFps || this.#o.config.fps || 30);
  }

  /** `all` ≥ the threshold, `allLow` the low persons; detections in a mask are dropped here. */
  #onResult(f: Frame, all: Detection[], allLow: Detection[], inferMs: number): void {
    const now = this.#o.clock.now();
    if (this.#lastResultAt > 0) this.#detectFps = ema(this.#detectFps, now - this.#lastResultAt);
    this.#lastResultAt = now;
    const masks = this.#zones.config.masks;
    const detections = dropMasked(all, masks);
    this.#detections = detections;
    this.#people = countPeople(detections);
    this.#inferMs = inferMs;
    this.#detectSeq++;
    const prev = this.#lastDetected;
    this.#lastDetected = f;
    this.#release(prev);
    // f.jpeg stays for snapshots: the copy travels with the result (a visit's best snapshot).
    const jpeg = f.jpeg.slice();
    const result: DetectionResult = {
      detectSeq: this.#detectSeq,
      frameSeq: f.seq,
      grabbedAt: f.grabbedAt,
      width: f.width,
      height: f.height,
      detections,
      people: this.#people,
      inferMs,
      low: dropMasked(allLow, masks),
      jpeg,
    };
    this.#o.post({ type: "result", result }, [jpeg.buffer as ArrayBuffer]);
    this.#cooldownClockMs = f.grabbedAt;
    if (this.#cooldown.shouldAutoSave(this.#stillPeople(detections))) {
      this.#sendEvent(this.#makeEvent(f, detections, "auto"), null);
    }
  }

  /** People that start a cooldown still: in zones only when --zones is given and has zones. */
  #stillPeople(detections: readonly Detection[]): number {
    const z = this.#zones;
    return z.stillsInZones ? cooldownPeople(detections, z.config) : this.#people;
  }

  #publish(f: Frame): void {
    // The RGB stays here; only JPEG bytes cross threads. f.jpeg is kept for snapshots: copy it.
    const jpeg = f.jpeg.slice();
    const state: FrameState = {
      seq: f.seq,
      grabbedAt: f.grabbedAt,
      width: f.width,
      height: f.height,
      jpeg,
      detections: this.#detections,
      people: this.#people,
      inferMs: this.#inferMs,
      detectSeq: this.#detectSeq,
      captureFps: this.#status.captureFps,
      detectFps: this.#detectFps,
      stageMs: { ...this.#stage, infer: this.#inferMs },
    };
    const annotated = this.#wantAnnotated
      ? this.#annotated(f, this.#detections, STREAM_QUALITY)
      : null;
    const transfer: ArrayBuffer[] = [jpeg.buffer as ArrayBuffer];
    if (annotated) transfer.push(annotated.buffer as ArrayBuffer);
    this.#o.post({ type: "frame", state, annotated, status: { ...this.#status } }, transfer);
  }

  #annotated(f: Frame, dets: Detection[], quality: number): Uint8Array {
    const overlay = {
      people: countPeople(dets),
      inferMs: this.#inferMs,
      fps: this.#status.captureFps,
      backend: this.#detect.backend,
    };
    return encodeAnnotated(this.#o.codec, this.#pool, f, dets, overlay, quality);
  }

  #makeEvent(f: Frame, dets: Detection[], reason: "auto" | "snapshot"): EventData {
    return {
      reason,
      jpeg: this.#annotated(f, dets, EVENT_QUALITY),
      thumbJpeg: thumbnail(this.#o.codec, f),
      at: f.grabbedAt,
      people: countPeople(dets),
      detections: dets,
      inferMs: this.#inferMs,
      fps: this.#status.captureFps,
    };
  }

  #sendEvent(ev: EventData, snapshotId: number | null): void {
    this.#cooldown.saved(ev.at);
    this.#o.post({ type: "event", event: ev, snapshotId }, [
      ev.jpeg.buffer as ArrayBuffer,
      ev.thumbJpeg.buffer as ArrayBuffer,
    ]);
  }

  #serveSnapshots(): void {
    const f = this.#lastDetected ?? this.#latest;
    for (const id of this.#snapshots.splice(0)) {
      if (!f) this.#o.post({ type: "snapshot-none", id });
      else {
        const dets = f === this.#lastDetected ? this.#detections : [];
        this.#sendEvent(this.#makeEvent(f, dets, "snapshot"), id);
      }
    }
  }

  #setOffline(reason: string): void {
    if (!this.#status.online && this.#status.offlineReason === reason) return;
    this.#status.online = false;
    this.#status.offlineReason = reason;
    this.#status.lastError = reason;
    // The interval across the outage is no frame rate.
    this.#lastGrabAt = 0;
    this.#postStatus();
  }

  #postStatus(): void {
    this.#o.post({ type: "status", status: { ...this.#status } });
  }
}
