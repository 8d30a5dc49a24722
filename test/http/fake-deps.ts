/** A fake pipeline behind ServerDeps: frames are published by the test, nothing captures. */
import { afterEach } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Archive, type ArchiveOptions } from "../../src/events/archive.ts";
import type { EventRecord, SaveInput } from "../../src/events/types.ts";
import { logger } from "../../src/shared/log.ts";
import { createServer, type HazardcamServer } from "../../src/http/server.tsx";
import type { ServerConfig, ServerDeps } from "../../src/http/deps.ts";
import type { SceneDeps } from "../../src/http/deps.ts";
import type {
  ZonesService,
  ZonesError as ZonesServiceError,
} from "../../src/pipeline/scene-api.ts";
import { EMPTY_ZONES, validateZones, type ZonesConfig } from "../../src/track/zones.ts";
import type { PipelineStatus } from "../../src/shared/status.ts";
import type { Detection, FrameState } from "../../src/shared/types.ts";

export const FIXTURE_JPEG = new Uint8Array(
  fs.readFileSync(join(import.meta.dir, "../fixtures/kite_and_cold.jpg")),
);

/** A valid JPEG carrying `tag` in a COM segment (FFFE), so tests can tell frames apart. */
export function taggedJpeg(tag: string, base: Uint8Array = FIXTURE_JPEG): Uint8Array {
  const text = new TextEncoder().encode(tag);
  const len = text.byteLength + 2;
  const out = new Uint8Array(base.byteLength + 4 + text.byteLength);
  out.set([0xff, 0xd8, 0xff, 0xfe, len >> 8, len & 0xff], 0);
  out.set(text, 6);
  out.set(base.subarray(2), 6 + text.byteLength);
  return out;
}

/** The tag of a taggedJpeg, or null. */
export function jpegTag(jpeg: Uint8Array): string | null {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff || jpeg[3] !== 0xfe) return null;
  const len = (jpeg[4]! << 8) | jpeg[5]!;
  return new TextDecoder().decode(jpeg.subarray(6, 4 + len));
}

export const PERSON: Detection = {
  classId: 0,
  label: "person",
  score: 0.789,
  box: { ymin: 0.1, xmin: 0.2, ymax: 0.9, xmax: 0.5 },
};
const KITE: Detection = {
  classId: 37,
  label: "kite",
  score: 0.6,
  box: { ymin: 0.05, xmin: 0.6, ymax: 0.2, xmax: 0.8 },
};
const WEAK: Detection = { ...KITE, score: 0.2 };

export interface Fake {
  deps: ServerDeps;
  dir: string;
  archive: Archive;
  subscribers(): number;
  wantCalls: boolean[];
  /** Publishes frame `seq` (camera JPEG tagged "cam-<seq>", annotated "ann-<seq>"). */
  publish(seq?: number): FrameState;
  setOffline(reason: string): void;
  /** Annotated frames on/off (off: annotatedJpeg() returns null). */
  setAnnotated(on: boolean): void;
  cleanup(): void;
}

const quietLog = { ...logger("events"), warn: () => undefined, info: () => undefined };

