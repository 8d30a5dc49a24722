/**
 * Events from the capture Worker (an auto-save after the cooldown, or a snapshot) into the
 * archive. A failing save is logged once until one succeeds; after close() nothing more is
 * saved, and close() waits for the saves already under way, so the archive can close after it.
 */
import type { EventRecord, SaveInput } from "../events/archive.ts";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { EventData } from "../workers/protocol.ts";

/** What the saver needs of the archive (Archive implements it; save may be sync or async). */
export interface EventSink {
  save(input: SaveInput): EventRecord | Promise<EventRecord>;
}

export class EventSaver {
  readonly #sink: EventSink;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(sink: EventSink, log: Logger = logger("events")) {
    this.#sink = sink;
    this.#log = log;
  }

  /** The saved record; null when the save failed (logged) or the saver is closed. */
  save(ev: EventData): Promise<EventRecord | null> {
    if (this.#closed) return Promise.resolve(null);
    const p = this.#save(ev);
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
    return p;
  }

  /** Refuses further saves and waits for those under way. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#inFlight]);
  }

  async #save(ev: EventData): Promise<EventRecord | null> {
    try {
      const rec = await this.#sink.save({
        jpeg: ev.jpeg,
        thumbJpeg: ev.thumbJpeg,
        reason: ev.reason,
        at: new Date(ev.at),
        people: ev.people,
        detections: ev.detections,
        inferMs: ev.inferMs,
        fps: ev.fps,
      });
      this.#log.clear("save");
      this.#log.info(`saved ${rec.file}`);
      return rec;
    } catch (e) {
      this.#log.once("save", "error", `cannot save an event: ${errorMessage(e)}`);
      return null;
    }
  }
}
