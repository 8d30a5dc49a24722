/**
 * The zones and lines on MQTT (issue 11): their retained states (people per zone, crossings per
 * line since local midnight) and their Home Assistant discovery, following the zones file live.
 *
 * - States are published when they change (and all again on every connection, by the bridge).
 * - A new zone or line: its configs are sent at once when connected (else with the next
 *   connection's discovery). A removed one: its configs and states get an empty retained payload,
 *   which removes the entity from Home Assistant and the retained message from the broker; the
 *   bridge keeps that empty state, so a broker that was unreachable at the time gets it on the
 *   next connection. A name that comes back forgets its pending removal.
 */
import type { MqttConfig } from "../shared/config.ts";
import type { ZonesConfig } from "../track/zones.ts";
import { DISCOVERY_PREFIX, type DeviceInfo } from "./homeassistant.ts";
import type { MqttBridge } from "./mqtt.ts";
import { sceneDiscovery, sceneStateTopics } from "./scene-discovery.ts";
import { lineCountTopic, zonePeopleTopic, type MqttMessage } from "./topics.ts";

/** What SceneMqtt publishes of the live scene (SceneUpdate or SceneStatusJson fields). */
export interface SceneCounts {
  zonePeople: Record<string, number>;
  lines: Record<string, { in: number; out: number }>;
}

export class SceneMqtt {
  /** Config topic → payload, of the current zones file. */
  #configs = new Map<string, string>();
  #stateTopics = new Set<string>();
  /** State topic → the payload last handed to the bridge. */
  readonly #published = new Map<string, string>();

  constructor(
    private readonly mqtt: Pick<MqttBridge, "publishState" | "publishNow" | "forgetState">,
    private readonly cfg: MqttConfig,
    private readonly device: DeviceInfo,
    zones: ZonesConfig,
  ) {
    this.#apply(zones);
  }

  /** Where the retained messages of the zones and lines live (for MqttSweep). */
  sweepFilters(): string[] {
    const base = this.cfg.topic;
    return [
      `${DISCOVERY_PREFIX}/+/${this.cfg.nodeId}/+/config`,
      `${base}/zone/+/people`,
      `${base}/line/+/+`,
    ];
  }

  /**
   * False for a retained zone or line topic of a name no longer in the zones file (an earlier
   * run's); true for anything else (the camera's own entities, the current names).
   */
  keeps(topic: string): boolean {
    if (this.#configs.has(topic) || this.#stateTopics.has(topic)) return true;
    const base = this.cfg.topic;
    const object = topic.startsWith(`${DISCOVERY_PREFIX}/`) ? (topic.split("/")[3] ?? "") : null;
    if (object !== null) return !/^(zone|line)_/.test(object);
    return !topic.startsWith(`${base}/zone/`) && !topic.startsWith(`${base}/line/`);
  }

  /** The current configs, for the discovery sent on every connection. */
  discovery(): MqttMessage[] {
    return [...this.#configs].map(([topic, payload]) => ({ topic, payload, retain: true, qos: 1 }));
  }

  /** A new zones file: configs of new names now, removals of the names gone. */
  setZones(zones: ZonesConfig): void {
    const before = { configs: this.#configs, states: this.#stateTopics };
    const added = this.#apply(zones);
    for (const t of [...before.configs.keys(), ...before.states]) {
      if (this.#configs.has(t) || this.#stateTopics.has(t)) continue;
      this.#published.delete(t);
      this.mqtt.publishState(t, "");
    }
    for (const m of added) this.mqtt.forgetState(m.topic);
    for (const t of this.#stateTopics) if (!before.states.has(t)) this.mqtt.forgetState(t);
    this.mqtt.publishNow(added);
  }

  /** Publishes the counts that changed (zones and lines of the current file only). */
  setCounts(c: SceneCounts): void {
    const base = this.cfg.topic;
    for (const [zone, n] of Object.entries(c.zonePeople)) {
      this.#set(zonePeopleTopic(base, zone), String(n));
    }
    for (const [line, counts] of Object.entries(c.lines)) {
      this.#set(lineCountTopic(base, line, "in"), String(counts.in));
      this.#set(lineCountTopic(base, line, "out"), String(counts.out));
    }
  }

  #set(topic: string, payload: string): void {
    if (!this.#stateTopics.has(topic) || this.#published.get(topic) === payload) return;
    this.#published.set(topic, payload);
    this.mqtt.publishState(topic, payload);
  }

  /** Takes `zones` as current; returns the configs that are new or changed. */
  #apply(zones: ZonesConfig): MqttMessage[] {
    const old = this.#configs;
    const added: MqttMessage[] = [];
    this.#configs = new Map();
    for (const m of sceneDiscovery(this.cfg, this.device, zones)) {
      this.#configs.set(m.topic, m.payload);
      if (old.get(m.topic) !== m.payload) added.push(m);
    }
    this.#stateTopics = new Set(sceneStateTopics(this.cfg.topic, zones));
    return added;
  }
}
