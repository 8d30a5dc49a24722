/**
 * The event saver, the snapshot requests and the no-signal frame, each on its own: a save that
 * fails is logged once and answered null; nothing is saved after close, which waits for the
 * saves under way; snapshot answers arrive by id, time out, or are cancelled.
 */
import { describe, expect, test } from "bun:test";
import type { EventRecord, SaveInput } from "../../src/events/archive.ts";
import { jpegDecode } from "../../src/native/shim.ts";
import { EventSaver } from "../../src/pipeline/events.ts";
import { noSignal } from "../../src/pipeline/no-signal.ts";
import { SnapshotRequests } from "../../src/pipeline/snapshots.ts";
import type { EventData } from "../../src/workers/protocol.ts";
import { memoryLog } from "../unit/fake-capture.ts";

const EVENT: EventData = {
  reason: "auto",
  jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
  thumbJpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
  at: 1_700_000_000_000,
  people: 1,
  detections: [],
  inferMs: 7.5,
  fps: 10,
};

function record(input: SaveInput, id: number): EventRecord {
  return { id, file: `event-${id}.jpg`, reason: input.reason } as EventRecord;
}

describe("EventSaver", () => {
  test("saves the event as the archive takes it, sync or async", async () => {
    const got: SaveInput[] = [];
    const sync = new EventSaver({ save: (i) => record((got.push(i), i), got.length) }, memoryLog());
    expect((await sync.save(EVENT))?.file).toBe("event-1.jpg");
    expect(got[0]).toMatchObject({ reason: "auto", people: 1, inferMs: 7.5, fps: 10 });
    expect(got[0]?.at).toEqual(new Date(EVENT.at));
    const async = new EventSaver({ save: async (i) => record(i, 2) }, memoryLog());
    expect((await async.save(EVENT))?.id).toBe(2);
  });

  test("a failing save is null and logged once until one succeeds", async () => {
    const log = memoryLog();
    let full = true;
    const saver = new EventSaver(
      {
        save: (i) => {
          if (full) throw new Error("no space left on device");
          return record(i, 1);
        },
      },
      log,
    );
    expect(await saver.save(EVENT)).toBeNull();
    expect(await saver.save(EVENT)).toBeNull();
    full = false;
    expect(await saver.save(EVENT)).not.toBeNull();
    full = true;
    expect(await saver.save(EVENT)).toBeNull();
    expect(log.lines.filter((l) => l.startsWith("error"))).toEqual([
      "error cannot save an event: no space left on device",
      "error cannot save an event: no space left on device",
    ]);
  });

  test("close waits for the saves under way and refuses new ones", async () => {
    const slow = Promise.withResolvers<void>();
    let saves = 0;
    const saver = new EventSaver(
      {
        save: async (i) => {
          saves++;
          await slow.promise;
          return record(i, saves);
        },
      },
      memoryLog(),
    );
    const first = saver.save(EVENT);
    let closed = false;
    const closing = saver.close().then(() => (closed = true));
    expect(await saver.save(EVENT)).toBeNull();
    await Bun.sleep(0);
    expect(closed).toBe(false);
    slow.resolve();
    await closing;
    expect((await first)?.id).toBe(1);
    expect(saves).toBe(1);
  });
});

describe("SnapshotRequests", () => {
  const rec = { id: 9, file: "snap.jpg" } as EventRecord;

  test("answers by id, each once", async () => {
    const snaps = new SnapshotRequests();
    const ids: number[] = [];
    const a = snaps.request((id) => ids.push(id));
    const b = snaps.request((id) => ids.push(id));
    snaps.settle(ids[1] as number, rec);
    snaps.settle(ids[0] as number, null);
    snaps.settle(ids[0] as number, rec);
    expect(await a).toBeNull();
    expect(await b).toBe(rec);
    expect(snaps.pending).toBe(0);
  });

  test("no answer in time is null; cancel and close answer null too", async () => {
    const snaps = new SnapshotRequests(20);
    expect(await snaps.request(() => undefined)).toBeNull();
    const waiting = snaps.request(() => undefined);
    snaps.cancelAll();
    expect(await waiting).toBeNull();
    snaps.close();
    let sent = false;
    expect(await snaps.request(() => (sent = true))).toBeNull();
    expect(sent).toBe(false);
  });
});

describe("noSignal", () => {
  test("a dark JPEG of the camera's size, at most 1280x960; one encode per reason and second", () => {
    const at = new Date(2026, 0, 1, 12, 0, 0);
    const a = noSignal(640, 480, "camera unplugged", at);
    expect(noSignal(640, 480, "camera unplugged", at)).toBe(a);
    const img = jpegDecode(a);
    expect([img.width, img.height]).toEqual([640, 480]);
    const mean = img.rgb.reduce((s, v) => s + v, 0) / img.rgb.length;
    expect(mean).toBeLessThan(40);
    const big = jpegDecode(noSignal(3840, 2160, "x", at));
    expect([big.width, big.height]).toEqual([1280, 960]);
  });
});
