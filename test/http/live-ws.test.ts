/**
 * /api/live, the dashboard's WebSocket, on a listening server over the fake pipeline: a tab
 * gets the state and the camera's own JPEG of each frame, a hidden tab gets state only and the
 * newest frame as soon as it shows, a tab that never reads holds a bounded buffer, the login
 * guards the upgrade, and /status counts tabs and frames.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import type { SceneFeed } from "../../src/pipeline/scene-api.ts";
import { LIVE_MAX_MESSAGE_BYTES } from "../../src/http/routes/live-ws.ts";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import { setQuiet } from "../../src/shared/log.ts";
import type { SceneStatusJson, StatusJson } from "../../src/shared/status.ts";
import type { FrameState } from "../../src/shared/types.ts";
import { FIXTURE_JPEG, jpegTag, saveEvent, serverSetup, type Fake } from "./fake-deps.ts";

setQuiet(true);

const setup = serverSetup();
const listening: HazardcamServer[] = [];
const sockets: { close(): void }[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const a of listening.splice(0)) await a.stop(true);
});

function listen(opts: Parameters<typeof setup>[0] = {}): {
  fake: Fake;
  app: HazardcamServer;
  url: string;
} {
  const { fake, app } = setup(opts);
  app.listen({ port: 0, hostname: "127.0.0.1" });
  listening.push(app);
  return { fake, app, url: `127.0.0.1:${app.server!.port}` };
}

type Msg = { type: string; data: Record<string, unknown> } | { jpeg: Uint8Array };

/** A tab: every message in arrival order, with waits for the next one of a kind. */
class Tab {
  readonly msgs: Msg[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url, { headers } as unknown as string[]);
    this.ws.binaryType = "arraybuffer";
    sockets.push(this.ws);
    this.ws.onmessage = (e) => {
      this.msgs.push(
        typeof e.data === "string"
          ? (JSON.parse(e.data) as Msg)
          : { jpeg: new Uint8Array(e.data as ArrayBuffer) },
      );
    };
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("websocket error"));
    });
    this.closed = new Promise((resolve) => (this.ws.onclose = (e) => resolve(e.code)));
  }

  jpegs(): Uint8Array[] {
    return this.msgs.flatMap((m) => ("jpeg" in m ? [m.jpeg] : []));
  }

  texts(type: string): Record<string, unknown>[] {
    return this.msgs.flatMap((m) => ("type" in m && m.type === type ? [m.data] : []));
  }

  /** Waits until `cond` holds over the messages so far (2 s), else throws with what came. */
  async until(what: string, cond: (t: Tab) => boolean, ms = 2000): Promise<void> {
    const end = performance.now() + ms;
    while (!cond(this)) {
      if (performance.now() > end) {
        const seen = this.msgs.map((m) => ("jpeg" in m ? `jpeg:${jpegTag(m.jpeg)}` : m.type));
        throw new Error(`timed out waiting for ${what}; got ${seen.join(", ")}`);
      }
      await Bun.sleep(5);
    }
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
}

async function status(app: HazardcamServer): Promise<StatusJson> {
  return (await (await app.handle(new Request("http://localhost/status"))).json()) as StatusJson;
}

