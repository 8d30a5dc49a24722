/**
 * Issue 8 on the compiled binary with the fake camera (the bundled clip at 10 fps, CPU model):
 * MQTT to a real mosquitto (availability, Home Assistant discovery, status, people, events),
 * webhooks to a local receiver (one answering, one failing), /metrics and /healthz; the broker is
 * stopped and restarted mid-run, and SIGKILL leaves the last will "offline" on the broker.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  closingListener,
  record,
  startBroker,
  type Broker,
  type Recorder,
} from "../integrations/broker.ts";
import { parsePromText } from "../integrations/promtext.ts";
import {
  binary,
  camArgs,
  CPU_MODEL,
  fakecamEnv,
  root,
  startServer,
  waitFor,
  type Running,
} from "./harness.ts";

const TOPIC = `hazardcam/e2e${process.pid}`;
const NODE = `hazardcam_e2e${process.pid}`;

let broker: Broker;
let rec: Recorder;
let srv: Running;
let hooks: ReturnType<typeof Bun.serve>;
const received: { path: string; body: { id: number; image_url: string; camera: string } }[] = [];

interface Status {
  online: boolean;
  fps: number;
  integrations: {
    mqtt: { connected: boolean; last_error: string | null; broker: string; reconnects: number };
    webhooks: { url: string; delivered: number; failed: number; last_status: number | null }[];
  };
}

async function status(): Promise<Status> {
  return (await (await fetch(`${srv.url}/status`)).json()) as Status;
}

function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  return waitFor(cond, { timeoutMs, what, pollMs: 100, detail: () => srv?.output() ?? "" });
}

const isEvent = (topic: string) => topic === `${TOPIC}/event`;

beforeAll(async () => {
  broker = await startBroker();
  hooks = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/fail") return new Response("down", { status: 500 });
      received.push({ path, body: (await req.json()) as (typeof received)[number]["body"] });
      return new Response("ok");
    },
  });
  rec = await record(broker.url, [`${TOPIC}/#`, `homeassistant/+/${NODE}/+/config`]);
  srv = await startServer(
    camArgs("0", {
      threads: 2,
      flags: [
        "--mqtt",
        broker.url,
        "--mqtt-topic",
        TOPIC,
        "--public-url",
        "http://cam.test:8080/",
        "--webhook",
        `http://127.0.0.1:${hooks.port}/ok`,
        "--webhook",
        `http://127.0.0.1:${hooks.port}/fail`,
      ],
    }),
    fakecamEnv(),
  );
  await srv.ready();
});

afterAll(async () => {
  await srv?.stop("SIGKILL");
  await rec?.close();
  hooks?.stop(true);
  await broker?.stop();
});

test("availability, Home Assistant discovery and a retained status reach the broker", async () => {
  const online = await rec.waitFor((m) => m.topic === `${TOPIC}/availability`, {
    what: "availability",
  });
  expect(online.payload).toBe("online");
  for (const path of ["binary_sensor/%/person", "sensor/%/people", "sensor/%/fps"]) {
    const topic = `homeassistant/${path.replace("%", NODE)}/config`;
    const m = await rec.waitFor((x) => x.topic === topic, { what: topic });
    const cfg = JSON.parse(m.payload) as { device: { name: string }; availability_topic: string };
    expect(cfg.availability_topic).toBe(`${TOPIC}/availability`);
    expect(cfg.device.name).toBe(`hazardcam e2e${process.pid}`);
  }
  const st = await rec.waitFor(
    (m) => m.topic === `${TOPIC}/status` && (JSON.parse(m.payload) as Status).online === true,
    { timeoutMs: 15000, what: "an online status" },
  );
  expect((JSON.parse(st.payload) as { backend: string }).backend).toBe("cpu");
  expect(srv.output()).toContain(`mqtt: connected to ${broker.url}, topic ${TOPIC}`);
});

test("each saved event goes to MQTT and to the webhook, with absolute URLs", async () => {
  const ev = await rec.waitFor((m) => isEvent(m.topic), { timeoutMs: 20000, what: "an event" });
  const e = JSON.parse(ev.payload) as {
    id: number;
    reason: string;
    people: number;
    image_url: string;
    thumb_url: string;
    detections: { label: string; score: number }[];
  };
  expect(e.reason).toBe("auto");
  expect(e.people).toBeGreaterThan(0);
  expect(e.detections.some((d) => d.label === "person" && d.score >= 0.5)).toBe(true);
  expect(e.image_url).toMatch(/^http:\/\/cam\.test:8080\/out\/\d{8}_\d{6}_auto_.*\.jpg$/);
  expect(e.thumb_url).toMatch(/^http:\/\/cam\.test:8080\/out\/thumbs\//);
  // The URL is the server's own: the same path answers here.
  const img = await fetch(e.image_url.replace("http://cam.test:8080", srv.url));
  expect(img.status).toBe(200);

  await until(() => received.some((r) => r.body.id === e.id), 10000, "the webhook delivery");
  const hook = received.find((r) => r.body.id === e.id)!;
  expect(hook.path).toBe("/ok");
  expect(hook.body.image_url).toBe(e.image_url);
  expect(hook.body.camera).toBe(`e2e${process.pid}`);

  // The failing webhook is retried, given up, counted, and logged once; the other is unaffected.
  await until(
    async () => ((await status()).integrations.webhooks[1]?.failed ?? 0) > 0,
    15000,
    "a failed webhook",
  );
  const w = (await status()).integrations.webhooks;
  expect(w[0]).toMatchObject({ failed: 0, last_status: 200 });
  expect(w[0]!.delivered).toBeGreaterThan(0);
  expect(w[1]).toMatchObject({ delivered: 0, last_status: 500 });
  expect(srv.output().match(/webhook: .*\/fail: HTTP 500; gave up/g)).toHaveLength(1);
});

test("the people count is published when it changes (the clip has people and an empty stretch)", async () => {
  await until(
    () => {
      const counts = rec.messages
        .filter((m) => m.topic === `${TOPIC}/people`)
        .map((m) => m.payload);
      return counts.includes("0") && counts.some((c) => Number(c) > 0);
    },
    25000,
    "people > 0 and 0",
  );
  const counts = rec.messages.filter((m) => m.topic === `${TOPIC}/people`).map((m) => m.payload);
  for (const c of counts) expect(c).toMatch(/^\d+$/);
  // Only changes: never the same count twice in a row.
  for (let i = 1; i < counts.length; i++) expect(counts[i]).not.toBe(counts[i - 1]);
}, 30000);

test("/metrics parses as Prometheus text and /healthz says ok", async () => {
  const res = await fetch(`${srv.url}/metrics`);
  expect(res.status).toBe(200);
  const fams = parsePromText(await res.text());
  const v = (name: string, sample = name) =>
    fams.get(name)?.samples.find((s) => s.name === sample)?.value ?? Number.NaN;
  expect(v("hazardcam_camera_online")).toBe(1);
  expect(v("hazardcam_capture_fps")).toBeGreaterThan(5);
  const n = v("hazardcam_inference_seconds", "hazardcam_inference_seconds_count");
  expect(n).toBeGreaterThan(0);
  // CPU inference on this machine: tens to hundreds of ms each.
  const meanS = v("hazardcam_inference_seconds", "hazardcam_inference_seconds_sum") / n;
  expect(meanS).toBeGreaterThan(0.005);
  expect(meanS).toBeLessThan(2);
  expect(v("hazardcam_mqtt_connected")).toBe(1);
  const auto = fams
    .get("hazardcam_events_saved_total")
    ?.samples.find((s) => s.labels.reason === "auto")?.value;
  expect(auto).toBeGreaterThan(0);
  expect(fams.get("hazardcam_backend_info")?.samples[0]?.labels.backend).toBe("cpu");

  const h = await fetch(`${srv.url}/healthz`);
  expect(h.status).toBe(200);
  expect(await h.text()).toBe("ok");
});

test("broker stopped and restarted: /status and the log say so once, serving goes on, publishing resumes", async () => {
  await broker.stop();
  await until(async () => !(await status()).integrations.mqtt.connected, 10000, "disconnect");
  const down = await status();
  expect(down.integrations.mqtt.last_error).not.toBeNull();
  // Two reconnection attempts fail (backoff 1 s, then 2 s); the camera and HTTP do not notice.
  const gone = await closingListener(broker.port);
  try {
    await until(() => gone.attempts("hc_") >= 2, 15000, "two failed reconnection attempts");
  } finally {
    await gone.close();
  }
  const t0 = performance.now();
  const during = await status();
  expect(performance.now() - t0).toBeLessThan(500);
  expect(during.online).toBe(true);
  expect(during.fps).toBeGreaterThan(5);
  expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  expect(srv.output().match(/mqtt: lost mqtt:\/\/127\.0\.0\.1:\d+/g)).toHaveLength(1);

  const restartedAt = Date.now();
  await broker.restart();
  await rec.waitFor((m) => m.topic === `${TOPIC}/availability` && m.payload === "online", {
    since: restartedAt,
    timeoutMs: 15000,
    what: "online after the restart",
  });
  await rec.waitFor((m) => m.topic === `homeassistant/binary_sensor/${NODE}/person/config`, {
    since: restartedAt,
    what: "discovery after the restart",
  });
  await rec.waitFor((m) => isEvent(m.topic), {
    since: restartedAt,
    timeoutMs: 25000,
    what: "an event after the restart",
  });
  const up = await status();
  expect(up.integrations.mqtt).toMatchObject({ connected: true, last_error: null, reconnects: 1 });
  expect(srv.output()).toMatch(/mqtt: reconnected to mqtt:\/\/127\.0\.0\.1:\d+ after \d+\.\d s/);
}, 60000);

test("SIGKILL: the broker publishes the last will, retained", async () => {
  const t = Date.now();
  srv.proc.kill("SIGKILL");
  await srv.proc.exited;
  const will = await rec.waitFor((m) => m.topic === `${TOPIC}/availability`, {
    since: t,
    what: "the last will",
  });
  expect(will.payload).toBe("offline");
  const late = await record(broker.url, [`${TOPIC}/availability`]);
  try {
    const m = await late.waitFor(() => true, { what: "retained availability" });
    expect(m).toMatchObject({ payload: "offline", retain: true });
  } finally {
    await late.close();
  }
});

test("an unreachable broker does not hold up the start or the camera; a bad --mqtt is exit 2", async () => {
  const other = await startServer(
    camArgs("0", { flags: ["--mqtt", "mqtt://127.0.0.1:1", "--threads", "2"] }),
    fakecamEnv(),
  );
  try {
    await other.ready();
    // Frames at full rate while the broker cannot be reached.
    const s = await waitFor(
      async () => {
        const st = (await (await fetch(`${other.url}/status`)).json()) as Status;
        return st.online && st.fps > 5 && st.integrations.mqtt.last_error !== null && st;
      },
      { timeoutMs: 15000, what: "frames at > 5 fps and an MQTT error", detail: other.output },
    );
    expect(s.integrations.mqtt.connected).toBe(false);
    expect(s.integrations.mqtt.last_error).toMatch(/ECONNREFUSED|refused/i);
    expect(other.output().match(/mqtt: cannot reach mqtt:\/\/127\.0\.0\.1:1/g)).toHaveLength(1);
  } finally {
    await other.stop();
  }

  const bad = Bun.spawnSync(
    [binary, CPU_MODEL, "0", "--mqtt", "http://broker:1883", "--webhook", "x"],
    { cwd: root, stdout: "pipe", stderr: "pipe" },
  );
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr.toString()).toContain(
    'hazardcam: --mqtt "http://broker:1883" is not valid (the scheme is http:, not mqtt: or mqtts:): expected mqtt://[user:pass@]host[:port], e.g. mqtt://192.168.1.10:1883\n',
  );
}, 60000);
