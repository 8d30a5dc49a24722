/**
 * The two Workers' lifecycle and messages. Starts the capture and the detect Worker joined by a
 * MessageChannel, feeds what they say into the store (frames, results, status) and the hooks
 * (events, snapshot answers), and resolves start() once the camera is open and the model loaded.
 * start() can be cancelled at any moment through its AbortSignal.
 *
 * After startup a Worker that dies (a "fatal" message, an uncaught error, an exit) is logged once,
 * reported in the status, and started again with backoff (0.5 s doubling to 5 s; a Worker that
 * ran 30 s counts as a new outage), with a new channel handed to the Worker that lived on.
 */
import type { Config } from "../shared/config.ts";
import { HcError } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { LibPaths } from "../native/libs.ts";
import { EMPTY_ZONES, type ZonesConfig } from "../track/zones.ts";
import type {
  CaptureZones,
  EventData,
  FromCapture,
  FromDetect,
  RenderedImages,
  RenderRequest,
  ToCapture,
  ToDetect,
  WireError,
} from "../workers/protocol.ts";
import type { PipelineStore } from "./store.ts";

export type WorkerName = "capture-worker" | "detect-worker";
/** Makes a Worker running src/workers/<name>.ts (tests pass scripts of their own). */
export type WorkerFactory = (name: WorkerName) => Worker;

export const RESTART_MIN_MS = 500;
export const RESTART_MAX_MS = 5000;
/** A Worker that ran this long before dying starts a new outage: backoff and log from scratch. */
const STABLE_MS = 30_000;
const STOP_TIMEOUT_MS = 700;

/** What the capture Worker needs of the zones file (src/pipeline/zones-file.ts implements it). */
export interface ZonesSource {
  current(): ZonesConfig;
  onChange(cb: (c: ZonesConfig) => void): () => void;
}

export interface PipelineWorkersOptions {
  config: Config;
  libs: LibPaths;
  store: PipelineStore;
  /** An event to save; snapshotId is set when it answers a snapshot request. */
  onEvent(ev: EventData, snapshotId: number | null): void;
  /** Snapshot `id` found no frame. */
  onSnapshotNone(id: number): void;
  /** The capture Worker died: the snapshots it was asked for will not be answered. */
  onCaptureDown(): void;
  /** Masks and zones for the capture Worker (at its start, again on changes); none without. */
  zones?: ZonesSource;
  /** The answer to render(): the images, or null with why. */
  onRendered?(id: number, images: RenderedImages | null, error: string | null): void;
  factory?: WorkerFactory;
  restartMinMs?: number;
  restartMaxMs?: number;
  log?: Logger;
}

interface Slot {
  readonly name: WorkerName;
  /** "capture Worker", "detect Worker": for the log. */
  readonly label: string;
  worker: Worker | null;
  startedAt: number;
  /** The running Worker has said it works ("source" / "ready"). */
  up: boolean;
  /** The text of its last uncaught error, for the exit that follows. */
  lastError: string | null;
  backoffMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  stopped: PromiseWithResolvers<void>;
}

/**
 * In the compiled binary the Workers are extra entrypoints, stored under their source path from
 * the project root (scripts/build.ts passes them); from source they sit in src/workers/.
 */
export function workerUrl(name: WorkerName): string {
  if (import.meta.url.includes("$bunfs")) return `./src/workers/${name}.ts`;
  return new URL(`../workers/${name}.ts`, import.meta.url).href;
}

const defaultFactory: WorkerFactory = (name) => new Worker(workerUrl(name));

export function wireToError(e: WireError): HcError {
  return new HcError(e.code, e.message, e.fix, e.exitCode);
}

/** The message of a Worker's ErrorEvent: Bun puts a code frame before the "error: …" line. */
function errorText(e: ErrorEvent): string {
  const text = e.message ?? String(e);
  const m = /^(?:error|\w*Error): (.+)$/m.exec(text);
  return (m?.[1] ?? text.split("\n")[0] ?? "").trim();
}

export class PipelineWorkers {
  readonly #o: PipelineWorkersOptions;
  readonly #log: Logger;
  readonly #camLog = logger("cam");
  readonly #tpuLog = logger("tpu");
  readonly #factory: WorkerFactory;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #capture: Slot;
  readonly #detect: Slot;
  readonly #ready = Promise.withResolvers<void>();
  #started = false;
  #stopping: Promise<void> | null = null;
  readonly #offWant: () => void;
  readonly #offZones: () => void;

