/**
 * The run configuration's types, apart from the parser (src/config.ts) so that Workers, sources
 * and integrations can name them without pulling the CLI in.
 */

/** HTTP Basic credentials (--auth, --auth-file, HAZARDCAM_AUTH). */
export interface BasicAuth {
  user: string;
  pass: string;
}

export interface MqttConfig {
  protocol: "mqtt" | "mqtts";
  host: string;
  port: number;
  username: string | null;
  password: string | null;
  /** Topic prefix, e.g. "hazardcam/kitchen": no wildcards, no leading or trailing "/". */
  topic: string;
  /** Home Assistant node id and unique_id prefix ("hazardcam_kitchen"): [a-z0-9_-]. */
  nodeId: string;
  /** Broker URL without the password, for logs and /status. */
  display: string;
}

export interface Config {
  model: string;
  /** As given: an index ("0"), a device path, a .mjpeg file, a folder of JPEGs, or an http(s) URL. */
  cam: string;
  source: SourceSpec;
  threshold: number;
  width: number;
  height: number;
  port: number;
  bind: string;
  outdir: string;
  cooldownSec: number;
  cpuFallback: boolean;
  threads: number;
  /** Frame rate for file sources, and the rate asked of a camera (0 = the driver's default). */
  fps: number;
  keepDays: number;
  maxEvents: number;
  minFreeMb: number;
  tfliteLib: string | null;
  edgetpuLib: string | null;
  letterbox: boolean;
  /** HTTP Basic credentials for every route (--auth, --auth-file, HAZARDCAM_AUTH); null = open. */
  auth: BasicAuth | null;
  /** --mqtt and --mqtt-topic; null = no MQTT. */
  mqtt: MqttConfig | null;
  /** Base of absolute URLs in MQTT and webhook messages (--public-url), no trailing "/". */
  publicUrl: string;
  /** --webhook URLs (repeatable). */
  webhooks: string[];
  scene: SceneConfig;
  clips: ClipsConfig;
}

export type SourceSpec =
  | { kind: "v4l2"; device: string }
  | { kind: "mjpeg-file"; path: string }
  | { kind: "jpeg-dir"; path: string }
  | { kind: "http"; url: string };

/** Tracking, zones and visits (issue 11). */
export interface SceneConfig {
  /** The zones file: --zones PATH, or <outdir>/zones.json. */
  zonesPath: string;
  /** --zones was given (with zones, the cooldown stills count people in zones only). */
  zonesFromFlag: boolean;
  /** Detection results before a track is confirmed (--min-frames). */
  minFrames: number;
  /** Seconds unseen before a track ends (--lost-sec). */
  lostSec: number;
  /** Seconds with nobody in a zone before a visit closes (--visit-gap). */
  visitGapSec: number;
}

/** Visit clips (issue 12). */
export interface ClipsConfig {
  /** --no-clips, or --clip-pre 0 --clip-post 0, turns them off. */
  enabled: boolean;
  preSec: number;
  postSec: number;
  maxSec: number;
  /** --clip-fps; null = the camera's rate, at most 15. */
  fps: number | null;
  /** Memory for the pre-roll (--clip-buffer-mb). */
  bufferMb: number;
}
