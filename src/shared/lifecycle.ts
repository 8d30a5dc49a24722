/**
 * Start in order, stop in reverse, at any moment. Each step starts something and registers how
 * to close it; stop() aborts the step under way (through its AbortSignal), waits for it to
 * settle, then runs every registered closer once, last in first out. A step that finishes after
 * stop() was called is closed too; a step asked to start after stop() never starts.
 */
import { errorMessage } from "./errors.ts";
import type { Logger } from "./log.ts";

interface Closer {
  name: string;
  close(): unknown;
}

export class Lifecycle {
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #closers: Closer[] = [];
  #current: Promise<unknown> | null = null;
  #stopped: Promise<void> | null = null;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Aborted once stop() is called. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Starts `name` and registers `close` for what it returned. Rejects with the start's error, or
   * with the signal's reason when stop() came first or meanwhile (what started is closed then).
   */
  step<T>(
    name: string,
    start: (signal: AbortSignal) => T | Promise<T>,
    close: (value: T) => unknown,
  ): Promise<T> {
    const run = async (): Promise<T> => {
      this.signal.throwIfAborted();
      const value = await start(this.signal);
      this.#closers.push({ name, close: () => close(value) });
      this.signal.throwIfAborted();
      return value;
    };
    const p = run();
    this.#current = p.catch(() => undefined);
    return p;
  }

  /** Registers a closer for something that needs no start step (a signal handler, a timer). */
  add(name: string, close: () => unknown): void {
    this.#closers.push({ name, close });
  }

  /** Aborts the step under way, then closes everything, newest first. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#abort.abort(new Error("stopping"));
    await this.#current;
    for (let c = this.#closers.pop(); c; c = this.#closers.pop()) {
      try {
        await c.close();
      } catch (e) {
        this.#log.warn(`closing ${c.name} failed: ${errorMessage(e)}`);
      }
    }
  }
}
