/**
 * A real MQTT broker for tests: Debian's mosquitto (scripts/setup.sh installs it), started by the
 * test on a free loopback port with its own config, never the system service. Plus a recording
 * subscriber built on the mqtt package.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { createServer } from "node:net";
import { freePort, tempDir, waitFor } from "../e2e/harness.ts";

export const MOSQUITTO = "/usr/sbin/mosquitto";

export interface Broker {
  port: number;
  url: string;
  /** Broker log so far. */
  output(): string;
  stop(): Promise<void>;
  /** Starts it again on the same port (retained messages are gone: no persistence). */
  restart(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.end();
          resolve(true);
        },
        data() {},
        error() {
          resolve(false);
        },
        connectError() {
          resolve(false);
        },
      },
    }).catch(() => resolve(false));
  });
}

/** Waits until mosquitto listens on `port`. */
async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  await waitFor(() => canConnect(port), { timeoutMs, what: `mosquitto listening on ${port}` });
}

export interface ClosingListener {
  /** Connections whose MQTT client id starts with `prefix` ("hc_": hazardcam's), so far. */
  attempts(prefix: string): number;
  close(): Promise<void>;
}

/** The client id of an MQTT 3.1.1 CONNECT packet, or null if `b` does not start with one. */
export function connectClientId(b: Uint8Array): string | null {
  if (b[0] !== 0x10) return null;
  let i = 1;
  while (i < 5 && (b[i]! & 0x80) !== 0) i++; // the remaining length: 1 to 4 bytes
  i++;
  const nameLen = ((b[i]! << 8) | b[i + 1]!) >>> 0;
  i += 2 + nameLen + 1 + 1 + 2; // protocol name, level, flags, keep-alive
  if (i + 2 > b.length) return null;
  const idLen = (b[i]! << 8) | b[i + 1]!;
  return new TextDecoder().decode(b.subarray(i + 2, i + 2 + idLen));
}

/**
 * Stands in for a stopped broker on its port: reads each client's CONNECT, closes the
 * connection before any reply, and counts the attempts by client id (the test's own recorders
 * reconnect here too). A test waits for hazardcam's reconnection attempts to fail this way
 * instead of sleeping through the backoff.
 */
export async function closingListener(port: number): Promise<ClosingListener> {
  const ids: string[] = [];
  const server = createServer((sock) => {
    const timer = setTimeout(() => sock.destroy(), 1000);
    sock.once("data", (chunk: Buffer) => {
      ids.push(connectClientId(chunk) ?? "");
      clearTimeout(timer);
      sock.destroy();
    });
    sock.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    attempts: (prefix) => ids.filter((id) => id.startsWith(prefix)).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function startBroker(): Promise<Broker> {
  if (!existsSync(MOSQUITTO)) {
    throw new Error(`${MOSQUITTO} is missing: run bash scripts/setup.sh (apt package mosquitto)`);
  }
  const port = await freePort();
  const dir = tempDir("mosquitto");
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe"> | null = null;
  let text = "";
  const launch = async (): Promise<void> => {
    const p = Bun.spawn([MOSQUITTO, "-c", conf], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    proc = p;
    const pump = async (s: ReadableStream<Uint8Array>): Promise<void> => {
      const dec = new TextDecoder();
      for await (const c of s) text += dec.decode(c, { stream: true });
    };
    void pump(p.stdout);
    void pump(p.stderr);
    await waitForPort(port, 5000);
  };
  const broker: Broker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    output: () => text,
    async stop() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      p.kill("SIGTERM");
      await p.exited;
    },
    async restart() {
      await broker.stop();
      await launch();
    },
  };
  await launch();
  return broker;
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  /** QoS of the delivery (the lower of the publisher's and the subscription's). */
  qos?: number;
  at: number;
}

export interface Recorder {
  client: MqttClient;
  messages: Received[];
  /** Waits for a message matching `pred` received at or after `since` (ms), or throws. */
  waitFor(
    pred: (m: Received) => boolean,
    opts?: { timeoutMs?: number; since?: number; what?: string },
  ): Promise<Received>;
  /**
   * Publishes a marker on `topic` (one this client subscribes to) and waits for it to come back:
   * then every message the broker had for this client before it has arrived. The marker is not
   * kept in `messages`. For tests that check nothing more came, without sleeping.
   */
  settle(topic: string): Promise<void>;
  close(): Promise<void>;
}

/** Subscribes to `topics` (reconnecting every 200 ms if the broker goes away). */
export async function record(url: string, topics: string[]): Promise<Recorder> {
  const u = new URL(url);
  // An options object, not the URL: mqtt.js parses URL strings with the deprecated url.parse.
  const client = mqtt.connect({
    protocol: "mqtt",
    host: u.hostname,
    port: Number(u.port),
    reconnectPeriod: 200,
    connectTimeout: 2000,
  });
  const messages: Received[] = [];
  let settled = 0;
  client.on("message", (topic, payload, packet) => {
    messages.push({
      topic,
      payload: payload.toString(),
      retain: packet.retain,
      qos: packet.qos,
      at: Date.now(),
    });
  });
  client.on("error", () => undefined);
  client.on("connect", () => {
    client.subscribe(topics, { qos: 1 });
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    setTimeout(() => reject(new Error(`test client could not connect to ${url}`)), 5000);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  const rec: Recorder = {
    client,
    messages,
    waitFor(pred, opts = {}) {
      const since = opts.since ?? 0;
      const seen = (): string =>
        messages
          .filter((x) => x.at >= since)
          .map((x) => `${x.topic} ${x.payload.slice(0, 80)}`)
          .join("\n");
      return waitFor(() => messages.find((x) => x.at >= since && pred(x)), {
        timeoutMs: opts.timeoutMs ?? 10000,
        what: `the MQTT message: ${opts.what ?? pred.toString()}`,
        pollMs: 20,
        detail: () => `received:\n${seen()}`,
      });
    },
    async settle(topic) {
      const marker = `settle ${process.pid} ${++settled}`;
      await client.publishAsync(topic, marker, { qos: 1 });
      const m = await rec.waitFor((x) => x.topic === topic && x.payload === marker, {
        what: `the marker on ${topic}`,
      });
      messages.splice(messages.indexOf(m), 1);
    },
    async close() {
      await client.endAsync(true);
    },
  };
  return rec;
}
