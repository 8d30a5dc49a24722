/**
 * The MQTT side: one connection to the broker with a last will, reconnecting with backoff.
 *
 * Nothing here is awaited by the pipeline or HTTP: publishEvent() and publishState() only queue
 * and return. Events wait in a bounded FIFO (oldest dropped and counted when full); states keep
 * only their latest value per topic and are all re-sent on every connection (a broker restarted
 * without persistence has lost its retained messages). At most `maxInflight` publishes are handed
 * to the client at once, so a stalled broker cannot grow the socket buffer without bound.
 *
 * Each connection attempt is a fresh client with mqtt.js' own reconnect off: the backoff is ours,
 * and callbacks of a dead connection are recognised and ignored (its unacknowledged events were
 * queued again, so an event may arrive twice: it carries its id).
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { randomBytes } from "node:crypto";
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { MqttConfig } from "../shared/config.ts";
import type { MqttStatus } from "../shared/status.ts";
import {
  AVAILABLE,
  NOT_AVAILABLE,
  mqttTopics,
  type MqttMessage,
  type MqttTopics,
} from "./topics.ts";

export type { MqttMessage } from "./topics.ts";

export interface MqttBridgeOptions {
  config: MqttConfig;
  /** Sent after "online" on every connection (Home Assistant discovery configs). */
  onConnect?: () => MqttMessage[];
  /** Retained messages to look through on every connection, and clear when stale. */
  sweep?: MqttSweep;
  log?: Logger;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  maxQueuedEvents?: number;
  maxInflight?: number;
  connectTimeoutMs?: number;
  keepaliveSec?: number;
}

/**
 * Stale retained messages of an earlier run (e.g. the discovery config of a zone removed while
 * hazardcam was stopped, which would stay in Home Assistant for ever): on every connection the
 * bridge subscribes to `filters()` for SWEEP_MS, and each retained message whose topic
 * `keep(topic)` refuses gets an empty retained payload (which removes it).
 */
export interface MqttSweep {
  filters(): string[];
  keep(topic: string): boolean;
}

/** How long the retained messages of a sweep are awaited before unsubscribing (ms). */
const SWEEP_MS = 5000;

export const MQTT_BACKOFF_MIN_MS = 1000;
export const MQTT_BACKOFF_MAX_MS = 30_000;
export const MQTT_MAX_QUEUED_EVENTS = 100;
const MAX_INFLIGHT = 64;
const STOP_TIMEOUT_MS = 500;

function describe(e: unknown): string {
  const msg = errorMessage(e);
  const code = (e as { code?: unknown }).code;
  if (code === 4 || code === 5 || /not authori[sz]ed|bad user name or password/i.test(msg))
    return `${msg} (check the user and password in --mqtt or HAZARDCAM_MQTT_PASSWORD)`;
  return msg;
}

export class MqttBridge {
  readonly topics: MqttTopics;
  private readonly cfg: MqttConfig;
  private readonly log: Logger;
  private readonly o: Required<Omit<MqttBridgeOptions, "config" | "log" | "onConnect" | "sweep">>;
  private readonly onConnect: () => MqttMessage[];
  private readonly sweep: MqttSweep | null;
  private readonly clientId: string;
  private client: MqttClient | null = null;
  private connected = false;
  private everConnected = false;
  private stopping = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private backoffMs: number;
  private readonly events: MqttMessage[] = [];
  private readonly states = new Map<string, MqttMessage>();
  private readonly dirty = new Set<string>();
  private priority: MqttMessage[] = [];
  /** Events handed to the current client and not yet acknowledged. */
  private readonly unacked = new Set<MqttMessage>();
  private inflight = 0;
  private droppedSinceLog = 0;
  private readonly st: MqttStatus;

