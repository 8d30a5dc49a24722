/**
 * The VisitRecorder tells visits in the order they happened: visit 1's close (held back while
 * its best snapshot is drawn and saved) comes before visit 2's open, whatever the drawing takes.
 * MQTT, webhooks and the clips all read this order.
 */
import { expect, test } from "bun:test";
import type { VisitRecord } from "../../src/events/visit-types.ts";
import type { VisitState } from "../../src/events/visits.ts";
import type { VisitEvent } from "../../src/pipeline/scene-api.ts";
import { VisitRecorder, type VisitWriter } from "../../src/pipeline/visit-recorder.ts";
import { logger } from "../../src/shared/log.ts";
import type { DetectionResult } from "../../src/shared/types.ts";
import type { SceneUpdate } from "../../src/track/scene.ts";
import type { Visit } from "../../src/track/visits.ts";

const T0 = 1_700_000_000_000;
const BOX = { ymin: 0.2, xmin: 0.4, ymax: 0.9, xmax: 0.6 };

function record(v: VisitState, open: boolean): VisitRecord {
  return {
    id: v.id,
    start: v.start,
    end: v.end,
    open,
    durationMs: v.end - v.start,
    zones: v.zones,
    people: v.tracks.length,
    maxPeople: v.maxPeople,
    crossings: v.crossings,
    image: open ? null : `visit${v.id}.jpg`,
    thumb: null,
  } as VisitRecord;
}

const writer: VisitWriter = {
  begin: (v) => record(v, true),
  progress: () => undefined,
  finish: async (v) => record(v, false),
  addCrossings: () => undefined,
  enforce: () => 0,
};

function visit(id: number, startMs: number): Visit {
  return {
    id,
    startMs,
    endMs: startMs + 1000,
    zones: [],
    trackIds: [id],
    maxPeople: 1,
    crossings: {},
    best: { atMs: startMs, trackId: id, box: BOX, score: 0.9, area: 0.14, uncut: true },
  };
}

function update(atMs: number, v: Partial<SceneUpdate["visit"]>): SceneUpdate {
  return {
    atMs,
    tracks: [],
    tentative: 0,
    ended: [],
    people: 0,
    peopleInZones: 0,
    zonePeople: {},
    crossings: [],
    lineTotals: { day: "2023-11-14", lines: {} },
    visit: { open: null, opened: null, closed: null, newBest: false, ...v },
    masked: 0,
  } as SceneUpdate;
}

const result = {
  detectSeq: 1,
  frameSeq: 1,
  grabbedAt: T0,
  width: 640,
  height: 480,
  detections: [{ classId: 0, label: "person", score: 0.9, box: BOX }],
  people: 1,
  inferMs: 10,
  low: [],
  jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
} satisfies DetectionResult;

test("visit 2's open waits for visit 1's close, whose snapshot takes long to draw", async () => {
  const events: string[] = [];
  const drawing = Promise.withResolvers<null>();
  const rec = new VisitRecorder({
    store: writer,
    render: () => drawing.promise,
    overlay: () => ({ fps: 10, backend: "cpu" }),
    emit: (e: VisitEvent) => void events.push(`${e.type} ${e.visit.id}`),
    log: logger("test"),
  });
  const v1 = visit(1, T0);
  rec.update(update(T0, { open: v1, opened: v1, newBest: true }), result);
  expect(events).toEqual(["open 1"]); // nothing under way: told at once
  rec.update(update(T0 + 6000, { closed: v1 }), result);
  const v2 = visit(2, T0 + 7000);
  rec.update(update(T0 + 7000, { open: v2, opened: v2 }), result);
  await Bun.sleep(20);
  expect(events).toEqual(["open 1"]); // visit 1's snapshot is still being drawn
  drawing.resolve(null);
  await rec.settle();
  expect(events).toEqual(["open 1", "close 1", "open 2"]);
  // Once the chain is empty, an event is told at once again.
  rec.update(update(T0 + 9000, { closed: v2 }), result);
  await rec.settle();
  const v3 = visit(3, T0 + 20_000);
  rec.update(update(T0 + 20_000, { open: v3, opened: v3 }), result);
  expect(events).toEqual(["open 1", "close 1", "open 2", "close 2", "open 3"]);
});