describe("/api/live", () => {
  test("a tab gets the status, then each frame's state and the camera's own JPEG", async () => {
    const { fake, app, url } = listen();
    const tab = new Tab(`ws://${url}/api/live`);
    await tab.opened;
    await tab.until("the first frame", (t) => t.jpegs().length === 1);
    expect(tab.msgs.map((m) => ("jpeg" in m ? "jpeg" : m.type))).toEqual([
      "status",
      "frame",
      "jpeg",
    ]);
    expect(tab.jpegs()[0]).toEqual(FIXTURE_JPEG);
    const st = tab.texts("status")[0]!;
    expect(st.online).toBe(true);
    expect(st.ws_clients).toBe(1);
    const f = tab.texts("frame")[0] as { seq: number; people: number; det: { l: string }[] };
    expect(f.seq).toBe(1);
    expect(f.people).toBe(1);
    expect(f.det.map((d) => d.l)).toEqual(["person", "kite"]);
    expect(f).not.toHaveProperty("tracks");

    fake.publish(2);
    await tab.until("frame 2", (t) => t.jpegs().length === 2);
    expect(jpegTag(tab.jpegs()[1]!)).toBe("cam-2");
    expect(tab.texts("frame")[1]!.seq).toBe(2);
    // Raw frames only: the tabs never make the pipeline annotate.
    expect(fake.wantCalls).toEqual([]);

    const s = await status(app);
    expect(s.ws_clients).toBe(1);
    expect(s.ws_frames_sent).toBe(2);
    expect(s.ws_tabs).toEqual([
      { id: 1, visible: true, frames_sent: 2, frames_skipped: 0, buffered_bytes: 0 },
    ]);
    expect(s.clients).toBe(0);
    const metrics = await (await app.handle(new Request("http://localhost/metrics"))).text();
    expect(metrics).toContain('hazardcam_stream_clients{kind="ws"} 1');
    expect(metrics).toContain("hazardcam_ws_frames_sent_total 2");

    tab.ws.close();
    await tab.closed;
    await waitUntil(() => app.tabs.size === 0);
    expect(fake.subscribers()).toBe(0);
    expect((await status(app)).ws_frames_sent).toBe(2);
  });

  test("a hidden tab gets state but no frames; shown, it gets the newest frame at once", async () => {
    const { fake, app, url } = listen();
    const tab = new Tab(`ws://${url}/api/live?hidden=1`);
    await tab.opened;
    await tab.until("the status and frame state", (t) => t.texts("frame").length === 1);
    fake.publish(2);
    fake.publish(3);
    await Bun.sleep(50);
    expect(tab.jpegs()).toEqual([]);
    expect((await status(app)).ws_tabs[0]).toMatchObject({ visible: false, frames_sent: 0 });

    tab.send({ type: "visibility", visible: true });
    await tab.until("the newest frame", (t) => t.jpegs().length === 1);
    expect(jpegTag(tab.jpegs()[0]!)).toBe("cam-3");
    fake.publish(4);
    await tab.until("frame 4", (t) => t.jpegs().length === 2);

    tab.send({ type: "visibility", visible: false });
    await waitUntil(() => app.tabs.counts().tabs[0]?.visible === false);
    for (let seq = 5; seq < 10; seq++) fake.publish(seq);
    await Bun.sleep(50);
    expect(tab.jpegs().length).toBe(2);
    expect((await status(app)).ws_tabs[0]).toMatchObject({ visible: false, frames_sent: 2 });
  });

  test("saved events, the scene and tracks reach the tab, as the SSE stream sends them", async () => {
    const { fake, url } = listen();
    // ServerDeps.scene is optional, and may come after the server started (serve.ts).
    const scene = fakeScene();
    fake.deps.scene = { feed: scene.feed } as NonNullable<typeof fake.deps.scene>;
    const tab = new Tab(`ws://${url}/api/live`);
    await tab.opened;
    await tab.until("the status and frame", (t) => t.jpegs().length === 1);
    // The status carries the scene's fields but its tracks, which ride on each frame.
    const { tracks, ...rest } = scene.now;
    expect(tab.texts("status")[0]).toMatchObject(rest);
    expect(tab.texts("status")[0]).not.toHaveProperty("tracks");
    expect(tab.texts("frame")[0]!.tracks).toEqual(tracks);
    expect(tab.texts("scene")).toEqual([]);

    // Tracks ride on the frames; someone entering a zone sends a status without the 5 s tick.
    const statuses = (): number => tab.texts("status").length;
    await tab.until("the first scene status", () => statuses() >= 1);
    scene.now = { ...scene.now, tracks: [{ id: 8, box: [0, 0, 1, 1], score: 0.9, zones: [] }] };
    fake.publish(2);
    await tab.until("frame 2", (t) => t.texts("frame").length === 2);
    expect((tab.texts("frame")[1]!.tracks as { id: number }[])[0]!.id).toBe(8);
    const before = statuses();
    scene.now = { ...scene.now, zone_people: { door: 1 }, people_in_zones: 1 };
    fake.publish(3);
    await tab.until("the status of the moved scene", () => statuses() > before, 4000);
    expect(tab.texts("status").at(-1)).toMatchObject({ zone_people: { door: 1 }, online: true });

    const rec = await saveEvent(fake, { people: 2 });
    await tab.until("the saved event", (t) => t.texts("saved").length === 1);
    expect(tab.texts("saved")[0]).toMatchObject({ id: rec.id, image_url: `/out/${rec.file}` });
  });

  test("offline: the status says so and the no-signal picture comes every second", async () => {
    const { fake, url } = listen();
    const tab = new Tab(`ws://${url}/api/live`);
    await tab.opened;
    await tab.until("the first frame", (t) => t.jpegs().length === 1);
    fake.setOffline("unplugged");
    await tab.until(
      "offline status and two no-signal pictures",
      (t) =>
        t.texts("status").some((s) => s.online === false) &&
        t.jpegs().filter((j) => jpegTag(j) === "nosignal:unplugged").length >= 2,
      4000,
    );
    expect(tab.texts("status").at(-1)!.offline_reason).toBe("unplugged");
  });

  test("a tab that never reads: frames are skipped, its buffer stays about one frame", async () => {
    // 200 KB frames, so the kernel's socket buffers fill after a few.
    const { fake } = setup();
    const big = (seq: number): FrameState => ({ ...fake.publish(seq), jpeg: bigJpeg });
    const bigJpeg = new Uint8Array(200_000).fill(1);
    bigJpeg.set([0xff, 0xd8]);
    const subs = new Set<(f: FrameState) => void>();
    let latest = big(1);
    const app = createServer({
      ...fake.deps,
      latest: () => latest,
      onFrame: (cb) => (subs.add(cb), () => void subs.delete(cb)),
    });
    app.listen({ port: 0, hostname: "127.0.0.1" });
    listening.push(app);
    const url = `127.0.0.1:${app.server!.port}`;
    const raw = await stalledClient(url, "/api/live");
    sockets.push({ close: () => raw.destroy() });
    const tab = new Tab(`ws://${url}/api/live`);
    await tab.opened;
    await waitUntil(() => app.tabs.size === 2);
    for (let seq = 2; seq <= 300; seq++) {
      latest = big(seq);
      for (const cb of subs) cb(latest);
      // Let the reading tab take its frame, as a camera's frame interval would.
      if (seq % 10 === 0) await Bun.sleep(1);
    }
    const stalled = (await status(app)).ws_tabs.find((t) => t.id === 1)!;
    // It got a few frames (into the kernel's buffers), then none while its socket buffer held
    // more than one frame: the rest were skipped, not queued.
    expect(stalled.frames_skipped).toBeGreaterThan(200);
    expect(stalled.buffered_bytes).toBeLessThan(2 * bigJpeg.byteLength + 64 * 1024);
    await tab.until("frame 300", (t) => t.texts("frame").some((f) => f.seq === 300), 5000);
  });

  test("with --auth the upgrade needs the login: a wrong one gets 401 and no socket", async () => {
    const { app, url } = listen({ config: { auth: { user: "u", pass: "p" } } });
    for (const login of [null, "u:wrong", "U:p"]) {
      const head = await handshake(url, "/api/live", login);
      expect({ login, line: head.split("\r\n")[0] }).toEqual({
        login,
        line: "HTTP/1.1 401 Unauthorized",
      });
    }
    expect(app.tabs.size).toBe(0);
    expect((await handshake(url, "/api/live", "u:p")).split("\r\n")[0]).toBe(
      "HTTP/1.1 101 Switching Protocols",
    );
    const tab = new Tab(`ws://${url}/api/live`, { authorization: basic("u", "p") });
    await tab.opened;
    await tab.until("a frame", (t) => t.jpegs().length === 1);
  });

  test("garbage from a tab is ignored; an oversized message closes only that socket", async () => {
    const { fake, app, url } = listen();
    const good = new Tab(`ws://${url}/api/live`);
    const bad = new Tab(`ws://${url}/api/live`);
    await Promise.all([good.opened, bad.opened]);
    for (const junk of ["{", "null", "[]", '{"type":"visibility","visible":"no"}', "\u0000"]) {
      bad.ws.send(junk);
    }
    bad.ws.send(new Uint8Array([1, 2, 3]));
    fake.publish(2);
    await bad.until("a frame after the junk", (t) => t.jpegs().length >= 1);
    bad.ws.send("x".repeat(LIVE_MAX_MESSAGE_BYTES + 1));
    expect(await bad.closed).toBe(1009); // "message too big"
    fake.publish(3);
    await good.until("frames go on for the other tab", (t) =>
      t.jpegs().some((j) => jpegTag(j) === "cam-3"),
    );
    await waitUntil(() => app.tabs.counts().tabs.length === 1);
  });

  test("a plain GET answers 426, another method 405; stopping the server closes the tabs", async () => {
    const { app, url } = listen();
    const get = await fetch(`http://${url}/api/live`);
    expect(get.status).toBe(426);
    expect(get.headers.get("upgrade")).toBe("websocket");
    const post = await fetch(`http://${url}/api/live`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const tab = new Tab(`ws://${url}/api/live`);
    await tab.opened;
    await tab.until("a frame", (t) => t.jpegs().length === 1);
    listening.splice(listening.indexOf(app), 1);
    await app.stop(true);
    expect(await tab.closed).toBeGreaterThan(0);
    expect(app.tabs.size).toBe(0);
  });
});

async function waitUntil(cond: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error("timed out");
    await Bun.sleep(5);
  }
}