  constructor(opts: PipelineWorkersOptions) {
    this.#o = opts;
    this.#log = opts.log ?? logger("pipe");
    this.#factory = opts.factory ?? defaultFactory;
    this.#minMs = opts.restartMinMs ?? RESTART_MIN_MS;
    this.#maxMs = opts.restartMaxMs ?? RESTART_MAX_MS;
    this.#capture = this.#slot("capture-worker", "capture Worker");
    this.#detect = this.#slot("detect-worker", "detect Worker");
    this.#ready.promise.catch(() => undefined);
    this.#offWant = opts.store.on("want-annotated", (on) =>
      this.#toCapture({ type: "want-annotated", on }),
    );
    this.#offZones =
      opts.zones?.onChange(() => this.#toCapture({ type: "zones", zones: this.#zones() })) ??
      (() => undefined);
  }

  /**
   * Starts both Workers; resolves once the camera is open and the model is loaded. Rejects with
   * the first fatal error, or with the signal's reason when it aborts; the Workers are stopped then.
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const onAbort = (): void => this.#ready.reject(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const ch = new MessageChannel();
    this.#spawnDetect(ch.port2);
    this.#spawnCapture(ch.port1, false);
    try {
      await this.#ready.promise;
      this.#started = true;
    } catch (e) {
      await this.stop();
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Asks the capture Worker for snapshot `id`; false when it is not running (restarting, stopped). */
  requestSnapshot(id: number): boolean {
    return this.#toCapture({ type: "snapshot", id });
  }

  /** Asks the capture Worker to draw a visit's snapshot; false when it is not running. */
  render(request: RenderRequest): boolean {
    return this.#toCapture({ type: "render", request });
  }

  /** Stops both Workers (each gets 0.7 s to say "stopped", then is terminated). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#offWant();
    this.#offZones();
    // A start still waiting for the Workers ends here (a no-op once started).
    this.#ready.reject(new HcError("ESTOPPED", "the pipeline was stopped while starting"));
    const slots = [this.#capture, this.#detect];
    for (const s of slots) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      if (!s.worker) s.stopped.resolve();
    }
    this.#toCapture({ type: "stop" });
    this.#detect.worker?.postMessage({ type: "stop" } satisfies ToDetect);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">(
      (r) => (timer = setTimeout(r, STOP_TIMEOUT_MS, "timeout")),
    );
    const acks = Promise.all(slots.map((s) => s.stopped.promise));
    if ((await Promise.race([acks, timeout])) === "timeout") {
      this.#log.warn("workers did not stop in time; terminating them");
    }
    clearTimeout(timer);
    for (const s of slots) {
      s.worker?.terminate();
      s.worker = null;
    }
  }

  #slot(name: WorkerName, label: string): Slot {
    return {
      name,
      label,
      worker: null,
      startedAt: 0,
      up: false,
      lastError: null,
      backoffMs: this.#minMs,
      timer: null,
      stopped: Promise.withResolvers<void>(),
    };
  }

  #toCapture(msg: ToCapture, transfer: (ArrayBuffer | MessagePort)[] = []): boolean {
    const w = this.#capture.worker;
    if (!w || (this.#stopping && msg.type !== "stop")) return false;
    w.postMessage(msg, transfer);
    return true;
  }

  #spawnCapture(detectPort: MessagePort, restart: boolean): void {
    const { config, libs, store } = this.#o;
    this.#spawn(this.#capture, (m) => this.#onCapture(m as FromCapture));
    this.#toCapture(
      {
        type: "init",
        config,
        libs,
        detectPort,
        resume: restart ? store.resumePoint() : null,
        wantAnnotated: store.wantAnnotated,
        zones: this.#zones(),
      },
      [detectPort],
    );
  }

  /** With --zones given, the cooldown stills count people in zones only (src/workers/). */
  #zones(): CaptureZones {
    const config = this.#o.zones?.current() ?? EMPTY_ZONES;
    return { config, stillsInZones: this.#o.config.scene.zonesFromFlag };
  }

