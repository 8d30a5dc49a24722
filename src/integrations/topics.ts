/** The MQTT topics of one camera and the message shape: shared by the bridge and the discovery. */

/** People in a zone now, a plain integer (retained; issue 11). Names are topic-safe (zones.ts). */
export const zonePeopleTopic = (base: string, zone: string): string =>
  `${base}/zone/${zone}/people`;

/** A line's crossings since local midnight in one direction, a plain integer (retained). */
export const lineCountTopic = (base: string, line: string, direction: "in" | "out"): string =>
  `${base}/line/${line}/${direction}`;

export interface MqttMessage {
  topic: string;
  payload: string;
  retain: boolean;
  qos: 0 | 1;
}

export interface MqttTopics {
  /** Each saved event as JSON (not retained). */
  event: string;
  /** People count as a plain integer (retained). */
  people: string;
  /** Status JSON every few seconds (retained). */
  status: string;
  /** "online" / "offline" (retained; "offline" is also the last will). */
  availability: string;
  /** Each visit's open and close as JSON (issue 11; QoS 1, not retained). */
  visit: string;
}

export const AVAILABLE = "online";
export const NOT_AVAILABLE = "offline";

export function mqttTopics(base: string): MqttTopics {
  return {
    event: `${base}/event`,
    people: `${base}/people`,
    status: `${base}/status`,
    availability: `${base}/availability`,
    visit: `${base}/visit`,
  };
}
