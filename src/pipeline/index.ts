/**
 * The one place the stages meet: the Workers (capture, detect) write into the store, events go
 * to the archive, snapshot requests go to the capture Worker. HTTP and the integrations read the
 * store (src/pipeline/store.ts) and never capture; the next stages (tracker, visits, clips) are
 * listeners of the same store.
 */
import type { EventRecord } from "../events/archive.ts";
import { libPaths } from "../native/libs.ts";
import type { Config } from "../shared/config.ts";
import type { Logger } from "../shared/log.ts";
import { EventSaver, type EventSink } from "./events.ts";
import { SnapshotRequests } from "./snapshots.ts";
import type { PipelineStore } from "./store.ts";
import { PipelineWorkers, type WorkerFactory } from "./workers.ts";

export { noSignal } from "./no-signal.ts";
export { PipelineStore, type StoreEvent, type StoreEvents } from "./store.ts";
export type { WorkerFactory, WorkerName } from "./workers.ts";

export interface Pipeline {
  /** Saves the current frame (reason "snapshot"); null without a frame or when the save failed. */
  snapshot(): Promise<EventRecord | null>;
  /** Stops the Workers and waits for the saves under way; the archive may close after. Idempotent. */
  stop(): Promise<void>;
}

export interface PipelineOptions {
  config: Config;
  archive: EventSink;
  store: PipelineStore;
  /** Cancels the start: the Workers stop and startPipeline rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Tests run Workers of their own. */
  workers?: WorkerFactory;
  restartMinMs?: number;
  /** The "pipe:" logger by default. */
  log?: Logger;
}

/** Starts both Workers; resolves once the camera is open and the model is loaded. */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const saver = new EventSaver(o.archive);
  const snapshots = new SnapshotRequests();
  const workers = new PipelineWorkers({
    config: o.config,
    libs: libPaths(),
    store: o.store,
    factory: o.workers,
    restartMinMs: o.restartMinMs,
    log: o.log,
    onEvent(ev, snapshotId) {
      const saved = saver.save(ev);
      if (snapshotId !== null) void saved.then((rec) => snapshots.settle(snapshotId, rec));
    },
    onSnapshotNone: (id) => snapshots.settle(id, null),
    onCaptureDown: () => snapshots.cancelAll(),
  });
  const stop = async (): Promise<void> => {
    snapshots.close();
    await workers.stop();
    await saver.close();
  };
  try {
    await workers.start(o.signal);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    snapshot: () =>
      snapshots.request((id) => {
        if (!workers.requestSnapshot(id)) snapshots.settle(id, null);
      }),
    stop,
  };
}
