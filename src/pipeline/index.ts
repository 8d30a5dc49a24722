/**
 * The one place the stages meet: the Workers (capture, detect) write into the store, events go
 * to the archive, snapshot requests go to the capture Worker. HTTP and the integrations read the
 * store (src/pipeline/store.ts) and never capture; the next stages (tracker, visits, clips) are
 * listeners of the same store.
 */
import type { EventRecord } from "../events/archive.ts";
import { libPaths } from "../native/libs.ts";
import type { Config } from "../shared/config.ts";
import { logger, type Logger } from "../shared/log.ts";
import { EventSaver, type EventSink } from "./events.ts";
import { RenderRequests, SnapshotRequests } from "./snapshots.ts";
import type { PipelineStore } from "./store.ts";
import { PipelineWorkers, type WorkerFactory, type ZonesSource } from "./workers.ts";
import type { RenderedImages, RenderInput } from "../workers/protocol.ts";

export { noSignal } from "./no-signal.ts";
export { PipelineStore, type StoreEvent, type StoreEvents } from "./store.ts";
export type { WorkerFactory, WorkerName, ZonesSource } from "./workers.ts";

export type { RenderedImages, RenderInput } from "../workers/protocol.ts";

export interface Pipeline {
  /** Saves the current frame (reason "snapshot"); null without a frame or when the save failed. */
  snapshot(): Promise<EventRecord | null>;
  /**
   * Draws a visit's best snapshot in the capture Worker; null when it is not running (restarting,
   * stopping), failed (logged) or took too long.
   */
  render(input: RenderInput): Promise<RenderedImages | null>;
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
  /** The zones file: its masks and zones go to the capture Worker, live. */
  zones?: ZonesSource;
}

/** Starts both Workers; resolves once the camera is open and the model is loaded. */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const saver = new EventSaver(o.archive);
  const snapshots = new SnapshotRequests();
  const renders = new RenderRequests();
  const log = o.log ?? logger("pipe");
  const workers = new PipelineWorkers({
    config: o.config,
    libs: libPaths(),
    store: o.store,
    factory: o.workers,
    restartMinMs: o.restartMinMs,
    log,
    zones: o.zones,
    onEvent(ev, snapshotId) {
      const saved = saver.save(ev);
      if (snapshotId !== null) void saved.then((rec) => snapshots.settle(snapshotId, rec));
    },
    onSnapshotNone: (id) => snapshots.settle(id, null),
    onCaptureDown: () => {
      snapshots.cancelAll();
      renders.cancelAll();
    },
    onRendered(id, images, error) {
      if (error) log.once("render", "warn", `a visit snapshot could not be drawn: ${error}`);
      renders.settle(id, images);
    },
  });
  const stop = async (): Promise<void> => {
    snapshots.close();
    renders.close();
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
    render: (input) =>
      renders.request((id) => {
        if (!workers.render({ ...input, id })) renders.settle(id, null);
      }),
    stop,
  };
}
