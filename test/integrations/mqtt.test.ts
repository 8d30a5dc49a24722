/**
 * MQTT against a real broker (Debian's mosquitto on a free loopback port), in-process: the HTTP
 * app on a fake pipeline, the integrations wired as src/serve.ts wires them, and a test client
 * (the mqtt package) that records every message. The broker is stopped and restarted mid-run.
 * The compiled binary, the fake camera and the last will on SIGKILL: test/e2e/integrations.test.ts.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import type { HazardcamServer } from "../../src/http/server.tsx";
import { integrationsConfig } from "../../src/config/integrations.ts";
import type { Integrations } from "../../src/integrations/index.ts";
import { MqttBridge } from "../../src/integrations/mqtt.ts";
import { parseArgv } from "../../src/config/argv.ts";
import { runArgs } from "../../src/config/run.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { PERSON, taggedJpeg, type Fake } from "../http/fake-deps.ts";
import { waitFor } from "../e2e/harness.ts";
import { closingListener, record, startBroker, type Broker, type Recorder } from "./broker.ts";
import { recordingLog, type LogLine } from "./recording-log.ts";
import { wireIntegrations } from "./wired.ts";

setQuiet(true);

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PUBLIC = "http://cam.example:8080";
let topicNo = 0;

interface Rig {
  fake: Fake;
  app: HazardcamServer;
  integ: Integrations;
  topic: string;
  nodeId: string;
  lines: LogLine[];
  frame(people: number): void;
  /** Time spent in the integrations' listeners so far (ms); see wired.ts. */
  listenerMs(): number;
  status(): Promise<{
    integrations: {
      mqtt: { connected: boolean; last_error: string | null; queued: number; reconnects: number };
    };
  }>;
}

/** The integrations exactly as serve() builds them, from command-line flags. */
function rig(): Rig {
  const topic = `hazardcam/test${++topicNo}_${process.pid}`;
  const p = parseArgv(
    ["--mqtt", broker.url, "--mqtt-topic", topic, "--public-url", PUBLIC],
    runArgs,
  );
  const cfg = integrationsConfig(p, { port: 8080, bind: "0.0.0.0" });
  const lines: LogLine[] = [];
  const { fake, app, integ, emit, listenerMs } = wireIntegrations(cfg, cleanups, {
    mqttLog: recordingLog(lines),
  });
  return {
    fake,
    app,
    integ,
    topic,
    nodeId: cfg.mqtt!.nodeId,
    lines,
    frame(people) {
      emit({ ...fake.publish(), people, inferMs: 10 + Math.random() });
    },
    listenerMs,
    async status() {
      const res = await app.handle(new Request("http://localhost/status"));
      return (await res.json()) as Awaited<ReturnType<Rig["status"]>>;
    },
  };
}

async function recorder(topics: string[]): Promise<Recorder> {
  const r = await record(broker.url, topics);
  cleanups.push(() => r.close());
  return r;
}

async function save(fake: Fake, people: number): Promise<number> {
  const rec = await fake.archive.save({
    jpeg: taggedJpeg("ev"),
    thumbJpeg: taggedJpeg("th"),
    reason: "auto",
    at: new Date(),
    people,
    detections: [PERSON],
    inferMs: 12.5,
    fps: 10,
  });
  return rec.id;
}

function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  return waitFor(cond, { timeoutMs, what, pollMs: 25 });
}