  constructor(opts: MqttBridgeOptions) {
    this.cfg = opts.config;
    this.topics = mqttTopics(opts.config.topic);
    this.log = opts.log ?? logger("mqtt");
    this.onConnect = opts.onConnect ?? (() => []);
    this.sweep = opts.sweep ?? null;
    this.o = {
      backoffMinMs: opts.backoffMinMs ?? MQTT_BACKOFF_MIN_MS,
      backoffMaxMs: opts.backoffMaxMs ?? MQTT_BACKOFF_MAX_MS,
      maxQueuedEvents: Math.max(1, opts.maxQueuedEvents ?? MQTT_MAX_QUEUED_EVENTS),
      maxInflight: Math.max(1, opts.maxInflight ?? MAX_INFLIGHT),
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      keepaliveSec: opts.keepaliveSec ?? 30,
    };
    this.backoffMs = this.o.backoffMinMs;
    // MQTT 3.1.1 brokers must accept ids of up to 23 characters.
    const name = this.cfg.nodeId.replace(/^hazardcam_/, "").slice(0, 12);
    this.clientId = `hc_${name}_${randomBytes(3).toString("hex")}`;
    this.st = {
      broker: this.cfg.display,
      topic: this.cfg.topic,
      connected: false,
      since: null,
      last_error: null,
      reconnects: 0,
      queued: 0,
      dropped: 0,
      published: 0,
    };
  }

  start(): void {
    if (!this.client && !this.stopping) this.connect();
  }

  status(): MqttStatus {
    return { ...this.st, connected: this.connected, queued: this.events.length };
  }

  /**
   * Queues an event (QoS 1, not retained): a saved event on the event topic, or another message
   * that must not be lost, e.g. a visit on its own topic.
   */
  publishEvent(payload: string, topic: string = this.topics.event): void {
    if (this.stopping) return;
    if (this.events.length >= this.o.maxQueuedEvents) {
      this.events.shift();
      this.st.dropped++;
      this.droppedSinceLog++;
      this.log.once(
        "drop",
        "warn",
        `event queue full (${this.o.maxQueuedEvents}): the broker is unreachable or too slow, dropping the oldest events (counted in /status)`,
      );
    }
    this.events.push({ topic, payload, retain: false, qos: 1 });
    this.pump();
  }

  /**
   * Sends now, ahead of states and events, if connected (e.g. discovery configs of a zone just
   * added); otherwise nothing: onConnect gives the current ones on the next connection.
   */
  publishNow(messages: MqttMessage[]): void {
    if (this.stopping || !this.connected || messages.length === 0) return;
    this.priority.push(...messages);
    this.pump();
  }

  /** Forgets a retained state (it is not sent again on the next connection). */
  forgetState(topic: string): void {
    this.states.delete(topic);
    this.dirty.delete(topic);
  }

  /** Sets a retained state (only the latest value per topic is kept while disconnected). */
  publishState(topic: string, payload: string): void {
    if (this.stopping) return;
    this.states.set(topic, { topic, payload, retain: true, qos: 0 });
    this.dirty.add(topic);
    this.pump();
  }

  private connect(): void {
    const opts: IClientOptions = {
      protocol: this.cfg.protocol,
      host: this.cfg.host,
      port: this.cfg.port,
      clientId: this.clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs,
      keepalive: this.o.keepaliveSec,
      queueQoSZero: false,
      will: {
        topic: this.topics.availability,
        payload: Buffer.from(NOT_AVAILABLE),
        qos: 1,
        retain: true,
      },
      ...(this.cfg.username !== null ? { username: this.cfg.username } : {}),
      ...(this.cfg.password !== null ? { password: this.cfg.password } : {}),
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(opts);
    } catch (e) {
      this.st.last_error = describe(e);
      this.scheduleRetry();
      return;
    }
    this.client = client;
    client.on("connect", () => {
      if (client === this.client) this.onConnected();
    });
    // Every client keeps an error listener: mqtt.js emits late errors after end(true).
    client.on("error", (e) => {
      if (client !== this.client) return;
      this.st.last_error = describe(e);
      if (!this.connected) this.lost(client);
    });
    client.on("close", () => {
      if (client === this.client) this.lost(client);
    });
  }

  private onConnected(): void {
    const downMs = this.st.since === null ? 0 : Date.now() - this.st.since;
    this.connected = true;
    this.st.since = Date.now();
    this.st.last_error = null;
    this.backoffMs = this.o.backoffMinMs;
    const lost = this.droppedSinceLog
      ? `; ${this.droppedSinceLog} event(s) were dropped while it was unreachable`
      : "";
    if (this.everConnected) {
      this.st.reconnects++;
      this.log.info(
        `reconnected to ${this.cfg.display} after ${(downMs / 1000).toFixed(1)} s${lost}`,
      );
    } else {
      this.log.info(`connected to ${this.cfg.display}, topic ${this.cfg.topic}${lost}`);
    }
    this.everConnected = true;
    this.droppedSinceLog = 0;
    this.log.clear("down");
    this.log.clear("drop");
    this.priority = [
      { topic: this.topics.availability, payload: AVAILABLE, retain: true, qos: 1 },
      ...this.onConnect(),
    ];
    for (const t of this.states.keys()) this.dirty.add(t);
    this.pump();
    if (this.client) this.sweepRetained(this.client);
  }

