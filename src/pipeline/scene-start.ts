/**
 * Starting and stopping issue 11's engine as one piece (src/serve.ts): the zones file service,
 * the visits store next to the archive's index, and the scene fed by the pipeline store's
 * results. Start it after the archive and before the pipeline (so the first result is
 * analysed); at stop, flush() while the capture Worker still runs (it draws the last visit's
 * snapshot), then stop() after everything that reads it.
 *
 * HAZARDCAM_SCENE_TRACE=<file> appends one JSON line per result (and one for the first frame)
 * for diagnosis and the end-to-end tests: times, tracks, crossings, visits opened and closed.
 */
import fs from "node:fs";
import type { Archive } from "../events/archive.ts";
import type { VisitsReader } from "../events/visit-types.ts";
import { VisitsStore } from "../events/visits.ts";
import type { Config } from "../shared/config.ts";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { RenderedImages, RenderInput } from "../workers/protocol.ts";
import type { SceneFeed, ZonesService } from "./scene-api.ts";
import { SceneService } from "./scene.ts";
import type { PipelineStore } from "./store.ts";
import { ZonesFile } from "./zones-file.ts";

export interface SceneOptions {
  config: Config;
  store: PipelineStore;
  /** Open: the visits tables are in its index (migration 2), stills are linked as saved. */
  archive: Archive;
  /** Draws a visit's snapshot in the capture Worker (Pipeline.render once it runs). */
  render(input: RenderInput): Promise<RenderedImages | null>;
  log?: Logger;
  /** Tick period, ms (default 1000). */
  tickMs?: number;
  /** HAZARDCAM_SCENE_TRACE by default. */
  tracePath?: string | null;
}

export interface Scene {
  feed: SceneFeed;
  zones: ZonesService & ZonesFile;
  visits: VisitsReader;
  service: SceneService;
  /** Stops listening and saves the open visit (closed now). Idempotent. */
  flush(): Promise<void>;
  /** flush(), then closes the zones watcher and the visits store. Idempotent. */
  stop(): Promise<void>;
}

export function startScene(o: SceneOptions): Scene {
  const log = o.log ?? logger("scene");
  const { config, store, archive } = o;
  const zones = ZonesFile.open({ path: config.scene.zonesPath, log: logger("zones") });
  let visits: VisitsStore;
  try {
    visits = VisitsStore.open(archive.indexPath, archive.outdir, {
      keepDays: config.keepDays,
      minFreeMb: config.minFreeMb,
      log: logger("visits"),
    });
  } catch (e) {
    void zones.close();
    throw e;
  }
  const service = new SceneService({
    config,
    visits,
    zones,
    render: o.render,
    overlay: () => {
      const st = store.status();
      return { fps: st.captureFps, backend: st.backend };
    },
    log,
  });
  const offs = [
    store.on("result", (r) => service.onResult(r)),
    archive.onSaved((rec) => {
      try {
        visits.linkStill(rec.id, rec.time, service.openVisit);
      } catch (e) {
        log.once("link", "warn", `cannot link ${rec.file} to its visit: ${errorMessage(e)}`);
      }
    }),
    trace(o.tracePath ?? process.env.HAZARDCAM_SCENE_TRACE ?? null, store, service),
  ];
  const timer = setInterval(() => service.tick(), o.tickMs ?? 1000);
  timer.unref();
  log.info(
    `zones ${zones.path}: ${zones.error() ? "not applied (see above)" : describe(zones)}; detector at score ${service.lowScore}`,
  );
  let flushing: Promise<void> | null = null;
  const flush = (): Promise<void> => {
    flushing ??= (async () => {
      clearInterval(timer);
      for (const off of offs.splice(0)) off();
      await service.flush();
    })();
    return flushing;
  };
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await flush();
      await zones.close();
      visits.close();
    })();
    return stopping;
  };
  return { feed: service, zones, visits, service, flush, stop };
}

function describe(z: ZonesService): string {
  const c = z.current();
  if (c.zones.length + c.masks.length + c.lines.length === 0) return "none (the whole picture)";
  return `${c.zones.length} zone(s), ${c.masks.length} mask(s), ${c.lines.length} line(s)`;
}

/** The debug trace (HAZARDCAM_SCENE_TRACE): JSON lines, appended synchronously. */
function trace(path: string | null, store: PipelineStore, feed: SceneService): () => void {
  if (!path) return () => undefined;
  const write = (o: unknown): void => {
    try {
      fs.appendFileSync(path, JSON.stringify(o) + "\n");
    } catch {
      // A debug aid: never in the way.
    }
  };
  const offFrame = store.on("frame", (s) => {
    write({ type: "frame", seq: s.seq, at: s.grabbedAt });
    offFrame();
  });
  const offUpdate = feed.onUpdate((u) =>
    write({
      type: "result",
      at: u.atMs,
      tracks: u.tracks.map((t) => ({ id: t.id, feet: t.feet, matched: t.matched })),
      masked: u.masked,
      crossings: u.crossings,
      opened: u.visit.opened && { id: u.visit.opened.id, start: u.visit.opened.startMs },
      closed: u.visit.closed && { id: u.visit.closed.id, end: u.visit.closed.endMs },
    }),
  );
  const offVisit = feed.onVisit((e) =>
    write({
      type: "visit",
      event: e.type,
      at: e.at,
      id: e.visit.id,
      start: e.visit.start,
      end: e.visit.end,
    }),
  );
  return () => {
    offFrame();
    offUpdate();
    offVisit();
  };
}
