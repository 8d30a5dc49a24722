/**
 * Keeps detection running through faults. It opens the detector itself, so the fallback rules of
 * src/detect/fallback.ts apply the same at start and later: an Edge TPU that cannot be used at
 * start leaves the CPU model (with a fallback) running, and is looked for again if it may come
 * back. An invoke error (an Edge TPU pulled out, a USB reset) closes the failing detector and
 * reopens it with backoff; with a fallback (--cpu-fallback with an Edge TPU model) the CPU model
 * runs meanwhile, and the Edge TPU takes over again once it opens. Each outage is logged once.
 * Runs in the detect Worker: opens are synchronous.
 */
import { HcError, errorWhat } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { Backend } from "../shared/types.ts";
import { openWithFallback, tpuOutage } from "./fallback.ts";
import type { InferOptions, InferResult } from "./options.ts";

/** What the supervisor needs of a detector (Detector implements it; tests inject fakes). */
export interface Engine {
  readonly backend: Backend;
  readonly modelPath: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  inferRgb300(input: Uint8Array, opts?: InferOptions): InferResult;
  /** Frees interpreter, delegate, model; idempotent. */
  close(): void;
}

export interface SupervisorOptions<E extends Engine> {
  /** Opens the detector the user asked for; throws when it cannot. */
  openPrimary(): E;
  /**
   * Opens the CPU stand-in for the Edge TPU, given why the Edge TPU is not running; null when
   * there is none (no --cpu-fallback, or a CPU model).
   */
  openFallback: ((why: unknown) => E) | null;
  /** First retry delay (ms); doubles up to backoffMaxMs. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  log: Logger;
  /** Where the reopen delays run: setTimeout by default; tests pass their own clock. */
  timers?: Timers;
  /** The engine in use changed (null: none), or a new error happened. */
  onChange?(engine: E | null, lastError: string | null): void;
}

/** One pending timer at a time (the next reopen). */
export interface Timers {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, delayMs) => setTimeout(fn, delayMs),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export const DETECTOR_BACKOFF_MIN_MS = 500;
export const DETECTOR_BACKOFF_MAX_MS = 2_000;

function label(b: Backend): string {
  return b === "edgetpu" ? "Edge TPU" : "CPU model";
}

export class DetectorSupervisor<E extends Engine> {
  #primary: E | null;
  #fallback: E | null;
  readonly #primaryBackend: Backend;
  readonly #opts: SupervisorOptions<E>;
  readonly #log: Logger;
  readonly #minMs: number;
  readonly #maxMs: number;
  #backoffMs: number;
  readonly #timers: Timers;
  #timer: unknown = null;
  #lastError: string | null = null;
  /** The primary will not come back by waiting: stop reopening it while the fallback runs. */
  #primaryHopeless = false;
  #closed = false;

