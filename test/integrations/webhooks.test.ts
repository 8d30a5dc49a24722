/**
 * --webhook against a local Bun server that answers, answers slowly, fails with 500 and
 * recovers. Timeouts and backoffs are shortened through the options; the defaults are checked
 * separately. send() must return at once whatever the endpoint does.
 */
import { afterEach, expect, test } from "bun:test";
import {
  WEBHOOK_BACKOFF_MS,
  WEBHOOK_MAX_QUEUE,
  WEBHOOK_TIMEOUT_MS,
  WEBHOOK_TRIES,
  WebhookSender,
} from "../../src/integrations/webhooks.ts";
import { waitFor } from "../e2e/harness.ts";
import { recordingLog, type LogLine } from "./recording-log.ts";

type Mode = "ok" | "fail" | "slow" | "bad-request";

interface Hit {
  at: number;
  body: unknown;
  contentType: string | null;
  userAgent: string | null;
}

interface Endpoint {
  url: string;
  hits: Hit[];
  /** Answered requests (2xx), in order. */
  accepted: unknown[];
  mode: Mode;
  slowMs: number;
  stop(): void;
}

const endpoints: Endpoint[] = [];
const senders: WebhookSender[] = [];
afterEach(async () => {
  for (const s of senders.splice(0)) await s.stop();
  for (const e of endpoints.splice(0)) e.stop();
});

function endpoint(mode: Mode = "ok"): Endpoint {
  const ep: Endpoint = {
    url: "",
    hits: [],
    accepted: [],
    mode,
    slowMs: 1000,
    stop: () => server.stop(true),
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.json();
      ep.hits.push({
        at: performance.now(),
        body,
        contentType: req.headers.get("content-type"),
        userAgent: req.headers.get("user-agent"),
      });
      switch (ep.mode) {
        case "fail":
          return new Response("boom", { status: 500 });
        case "bad-request":
          return new Response("no", { status: 400 });
        case "slow":
          await Bun.sleep(ep.slowMs);
          return new Response("late");
        default:
          ep.accepted.push(body);
          return new Response("ok");
      }
    },
  });
  ep.url = `http://127.0.0.1:${server.port}/hook`;
  endpoints.push(ep);
  return ep;
}

function sender(urls: string[], opts: ConstructorParameters<typeof WebhookSender>[1] = {}) {
  const s = new WebhookSender(urls, opts);
  senders.push(s);
  return s;
}

async function until(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  await waitFor(cond, { timeoutMs, what, pollMs: 10 });
}

test("defaults: 5 s timeout, 3 tries with backoff, bounded queue", () => {
  expect(WEBHOOK_TIMEOUT_MS).toBe(5000);
  expect(WEBHOOK_TRIES).toBe(3);
  expect(WEBHOOK_BACKOFF_MS).toBeGreaterThanOrEqual(500);
  expect(WEBHOOK_MAX_QUEUE).toBeGreaterThan(0);
});

