/**
 * Issue 11 on MQTT against a real broker (mosquitto on a free loopback port): per zone an
 * occupancy binary sensor and a people count, per line `in` and `out` counters (total_increasing,
 * retained, seeded from today's totals), a `visit` message at open and at close (QoS 1, not
 * retained, absolute URLs, clip_url), and a discovery that follows the zones file live (new
 * names get configs, removed ones an empty retained payload). The scene is a fake
 * (test/http/fake-scene.ts) the test drives.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { integrationsConfig } from "../../src/config/integrations.ts";
import { parseArgv } from "../../src/config/argv.ts";
import { runArgs } from "../../src/config/run.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { waitFor } from "../e2e/harness.ts";
import { fakeScene, sceneUpdate, visitDetail, type FakeScene } from "../http/fake-scene.ts";
import { record, startBroker, type Broker, type Recorder } from "./broker.ts";
import { recordingLog } from "./recording-log.ts";
import { wireIntegrations, type Wired } from "./wired.ts";

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

interface Rig extends Wired {
  s: FakeScene;
  topic: string;
  nodeId: string;
  camera: string;
}

/** The integrations as serve() builds them from flags, with the scene (and clip URLs) given. */
function rig(opts: { lines?: { in: number; out: number } } = {}): Rig {
  const camera = `scene${++topicNo}_${process.pid}`;
  const topic = `hazardcam/${camera}`;
  const p = parseArgv(
    ["--mqtt", broker.url, "--mqtt-topic", topic, "--public-url", PUBLIC],
    runArgs,
  );
  const cfg = integrationsConfig(p, { port: 8080, bind: "0.0.0.0" });
  const w = wireIntegrations(cfg, cleanups, {
    mqttLog: recordingLog([]),
    ctx: { clipUrl: (id) => (id === 2 ? null : `/api/visits/${id}/clip.mjpeg`) },
  });
  const s = fakeScene(w.fake.dir);
  s.feed.status.lines = { gate: opts.lines ?? { in: 0, out: 0 } };
  w.fake.deps.scene = s.scene;
  w.integ.attachScene(s.scene);
  return { ...w, s, topic, nodeId: cfg.mqtt!.nodeId, camera };
}

async function recorder(topics: string[]): Promise<Recorder> {
  const r = await record(broker.url, topics);
  cleanups.push(() => r.close());
  return r;
}

const configTopic = (r: Rig, component: string, object: string): string =>
  `homeassistant/${component}/${r.nodeId}/${object}/config`;

