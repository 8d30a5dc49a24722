import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labelFor, parseLabels, readLabels } from "../../src/detect/labels.ts";
import { HcError } from "../../src/shared/errors.ts";

const root = join(import.meta.dir, "..", "..");

describe("parseLabels", () => {
  test("one label per line: the line index is the class id, n/a ids are left out", () => {
    const labels = parseLabels("person\nbicycle\nn/a\ntraffic light\n");
    expect([...labels]).toEqual([
      [0, "person"],
      [1, "bicycle"],
      [3, "traffic light"],
    ]);
  });

  test("'ID  label' lines: ids from the file, gaps stay gaps", () => {
    const labels = parseLabels("0  person\r\n1  bicycle\r\n12  stop sign\r\n");
    expect([...labels]).toEqual([
      [0, "person"],
      [1, "bicycle"],
      [12, "stop sign"],
    ]);
  });

  test("both shipped COCO files agree on every id they name", () => {
    const plain = readLabels(join(root, "models/coco_labels.txt"));
    const withIds = readLabels(join(root, "test/fixtures/coco_labels_with_ids.txt"));
    expect(plain.size).toBe(80);
    expect(withIds.size).toBe(80);
    for (const [id, label] of withIds) expect(plain.get(id)).toBe(label);
    expect(plain.get(0)).toBe("person");
    expect(plain.get(37)).toBe("kite");
    expect(plain.has(11)).toBe(false);
  });

  test("a plain label that starts with a digit does not switch the format", () => {
    const labels = parseLabels("person\n7up can\n");
    expect(labels.get(1)).toBe("7up can");
  });

  test("unknown class ids get a readable label", () => {
    const labels = parseLabels("person\n");
    expect(labelFor(labels, 0)).toBe("person");
    expect(labelFor(labels, 95)).toBe("id 95");
  });

  test("a missing or empty labels file is an input error (exit code 2)", () => {
    const dir = mkdtempSync(join(tmpdir(), "hc-labels-"));
    try {
      const empty = join(dir, "empty.txt");
      writeFileSync(empty, "\n\n");
      for (const path of [join(dir, "missing.txt"), empty]) {
        let err: unknown;
        try {
          readLabels(path);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(HcError);
        expect((err as HcError).exitCode).toBe(2);
        expect((err as HcError).message).toContain(path);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