const basic = (u: string, p: string): string =>
  `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

function upgradeRequest(host: string, path: string, login: string | null): string {
  const key = Buffer.from("hazardcam-test-k").toString("base64");
  const auth = login ? `Authorization: Basic ${Buffer.from(login).toString("base64")}\r\n` : "";
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${auth}\r\n`
  );
}

/** The response head of a hand-made upgrade request. */
function handshake(host: string, path: string, login: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const [h, p] = host.split(":");
    const s = connect(Number(p), h!, () => s.write(upgradeRequest(host, path, login)));
    let text = "";
    s.on("data", (d) => {
      text += d.toString("latin1");
      if (text.includes("\r\n\r\n")) {
        s.destroy();
        resolve(text);
      }
    });
    s.on("error", reject);
  });
}

/** A WebSocket client that does the handshake and then never reads again. */
function stalledClient(host: string, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const [h, p] = host.split(":");
    const s = connect(Number(p), h!, () => s.write(upgradeRequest(host, path, null)));
    s.once("data", (d) => {
      s.pause();
      if (!d.toString("latin1").startsWith("HTTP/1.1 101")) reject(new Error(d.toString()));
      else resolve(s);
    });
    s.on("error", () => undefined);
  });
}

/** A scene feed whose status the test sets (the tabs read it with each frame). */
function fakeScene(): { feed: SceneFeed; now: SceneStatusJson } {
  const box: [number, number, number, number] = [0.1, 0.2, 0.9, 0.5];
  const state: { feed: SceneFeed; now: SceneStatusJson } = {
    now: {
      tracks: [{ id: 3, box, score: 0.8, zones: [] }],
      zone_people: {},
      people_in_zones: 1,
      lines: {},
      day: "2026-01-01",
      visit: null,
      zones_error: null,
    },
    feed: {
      onUpdate: () => () => undefined,
      onVisit: () => () => undefined,
      statusJson: () => state.now,
    },
  };
  return state;
}