/** The retained messages a new subscriber gets, by topic (empty payloads are none). */
async function retained(r: Rig, min: number): Promise<Map<string, string>> {
  const late = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  await waitFor(() => late.messages.length >= min, { timeoutMs: 5000, what: "retained" });
  await late.settle(`${r.topic}/settle`);
  return new Map(late.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
}

test("zones and lines: Home Assistant entities, retained states seeded from today's totals, live counts", async () => {
  const r = rig({ lines: { in: 3, out: 1 } });
  const rec = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  r.integ.start();

  const occ = await rec.waitFor(
    (m) => m.topic === configTopic(r, "binary_sensor", "zone_door_occupancy"),
    {
      what: "the door's occupancy sensor",
    },
  );
  expect(JSON.parse(occ.payload)).toMatchObject({
    name: "Zone door",
    unique_id: `${r.nodeId}_zone_door_occupancy`,
    state_topic: `${r.topic}/zone/door/people`,
    device_class: "occupancy",
    availability_topic: `${r.topic}/availability`,
    device: { identifiers: [r.nodeId] },
  });
  const count = await rec.waitFor((m) => m.topic === configTopic(r, "sensor", "zone_yard_count"), {
    what: "the yard's people count",
  });
  expect(JSON.parse(count.payload)).toMatchObject({
    state_topic: `${r.topic}/zone/yard/people`,
    state_class: "measurement",
  });
  for (const d of ["in", "out"]) {
    const m = await rec.waitFor((x) => x.topic === configTopic(r, "sensor", `line_gate_${d}`), {
      what: `the gate's ${d} counter`,
    });
    expect(JSON.parse(m.payload)).toMatchObject({
      name: `Line gate ${d}`,
      state_topic: `${r.topic}/line/gate/${d}`,
      state_class: "total_increasing",
    });
  }
  // Seeded from today's totals, not from 0.
  await rec.waitFor((m) => m.topic === `${r.topic}/line/gate/in` && m.payload === "3", {
    what: "in 3",
  });
  await rec.waitFor((m) => m.topic === `${r.topic}/line/gate/out` && m.payload === "1", {
    what: "out 1",
  });
  await rec.waitFor((m) => m.topic === `${r.topic}/zone/door/people` && m.payload === "0", {
    what: "door 0",
  });

  // Live: published when they change, not on every update. (The seeded states may reach the
  // broker twice, on connect and from the scene's first refresh: the live part starts after.)
  await rec.settle(`${r.topic}/settle`);
  const since = Date.now();
  for (const [door, gateIn] of [
    [1, 3],
    [1, 3],
    [2, 4],
    [2, 4],
    [0, 4],
  ] as const) {
    r.s.feed.emitUpdate(
      sceneUpdate({
        zonePeople: { door, yard: 0 },
        lineTotals: { day: "2024-05-24", lines: { gate: { in: gateIn, out: 1 } } },
      }),
    );
  }
  await rec.waitFor((m) => m.topic === `${r.topic}/zone/door/people` && m.payload === "0", {
    since,
    what: "door 0 again",
  });
  await rec.settle(`${r.topic}/settle`);
  const after = (t: string) =>
    rec.messages.filter((m) => m.at >= since && m.topic === t).map((m) => m.payload);
  const door = after(`${r.topic}/zone/door/people`);
  expect(door[0] === "0" ? door.slice(1) : door).toEqual(["1", "2", "0"]);
  expect(after(`${r.topic}/line/gate/in`)).toEqual(["4"]);
  expect(after(`${r.topic}/zone/yard/people`)).toEqual([]);

  const kept = await retained(r, 10);
  expect(kept.get(`${r.topic}/line/gate/in`)).toBe("4");
  expect(kept.get(`${r.topic}/zone/door/people`)).toBe("0");
  // Whole picture's 4 entities + 2 per zone + 2 per line.
  expect([...kept.keys()].filter((t) => t.startsWith("homeassistant/"))).toHaveLength(4 + 4 + 2);
});

test("visit messages at open and close: QoS 1, not retained, absolute URLs, clip_url", async () => {
  const r = rig();
  const rec = await recorder([`${r.topic}/#`]);
  r.integ.start();
  await rec.waitFor((m) => m.topic === `${r.topic}/availability`, { what: "online" });

  const T0 = Date.now() - 60_000;
  const open = visitDetail({ id: 1, start: T0, end: T0, open: true, zones: ["door"] });
  r.s.feed.emitVisit({ type: "open", at: T0, visit: open });
  const closed = visitDetail({
    id: 1,
    start: T0,
    end: T0 + 20_000,
    zones: ["door"],
    people: 2,
    maxPeople: 2,
    crossings: { gate: { in: 1, out: 0 } },
    image: "visit_1.jpg",
    thumb: "visit_1.jpg",
  });
  r.s.feed.emitVisit({ type: "close", at: T0 + 25_000, visit: closed });
  r.s.feed.emitVisit({
    type: "open",
    at: T0 + 30_000,
    visit: visitDetail({ id: 2, start: T0 + 30_000, open: true }),
  });

  await waitFor(() => rec.messages.filter((m) => m.topic === `${r.topic}/visit`).length >= 3, {
    timeoutMs: 10000,
    what: "three visit messages",
  });
  const msgs = rec.messages.filter((m) => m.topic === `${r.topic}/visit`);
  for (const m of msgs) {
    expect(m.retain).toBe(false);
    expect(m.qos).toBe(1);
  }
  const [a, b, c] = msgs.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
  expect(a).toMatchObject({
    type: "visit_open",
    at: T0,
    camera: r.camera,
    id: 1,
    open: true,
    image_url: null,
    page_url: `${PUBLIC}/visits/1`,
    clip_url: `${PUBLIC}/api/visits/1/clip.mjpeg`,
  });
  expect(b).toMatchObject({
    type: "visit_close",
    at: T0 + 25_000,
    open: false,
    duration_ms: 20_000,
    people: 2,
    max_people: 2,
    crossings: { gate: { in: 1, out: 0 } },
    image_url: `${PUBLIC}/out/visits/visit_1.jpg`,
    thumb_url: `${PUBLIC}/out/visits/thumbs/visit_1.jpg`,
  });
  expect(c).toMatchObject({ type: "visit_open", id: 2, clip_url: null });
  // A later subscriber gets no old visit.
  const kept = await retained(r, 5);
  expect(kept.has(`${r.topic}/visit`)).toBe(false);
});

test("the discovery follows the zones file live: new names get configs, removed ones are cleared", async () => {
  const r = rig();
  const rec = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  r.integ.start();
  await rec.waitFor((m) => m.topic === configTopic(r, "binary_sensor", "zone_yard_occupancy"), {
    what: "the yard",
  });
  r.s.feed.emitUpdate(sceneUpdate({ zonePeople: { door: 0, yard: 1 } }));
  await rec.waitFor((m) => m.topic === `${r.topic}/zone/yard/people` && m.payload === "1", {
    what: "yard 1",
  });

  const since = Date.now();
  const cfg = r.s.zones.current();
  await r.s.zones.save({
    zones: [
      cfg.zones[0],
      {
        name: "Porch",
        points: [
          [0.5, 0.1],
          [0.9, 0.1],
          [0.9, 0.4],
        ],
      },
    ],
    masks: [],
    lines: [],
  });
  const porch = await rec.waitFor(
    (m) => m.topic === configTopic(r, "binary_sensor", "zone_porch_occupancy"),
    { since, what: "the porch's sensor" },
  );
  expect(JSON.parse(porch.payload).state_topic).toBe(`${r.topic}/zone/Porch/people`);
  for (const t of [
    configTopic(r, "binary_sensor", "zone_yard_occupancy"),
    configTopic(r, "sensor", "zone_yard_count"),
    configTopic(r, "sensor", "line_gate_in"),
    configTopic(r, "sensor", "line_gate_out"),
    `${r.topic}/zone/yard/people`,
    `${r.topic}/line/gate/in`,
  ]) {
    await rec.waitFor((m) => m.topic === t && m.payload === "", { since, what: `${t} cleared` });
  }
  r.s.feed.emitUpdate(sceneUpdate({ zonePeople: { door: 0, Porch: 2 } }));
  await rec.waitFor((m) => m.topic === `${r.topic}/zone/Porch/people` && m.payload === "2", {
    since,
    what: "porch 2",
  });

  const kept = await retained(r, 8);
  const discovery = [...kept.keys()].filter((t) => t.startsWith("homeassistant/"));
  expect(discovery.filter((t) => t.includes("yard") || t.includes("gate"))).toEqual([]);
  expect(discovery).toContain(configTopic(r, "sensor", "zone_porch_count"));
  expect(kept.has(`${r.topic}/zone/yard/people`)).toBe(false);

  // The yard comes back: its configs again, and its removal is not replayed on reconnection.
  const back = Date.now();
  await r.s.zones.save({ zones: cfg.zones, masks: [], lines: [] });
  await rec.waitFor(
    (m) => m.topic === configTopic(r, "sensor", "zone_yard_count") && m.payload !== "",
    {
      since: back,
      what: "the yard again",
    },
  );
  const restarted = Date.now();
  await broker.restart();
  // The broker lost everything (no persistence): hazardcam sends its retained messages again.
  await rec.waitFor(
    (m) => m.topic === configTopic(r, "sensor", "zone_yard_count") && m.payload !== "",
    { since: restarted, timeoutMs: 15000, what: "the yard after the restart" },
  );
  await rec.waitFor((m) => m.topic === `${r.topic}/zone/door/people`, {
    since: restarted,
    what: "the states after the restart",
  });
  const again = await retained(r, 8);
  expect(again.has(configTopic(r, "sensor", "zone_yard_count"))).toBe(true);
  expect(again.has(configTopic(r, "sensor", "zone_porch_count"))).toBe(false);
}, 30000);

test("on connection, zones and lines of an earlier run (removed while stopped) are cleared", async () => {
  const r = rig();
  const pub = await recorder([`${r.topic}/unused`]);
  const stale = [
    configTopic(r, "binary_sensor", "zone_old_occupancy"),
    configTopic(r, "sensor", "line_gone_in"),
    `${r.topic}/zone/old/people`,
    `${r.topic}/line/gone/out`,
  ];
  const kept = [
    configTopic(r, "binary_sensor", "person"),
    configTopic(r, "sensor", "zone_door_count"),
  ];
  for (const t of [...stale, ...kept]) {
    await pub.client.publishAsync(t, '{"name":"from an earlier run"}', { qos: 1, retain: true });
  }
  const rec = await recorder([`${r.topic}/#`, `homeassistant/+/${r.nodeId}/+/config`]);
  for (const t of stale) await rec.waitFor((m) => m.topic === t, { what: `${t} retained` });
  const since = Date.now();
  r.integ.start();
  for (const t of stale) {
    await rec.waitFor((m) => m.topic === t && m.payload === "", { since, what: `${t} cleared` });
  }
  const left = await retained(r, 8);
  for (const t of stale) expect(left.has(t)).toBe(false);
  expect(left.has(configTopic(r, "binary_sensor", "person"))).toBe(true);
  // The door's config is the current one, not the earlier run's.
  expect(JSON.parse(left.get(configTopic(r, "sensor", "zone_door_count"))!).name).toBe(
    "Zone door people",
  );
});
