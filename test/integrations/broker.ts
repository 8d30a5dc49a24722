/**
 * A real MQTT broker for tests: Debian's mosquitto (scripts/setup.sh installs it), started by the
 * test on a free loopback port with its own config, never the system service. Plus a recording
 * subscriber built on the mqtt package.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { freePort, tempDir } from "../e2e/harness.ts";

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

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
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
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
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
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() });
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
  return {
    client,
    messages,
    async waitFor(pred, opts = {}) {
      const until = Date.now() + (opts.timeoutMs ?? 10000);
      const since = opts.since ?? 0;
      while (Date.now() < until) {
        const m = messages.find((x) => x.at >= since && pred(x));
        if (m) return m;
        await Bun.sleep(20);
      }
      const seen = messages
        .filter((x) => x.at >= since)
        .map((x) => `${x.topic} ${x.payload.slice(0, 80)}`)
        .join("\n");
      throw new Error(`no MQTT message: ${opts.what ?? pred.toString()}; received:\n${seen}`);
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
