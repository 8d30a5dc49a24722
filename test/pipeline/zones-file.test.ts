/**
 * The zones file service on a real folder: missing = no zones, a bad file is reported (the key
 * named, one log line) while the last good config stays, hand edits and saves apply live, saves
 * are atomic and validated.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZonesFile } from "../../src/pipeline/zones-file.ts";
import { HcError } from "../../src/shared/errors.ts";
import {
  EMPTY_ZONES,
  serializeZones,
  ZonesError,
  type ZonesConfig,
} from "../../src/track/zones.ts";
import { waitFor } from "../../scripts/lib/harness.ts";
import { memoryLog } from "../unit/fake-capture.ts";

const DOOR: ZonesConfig = {
  zones: [
    {
      name: "door",
      points: [
        [0, 0.5],
        [0.5, 0.5],
        [0.5, 1],
      ],
    },
  ],
  masks: [],
  lines: [{ name: "gate", a: [0.8, 0], b: [0.8, 1] }],
};
const GATE_ONLY: ZonesConfig = { zones: [], masks: [], lines: DOOR.lines };

const open: ZonesFile[] = [];
afterEach(async () => {
  for (const z of open.splice(0)) await z.close();
});

function service(path: string, pollMs = 2000) {
  const log = memoryLog();
  const z = ZonesFile.open({ path, log, pollMs, debounceMs: 20 });
  open.push(z);
  const changes: ZonesConfig[] = [];
  z.onChange((c) => changes.push(c));
  return { z, log, changes };
}

const dir = (): string => mkdtempSync(join(tmpdir(), "hazardcam-zones-"));
const wait = { timeoutMs: 10_000 };

describe("loading", () => {
  test("no file: no zones, no error", () => {
    const { z } = service(join(dir(), "zones.json"));
    expect(z.current()).toEqual(EMPTY_ZONES);
    expect(z.error()).toBeNull();
  });

  test("a good file is in use from the start", () => {
    const path = join(dir(), "zones.json");
    writeFileSync(path, JSON.stringify(DOOR));
    expect(service(path).z.current()).toEqual(DOOR);
  });

  test("a bad file: one line naming the key, error() says it, no zones, no throw", () => {
    const path = join(dir(), "zones.json");
    writeFileSync(path, '{"zones": [{"name": "door", "points": [[0, 0], [2, 0], [0, 1]]}]}');
    const { z, log } = service(path);
    expect(z.current()).toEqual(EMPTY_ZONES);
    expect(z.error()).toMatchObject({ key: "zones[0].points[1][0]" });
    expect(z.error()!.message).toContain("zones[0].points[1][0]: must be a number 0..1");
    const lines = log.lines.filter((l) => l.startsWith("error"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path);
    expect(lines[0]).toContain("zones[0].points[1][0]");
  });

  test("invalid JSON has no key", () => {
    const path = join(dir(), "zones.json");
    writeFileSync(path, "{ nope");
    const { z } = service(path);
    expect(z.error()).toMatchObject({ key: null });
    expect(z.error()!.message).toContain("not valid JSON");
  });
});

describe("hand edits apply live", () => {
  test("an edit, a bad edit (the last good stays, logged once), a fix, a deletion", async () => {
    const path = join(dir(), "zones.json");
    writeFileSync(path, JSON.stringify(GATE_ONLY));
    const { z, log, changes } = service(path);
    writeFileSync(path, JSON.stringify(DOOR));
    await waitFor(() => changes.length === 1, { ...wait, what: "the edit applied" });
    expect(changes[0]).toEqual(DOOR);
    expect(z.current()).toEqual(DOOR);

    writeFileSync(path, '{"zones": [], "lines": [{"name": "gate", "a": [0.8, 0]}]}');
    await waitFor(() => z.error(), { ...wait, what: "the bad edit reported" });
    expect(z.error()!.key).toBe("lines[0].b");
    expect(z.current()).toEqual(DOOR);
    expect(log.lines.filter((l) => l.includes("keeping the last good zones"))).toHaveLength(1);

    writeFileSync(path, JSON.stringify(GATE_ONLY));
    await waitFor(() => changes.length === 2, { ...wait, what: "the fix applied" });
    expect(z.error()).toBeNull();
    expect(z.current()).toEqual(GATE_ONLY);

    unlinkSync(path);
    await waitFor(() => changes.length === 3, { ...wait, what: "the deletion applied" });
    expect(z.current()).toEqual(EMPTY_ZONES);
  });

  test("the poll finds a file whose folder did not exist at start", async () => {
    const path = join(dir(), "later", "zones.json");
    const { z, changes } = service(path, 50);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(path, ".."));
    writeFileSync(path, JSON.stringify(DOOR));
    await waitFor(() => changes.length === 1, { ...wait, what: "the new file applied" });
    expect(z.current()).toEqual(DOOR);
  });

  test("rewriting the same content changes nothing", async () => {
    const path = join(dir(), "zones.json");
    writeFileSync(path, JSON.stringify(DOOR));
    const { z, changes } = service(path, 50);
    writeFileSync(path, serializeZones(DOOR));
    z.reload();
    expect(changes).toHaveLength(0);
  });
});

describe("save", () => {
  test("writes the stable text atomically, applies it, tells the listeners", async () => {
    const d = dir();
    const path = join(d, "zones.json");
    const { z, changes } = service(path);
    const saved = await z.save(JSON.parse(JSON.stringify(DOOR)));
    expect(saved).toEqual(DOOR);
    expect(readFileSync(path, "utf8")).toBe(serializeZones(DOOR));
    expect(readdirSync(d)).toEqual(["zones.json"]);
    expect(z.current()).toEqual(DOOR);
    expect(changes).toEqual([DOOR]);
  });

  test("an invalid body: a ZonesError naming the key, nothing written or applied", async () => {
    const path = join(dir(), "zones.json");
    const { z, changes } = service(path);
    let err: unknown;
    try {
      await z.save({ zones: [{ name: "a b", points: [] }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ZonesError);
    expect((err as ZonesError).key).toBe("zones[0].name");
    expect((err as HcError).code).toBe("ZONES_INVALID");
    expect(existsSync(path)).toBe(false);
    expect(changes).toEqual([]);
  });

  test("a save clears the error of a bad file on disk", async () => {
    const path = join(dir(), "zones.json");
    writeFileSync(path, "[]");
    const { z } = service(path);
    expect(z.error()).not.toBeNull();
    await z.save(DOOR);
    expect(z.error()).toBeNull();
  });

  test("--zones in a folder that does not exist yet: the save makes it", async () => {
    const path = join(dir(), "conf", "zones.json");
    const { z } = service(path);
    await z.save(GATE_ONLY);
    expect(readFileSync(path, "utf8")).toBe(serializeZones(GATE_ONLY));
  });

  test("saves run in call order: the last one wins", async () => {
    const path = join(dir(), "zones.json");
    const { z } = service(path);
    await Promise.all([z.save(DOOR), z.save(GATE_ONLY)]);
    expect(z.current()).toEqual(GATE_ONLY);
    expect(readFileSync(path, "utf8")).toBe(serializeZones(GATE_ONLY));
  });
});
