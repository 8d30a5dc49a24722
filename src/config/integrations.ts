/**
 * Flags and validation of the integrations (--mqtt, --mqtt-topic, --public-url, --webhook).
 * src/config.ts spreads `integrationArgs` into the run command and calls `integrationsConfig`.
 */
import type { ArgsDef } from "citty";
import { hostname } from "node:os";
import { repeatable, type ParsedArgv } from "./argv.ts";
import { inputError } from "../shared/errors.ts";
import { hidePassword, redactUrl, sanitizeName } from "../integrations/names.ts";

export { hidePassword, redactUrl, sanitizeName } from "../integrations/names.ts";

import type { MqttConfig } from "../shared/config.ts";

export type { MqttConfig } from "../shared/config.ts";

export interface IntegrationsConfig {
  mqtt: MqttConfig | null;
  /** Base of the absolute URLs in MQTT and webhook messages, no trailing "/". */
  publicUrl: string;
  /** --webhook URLs, in command-line order. */
  webhooks: string[];
}

export const MAX_WEBHOOKS = 10;
const MAX_TOPIC_LENGTH = 100;

export const integrationArgs = {
  mqtt: {
    type: "string",
    description:
      "Publish events, people count and status to this MQTT broker, with Home Assistant discovery: mqtt://[user:pass@]host[:port] or mqtts://... (password also from env HAZARDCAM_MQTT_PASSWORD)",
    valueHint: "url",
  },
  "mqtt-topic": {
    type: "string",
    description: "MQTT topic prefix (default hazardcam/<hostname>)",
    valueHint: "topic",
  },
  "public-url": {
    type: "string",
    description:
      "How others reach this server, for the image URLs in MQTT and webhook messages (default http://<hostname>:<port>)",
    valueHint: "url",
  },
  webhook: repeatable({
    type: "string",
    description: "POST each saved event as JSON to this URL (repeatable)",
    valueHint: "url",
  }),
} as const satisfies ArgsDef;

export function defaultTopic(host: string = hostname()): string {
  return `hazardcam/${sanitizeName(host)}`;
}

function str(p: ParsedArgv, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Parses --mqtt; the password may come from the environment instead of the command line. */
export function parseMqttUrl(
  raw: string,
  topic: string,
  envPassword: string | undefined,
): MqttConfig {
  const bad = (why: string): Error =>
    inputError(
      "EARG_MQTT",
      `--mqtt "${hidePassword(raw)}" is not valid (${why})`,
      "expected mqtt://[user:pass@]host[:port], e.g. mqtt://192.168.1.10:1883",
    );
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad("not a URL");
  }
  const protocol = u.protocol.replace(/:$/, "");
  if (protocol !== "mqtt" && protocol !== "mqtts")
    throw bad(`the scheme is ${protocol}:, not mqtt: or mqtts:`);
  if (!u.hostname) throw bad("no host");
  if ((u.pathname && u.pathname !== "/") || u.search || u.hash)
    throw bad("a broker URL has no path, query or fragment");
  const port = u.port ? Number(u.port) : protocol === "mqtts" ? 8883 : 1883;
  const username = u.username ? decodeURIComponent(u.username) : null;
  const password = u.password ? decodeURIComponent(u.password) : (envPassword ?? null);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const display = `${protocol}://${u.username ? `${u.username}@` : ""}${u.host}`;
  return {
    protocol,
    host,
    port,
    username,
    password: password === "" ? null : password,
    topic,
    nodeId: sanitizeName(topic.replace(/\//g, "_")),
    display,
  };
}

export function validateTopic(topic: string): string {
  const ok =
    topic.length > 0 &&
    topic.length <= MAX_TOPIC_LENGTH &&
    !/[+#\u0000]/.test(topic) &&
    !topic.startsWith("/") &&
    !topic.endsWith("/") &&
    !topic.includes("//") &&
    !topic.startsWith("$");
  if (!ok) {
    throw inputError(
      "EARG_MQTT_TOPIC",
      `--mqtt-topic "${topic}" is not valid`,
      `expected levels like hazardcam/kitchen: no + or #, no leading $, no empty level, at most ${MAX_TOPIC_LENGTH} characters`,
    );
  }
  return topic;
}

/** An http(s) URL usable as a base: no query or fragment; the trailing "/" is dropped. */
export function parsePublicUrl(raw: string): string {
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {
    u = null;
  }
  if (!u || !/^https?:$/.test(u.protocol) || u.search || u.hash || raw.includes("?")) {
    throw inputError(
      "EARG_PUBLIC_URL",
      `--public-url "${raw}" is not valid`,
      "expected http(s)://host[:port][/path], e.g. http://pi.local:8080",
    );
  }
  return `${u.origin}${u.pathname}`.replace(/\/+$/, "");
}

/** http://<hostname>:<port>, or the bind address when the server listens on one address only. */
export function defaultPublicUrl(port: number, bind: string, host: string = hostname()): string {
  const wildcard = bind === "0.0.0.0" || bind === "::" || bind === "";
  let name = wildcard ? host : bind;
  if (name.includes(":")) name = `[${name}]`;
  return `http://${name}:${port}`;
}

export function parseWebhookUrl(raw: string): string {
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {
    u = null;
  }
  if (!u || !/^https?:$/.test(u.protocol) || !u.hostname) {
    throw inputError(
      "EARG_WEBHOOK",
      `--webhook "${hidePassword(raw)}" is not valid`,
      "expected an http:// or https:// URL, e.g. http://192.168.1.5:8123/api/webhook/hazardcam",
    );
  }
  return u.href;
}

export function integrationsConfig(
  p: ParsedArgv,
  http: { port: number; bind: string },
  env: Record<string, string | undefined> = process.env,
): IntegrationsConfig {
  const topicRaw = str(p, "mqtt-topic");
  const mqttRaw = str(p, "mqtt");
  if (topicRaw !== undefined && mqttRaw === undefined) {
    throw inputError(
      "EARG_MQTT_TOPIC",
      "--mqtt-topic needs --mqtt",
      "give the broker too, e.g. --mqtt mqtt://192.168.1.10:1883",
    );
  }
  const topic = validateTopic(topicRaw ?? defaultTopic());
  const mqtt =
    mqttRaw === undefined ? null : parseMqttUrl(mqttRaw, topic, env.HAZARDCAM_MQTT_PASSWORD);
  const publicRaw = str(p, "public-url");
  const publicUrl =
    publicRaw === undefined ? defaultPublicUrl(http.port, http.bind) : parsePublicUrl(publicRaw);
  const hooks = p.flags.webhook;
  const webhooks = (Array.isArray(hooks) ? hooks : typeof hooks === "string" ? [hooks] : []).map(
    parseWebhookUrl,
  );
  if (webhooks.length > MAX_WEBHOOKS) {
    throw inputError(
      "EARG_WEBHOOK",
      `${webhooks.length} --webhook URLs given`,
      `at most ${MAX_WEBHOOKS}: fan out from one receiver instead`,
    );
  }
  return { mqtt, publicUrl, webhooks };
}
