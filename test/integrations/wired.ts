/**
 * The HTTP app on a fake pipeline (test/http/fake-deps.ts) with the integrations joined to it as
 * src/serve.ts joins them: the archive's saves, a frame stream the test feeds, /status' JSON.
 */
import { buildStatus, createServer, type HazardcamServer } from "../../src/http/server.tsx";
import {
  startIntegrations,
  type Integrations,
  type IntegrationsContext,
} from "../../src/integrations/index.ts";
import type { Config } from "../../src/shared/config.ts";
import type { Logger } from "../../src/shared/log.ts";
import type { FrameState } from "../../src/shared/types.ts";
import { makeFake, type Fake } from "../http/fake-deps.ts";

export interface Wired {
  fake: Fake;
  app: HazardcamServer;
  integ: Integrations;
  /** Hands a frame state to the integrations, as the pipeline does for every frame. */
  emit(s: FrameState): void;
  /**
   * Milliseconds spent so far in the integrations' own listeners (saves and frames): what a
   * save or a frame waits for because of them, without the archive's disk writes.
   */
  listenerMs(): number;
}

export function wireIntegrations(
  config: Pick<Config, "mqtt" | "webhooks" | "publicUrl">,
  cleanups: (() => Promise<void> | void)[],
  opts: {
    fake?: Parameters<typeof makeFake>[0];
    mqttLog?: Logger;
    /** More of the context (e.g. the scene and the clip URLs of issue 11). */
    ctx?: Partial<IntegrationsContext>;
  } = {},
): Wired {
  const fake = makeFake(opts.fake);
  const app = createServer(fake.deps);
  const subs = new Set<(s: FrameState) => void>();
  let listenerMs = 0;
  const timed =
    <T>(cb: (v: T) => void) =>
    (v: T): void => {
      const t0 = performance.now();
      try {
        cb(v);
      } finally {
        listenerMs += performance.now() - t0;
      }
    };
  const integ = startIntegrations(config, {
    archive: { onSaved: (cb) => fake.archive.onSaved(timed(cb)) },
    onFrame(cb) {
      const t = timed(cb);
      subs.add(t);
      return () => void subs.delete(t);
    },
    statusJson: () => buildStatus(fake.deps, app.streams),
    ...(opts.mqttLog ? { mqttLog: opts.mqttLog } : {}),
    ...opts.ctx,
  });
  fake.deps.integrations = integ;
  cleanups.push(
    () => fake.cleanup(),
    () => app.closeStreams(),
    () => integ.stop(),
  );
  return {
    fake,
    app,
    integ,
    emit(s) {
      for (const cb of subs) cb(s);
    },
    listenerMs: () => listenerMs,
  };
}
