/**
 * Joins the integrations to the running server: every saved event goes to MQTT and the
 * webhooks, every frame to the telemetry (and the people count to MQTT when it changes), and a
 * timer publishes the status. All of it runs on the main thread and only queues: nothing here
 * waits on the network while a frame or a save is handled. With the live scene (issue 11,
 * `ctx.scene` or attachScene() once it exists), src/integrations/scene.ts adds the zones, lines
 * and visits.
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
import { attachScene, type IntegrationsScene } from "./scene.ts";
import type { SceneMqtt } from "./scene-mqtt.ts";
import type { ClipUrl } from "./visit-message.ts";
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
  /** Adds the live scene (issue 11), if ctx.scene was not given; a second call is ignored. */
  attachScene(scene: IntegrationsScene): void;
  stop(): Promise<void>;
}

/** The event as MQTT and webhooks send it: /api/events' JSON with absolute URLs, and the camera. */
export type EventMessage = EventJson & { camera: string };

export interface IntegrationsContext {
  /** Only its saves are listened to. */
  archive: Pick<Archive, "onSaved">;
  onFrame(cb: (s: FrameState) => void): () => void;
  /** /status' JSON: the status topic carries a subset of it. */
  statusJson(): StatusJson;
  /** Defaults to the "mqtt:" and "webhook:" loggers. */
  mqttLog?: Logger;
  webhookLog?: Logger;
  /** The live scene (issue 11): zones, lines and visits (or attachScene() later). */
  scene?: IntegrationsScene;
  /** A visit's clip URL (issue 12) for the visit messages' `clip_url`. */
  clipUrl?: ClipUrl;
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

/**
 * What goes to MQTT besides events: the people count when it changes, and the retained status
 * every STATUS_INTERVAL_MS (and at once when the camera comes back).
 */
class MqttState {
  private people = -1;
  private online = false;
  private started = false;
  /** Date.now() of the last status published. */
  private statusAt = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly mqtt: MqttBridge,
    private readonly statusJson: () => StatusJson,
  ) {}

  start(): void {
    this.started = true;
    this.mqtt.start();
    this.publishStatus();
    this.timer = setInterval(() => this.publishStatus(), STATUS_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  onFrame(s: FrameState): void {
    this.setPeople(s.people);
    // Back online (or the first frame): say so now rather than at the next tick.
    if (!this.online && this.started && Date.now() - this.statusAt >= 1000) this.publishStatus();
  }

  private setPeople(n: number): void {
    if (n === this.people) return;
    this.people = n;
    this.mqtt.publishState(this.mqtt.topics.people, String(n));
  }

  private publishStatus(): void {
    const s = this.statusJson();
    this.online = s.online;
    this.statusAt = Date.now();
    this.setPeople(s.online ? s.people : 0);
    const body: Record<string, unknown> = {};
    for (const k of STATUS_KEYS) body[k] = s[k] ?? null;
    body.time = Date.now();
    this.mqtt.publishState(this.mqtt.topics.status, JSON.stringify(body));
  }
}

/** `scene()`: the zones and lines (issue 11), once the scene is attached. */
function mqttBridge(
  config: Pick<Config, "mqtt" | "publicUrl">,
  log: Logger,
  scene: () => SceneMqtt | null,
): MqttBridge | null {
  const mqtt = config.mqtt;
  if (!mqtt) return null;
  return new MqttBridge({
    config: mqtt,
    log,
    onConnect: () => [
      ...discoveryMessages(mqtt, { version: VERSION, configurationUrl: config.publicUrl }),
      ...(scene()?.discovery() ?? []),
    ],
    sweep: {
      filters: () => scene()?.sweepFilters() ?? [],
      keep: (topic) => scene()?.keeps(topic) ?? true,
    },
  });
}

export function startIntegrations(
  config: Pick<Config, "mqtt" | "webhooks" | "publicUrl">,
  ctx: IntegrationsContext,
): Integrations {
  const telemetry = new Telemetry();
  const camera = config.mqtt?.topic.split("/").pop() || sanitizeName(hostname());
  let scene: { sceneMqtt: SceneMqtt | null; stop: () => void } | null = null;
  const mqtt = mqttBridge(config, ctx.mqttLog ?? logger("mqtt"), () => scene?.sceneMqtt ?? null);
  const mqttState = mqtt ? new MqttState(mqtt, ctx.statusJson) : null;
  const webhooks =
    config.webhooks.length > 0
      ? new WebhookSender(config.webhooks, { log: ctx.webhookLog ?? logger("webhook") })
      : null;
  let started = false;

  const offSaved = ctx.archive.onSaved((rec) => {
    telemetry.observeSaved(rec);
    if (!mqtt && !webhooks) return;
    const msg: EventMessage = { ...eventJson(rec, config.publicUrl), camera };
    mqtt?.publishEvent(JSON.stringify(msg));
    webhooks?.send(msg);
  });
  const offFrame = ctx.onFrame((s) => {
    telemetry.observeFrame(s);
    mqttState?.onFrame(s);
  });

  const withScene = (s: IntegrationsScene): void => {
    if (scene) return;
    const device = { version: VERSION, configurationUrl: config.publicUrl };
    scene = attachScene(s, {
      telemetry,
      mqtt: mqtt && config.mqtt ? { bridge: mqtt, config: config.mqtt, device } : null,
      sendVisit: webhooks ? (msg) => webhooks.send(msg) : null,
      publicUrl: config.publicUrl,
      camera,
      ...(ctx.clipUrl ? { clipUrl: ctx.clipUrl } : {}),
      refreshMs: STATUS_INTERVAL_MS,
    });
  };
  if (ctx.scene) withScene(ctx.scene);

  return {
    telemetry,
    attachScene: withScene,
    status: () => ({ mqtt: mqtt?.status() ?? null, webhooks: webhooks?.status() ?? [] }),
    start() {
      if (started) return;
      started = true;
      mqttState?.start();
    },
    async stop() {
      mqttState?.stop();
      scene?.stop();
      offSaved();
      offFrame();
      await Promise.all([mqtt?.stop(), webhooks?.stop()]);
    },
  };
}
