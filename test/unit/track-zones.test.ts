import { describe, expect, test } from "bun:test";
import { HcError } from "../../src/shared/errors.ts";
import { side } from "../../src/track/geometry.ts";
import {
  EMPTY_ZONES,
  ZonesError,
  inNormal,
  parseZones,
  serializeZones,
  validateZones,
  type ZonesConfig,
} from "../../src/track/zones.ts";

const good: ZonesConfig = {
  zones: [
    {
      name: "door",
      points: [
        [0.1, 0.5],
        [0.4, 0.5],
        [0.4, 1],
        [0.1, 1],
      ],
    },
    {
      name: "drive-way_2",
      points: [
        [0.5, 0.5],
        [0.9, 0.5],
        [0.7, 0.9],
      ],
    },
  ],
  masks: [
    {
      name: "tv",
      points: [
        [0, 0],
        [0.2, 0],
        [0.2, 0.2],
      ],
    },
  ],
  lines: [{ name: "gate", a: [0.8, 0], b: [0.8, 1] }],
};

/** The ZonesError that parsing `value` (as JSON) throws. */
function problem(value: unknown): ZonesError {
  try {
    parseZones(typeof value === "string" ? value : JSON.stringify(value));
  } catch (e) {
    if (e instanceof ZonesError) return e;
    throw e;
  }
  throw new Error("expected a ZonesError");
}

const withZone = (points: unknown): unknown => ({ zones: [good.zones[0], { name: "z", points }] });

describe("parseZones", () => {
  test("a valid file, and missing kinds default to none", () => {
    expect(parseZones(JSON.stringify(good))).toEqual(good);
    expect(parseZones("{}")).toEqual(EMPTY_ZONES);
    expect(
      parseZones('{"lines": [{"name": "l", "a": [0, 0.5], "b": [1, 0.5]}]}').lines,
    ).toHaveLength(1);
  });

  test("names the offending key, with the code and exit code of bad input", () => {
    const e = problem(
      withZone([
        [0.1, 0.1],
        [0.5, 0.1],
        [1.5, 0.5],
      ]),
    );
    expect(e.message).toStartWith("zones[1].points[2][0]: must be a number 0..1");
    expect(e.key).toBe("zones[1].points[2][0]");
    expect(e).toBeInstanceOf(HcError);
    expect(e.code).toBe("ZONES_INVALID");
    expect(e.exitCode).toBe(2);
    expect(e.fix).not.toBe("");
  });

  test.each([
    ["not json", "{zones:", ""],
    ["an array", [], ""],
    ["an unknown top-level key", { zone: [] }, "zone"],
    ["zones not a list", { zones: {} }, "zones"],
    ["a point of one number", withZone([[0.1], [0.5, 0.1], [0.5, 0.5]]), "zones[1].points[0]"],
    [
      "a string coordinate",
      withZone([
        ["0.1", 0.1],
        [0.5, 0.1],
        [0.5, 0.5],
      ]),
      "zones[1].points[0][0]",
    ],
    [
      "two points",
      withZone([
        [0.1, 0.1],
        [0.5, 0.1],
      ]),
      "zones[1].points",
    ],
    [
      "points on one line",
      withZone([
        [0.1, 0.1],
        [0.5, 0.1],
        [0.9, 0.1],
      ]),
      "zones[1].points",
    ],
    [
      "a bow tie",
      withZone([
        [0.1, 0.1],
        [0.5, 0.5],
        [0.5, 0.1],
        [0.1, 0.5],
      ]),
      "zones[1].points",
    ],
    [
      "an unknown key in a zone",
      { zones: [{ ...good.zones[0], colour: "red" }] },
      "zones[0].colour",
    ],
    [
      "a name with a slash",
      { masks: [{ name: "a/b", points: good.masks[0]!.points }] },
      "masks[0].name",
    ],
    [
      "a name too long",
      { masks: [{ name: "x".repeat(33), points: good.masks[0]!.points }] },
      "masks[0].name",
    ],
    ["a line of one point", { lines: [{ name: "l", a: [0.5, 0.5], b: [0.5, 0.5] }] }, "lines[0].b"],
    ["a line without b", { lines: [{ name: "l", a: [0.5, 0.5] }] }, "lines[0].b"],
    [
      "33 zones",
      { zones: Array.from({ length: 33 }, (_, i) => ({ ...good.zones[0], name: `z${i}` })) },
      "zones",
    ],
  ])("refuses %s", (_what, value, key) => {
    expect(problem(value).key).toBe(key);
  });

  test("names are unique across zones, masks and lines, ignoring case", () => {
    const e = problem({ ...good, lines: [{ name: "Door", a: [0, 0.5], b: [1, 0.5] }] });
    expect(e.key).toBe("lines[0].name");
    expect(e.message).toContain("zones[0].name");
  });

  test("65 points are too many, 64 are fine", () => {
    const circle = (n: number): number[][] =>
      Array.from({ length: n }, (_, i) => [
        0.5 + 0.4 * Math.cos((2 * Math.PI * i) / n),
        0.5 + 0.4 * Math.sin((2 * Math.PI * i) / n),
      ]);
    expect(
      validateZones({ zones: [{ name: "c", points: circle(64) }] }).zones[0]!.points,
    ).toHaveLength(64);
    expect(problem({ zones: [{ name: "c", points: circle(65) }] }).key).toBe("zones[0].points");
  });
});

describe("serializeZones", () => {
  test("round-trips and is stable", () => {
    const text = serializeZones(good);
    expect(parseZones(text)).toEqual(good);
    expect(serializeZones(parseZones(text))).toBe(text);
    expect(text).toEndWith("}\n");
    expect(text.split("\n")[2]).toBe(
      '    {"name": "door", "points": [[0.1, 0.5], [0.4, 0.5], [0.4, 1], [0.1, 1]]},',
    );
    expect(serializeZones(EMPTY_ZONES)).toBe(
      '{\n  "zones": [],\n  "masks": [],\n  "lines": []\n}\n',
    );
  });
});

describe("line direction", () => {
  test("the in normal points to the right of a→b, where side() is +1", () => {
    const down = { name: "l", a: [0.8, 0], b: [0.8, 1] } as const;
    expect(inNormal(down)).toEqual([-1, 0]);
    const across = { name: "l", a: [0.1, 0.5], b: [0.9, 0.5] } as const;
    expect(inNormal(across)).toEqual([0, 1]);
    const n = inNormal(across);
    expect(side([0.5 + 0.1 * n[0], 0.5 + 0.1 * n[1]], across.a, across.b)).toBe(1);
  });
});