test("every message type: availability, discovery, status, people, events; retained ones stay", async () => {
  const r = rig();
  const rec = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  r.integ.start();

  const online = await rec.waitFor((m) => m.topic === `${r.topic}/availability`, {
    what: "availability",
  });
  expect(online.payload).toBe("online");

  // Home Assistant discovery: the camera's entities, no YAML.
  for (const [component, object] of [
    ["binary_sensor", "person"],
    ["sensor", "people"],
    ["sensor", "fps"],
  ] as const) {
    const m = await rec.waitFor(
      (x) => x.topic === `homeassistant/${component}/${r.nodeId}/${object}/config`,
      { what: `${component} ${object} config` },
    );
    const cfg = JSON.parse(m.payload) as Record<string, unknown>;
    expect(cfg.unique_id).toBe(`${r.nodeId}_${object}`);
    expect(cfg.availability_topic).toBe(`${r.topic}/availability`);
    expect((cfg.device as { identifiers: string[] }).identifiers).toEqual([r.nodeId]);
    expect((cfg.device as { sw_version: string }).sw_version).toBe("0.1.0");
    expect(cfg.state_topic).toBe(object === "fps" ? `${r.topic}/status` : `${r.topic}/people`);
  }

  const status = await rec.waitFor((m) => m.topic === `${r.topic}/status`, { what: "status" });
  const st = JSON.parse(status.payload) as Record<string, unknown>;
  expect(st).toMatchObject({ online: true, people: 1, fps: 29.97, backend: "cpu" });

  // People: published when the count changes, not on every frame.
  await rec.waitFor((m) => m.topic === `${r.topic}/people` && m.payload === "1", {
    what: "people 1",
  });
  const before = rec.messages.length;
  const since = Date.now();
  for (const n of [2, 2, 2, 3, 3, 0, 0]) r.frame(n);
  await rec.waitFor((m) => m.topic === `${r.topic}/people` && m.payload === "0", {
    since,
    what: "people 0",
  });
  const counts = rec.messages
    .slice(before)
    .filter((m) => m.topic === `${r.topic}/people`)
    .map((m) => m.payload);
  expect(counts).toEqual(["2", "3", "0"]);

  // Each saved event, with absolute URLs.
  const id = await save(r.fake, 2);
  const ev = await rec.waitFor((m) => m.topic === `${r.topic}/event`, { what: "event" });
  const e = JSON.parse(ev.payload) as Record<string, unknown>;
  const rec0 = r.fake.archive.get(id)!;
  expect(e).toMatchObject({
    id,
    time: rec0.time,
    reason: "auto",
    people: 2,
    image_url: `${PUBLIC}/out/${rec0.file}`,
    thumb_url: `${PUBLIC}/out/thumbs/${rec0.file}`,
    camera: r.topic.split("/")[1],
  });
  expect(e.detections).toEqual([{ label: "person", score: 0.789, box: PERSON.box }]);

  // A client that subscribes later gets the retained state, but no old event.
  const late = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  await until(() => late.messages.length >= 7, 5000, "retained messages");
  await late.settle(`${r.topic}/settle`);
  const retained = new Map(late.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
  expect(retained.get(`${r.topic}/availability`)).toBe("online");
  expect(retained.get(`${r.topic}/people`)).toBe("0");
  expect(JSON.parse(retained.get(`${r.topic}/status`) ?? "{}")).toHaveProperty("online", true);
  expect([...retained.keys()].filter((t) => t.startsWith("homeassistant/"))).toHaveLength(4);
  expect(late.messages.some((m) => m.topic === `${r.topic}/event`)).toBe(false);

  const s = await r.status();
  expect(s.integrations.mqtt).toMatchObject({ connected: true, last_error: null, queued: 0 });
  expect(r.lines.map((l) => l.msg)).toEqual([`connected to ${broker.url}, topic ${r.topic}`]);

  // A clean stop says "offline" (a clean disconnect sends no last will).
  const t = Date.now();
  await r.integ.stop();
  const off = await rec.waitFor((m) => m.topic === `${r.topic}/availability`, {
    since: t,
    what: "offline",
  });
  expect(off.payload).toBe("offline");
});

test("broker stopped and restarted mid-run: /status says so, the log says it once, events queue and arrive", async () => {
  const r = rig();
  const rec = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  r.integ.start();
  await rec.waitFor((m) => m.topic === `${r.topic}/availability` && m.payload === "online", {
    what: "online",
  });

  await broker.stop();
  await until(async () => !(await r.status()).integrations.mqtt.connected, 5000, "disconnect");
  const down = (await r.status()).integrations.mqtt;
  expect(down.last_error).not.toBeNull();

  // Saving and serving do not wait for the broker: the integrations' share of 3 saves and 20
  // frames (the archive's own fsyncs aside, which a loaded disk makes slow) stays short.
  const ids: number[] = [];
  const before = r.listenerMs();
  for (let i = 0; i < 3; i++) ids.push(await save(r.fake, i + 1));
  for (let i = 0; i < 20; i++) r.frame(i % 3);
  expect(r.listenerMs() - before).toBeLessThan(500);
  const h0 = performance.now();
  const during = await r.status();
  expect(performance.now() - h0).toBeLessThan(200);
  expect(during.integrations.mqtt).toMatchObject({ connected: false, queued: 3 });

  // Two reconnection attempts fail meanwhile (backoff 1 s, then 2 s); the log says it once.
  const gone = await closingListener(broker.port);
  try {
    await until(() => gone.attempts("hc_") >= 2, 15000, "two failed reconnection attempts");
  } finally {
    await gone.close();
  }
  const warns = r.lines.filter((l) => l.level === "warn");
  expect(warns).toHaveLength(1);
  expect(warns[0]?.msg).toMatch(/^lost mqtt:\/\/127\.0\.0\.1:\d+: .*reconnecting with backoff/);

  const restartedAt = Date.now();
  await broker.restart();
  // The test client reconnects by itself; hazardcam comes back within its backoff (<= 4.8 s here).
  for (const id of ids) {
    await rec.waitFor(
      (m) => m.topic === `${r.topic}/event` && (JSON.parse(m.payload) as { id: number }).id === id,
      { since: restartedAt, timeoutMs: 15000, what: `event ${id} after the restart` },
    );
  }
  // The broker lost its retained messages: hazardcam sends them again.
  await rec.waitFor((m) => m.topic === `${r.topic}/availability` && m.payload === "online", {
    since: restartedAt,
    what: "online again",
  });
  await rec.waitFor((m) => m.topic.startsWith("homeassistant/binary_sensor/"), {
    since: restartedAt,
    what: "discovery again",
  });
  await rec.waitFor((m) => m.topic === `${r.topic}/people`, {
    since: restartedAt,
    what: "people again",
  });
  const up = (await r.status()).integrations.mqtt;
  expect(up).toMatchObject({ connected: true, last_error: null, queued: 0, reconnects: 1 });
  expect(r.lines.at(-1)?.msg).toMatch(/^reconnected to mqtt:\/\/127\.0\.0\.1:\d+ after \d+\.\d s$/);
}, 40000);

test("the event queue is bounded while the broker is down: the newest are kept, in order", async () => {
  await broker.stop();
  const lines: LogLine[] = [];
  const cfg = integrationsConfig(
    parseArgv(["--mqtt", broker.url, "--mqtt-topic", "hazardcam/bounded"], runArgs),
    { port: 8080, bind: "0.0.0.0" },
  ).mqtt!;
  const bridge = new MqttBridge({
    config: cfg,
    log: recordingLog(lines),
    maxQueuedEvents: 5,
    backoffMinMs: 100,
    backoffMaxMs: 200,
  });
  cleanups.push(() => bridge.stop());
  bridge.start();
  const t0 = performance.now();
  for (let i = 1; i <= 20; i++) bridge.publishEvent(JSON.stringify({ id: i }));
  expect(performance.now() - t0).toBeLessThan(20);
  expect(bridge.status()).toMatchObject({ connected: false, queued: 5, dropped: 15 });
  expect(lines.filter((l) => l.msg.includes("event queue full (5)"))).toHaveLength(1);

  await broker.restart();
  const rec = await recorder(["hazardcam/bounded/event"]);
  await until(
    () => rec.messages.length >= 5 && bridge.status().queued === 0,
    10000,
    "the queued events",
  );
  await rec.settle("hazardcam/bounded/event");
  expect(rec.messages.map((m) => (JSON.parse(m.payload) as { id: number }).id)).toEqual([
    16, 17, 18, 19, 20,
  ]);
  expect(
    lines.some((l) =>
      /^connected to .*; 15 event\(s\) were dropped while it was unreachable$/.test(l.msg),
    ),
  ).toBe(true);
}, 30000);

test("an unreachable broker: publishing returns at once and /status tells why", async () => {
  const lines: LogLine[] = [];
  // A closed port on loopback, and a non-routable address (the attempt hangs until the timeout).
  for (const url of ["mqtt://127.0.0.1:1", "mqtt://10.255.255.1:1883"]) {
    const cfg = integrationsConfig(parseArgv(["--mqtt", url], runArgs), {
      port: 8080,
      bind: "0.0.0.0",
    }).mqtt!;
    const bridge = new MqttBridge({ config: cfg, log: recordingLog(lines), connectTimeoutMs: 500 });
    cleanups.push(() => bridge.stop());
    bridge.start();
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) bridge.publishState(`${cfg.topic}/status`, `{"n":${i}}`);
    for (let i = 0; i < 500; i++) bridge.publishEvent(`{"id":${i}}`);
    expect(performance.now() - t0).toBeLessThan(100);
    await until(() => bridge.status().last_error !== null, 5000, `an error for ${url}`);
    expect(bridge.status()).toMatchObject({ connected: false, queued: 100, dropped: 400 });
  }
  expect(lines.filter((l) => l.msg.startsWith("cannot reach mqtt://127.0.0.1:1"))).toHaveLength(1);
}, 20000);
