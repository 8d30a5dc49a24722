import { expect, test } from "bun:test";
import { Cooldown } from "../../src/events/cooldown.ts";

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test("no people, no save", () => {
  const c = new Cooldown(2, clock().now);
  expect(c.shouldAutoSave(0)).toBe(false);
  expect(c.shouldAutoSave(-1)).toBe(false);
  expect(c.shouldAutoSave(NaN)).toBe(false);
});

test("first person saves at once, then not before the cooldown", () => {
  const k = clock();
  const c = new Cooldown(2, k.now);
  expect(c.shouldAutoSave(1)).toBe(true);
  c.saved();
  k.advance(1999);
  expect(c.shouldAutoSave(3)).toBe(false);
  k.advance(1);
  expect(c.shouldAutoSave(3)).toBe(true);
});

test("a manual snapshot restarts the cooldown", () => {
  const k = clock();
  const c = new Cooldown(5, k.now);
  c.saved(); // auto
  k.advance(4000);
  c.saved(); // snapshot
  k.advance(4000);
  expect(c.shouldAutoSave(1)).toBe(false);
  k.advance(1000);
  expect(c.shouldAutoSave(1)).toBe(true);
});

test("cooldown 0 saves every frame with people", () => {
  const k = clock();
  const c = new Cooldown(0, k.now);
  c.saved();
  expect(c.shouldAutoSave(1)).toBe(true);
  expect(c.shouldAutoSave(0)).toBe(false);
});

test("a clock stepped backwards does not block saving", () => {
  const k = clock();
  const c = new Cooldown(2, k.now);
  c.saved();
  k.advance(-3_600_000);
  expect(c.shouldAutoSave(1)).toBe(true);
});

test("records the time of the last save", () => {
  const k = clock(5000);
  const c = new Cooldown(2, k.now);
  expect(c.lastSave).toBeNull();
  c.saved();
  expect(c.lastSave).toBe(5000);
  c.saved(7000);
  expect(c.lastSave).toBe(7000);
});
