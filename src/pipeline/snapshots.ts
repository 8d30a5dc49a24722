/**
 * Snapshot requests in flight to the capture Worker: each gets an id, and resolves with the
 * saved event, or null when there is no frame, the save failed, the Worker was restarted or
 * stopped, or nothing came back in time.
 */
import type { EventRecord } from "../events/archive.ts";

export const SNAPSHOT_TIMEOUT_MS = 3000;

export class SnapshotRequests {
  readonly #waiting = new Map<number, (rec: EventRecord | null) => void>();
  readonly #timeoutMs: number;
  #nextId = 1;
  #closed = false;

  constructor(timeoutMs = SNAPSHOT_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
  }

  /** Asks for a snapshot through `send(id)`; resolves when settle(id) is called, or with null. */
  request(send: (id: number) => void): Promise<EventRecord | null> {
    if (this.#closed) return Promise.resolve(null);
    const id = this.#nextId++;
    const done = Promise.withResolvers<EventRecord | null>();
    const timer = setTimeout(() => this.settle(id, null), this.#timeoutMs);
    this.#waiting.set(id, (rec) => {
      clearTimeout(timer);
      done.resolve(rec);
    });
    send(id);
    return done.promise;
  }

  /** The answer to request `id` (ignored when it timed out or was cancelled). */
  settle(id: number, rec: EventRecord | null): void {
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