test("POSTs the event JSON to every URL, in order", async () => {
  const a = endpoint();
  const b = endpoint();
  const s = sender([a.url, b.url]);
  for (let id = 1; id <= 3; id++) s.send({ id, reason: "auto", people: id });
  await until(() => s.status().every((w) => w.delivered === 3));
  expect(a.accepted).toEqual([
    { id: 1, reason: "auto", people: 1 },
    { id: 2, reason: "auto", people: 2 },
    { id: 3, reason: "auto", people: 3 },
  ]);
  expect(a.hits[0]?.contentType).toBe("application/json");
  expect(a.hits[0]?.userAgent).toMatch(/^hazardcam\//);
  expect(s.status().map((w) => w.delivered)).toEqual([3, 3]);
});

test("a 500 is retried with backoff; the endpoint recovers and gets the event", async () => {
  const ep = endpoint("fail");
  const lines: LogLine[] = [];
  const s = sender([ep.url], { backoffMs: 150, log: recordingLog(lines) });
  s.send({ id: 1 });
  await until(() => ep.hits.length === 2, 3000, "two tries");
  ep.mode = "ok";
  await until(() => s.status()[0]!.delivered === 1, 3000, "the third try");
  expect(ep.hits).toHaveLength(3);
  // Backoff doubles: ~150 ms, then ~300 ms.
  const gap1 = ep.hits[1]!.at - ep.hits[0]!.at;
  const gap2 = ep.hits[2]!.at - ep.hits[1]!.at;
  expect(gap1).toBeGreaterThanOrEqual(140);
  expect(gap2).toBeGreaterThanOrEqual(290);
  expect(s.status()[0]).toMatchObject({ delivered: 1, failed: 0, last_error: null });
  expect(lines.filter((l) => l.level !== "info")).toEqual([]);
});

test("an endpoint that keeps failing: given up after 3 tries, logged once, counted", async () => {
  const ep = endpoint("fail");
  const lines: LogLine[] = [];
  const s = sender([ep.url], { backoffMs: 20, log: recordingLog(lines) });
  s.send({ id: 1 });
  s.send({ id: 2 });
  await until(() => s.status()[0]!.failed === 2, 3000, "two failures");
  expect(ep.hits).toHaveLength(6);
  expect(s.status()[0]).toMatchObject({ failed: 2, last_status: 500, last_error: "HTTP 500" });
  const warns = lines.filter((l) => l.level === "warn");
  expect(warns).toHaveLength(1);
  expect(warns[0]?.msg).toContain("gave up on an event after 3 tries");

  // It recovers: the next event goes through and the recovery is said once.
  ep.mode = "ok";
  s.send({ id: 3 });
  await until(() => s.status()[0]!.delivered === 1);
  expect(lines.at(-1)).toMatchObject({ level: "info" });
  expect(lines.at(-1)?.msg).toContain("accepts events again");
});

test("a 4xx other than 408/429 is final (no retry)", async () => {
  const ep = endpoint("bad-request");
  const s = sender([ep.url], { backoffMs: 10, log: recordingLog([]) });
  s.send({ id: 1 });
  await until(() => s.status()[0]!.failed === 1);
  expect(ep.hits).toHaveLength(1);
});

test("a slow endpoint times out and is retried; send() never waits", async () => {
  const ep = endpoint("slow");
  ep.slowMs = 2000;
  const s = sender([ep.url], { timeoutMs: 200, backoffMs: 50, log: recordingLog([]) });
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) s.send({ id: i });
  const sendMs = performance.now() - t0;
  expect(sendMs).toBeLessThan(50);
  await until(() => s.status()[0]!.failed === 1, 3000, "the first event to give up");
  expect(s.status()[0]?.last_error).toBe("no answer within 200 ms");
  expect(ep.hits.length).toBeGreaterThanOrEqual(3);
});

test("the queue is bounded: the oldest events are dropped and counted", async () => {
  const ep = endpoint("slow");
  ep.slowMs = 400;
  const lines: LogLine[] = [];
  const s = sender([ep.url], { maxQueue: 3, timeoutMs: 5000, log: recordingLog(lines) });
  for (let id = 1; id <= 10; id++) s.send({ id });
  // Event 1 is in flight; 2..10 went through a queue of 3: 2..7 dropped, 8, 9, 10 kept.
  expect(s.status()[0]).toMatchObject({ queued: 3, dropped: 6 });
  expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  expect(lines[0]?.msg).toContain("queue full (3)");
  await until(() => ep.hits.length === 1, 2000, "event 1 in flight");
  ep.mode = "ok";
  await until(() => s.status()[0]!.delivered === 4, 4000, "the queued events");
  expect(ep.accepted).toEqual([{ id: 8 }, { id: 9 }, { id: 10 }]);
  expect(s.status()[0]).toMatchObject({ delivered: 4, dropped: 6, queued: 0 });
  expect(lines.at(-1)?.msg).toContain("6 event(s) were dropped meanwhile");
});

test("a dead endpoint does not delay another one", async () => {
  const slow = endpoint("slow");
  slow.slowMs = 3000;
  const fast = endpoint();
  const s = sender([slow.url, fast.url], { log: recordingLog([]) });
  const t0 = performance.now();
  for (let id = 1; id <= 5; id++) s.send({ id });
  await until(() => fast.accepted.length === 5);
  expect(performance.now() - t0).toBeLessThan(1500);
});

test("stop() aborts deliveries in flight at once", async () => {
  const ep = endpoint("slow");
  ep.slowMs = 5000;
  const s = new WebhookSender([ep.url], { log: recordingLog([]) });
  s.send({ id: 1 });
  await until(() => ep.hits.length === 1);
  const t0 = performance.now();
  await s.stop();
  expect(performance.now() - t0).toBeLessThan(500);
});
