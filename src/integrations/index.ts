/**
 * Joins the integrations to the running server: every saved event goes to MQTT and the
 * webhooks, every frame to the telemetry (and the people count to MQTT when it changes), and a
 * timer publishes the status. All of it runs on the main thread and only queues: nothing here
 * waits on the network while a frame or a save is handled.
 */
import { hostname } from "node:os";
import type { Config } from "../shared/config.ts";
import { eventJson, type Archive, type EventJson } from "../events/archive.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { IntegrationsStatus, StatusJson } from "../shared/status.ts";
import type { FrameState } from "../shared/types.ts";

export type { IntegrationsStatus } from "../shared/status.ts";
import { VERSION } from "../shared/version.ts";
import { sanitizeName } from "./names.ts";
import { discoveryMessages } from "./homeassistant.ts";
import { MqttBridge } from "./mqtt.ts";
import { Telemetry } from "./telemetry.ts";
import { WebhookSender } from "./webhooks.ts";

/** Status JSON is published this often (ms), and retained. */
export const STATUS_INTERVAL_MS = 5000;

export interface Integrations {
  readonly telemetry: Telemetry;
  /** For /status and /metrics. */
  status(): IntegrationsStatus;
  /** Connects to the broker; call once HTTP listens. */
  start(): void;
  stop(): Promise<void>;
}

/** The event as MQTT and webhooks send it: /api/events' JSON with absolute URLs, and the camera. */
export type EventMessage = EventJson & { camera: string };

export interface IntegrationsContext {
  archive: Archive;
  onFrame(cb: (s: FrameState) => void): () => void;
  /** /status' JSON: the status topic carries a subset of it. */
  statusJson(): StatusJson;
  /** Defaults to the "mqtt:" and "webhook:" loggers. */
  mqttLog?: Logger;
  webhookLog?: Logger;
}

const STATUS_KEYS = [
  "online",
  "offline_reason",
  "people",
  "fps",
  "detect_fps",
  "infer_ms",
  "backend",
  "uptime_s",
  "clients",
  "events_total",
  "disk_free_mb",
  "last_error",
  "version",
] as const satisfies readonly (keyof StatusJson)[];

export function startIntegrations(
  config: Pick<Config, "mqtt" | "webhooks" | "publicUrl">,
  ctx: IntegrationsContext,
): Integrations {
  const log = ctx.mqttLog ?? logger("mqtt");
  const telemetry = new Telemetry();
  const camera = config.mqtt?.topic.split("/").pop() || sanitizeName(hostname());
  const mqtt = config.mqtt
    ? new MqttBridge({
        config: config.mqtt,
        log,
        onConnect: () =>
          discoveryMessages(config.mqtt!, { version: VERSION, configurationUrl: config.publicUrl }),
      })
    : null;
  const webhooks =
    config.webhooks.length > 0
      ? new WebhookSender(config.webhooks, { log: ctx.webhookLog ?? logger("webhook") })
      : null;
  let people = -1;
  let online = false;
  let started = false;
  let statusAt = 0;
  let timer: ReturnType<typeof setInterval> | null = null;

  function setPeople(n: number): void {
    if (n === people) return;
    people = n;
    mqtt?.publishState(mqtt.topics.people, String(n));
  }

  function publishStatus(): void {
    if (!mqtt) return;
    const s = ctx.statusJson();
    online = s.online;
    statusAt = Date.now();
    setPeople(s.online ? s.people : 0);
    const body: Record<string, unknown> = {};
    for (const k of STATUS_KEYS) body[k] = s[k] ?? null;
    body.time = Date.now();
    mqtt.publishState(mqtt.topics.status, JSON.stringify(body));
  }

  const offSaved = ctx.archive.onSaved((rec) => {
    telemetry.observeSaved(rec);
    if (!mqtt && !webhooks) return;
    const msg: EventMessage = {
      ...eventJson(rec, config.publicUrl),
      camera,
    };
    mqtt?.publishEvent(JSON.stringify(msg));
    webhooks?.send(msg);
  });
  const offFrame = ctx.onFrame((s) => {
    telemetry.observeFrame(s);
    if (!mqtt) return;
    setPeople(s.people);
    // Back online (or the first frame): say so now rather than at the next tick.
    if (!online && started && Date.now() - statusAt >= 1000) publishStatus();
  });

  return {
    telemetry,
    status: () => ({ mqtt: mqtt?.status() ?? null, webhooks: webhooks?.status() ?? [] }),
    start() {
      if (started) return;
      started = true;
      if (!mqtt) return;
      mqtt.start();
      publishStatus();
      timer = setInterval(publishStatus, STATUS_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      offSaved();
      offFrame();
      await Promise.all([mqtt?.stop(), webhooks?.stop()]);
    },
  };
}
