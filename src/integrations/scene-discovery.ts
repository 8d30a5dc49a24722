/**
 * Home Assistant discovery for the zones and lines (issue 11). Pure: from the zones file's names
 * to the entities' retained configs and their state topics.
 *
 * Per zone: a binary sensor "Zone <name>" (occupancy: on while someone is in it) and a sensor
 * "Zone <name> people" (the count), both on `<base>/zone/<name>/people`. Per line: sensors
 * "Line <name> in" and "Line <name> out" (state_class total_increasing: crossings since local
 * midnight, back to 0 at midnight, which Home Assistant takes as a new cycle) on
 * `<base>/line/<name>/in|out`. Object ids are the lowercased names (unique ignoring case across
 * zones, masks and lines, src/track/zones.ts) with a suffix per entity, so no two collide:
 * zone_<name>_occupancy, zone_<name>_count, line_<name>_in, line_<name>_out.
 */
import type { MqttConfig } from "../shared/config.ts";
import type { ZonesConfig } from "../track/zones.ts";
import { commonConfig, configMessage, type DeviceInfo } from "./homeassistant.ts";
import { lineCountTopic, zonePeopleTopic, type MqttMessage } from "./topics.ts";

interface SceneEntity {
  component: "binary_sensor" | "sensor";
  object: string;
  config: Record<string, unknown>;
}

const DIRECTIONS = ["in", "out"] as const;

function zoneEntities(id: string, base: string, name: string): SceneEntity[] {
  const obj = `zone_${name.toLowerCase()}`;
  const state_topic = zonePeopleTopic(base, name);
  return [
    {
      component: "binary_sensor",
      object: `${obj}_occupancy`,
      config: {
        name: `Zone ${name}`,
        unique_id: `${id}_${obj}_occupancy`,
        state_topic,
        value_template: "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}",
        device_class: "occupancy",
      },
    },
    {
      component: "sensor",
      object: `${obj}_count`,
      config: {
        name: `Zone ${name} people`,
        unique_id: `${id}_${obj}_count`,
        state_topic,
        unit_of_measurement: "people",
        state_class: "measurement",
        icon: "mdi:account-group",
      },
    },
  ];
}

function lineEntities(id: string, base: string, name: string): SceneEntity[] {
  const obj = `line_${name.toLowerCase()}`;
  return DIRECTIONS.map((d) => ({
    component: "sensor",
    object: `${obj}_${d}`,
    config: {
      name: `Line ${name} ${d}`,
      unique_id: `${id}_${obj}_${d}`,
      state_topic: lineCountTopic(base, name, d),
      unit_of_measurement: "people",
      state_class: "total_increasing",
      icon: d === "in" ? "mdi:login" : "mdi:logout",
    },
  }));
}

/** The zones' and lines' entities. */
function sceneEntities(cfg: MqttConfig, zones: ZonesConfig): SceneEntity[] {
  return [
    ...zones.zones.flatMap((z) => zoneEntities(cfg.nodeId, cfg.topic, z.name)),
    ...zones.lines.flatMap((l) => lineEntities(cfg.nodeId, cfg.topic, l.name)),
  ];
}

/** Their retained discovery configs. */
export function sceneDiscovery(
  cfg: MqttConfig,
  device: DeviceInfo,
  zones: ZonesConfig,
): MqttMessage[] {
  const common = commonConfig(cfg, device);
  return sceneEntities(cfg, zones).map((e) =>
    configMessage(cfg.nodeId, e.component, e.object, JSON.stringify({ ...e.config, ...common })),
  );
}

/** The retained state topics of the zones and lines. */
export function sceneStateTopics(base: string, zones: ZonesConfig): string[] {
  return [
    ...zones.zones.map((z) => zonePeopleTopic(base, z.name)),
    ...zones.lines.flatMap((l) => DIRECTIONS.map((d) => lineCountTopic(base, l.name, d))),
  ];
}
