/**
 * The run command: archive → HTTP (listening at once, "starting" frames) → pipeline → serve until
 * SIGINT/SIGTERM. Resolves with the exit code.
 */
import { hostname } from "node:os";
import type { Config } from "./shared/config.ts";
import { errorMessage, HcError, inputError } from "./shared/errors.ts";
import { Archive } from "./events/archive.ts";
import { buildStatus, createServer, type ServerDeps } from "./http/server.tsx";
import type { PipelineStatus } from "./shared/status.ts";
import { startIntegrations } from "./integrations/index.ts";
import { logger } from "./shared/log.ts";
import { noSignal, startPipeline, type Pipeline } from "./pipeline.ts";
import type { FrameState } from "./shared/types.ts";
import { VERSION } from "./shared/version.ts";

const log = logger("hazardcam");
const httpLog = logger("http");
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/** 0.0.0.0, ::, or an empty host: every interface. */
function isAllInterfaces(bind: string): boolean {
  return bind === "" || bind === "0.0.0.0" || bind === "::" || bind === "[::]";
}

export async function serve(config: Config): Promise<number> {
  const startedAt = Date.now();
  const archive = Archive.open(config.outdir, {
    keepDays: config.keepDays,
    maxEvents: config.maxEvents,
    minFreeMb: config.minFreeMb,
    log: logger("events"),
  });
  const stats = archive.stats();
  logger("events").info(
    `${config.outdir}: ${stats.total} events, ${stats.diskFreeMb ?? "?"} MB free; keep ${config.keepDays || "∞"} days, ${config.maxEvents || "∞"} events, ${config.minFreeMb} MB free`,
  );

  let pipeline: Pipeline | null = null;
  // One fan-out that outlives the pipeline's start: HTTP may subscribe before frames flow.
  const frameSubs = new Set<(s: FrameState) => void>();
  const starting: PipelineStatus = {
    online: false,
    offlineReason: "starting",
    backend: null,
    tfliteVersion: null,
    edgetpuVersion: null,
    captureFps: 0,
    detectFps: 0,
    inferMs: 0,
    people: 0,
    framesCorrupt: 0,
    framesDropped: 0,
    lastError: null,
    source: config.cam,
    actualWidth: 0,
    actualHeight: 0,
  };
  const deps: ServerDeps = {
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
    latest: () => pipeline?.latest() ?? null,
    annotatedJpeg: () => pipeline?.annotatedJpeg() ?? null,
    wantAnnotated: (on) => pipeline?.wantAnnotated(on),
    onFrame: (cb) => {
      frameSubs.add(cb);
      return () => frameSubs.delete(cb);
    },
    status: () => pipeline?.status() ?? starting,
    snapshot: () => pipeline?.snapshot() ?? Promise.resolve(null),
    // The camera's actual size once known, so a viewer's picture does not jump.
    noSignalJpeg: (reason) => {
      const st = pipeline?.status();
      return noSignal(st?.actualWidth || config.width, st?.actualHeight || config.height, reason);
    },
    archive,
    startedAt,
  };

  const app = createServer(deps);
  try {
    app.listen({ port: config.port, hostname: config.bind });
  } catch (e) {
    await archive.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || /in use/i.test(errorMessage(e))) {
      throw inputError(
        "EARG_PORT",
        `port ${config.port} is already in use`,
        `stop the other program (\`ss -ltnp 'sport = :${config.port}'\`) or pick another port`,
      );
    }
    if (code === "EACCES") {
      throw inputError(
        "EARG_PORT",
        `port ${config.port} needs root`,
        "use a port above 1023, e.g. 8080",
      );
    }
    throw e;
  }
  const shownHost = config.bind === "0.0.0.0" || config.bind === "::" ? hostname() : config.bind;
  httpLog.info(
    `listening on http://${shownHost}:${config.port}/ (bind ${config.bind}) after ${Date.now() - startedAt} ms${config.auth ? ", login required" : ""}`,
  );
  // MQTT, webhooks and the /metrics + /healthz telemetry; they only queue, never block.
  const integrations = startIntegrations(config, {
    archive,
    onFrame: deps.onFrame,
    statusJson: () => buildStatus(deps, app.streams),
  });
  deps.integrations = integrations;
  integrations.start();

  // Retention also runs after each save; this expires old events when nothing new is saved.
  const retentionTimer = setInterval(() => {
    try {
      archive.enforce();
    } catch (e) {
      logger("events").once("enforce", "error", `retention failed: ${errorMessage(e)}`);
    }
  }, RETENTION_INTERVAL_MS);
  retentionTimer.unref();

  const done = Promise.withResolvers<number>();
  let stopping = false;
  async function shutdown(reason: string, code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info(`${reason}: stopping`);
    const t0 = performance.now();
    clearInterval(retentionTimer);
    await app.stop(true).catch(() => undefined);
    await pipeline?.stop();
    await integrations.stop();
    await archive.close();
    log.info(`stopped in ${Math.round(performance.now() - t0)} ms`);
    done.resolve(code);
  }
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`second ${sig}: exiting now`);
      done.resolve(130);
      return;
    }
    void shutdown(sig, 0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    pipeline = await startPipeline(config, archive);
  } catch (e) {
    clearInterval(retentionTimer);
    await app.stop(true).catch(() => undefined);
    await integrations.stop();
    await archive.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (stopping) return done.promise;
    throw e instanceof HcError ? e : new HcError("ESTART", errorMessage(e));
  }
  pipeline.onFrame((s) => {
    for (const cb of frameSubs) cb(s);
  });
  log.info(`ready in ${Date.now() - startedAt} ms: http://${shownHost}:${config.port}/`);
  // After the start, so a camera or model error stays the first line a user reads.
  if (!config.auth && isAllInterfaces(config.bind)) {
    httpLog.warn(
      `anyone on the network can watch the camera and read the archive: pass --auth user:pass (or --auth-file), or --bind 127.0.0.1`,
    );
  }
  return done.promise;
}