  /** See MqttSweep. */
  private sweepRetained(client: MqttClient): void {
    const sweep = this.sweep;
    const filters = sweep?.filters() ?? [];
    if (!sweep || filters.length === 0) return;
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
      if (client !== this.client || !packet.retain || payload.length === 0) return;
      if (!sweep.keep(topic)) this.publishNow([{ topic, payload: "", retain: true, qos: 1 }]);
    };
    client.on("message", onMessage);
    client.subscribe(filters, { qos: 0 }, () => {
      const timer = setTimeout(() => {
        client.removeListener("message", onMessage);
        if (client === this.client && this.connected) client.unsubscribe(filters);
      }, SWEEP_MS);
      timer.unref();
    });
  }

  /** The connection (or the attempt) is over: requeue what was not acknowledged, retry later. */
  private lost(client: MqttClient): void {
    if (client !== this.client) return;
    const wasConnected = this.connected;
    this.client = null;
    this.connected = false;
    this.inflight = 0;
    this.events.unshift(...this.unacked);
    this.unacked.clear();
    while (this.events.length > this.o.maxQueuedEvents) {
      this.events.shift();
      this.st.dropped++;
      this.droppedSinceLog++;
    }
    client.end(true);
    if (this.stopping) return;
    if (wasConnected || this.st.since === null) this.st.since = Date.now();
    const why = this.st.last_error ?? "connection closed";
    this.log.once(
      "down",
      "warn",
      `${wasConnected ? "lost" : "cannot reach"} ${this.cfg.display}: ${why}; reconnecting with backoff (up to ${Math.round(this.o.backoffMaxMs / 1000)} s), events are queued (at most ${this.o.maxQueuedEvents})`,
    );
    if (wasConnected && this.st.last_error === null) this.st.last_error = why;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopping || this.retryTimer) return;
    const jitter = 0.8 + Math.random() * 0.4;
    const wait = Math.round(this.backoffMs * jitter);
    this.backoffMs = Math.min(this.o.backoffMaxMs, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopping) this.connect();
    }, wait);
  }

  private nextState(): MqttMessage | undefined {
    for (const t of this.dirty) {
      this.dirty.delete(t);
      const m = this.states.get(t);
      if (m) return m;
    }
    return undefined;
  }

  private pump(): void {
    const client = this.client;
    while (client && this.connected && this.inflight < this.o.maxInflight) {
      const msg = this.priority.shift() ?? this.nextState() ?? this.events.shift();
      if (!msg) return;
      this.send(client, msg);
    }
  }

  private send(client: MqttClient, msg: MqttMessage): void {
    this.inflight++;
    // Events are the messages that are not retained: acknowledged, and queued again if lost.
    const isEvent = !msg.retain;
    if (isEvent) this.unacked.add(msg);
    client.publish(msg.topic, msg.payload, { qos: msg.qos, retain: msg.retain }, (err) => {
      if (client !== this.client) return;
      this.inflight--;
      if (isEvent) this.unacked.delete(msg);
      if (err) {
        this.st.last_error = describe(err);
        if (isEvent) this.events.unshift(msg);
        else if (msg.retain && this.states.get(msg.topic) === msg) this.dirty.add(msg.topic);
        return;
      }
      this.st.published++;
      this.pump();
    });
  }

  /** Says "offline" (a clean disconnect sends no last will), then disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    if (!client) return;
    if (this.connected) {
      const within = (p: Promise<void>): Promise<void> =>
        Promise.race([p, Bun.sleep(STOP_TIMEOUT_MS)]);
      await within(
        new Promise<void>((resolve) =>
          client.publish(this.topics.availability, NOT_AVAILABLE, { qos: 1, retain: true }, () =>
            resolve(),
          ),
        ),
      );
      await within(new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
    }
    this.client = null;
    this.connected = false;
    client.end(true);
  }
}
