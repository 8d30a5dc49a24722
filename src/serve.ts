/**
 * The run command. Start order: archive → scene (zones, visits) → HTTP (listening at once,
 * "starting" frames) → clips → integrations → pipeline; stop order the reverse (the open visit
 * saved first, while the capture Worker can draw it), from any moment (SIGINT/SIGTERM during the
 * start cancels it). Resolves with the exit code.
 */
import { hostname } from "node:os";
import type { Config } from "./shared/config.ts";
import { errorMessage, HcError, inputError } from "./shared/errors.ts";
import { Archive } from "./events/archive.ts";
import {
  buildStatus,
  createServer,
  type HazardcamServer,
  type ServerDeps,
} from "./http/server.tsx";
import { startIntegrations, type Integrations } from "./integrations/index.ts";
import { Lifecycle } from "./shared/lifecycle.ts";
import { logger } from "./shared/log.ts";
import {
  noSignal,
  PipelineStore,
  startPipeline,
  type Pipeline,
  type RenderInput,
} from "./pipeline/index.ts";
import { startScene, type Scene } from "./pipeline/scene-start.ts";
import { startClips } from "./pipeline/clips.ts";
import { VERSION } from "./shared/version.ts";

const log = logger("hazardcam");
const httpLog = logger("http");
const eventsLog = logger("events");
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/** 0.0.0.0, ::, or an empty host: every interface. */
function isAllInterfaces(bind: string): boolean {
  return bind === "" || bind === "0.0.0.0" || bind === "::" || bind === "[::]";
}

export async function serve(config: Config): Promise<number> {
  const startedAt = Date.now();
  const life = new Lifecycle(log);
  const done = Promise.withResolvers<number>();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!life.stopping) return void shutdown(life, sig, done);
    log.warn(`second ${sig}: exiting now`);
    done.resolve(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  life.add("signal handlers", () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  });

  const store = new PipelineStore({ source: config.cam, model: config.model });
  let pipeline: Pipeline | null = null;
  try {
    const archive = await life.step(
      "archive",
      () => openArchive(config),
      (a) => a.close(),
    );
    life.add("retention timer", startRetention(archive));
    // Before the pipeline, so the first result is analysed; it draws through the pipeline.
    const scene = await life.step(
      "scene",
      () => startScene({ config, store, archive, render: (i) => renderVia(pipeline, i) }),
      (s) => s.stop(),
    );
    const deps = serverDeps(config, store, archive, startedAt, () => pipeline, scene);
    const app = await life.step("http", () => listen(config, deps, startedAt), stopHttp);
    // Clips: recovery before the first frame; closed after the pipeline, before the archive.
    const clips = await life.step(
      "clips",
      () => startClips({ config, archive, store, feed: scene.feed }),
      (c) => c.close(),
    );
    deps.clips = clips.service;
    const integrations = await life.step(
      "integrations",
      () => startIntegrationsFor(config, deps, app),
      (i) => i.stop(),
    );
    deps.integrations = integrations;
    pipeline = await life.step(
      "pipeline",
      (signal) => startPipelineOrExplain(config, archive, store, signal, scene),
      (p) => p.stop(),
    );
    // Stopped first: the open visit is saved while the capture Worker can still draw it.
    life.add("visits", () => scene.flush());
  } catch (e) {
    // A signal during the start: shutdown() is closing what started.
    if (life.stopping) return done.promise;
    await life.stop();
    throw e;
  }
  const shownHost = config.bind === "0.0.0.0" || config.bind === "::" ? hostname() : config.bind;
  log.info(`ready in ${Date.now() - startedAt} ms: http://${shownHost}:${config.port}/`);
  // After the start, so a camera or model error stays the first line a user reads.
  if (!config.auth && isAllInterfaces(config.bind)) {
    httpLog.warn(
      `anyone on the network can watch the camera and read the archive: pass --auth user:pass (or --auth-file), or --bind 127.0.0.1`,
    );
  }
  return done.promise;
}

async function shutdown(
  life: Lifecycle,
  reason: string,
  done: PromiseWithResolvers<number>,
): Promise<void> {
  log.info(`${reason}: stopping`);
  const t0 = performance.now();
  await life.stop();
  log.info(`stopped in ${Math.round(performance.now() - t0)} ms`);
  done.resolve(0);
}

