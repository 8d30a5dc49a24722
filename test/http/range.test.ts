/** The Range parser, the validators and the 405 path table, with hand-written headers. */
import { describe, expect, test } from "bun:test";
import { AllowTable, pathPattern, refuseMethod } from "../../src/http/methods.ts";
import { contentRange, parseRange, type RangeAnswer } from "../../src/http/range.ts";
import { ifRangeHolds, noneMatch } from "../../src/http/send.ts";

const part = (start: number, end: number): RangeAnswer => ({ kind: "partial", start, end });
const FULL: RangeAnswer = { kind: "full" };
const UNSAT: RangeAnswer = { kind: "unsatisfiable" };

describe("parseRange (a 1000-byte body)", () => {
  test.each([
    ["bytes=0-499", part(0, 499)],
    ["bytes=500-999", part(500, 999)],
    ["bytes=0-0", part(0, 0)],
    ["bytes=999-999", part(999, 999)],
    ["bytes=500-", part(500, 999)],
    ["bytes=-100", part(900, 999)],
    ["bytes=-1", part(999, 999)],
    // Past the end: clamped (last-pos) or the whole body (suffix longer than the body).
    ["bytes=900-5000", part(900, 999)],
    ["bytes=-5000", part(0, 999)],
    ["bytes=0-99999999999999999999", part(0, 999)],
    // The unit is case-insensitive; empty list elements are allowed.
    ["BYTES=10-19", part(10, 19)],
    ["bytes= 10-19 ,", part(10, 19)],
  ] as const)("%s", (header, want) => {
    expect(parseRange(header, 1000)).toEqual(want);
  });

  test.each([
    ["bytes=1000-", "starts at the end"],
    ["bytes=1000-1001", "starts past the end"],
    ["bytes=99999999999999999999-", "a huge start"],
    ["bytes=-0", "an empty suffix"],
  ])("%s is unsatisfiable (%s)", (header) => {
    expect(parseRange(header, 1000)).toEqual(UNSAT);
  });

  test.each([
    [null, "no header"],
    ["bytes=0-1,5-9", "several ranges (would need multipart/byteranges)"],
    ["bytes=-", "no number"],
    ["bytes=5-1", "last before first"],
    ["bytes=a-b", "not digits"],
    ["bytes=-1-2", "a negative start"],
    ["bytes=1 - 2", "spaces inside"],
    ["bytes=+1-2", "a sign"],
    ["items=0-1", "another unit"],
    ["bytes", "no ranges"],
    ["bytes=", "an empty set"],
    ["0-1", "no unit"],
  ])("%s: the whole body (%s)", (header) => {
    expect(parseRange(header, 1000)).toEqual(FULL);
  });

  test("an empty body: no range names a byte of it", () => {
    expect(parseRange("bytes=0-", 0)).toEqual(UNSAT);
    expect(parseRange("bytes=-5", 0)).toEqual(FULL);
  });

  test("Content-Range of each answer", () => {
    expect(contentRange(part(0, 99), 1000)).toBe("bytes 0-99/1000");
    expect(contentRange(UNSAT, 1000)).toBe("bytes */1000");
    expect(contentRange(FULL, 1000)).toBeNull();
  });
});

describe("validators", () => {
  test("If-None-Match: weak comparison, lists and *", () => {
    expect(noneMatch('"a"', '"a"')).toBe(true);
    expect(noneMatch('W/"a"', '"a"')).toBe(true);
    expect(noneMatch('"x", W/"a"', '"a"')).toBe(true);
    expect(noneMatch("*", '"a"')).toBe(true);
    expect(noneMatch('"b"', '"a"')).toBe(false);
    expect(noneMatch('"a', '"a"')).toBe(false);
    expect(noneMatch(null, '"a"')).toBe(false);
    expect(noneMatch("", '"a"')).toBe(false);
  });

  test("If-Range: the same strong tag or the same date, else the whole body", () => {
    const date = "Wed, 01 May 2024 08:00:00 GMT";
    expect(ifRangeHolds(null, '"a"')).toBe(true);
    expect(ifRangeHolds('"a"', '"a"', date)).toBe(true);
    expect(ifRangeHolds('"b"', '"a"', date)).toBe(false);
    expect(ifRangeHolds('W/"a"', '"a"', date)).toBe(false);
    expect(ifRangeHolds(date, '"a"', date)).toBe(true);
    expect(ifRangeHolds("Thu, 02 May 2024 08:00:00 GMT", '"a"', date)).toBe(false);
    expect(ifRangeHolds(date, '"a"')).toBe(false);
  });
});

describe("405 table", () => {
  test("Elysia paths as patterns over the raw path", () => {
    const re = (p: string) => pathPattern(p);
    expect(re("/status").test("/status")).toBe(true);
    expect(re("/status").test("/status/")).toBe(true);
    expect(re("/status").test("/status/x")).toBe(false);
    expect(re("/latest.jpg").test("/latestXjpg")).toBe(false);
    expect(re("/").test("/")).toBe(true);
    expect(re("/").test("/x")).toBe(false);
    expect(re("/events/:id").test("/events/12")).toBe(true);
    expect(re("/events/:id").test("/events/")).toBe(false);
    expect(re("/events/:id").test("/events/1/2")).toBe(false);
    expect(re("/out/*").test("/out/a/b.jpg")).toBe(true);
    expect(re("/out/*").test("/out")).toBe(false);
  });

  test("Allow: the methods of every matching route, HEAD with GET unless refused", () => {
    const table = new AllowTable(() => [
      { method: "GET", path: "/status" },
      { method: "GET", path: "/snapshot" },
      { method: "POST", path: "/snapshot" },
      { method: "HEAD", path: "/snapshot", handler: refuseMethod },
      { method: "GET", path: "/out/*" },
      { method: "DELETE", path: "/out/:name" },
      { method: "WS", path: "/ws" },
    ]);
    expect(table.allow("/status")).toEqual(["GET", "HEAD"]);
    expect(table.allow("/snapshot")).toEqual(["GET", "POST"]);
    expect(table.allow("/out/x.jpg")).toEqual(["GET", "HEAD", "DELETE"]);
    expect(table.allow("/out/thumbs/x.jpg")).toEqual(["GET", "HEAD"]);
    expect(table.allow("/ws")).toEqual([]);
    expect(table.allow("/nope")).toEqual([]);
  });
});
