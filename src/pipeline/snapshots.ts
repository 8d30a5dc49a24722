/**
 * Requests in flight to the capture Worker: each gets an id, and resolves with the answer, or
 * null when there is none, the Worker was restarted or stopped, or nothing came back in time.
 * SnapshotRequests: the saved event (null also when there is no frame or the save failed);
 * RenderRequests: a visit's best snapshot drawn by the Worker.
 */
import type { EventRecord } from "../events/archive.ts";
import type { RenderedImages } from "../workers/protocol.ts";

export const SNAPSHOT_TIMEOUT_MS = 3000;
/** A render is one decode and two encodes (~50 ms on a Pi): 2 s means the Worker is stuck. */
export const RENDER_TIMEOUT_MS = 2000;

export class Requests<T> {
  readonly #waiting = new Map<number, (rec: T | null) => void>();
  readonly #timeoutMs: number;
  #nextId = 1;
  #closed = false;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Asks for a snapshot through `send(id)`; resolves when settle(id) is called, or with null. */
  request(send: (id: number) => void): Promise<T | null> {
    if (this.#closed) return Promise.resolve(null);
    const id = this.#nextId++;
    const done = Promise.withResolvers<T | null>();
    const timer = setTimeout(() => this.settle(id, null), this.#timeoutMs);
    this.#waiting.set(id, (rec) => {
      clearTimeout(timer);
      done.resolve(rec);
    });
    send(id);
    return done.promise;
  }

  /** The answer to request `id` (ignored when it timed out or was cancelled). */
  settle(id: number, rec: T | null): void {
    const w = this.#waiting.get(id);
    this.#waiting.delete(id);
    w?.(rec);
  }

  /** Resolves every waiting request with null (the capture Worker that had them is gone). */
  cancelAll(): void {
    for (const id of [...this.#waiting.keys()]) this.settle(id, null);
  }

  /** cancelAll, and every later request resolves with null at once. */
  close(): void {
    this.#closed = true;
    this.cancelAll();
  }

  get pending(): number {
    return this.#waiting.size;
  }
}

export class SnapshotRequests extends Requests<EventRecord> {
  constructor(timeoutMs = SNAPSHOT_TIMEOUT_MS) {
    super(timeoutMs);
  }
}

export class RenderRequests extends Requests<RenderedImages> {
  constructor(timeoutMs = RENDER_TIMEOUT_MS) {
    super(timeoutMs);
  }
}
