/**
 * Joins the live scene (issue 11) to the integrations: every scene update to the telemetry
 * (line crossings for /metrics) and to MQTT (people per zone, line totals, when they change), the
 * zones file's changes to the Home Assistant discovery, and each visit's open and close to MQTT
 * (`<topic>/visit`, QoS 1, not retained), the webhooks and the visit counter. Like the rest of
 * the integrations it only queues: nothing here waits on the network.
 */
import type { SceneFeed, ZonesService } from "../pipeline/scene-api.ts";
import type { MqttConfig } from "../shared/config.ts";
import type { SceneStatusJson } from "../shared/status.ts";
import type { DeviceInfo } from "./homeassistant.ts";
import type { MqttBridge } from "./mqtt.ts";
import { SceneMqtt, type SceneCounts } from "./scene-mqtt.ts";
import type { Telemetry } from "./telemetry.ts";
import { visitMessage, type ClipUrl, type VisitMessage } from "./visit-message.ts";

/** What the integrations use of the scene (ServerDeps.scene has it). */
export interface IntegrationsScene {
  feed: SceneFeed;
  zones: ZonesService;
}

export interface SceneWiring {
  telemetry: Telemetry;
  mqtt: { bridge: MqttBridge; config: MqttConfig; device: DeviceInfo } | null;
  /** Gets the visit messages (the webhooks); null: none. */
  sendVisit: ((msg: VisitMessage) => void) | null;
  /** --public-url, for the messages' URLs. */
  publicUrl: string;
  camera: string;
  clipUrl?: ClipUrl;
  /** How often the zone and line states are refreshed from statusJson() (ms). */
  refreshMs: number;
}

const countsOf = (s: SceneStatusJson): SceneCounts => ({
  zonePeople: s.zone_people,
  lines: s.lines,
});

/** Starts listening; returns the SceneMqtt (for the discovery on connect) and the stop. */
export function attachScene(
  scene: IntegrationsScene,
  w: SceneWiring,
): { sceneMqtt: SceneMqtt | null; stop: () => void } {
  w.telemetry.visitsOpened ??= 0;
  const m = w.mqtt;
  const sceneMqtt = m ? new SceneMqtt(m.bridge, m.config, m.device, scene.zones.current()) : null;
  if (sceneMqtt) {
    m?.bridge.publishNow(sceneMqtt.discovery());
    // Seeded from today's totals: the counters go on from there, not from 0.
    sceneMqtt.setCounts(countsOf(scene.feed.statusJson()));
  }
  const offs = [
    scene.zones.onChange((c) => sceneMqtt?.setZones(c)),
    scene.feed.onUpdate((u) => {
      w.telemetry.observeScene(u);
      sceneMqtt?.setCounts({ zonePeople: u.zonePeople, lines: u.lineTotals.lines });
    }),
    scene.feed.onVisit((e) => {
      w.telemetry.observeVisit(e);
      if (!m && !w.sendVisit) return;
      const msg = visitMessage(e, w.publicUrl, w.camera, w.clipUrl);
      m?.bridge.publishEvent(JSON.stringify(msg), m.bridge.topics.visit);
      w.sendVisit?.(msg);
    }),
  ];
  // Without updates (a stalled detector) the states still follow what the scene says.
  const timer = sceneMqtt
    ? setInterval(() => sceneMqtt.setCounts(countsOf(scene.feed.statusJson())), w.refreshMs)
    : null;
  timer?.unref();
  return {
    sceneMqtt,
    stop() {
      if (timer) clearInterval(timer);
      for (const off of offs) off();
    },
  };
}
