/**
 * One live client as a pull-based ReadableStream (highWaterMark 0): the runtime pulls the next
 * chunk only once the previous one went out to the socket, and each pull asks the client's loop
 * for the NEWEST thing to send. So a slow client skips frames instead of queueing them: at most
 * one pending chunk per client.
 */

/** What a client sends: asked again on every pull. */
export interface ClientLoop {
  /** Sent at once when the stream starts (SSE's retry hint). */
  readonly first?: Uint8Array;
  /** The next chunk, or the ms to wait before asking again (wake() ends the wait early). */
  next(nowMs: number): Uint8Array | number;
}

export type ClientKind = "video" | "sse";

/** Sleeps up to `ms`, or less when woken; hands the wake-up function to `arm`. */
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

export class PullClient {
  readonly stream: ReadableStream<Uint8Array>;
  #closed = false;
  #wake: () => void = () => undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;

  /** `onClose` runs once, on close(), abort or cancel by the reader. */
  constructor(
    readonly kind: ClientKind,
    /** Needs annotated frames (a /video client without ?raw=1). */
    readonly annotated: boolean,
    loop: ClientLoop,
    private readonly onClose: () => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          if (loop.first) controller.enqueue(loop.first);
        },
        pull: (controller) => this.#pull(controller, loop),
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Wakes a pending pull (a frame or a saved event arrived). */
  wake(): void {
    this.#wake();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    this.onClose();
    try {
      this.#controller?.close();
    } catch {
      // Already closed or errored by the runtime.
    }
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>, loop: ClientLoop) {
    for (;;) {
      if (this.#closed) return;
      const next = loop.next(performance.now());
      if (typeof next !== "number") {
        controller.enqueue(next);
        return;
      }
      await sleep(next, (w) => (this.#wake = w));
    }
  }
}