  #spawnDetect(capturePort: MessagePort): void {
    const { config, libs } = this.#o;
    const w = this.#spawn(this.#detect, (m) => this.#onDetect(m as FromDetect));
    w.postMessage({ type: "init", config, libs, capturePort } satisfies ToDetect, [capturePort]);
  }

  /** A new Worker in the slot; messages and deaths of a replaced one are ignored. */
  #spawn(slot: Slot, onMessage: (m: unknown) => void): Worker {
    const w = this.#factory(slot.name);
    slot.worker = w;
    slot.startedAt = performance.now();
    slot.up = false;
    slot.lastError = null;
    w.onmessage = (e: MessageEvent<{ type: string }>) => {
      // Once stopping, only the acknowledgement counts: no more frames, events or log lines.
      if (slot.worker !== w || (this.#stopping && e.data.type !== "stopped")) return;
      onMessage(e.data);
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      if (slot.worker === w) slot.lastError = errorText(e);
    };
    w.addEventListener("close", () => {
      if (slot.worker === w) this.#died(slot, slot.lastError ?? "the Worker exited");
    });
    return w;
  }

  #onCapture(msg: FromCapture): void {
    const store = this.#o.store;
    switch (msg.type) {
      case "source":
        store.setSource(msg.info);
        if (!this.#capture.up) this.#isUp(this.#capture, sourceLine(msg.info));
        break;
      case "frame":
        store.setFrame(msg.state, msg.annotated, msg.status);
        break;
      case "status":
        store.setCapture(msg.status);
        break;
      case "result":
        store.setResult(msg.result);
        break;
      case "event":
        this.#o.onEvent(msg.event, msg.snapshotId);
        break;
      case "snapshot-none":
        this.#o.onSnapshotNone(msg.id);
        break;
      case "rendered":
        this.#o.onRendered?.(msg.id, msg.images, msg.error);
        break;
      case "fatal":
        this.#died(this.#capture, wireToError(msg.error));
        break;
      case "stopped":
        this.#capture.stopped.resolve();
        break;
    }
  }

  #onDetect(msg: FromDetect): void {
    const store = this.#o.store;
    switch (msg.type) {
      case "ready":
        store.setDetector(msg.info, null);
        if (!this.#started) for (const w of msg.info.warnings) this.#tpuLog.warn(w);
        this.#isUp(
          this.#detect,
          `backend ${msg.info.backend}, TFLite ${msg.info.tfliteVersion}, libedgetpu ${msg.info.edgetpuVersion ?? "not loaded"}, model ${msg.info.modelPath}`,
        );
        break;
      case "error":
        store.detectError(msg.message);
        break;
      case "detector":
        // The supervisor switched detectors (Edge TPU lost, CPU fallback, Edge TPU back).
        store.setDetector(msg.info, msg.lastError);
        break;
      case "fatal":
        this.#died(this.#detect, wireToError(msg.error));
        break;
      case "stopped":
        this.#detect.stopped.resolve();
        break;
    }
  }

  /** A Worker works: at startup say what it runs, after a restart that it is back. */
  #isUp(slot: Slot, what: string): void {
    slot.up = true;
    const log = slot === this.#capture ? this.#camLog : this.#tpuLog;
    if (!this.#started) {
      log.info(what);
      if (this.#capture.up && this.#detect.up) this.#ready.resolve();
      return;
    }
    log.once(`${slot.name}-back`, "info", `${slot.label} restarted: ${what}`);
  }

  /** A Worker died: at startup that is the start's error; later it is restarted with backoff. */
  #died(slot: Slot, why: HcError | string): void {
    if (this.#stopping) return;
    slot.worker?.terminate();
    slot.worker = null;
    const reason = typeof why === "string" ? why : why.message;
    if (!this.#started) {
      const err =
        typeof why === "string" ? new HcError("EWORKER", `${slot.label} crashed: ${why}`) : why;
      this.#ready.reject(err);
      return;
    }
    if (performance.now() - slot.startedAt >= STABLE_MS) {
      slot.backoffMs = this.#minMs;
      this.#log.clear(`${slot.name}-died`);
      (slot === this.#capture ? this.#camLog : this.#tpuLog).clear(`${slot.name}-back`);
    }
    this.#log.once(
      `${slot.name}-died`,
      "error",
      `the ${slot.label} stopped: ${reason}; restarting it, every ${this.#maxMs / 1000} s at most`,
    );
    if (slot === this.#capture) {
      this.#o.store.captureDown(reason);
      this.#o.onCaptureDown();
    } else {
      this.#o.store.detectorDown(`${slot.label}: ${reason}`);
    }
    slot.timer = setTimeout(() => this.#restart(slot), slot.backoffMs);
    slot.backoffMs = Math.min(this.#maxMs, slot.backoffMs * 2);
  }

  /** A new Worker in the slot, and a new channel between it and the one that lived on. */
  #restart(slot: Slot): void {
    slot.timer = null;
    if (this.#stopping) return;
    const ch = new MessageChannel();
    if (slot === this.#capture) {
      this.#detect.worker?.postMessage(
        { type: "capture-port", capturePort: ch.port2 } satisfies ToDetect,
        [ch.port2],
      );
      this.#spawnCapture(ch.port1, true);
    } else {
      this.#toCapture({ type: "detect-port", port: ch.port1 }, [ch.port1]);
      this.#spawnDetect(ch.port2);
    }
  }
}

function sourceLine(info: { description: string; sizeNote: string | null }): string {
  return `${info.description}${info.sizeNote ? ` (${info.sizeNote})` : ""}`;
}