  /**
   * Opens the primary, or the fallback when the Edge TPU cannot be used (src/detect/fallback.ts).
   * Throws what the user must fix (a bad model, no Edge TPU without a fallback).
   */
  constructor(opts: SupervisorOptions<E>) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#minMs = opts.backoffMinMs ?? DETECTOR_BACKOFF_MIN_MS;
    this.#maxMs = opts.backoffMaxMs ?? DETECTOR_BACKOFF_MAX_MS;
    this.#backoffMs = this.#minMs;
    this.#timers = opts.timers ?? realTimers;
    const start = openWithFallback(opts.openPrimary, opts.openFallback);
    if (start.standIn) {
      // Only the Edge TPU has a stand-in.
      this.#primary = null;
      this.#fallback = start.engine;
      this.#primaryBackend = "edgetpu";
      // An Edge TPU plugged in later is taken up; a missing libedgetpu does not appear by waiting.
      if (start.standIn.heals) this.#schedule();
      else this.#primaryHopeless = true;
    } else {
      this.#primary = start.engine;
      this.#fallback = null;
      this.#primaryBackend = start.engine.backend;
    }
  }

  /** The detector in use: the primary, else the fallback, else null (reopening). */
  get engine(): E | null {
    return this.#primary ?? this.#fallback;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /**
   * Runs the model. Throws HcError DETECTOR_DOWN while no detector is open, and rethrows an
   * invoke error after closing the detector and scheduling its reopening.
   */
  infer(input: Uint8Array, opts: InferOptions = {}): InferResult {
    const e = this.engine;
    if (this.#closed || !e) {
      throw new HcError(
        "DETECTOR_DOWN",
        `no detector open (${this.#lastError ?? "closed"}); reopening`,
      );
    }
    if (input.length !== e.inputWidth * e.inputHeight * 3) {
      // A frame prepared for the detector before a switch: not the detector's fault.
      throw new HcError(
        "DETECT_INPUT_SIZE",
        `input of ${input.length} bytes, ${e.modelPath} takes ${e.inputWidth}x${e.inputHeight} RGB`,
      );
    }
    let r: InferResult;
    try {
      r = e.inferRgb300(input, opts);
    } catch (err) {
      this.#failed(e, err);
      throw err;
    }
    if (e === this.#primary) this.#backoffMs = this.#minMs;
    return r;
  }

  /** Stops reopening and frees every detector. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) this.#timers.clear(this.#timer);
    this.#timer = null;
    this.#primary?.close();
    this.#primary = null;
    this.#fallback?.close();
    this.#fallback = null;
  }

  #failed(e: E, err: unknown): void {
    // Without the fix: an invoke error's says "restart", which happens here by itself.
    const msg = errorWhat(err);
    this.#lastError = `${e.backend}: ${msg}`;
    const wasPrimary = e === this.#primary;
    const meanwhile = wasPrimary && this.#opts.openFallback ? "; the CPU model runs meanwhile" : "";
    this.#log.once(
      "invoke",
      "error",
      `the ${label(e.backend)} failed: ${msg}; reopening it, every ${this.#maxMs / 1000} s at most${meanwhile}`,
    );
    e.close();
    if (wasPrimary) {
      this.#primary = null;
      this.#startFallback(err);
    } else {
      this.#fallback = null;
    }
    this.#schedule();
    this.#changed();
  }

  #startFallback(why: unknown): void {
    const open = this.#opts.openFallback;
    if (!open || this.#fallback || this.#closed) return;
    try {
      this.#fallback = open(why);
      this.#log.clear("fallback");
      const until = this.#primaryHopeless ? "" : " until the Edge TPU is back";
      this.#log.warn(`CPU FALLBACK: running ${this.#fallback.modelPath} on the CPU${until}`);
    } catch (err) {
      this.#log.once("fallback", "error", `the CPU fallback cannot be opened: ${errorWhat(err)}`);
    }
  }

  #schedule(): void {
    if (this.#timer !== null || this.#closed) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#maxMs, this.#backoffMs * 2);
    this.#timer = this.#timers.set(() => {
      this.#timer = null;
      this.#repair();
    }, delay);
  }

  #repair(): void {
    if (this.#closed) return;
    if (!this.#primary && !this.#primaryHopeless) {
      try {
        this.#primary = this.#opts.openPrimary();
        const hadFallback = this.#fallback !== null;
        this.#fallback?.close();
        this.#fallback = null;
        this.#log.clear("invoke");
        this.#log.clear("reopen");
        this.#log.info(
          `${label(this.#primary.backend)} ${hadFallback || this.#lastError ? "is back" : "found"}: running ${this.#primary.modelPath}`,
        );
        this.#changed();
        return;
      } catch (err) {
        const msg = errorWhat(err);
        this.#lastError = `${this.#primaryBackend}: ${msg}`;
        const hopeless = tpuOutage(err) === "permanent";
        if (hopeless && (this.#fallback || this.#opts.openFallback)) {
          this.#primaryHopeless = true;
          this.#log.warn(`${msg}: staying on the CPU model`);
        } else {
          this.#log.once(
            "reopen",
            "warn",
            `cannot reopen the ${label(this.#primaryBackend)} yet (${msg}); still trying`,
          );
        }
      }
    }
    if (!this.#primary && !this.#fallback) this.#startFallback(this.#lastError);
    if (!this.#primary && !(this.#primaryHopeless && this.#fallback)) this.#schedule();
    this.#changed();
  }

  #changed(): void {
    this.#opts.onChange?.(this.engine, this.#lastError);
  }
}
