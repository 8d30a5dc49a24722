/**
 * Home Assistant MQTT discovery: retained configs under homeassistant/<component>/<node id>/...
 * make the camera's entities appear with no YAML: "Person" (binary sensor, occupancy), "People"
 * (count), "FPS" and "Inference time" (diagnostic sensors). All share one device block and the
 * availability topic, so they turn unavailable when the last will says "offline".
 */
import type { MqttConfig } from "../shared/config.ts";
import { AVAILABLE, NOT_AVAILABLE, mqttTopics, type MqttMessage } from "./topics.ts";

export const DISCOVERY_PREFIX = "homeassistant";

export interface DeviceInfo {
  version: string;
  /** The dashboard, shown as "Visit" in Home Assistant. */
  configurationUrl: string;
}

/** "hazardcam/kitchen" → "hazardcam kitchen". */
export function deviceName(topic: string): string {
  const last = topic.split("/").pop() || topic;
  return last === "hazardcam" ? "hazardcam" : `hazardcam ${last}`;
}

/** What every entity's config shares: the availability topic and the device block. */
export function commonConfig(cfg: MqttConfig, device: DeviceInfo): Record<string, unknown> {
  const t = mqttTopics(cfg.topic);
  const id = cfg.nodeId;
  return {
    availability_topic: t.availability,
    payload_available: AVAILABLE,
    payload_not_available: NOT_AVAILABLE,
    device: {
      identifiers: [id],
      name: deviceName(cfg.topic),
      manufacturer: "hazardcam",
      model: "hazardcam people detector",
      sw_version: device.version,
      ...(/^https?:\/\//.test(device.configurationUrl)
        ? { configuration_url: device.configurationUrl }
        : {}),
    },
  };
}

/** The retained discovery config of one entity (an empty payload removes the entity). */
export function configMessage(
  nodeId: string,
  component: string,
  object: string,
  payload: string,
): MqttMessage {
  return {
    topic: `${DISCOVERY_PREFIX}/${component}/${nodeId}/${object}/config`,
    payload,
    retain: true,
    qos: 1,
  };
}

export function discoveryMessages(cfg: MqttConfig, device: DeviceInfo): MqttMessage[] {
  const t = mqttTopics(cfg.topic);
  const id = cfg.nodeId;
  const common = commonConfig(cfg, device);
  const entities: { component: string; object: string; config: Record<string, unknown> }[] = [
    {
      component: "binary_sensor",
      object: "person",
      config: {
        name: "Person",
        unique_id: `${id}_person`,
        state_topic: t.people,
        value_template: "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}",
        device_class: "occupancy",
      },
    },
    {
      component: "sensor",
      object: "people",
      config: {
        name: "People",
        unique_id: `${id}_people`,
        state_topic: t.people,
        unit_of_measurement: "people",
        state_class: "measurement",
        icon: "mdi:account-group",
      },
    },
    {
      component: "sensor",
      object: "fps",
      config: {
        name: "FPS",
        unique_id: `${id}_fps`,
        state_topic: t.status,
        value_template: "{{ value_json.fps }}",
        unit_of_measurement: "fps",
        state_class: "measurement",
        entity_category: "diagnostic",
        icon: "mdi:camera-timer",
      },
    },
    {
      component: "sensor",
      object: "inference",
      config: {
        name: "Inference time",
        unique_id: `${id}_inference`,
        state_topic: t.status,
        value_template: "{{ value_json.infer_ms }}",
        unit_of_measurement: "ms",
        state_class: "measurement",
        entity_category: "diagnostic",
        icon: "mdi:timer-outline",
      },
    },
  ];
  return entities.map((e) =>
    configMessage(id, e.component, e.object, JSON.stringify({ ...e.config, ...common })),
  );
}
