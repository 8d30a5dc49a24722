/** The MQTT topics of one camera and the message shape: shared by the bridge and the discovery. */

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
}

export const AVAILABLE = "online";
export const NOT_AVAILABLE = "offline";

export function mqttTopics(base: string): MqttTopics {
  return {
    event: `${base}/event`,
    people: `${base}/people`,
    status: `${base}/status`,
    availability: `${base}/availability`,
  };
}