export function makeFake(
  opts: {
    config?: Partial<ServerConfig>;
    archive?: ArchiveOptions;
    noFrame?: boolean;
    /** The live scene and the visits store (e.g. fakeScene(new FakeVisits()), fake-visits.ts). */
    scene?: ServerDeps["scene"];
  } = {},
): Fake {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-http-"));
  const archive = Archive.open(dir, { keepDays: 0, minFreeMb: 0, log: quietLog, ...opts.archive });
  const subs = new Set<(s: FrameState) => void>();
  let latest: FrameState | null = null;
  let annotated: Uint8Array | null = null;
  let annotatedOn = true;
  let online = !opts.noFrame;
  let offlineReason: string | null = opts.noFrame ? "starting" : null;
  let seqNext = 1;
  const wantCalls: boolean[] = [];

  function frame(seq: number): FrameState {
    return {
      seq,
      grabbedAt: Date.now(),
      width: 640,
      height: 480,
      jpeg: seq === 1 ? FIXTURE_JPEG : taggedJpeg(`cam-${seq}`),
      detections: [PERSON, KITE, WEAK],
      people: 1,
      inferMs: 7.34,
      // Each test frame carries a new detection result.
      detectSeq: seq,
      captureFps: 29.97,
      detectFps: 14.5,
      stageMs: { grab: 1, decode: 2, resize: 1, infer: 7.34 },
    };
  }

  const fake: Fake = {
    dir,
    archive,
    wantCalls,
    subscribers: () => subs.size,
    publish(seq = seqNext) {
      seqNext = seq + 1;
      latest = frame(seq);
      annotated = annotatedOn ? taggedJpeg(`ann-${seq}`) : null;
      online = true;
      offlineReason = null;
      for (const cb of subs) cb(latest);
      return latest;
    },
    setOffline(reason) {
      latest = null;
      annotated = null;
      online = false;
      offlineReason = reason;
    },
    setAnnotated(on) {
      annotatedOn = on;
      if (!on) annotated = null;
    },
    cleanup() {
      archive.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    deps: {
      config: {
        model: "./models/ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite",
        cam: "0",
        threshold: 0.5,
        width: 640,
        height: 480,
        outdir: dir,
        cooldownSec: 2,
        version: "0.1.0-test",
        ...opts.config,
      },
      latest: () => latest,
      annotatedJpeg: () => annotated,
      wantAnnotated: (on) => void wantCalls.push(on),
      onFrame(cb) {
        subs.add(cb);
        return () => void subs.delete(cb);
      },
      status(): PipelineStatus {
        return {
          online,
          offlineReason,
          backend: "cpu",
          tfliteVersion: "2.9.0",
          edgetpuVersion: null,
          captureFps: latest ? 29.97 : 0,
          detectFps: latest ? 14.5 : 0,
          inferMs: latest ? 7.34 : 0,
          people: latest?.people ?? 0,
          framesCorrupt: 3,
          framesDropped: 5,
          lastError: null,
          source: "/dev/video0",
          actualWidth: 640,
          actualHeight: 480,
        };
      },
      async snapshot() {
        if (!latest) return null;
        return archive.save({
          jpeg: annotated ?? latest.jpeg,
          thumbJpeg: taggedJpeg("thumb"),
          reason: "snapshot",
          at: new Date(),
          people: latest.people,
          detections: latest.detections.filter((d) => d.score >= 0.5),
          inferMs: latest.inferMs,
          fps: latest.captureFps,
        });
      },
      noSignalJpeg: (reason) => taggedJpeg(`nosignal:${reason}`),
      archive,
      startedAt: Date.now() - 5000,
      ...(opts.scene ? { scene: opts.scene } : {}),
    },
  };
  if (!opts.noFrame) fake.publish(1);
  return fake;
}

/** Reads multipart/x-mixed-replace parts from a stream, with timeouts that lose nothing. */
/**
 * Registers cleanup (streams closed, temp dirs removed) after each test of the calling file and
 * returns its `setup`: a fake ServerDeps and the app built on it.
 */
/** Saves an event into the fake's archive: an "auto" still of 1 person now, unless `over` says. */
export function saveEvent(
  fake: Pick<Fake, "archive">,
  over: Partial<SaveInput> = {},
): Promise<EventRecord> {
  return fake.archive.save({
    jpeg: taggedJpeg("ev"),
    thumbJpeg: taggedJpeg("th"),
    reason: "auto",
    at: new Date(),
    people: 1,
    detections: [],
    inferMs: 7,
    fps: 10,
    ...over,
  });
}

export function serverSetup(): (opts?: Parameters<typeof makeFake>[0]) => {
  fake: Fake;
  app: HazardcamServer;
} {
  const fakes: Fake[] = [];
  const apps: HazardcamServer[] = [];
  afterEach(() => {
    for (const a of apps.splice(0)) a.closeStreams();
    for (const f of fakes.splice(0)) f.cleanup();
  });
  return (opts = {}) => {
    const fake = makeFake(opts);
    fakes.push(fake);
    const app = createServer(fake.deps);
    apps.push(app);
    return { fake, app };
  };
}

export class PartReader {
  private buf = new Uint8Array(0);
  private pending: Promise<{ done: boolean; value?: Uint8Array }> | null = null;
  readonly reader: {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(): Promise<void>;
  };
  done = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** Next chunk, or null after `ms` (the read stays pending for the next call). */
  async chunk(ms: number): Promise<Uint8Array | null> {
    this.pending ??= this.reader.read();
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => (t = setTimeout(() => r(null), ms)));
    const r = await Promise.race([this.pending, timeout]);
    clearTimeout(t);
    if (r === null) return null;
    this.pending = null;
    if (r.done) {
      this.done = true;
      return null;
    }
    return r.value ?? new Uint8Array(0);
  }

  /** The next JPEG part, or null after `ms` without one. */
  async part(ms = 1000): Promise<{ headers: string; jpeg: Uint8Array } | null> {
    const deadline = performance.now() + ms;
    for (;;) {
      const p = this.parse();
      if (p) return p;
      const left = deadline - performance.now();
      if (left <= 0 || this.done) return null;
      const c = await this.chunk(left);
      if (!c) return null;
      const next = new Uint8Array(this.buf.byteLength + c.byteLength);
      next.set(this.buf);
      next.set(c, this.buf.byteLength);
      this.buf = next;
    }
  }

  private parse(): { headers: string; jpeg: Uint8Array } | null {
    const text = new TextDecoder("latin1").decode(
      this.buf.subarray(0, Math.min(300, this.buf.length)),
    );
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return null;
    const headers = text.slice(0, end);
    const m = /Content-Length: (\d+)/.exec(headers);
    if (!m) throw new Error(`part without Content-Length: ${headers}`);
    const len = Number(m[1]);
    const start = end + 4;
    if (this.buf.byteLength < start + len + 2) return null;
    const jpeg = this.buf.slice(start, start + len);
    const trailer = this.buf.subarray(start + len, start + len + 2);
    if (trailer[0] !== 13 || trailer[1] !== 10) throw new Error("part not followed by CRLF");
    this.buf = this.buf.slice(start + len + 2);
    return { headers, jpeg };
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}

/** An in-memory ZonesService (issue 11): validates as the real one, records what was saved. */
export interface FakeZonesService extends ZonesService {
  /** Every config save() accepted, oldest first. */
  readonly saved: ZonesConfig[];
  /** What error() answers (the file on disk is bad), or null. */
  setError(e: ZonesServiceError | null): void;
  /** The next save() fails as a write error would (disk full). */
  failNextSave(e: Error): void;
}

export function fakeZonesService(
  initial: ZonesConfig = EMPTY_ZONES,
  path = "/tmp/hazardcam-test/zones.json",
): FakeZonesService {
  let current = validateZones(initial);
  let error: ZonesServiceError | null = null;
  let failure: Error | null = null;
  const listeners = new Set<(c: ZonesConfig) => void>();
  const saved: ZonesConfig[] = [];
  return {
    path,
    saved,
    current: () => current,
    error: () => error,
    setError: (e) => void (error = e),
    failNextSave: (e) => void (failure = e),
    async save(config) {
      const valid = validateZones(config);
      if (failure) {
        const f = failure;
        failure = null;
        throw f;
      }
      current = valid;
      error = null;
      saved.push(valid);
      for (const cb of listeners) cb(valid);
      return valid;
    },
    onChange(cb) {
      listeners.add(cb);
      return () => void listeners.delete(cb);
    },
  };
}

/** ServerDeps.scene around a zones service: a feed that never updates and no visits. */
export function sceneWithZones(zones: ZonesService): SceneDeps {
  const none = () => () => undefined;
  return {
    zones,
    feed: {
      onUpdate: none,
      onVisit: none,
      statusJson: () => ({
        tracks: [],
        zone_people: Object.fromEntries(zones.current().zones.map((z) => [z.name, 0])),
        people_in_zones: 0,
        lines: Object.fromEntries(zones.current().lines.map((l) => [l.name, { in: 0, out: 0 }])),
        day: new Date().toISOString().slice(0, 10),
        visit: null,
        zones_error: zones.error()?.message ?? null,
      }),
    },
    visits: {
      list: () => [],
      count: () => 0,
      get: () => null,
      current: () => null,
      at: () => null,
      activity: () => [],
      pathOf: (file) => join("/nonexistent", file),
    },
  };
}
/** A fake visits store and ServerDeps.scene around it (issue 11/12 routes and pages). */
export { FakeVisits, fakeScene, type VisitSpec } from "./fake-visits.ts";
