import { describe, expect, test } from "bun:test";
import {
  SAFE_JPEG_NAME,
  eventFileName,
  isDay,
  localDay,
  parseEventFileName,
  stamp,
} from "../../src/events/names.ts";

const at = new Date(2024, 4, 1, 9, 5, 7, 450); // local 2024-05-01 09:05:07.450

describe("event file names", () => {
  test("match the original's format in local time", () => {
    expect(stamp(at)).toBe("20240501_090507");
    expect(eventFileName({ at, reason: "auto", people: 2, inferMs: 7.34, fps: 23.94 })).toBe(
      "20240501_090507_auto_people2_tpu7.3ms_fps23.9.jpg",
    );
    expect(eventFileName({ at, reason: "snapshot", people: 0, inferMs: 72.96, fps: 9 })).toBe(
      "20240501_090507_snapshot_people0_tpu73.0ms_fps9.0.jpg",
    );
  });

  test("collision suffixes go before .jpg", () => {
    const e = { at, reason: "auto" as const, people: 1, inferMs: 7, fps: 10 };
    expect(eventFileName(e, 1)).toBe("20240501_090507_auto_people1_tpu7.0ms_fps10.0.jpg");
    expect(eventFileName(e, 2)).toBe("20240501_090507_auto_people1_tpu7.0ms_fps10.0_2.jpg");
    expect(eventFileName(e, 3)).toEndWith("_fps10.0_3.jpg");
  });

  test("bad numbers never make odd names", () => {
    const name = eventFileName({ at, reason: "auto", people: NaN, inferMs: -1, fps: Infinity });
    expect(name).toBe("20240501_090507_auto_people0_tpu0.0ms_fps0.0.jpg");
    expect(SAFE_JPEG_NAME.test(name)).toBe(true);
  });

  test("parse round-trips, including suffixes", () => {
    const name = eventFileName(
      { at, reason: "snapshot", people: 3, inferMs: 12.25, fps: 29.97 },
      2,
    );
    const p = parseEventFileName(name);
    expect(p).not.toBeNull();
    expect(p!.reason).toBe("snapshot");
    expect(p!.people).toBe(3);
    expect(p!.inferMs).toBe(12.3);
    expect(p!.fps).toBe(30);
    expect(p!.n).toBe(2);
    expect(p!.at.getTime()).toBe(new Date(2024, 4, 1, 9, 5, 7).getTime());
  });

  test("parser rejects everything else", () => {
    for (const bad of [
      "20240501_090507_auto_people2_tpu7.3ms_fps23.9.png",
      "20240231_090507_auto_people2_tpu7.3ms_fps23.9.jpg", // Feb 31st
      "20240501_250507_auto_people2_tpu7.3ms_fps23.9.jpg",
      "20240501_090507_manual_people2_tpu7.3ms_fps23.9.jpg",
      "20240501_090507_auto_people2_tpu7.3ms_fps23.9_1.jpg",
      "../20240501_090507_auto_people2_tpu7.3ms_fps23.9.jpg",
      "holiday.jpg",
    ]) {
      expect(parseEventFileName(bad)).toBeNull();
    }
  });

  test("days", () => {
    expect(localDay(at.getTime())).toBe("2024-05-01");
    expect(isDay("2024-05-01")).toBe(true);
    expect(isDay("2024-02-30")).toBe(false);
    expect(isDay("2024-5-1")).toBe(false);
    expect(isDay("2024-05-01x")).toBe(false);
  });

  test("safe names", () => {
    for (const ok of ["a.jpg", "IMG_0001.jpg", "x-y.z.jpg"])
      expect(SAFE_JPEG_NAME.test(ok)).toBe(true);
    for (const bad of [
      ".hidden.jpg",
      "a/b.jpg",
      "a%2fb.jpg",
      "a b.jpg",
      "a.jpeg",
      "a.JPG",
      "..jpg",
    ])
      expect(SAFE_JPEG_NAME.test(bad)).toBe(false);
  });
});