function openArchive(config: Config): Archive {
  const archive = Archive.open(config.outdir, {
    keepDays: config.keepDays,
    maxEvents: config.maxEvents,
    minFreeMb: config.minFreeMb,
    log: eventsLog,
  });
  const stats = archive.stats();
  eventsLog.info(
    `${config.outdir}: ${stats.total} events, ${stats.diskFreeMb ?? "?"} MB free; keep ${config.keepDays || "∞"} days, ${config.maxEvents || "∞"} events, ${config.minFreeMb} MB free`,
  );
  return archive;
}

/** Retention also runs after each save; this expires old events when nothing new is saved. */
function startRetention(archive: Archive): () => void {
  const timer = setInterval(() => {
    try {
      archive.enforce();
    } catch (e) {
      eventsLog.once("enforce", "error", `retention failed: ${errorMessage(e)}`);
    }
  }, RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** What HTTP reads: the store's latest state, the pipeline's snapshots once it runs. */
export function serverDeps(
  config: Config,
  store: PipelineStore,
  archive: Archive,
  startedAt: number,
  pipeline: () => Pipeline | null,
  scene?: Scene,
): ServerDeps {
  return {
    config: {
      model: config.model,
      cam: config.cam,
      threshold: config.threshold,
      width: config.width,
      height: config.height,
      outdir: config.outdir,
      cooldownSec: config.cooldownSec,
      version: VERSION,
      keepDays: config.keepDays,
      maxEvents: config.maxEvents,
      minFreeMb: config.minFreeMb,
      auth: config.auth,
    },
    latest: () => store.latest(),
    annotatedJpeg: () => store.annotatedJpeg(),
    wantAnnotated: (on) => store.setWantAnnotated(on),
    onFrame: (cb) => store.on("frame", cb),
    status: () => store.status(),
    snapshot: () => pipeline()?.snapshot() ?? Promise.resolve(null),
    // The camera's actual size once known, so a viewer's picture does not jump.
    noSignalJpeg: (reason) => {
      const st = store.status();
      return noSignal(st.actualWidth || config.width, st.actualHeight || config.height, reason);
    },
    archive,
    startedAt,
    scene: scene && { feed: scene.feed, zones: scene.zones, visits: scene.visits },
  };
}

function renderVia(pipeline: Pipeline | null, input: RenderInput) {
  return pipeline?.render(input) ?? Promise.resolve(null);
}

function listen(config: Config, deps: ServerDeps, startedAt: number): HazardcamServer {
  const app = createServer(deps);
  try {
    app.listen({ port: config.port, hostname: config.bind });
  } catch (e) {
    throw listenError(config.port, e);
  }
  const shownHost = config.bind === "0.0.0.0" || config.bind === "::" ? hostname() : config.bind;
  httpLog.info(
    `listening on http://${shownHost}:${config.port}/ (bind ${config.bind}) after ${Date.now() - startedAt} ms${config.auth ? ", login required" : ""}`,
  );
  return app;
}

function listenError(port: number, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE" || /in use/i.test(errorMessage(e))) {
    return inputError(
      "EARG_PORT",
      `port ${port} is already in use`,
      `stop the other program (\`ss -ltnp 'sport = :${port}'\`) or pick another port`,
    );
  }
  if (code === "EACCES") {
    return inputError("EARG_PORT", `port ${port} needs root`, "use a port above 1023, e.g. 8080");
  }
  return e;
}

async function stopHttp(app: HazardcamServer): Promise<void> {
  await app.stop(true).catch(() => undefined);
}

/** MQTT, webhooks and the /metrics + /healthz telemetry; they only queue, never block. */
function startIntegrationsFor(
  config: Config,
  deps: ServerDeps,
  app: HazardcamServer,
): Integrations {
  const integrations = startIntegrations(config, {
    archive: deps.archive,
    onFrame: deps.onFrame,
    statusJson: () => buildStatus(deps, app.streams),
    ...(deps.scene ? { scene: deps.scene } : {}),
    // Read per message: the clips start after the integrations' context is built.
    clipUrl: (visitId) => deps.clips?.clipUrl(visitId) ?? null,
  });
  integrations.start();
  return integrations;
}

async function startPipelineOrExplain(
  config: Config,
  archive: Archive,
  store: PipelineStore,
  signal: AbortSignal,
  scene: Scene,
): Promise<Pipeline> {
  try {
    return await startPipeline({ config, archive, store, signal, zones: scene.zones });
  } catch (e) {
    throw e instanceof HcError || signal.aborted ? e : new HcError("ESTART", errorMessage(e));
  }
}
