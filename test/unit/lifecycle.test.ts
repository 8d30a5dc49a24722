/**
 * Start in order, stop in reverse, at any moment: before, during and after the steps, with a
 * step that honours its AbortSignal and one that finishes anyway.
 */
import { expect, test } from "bun:test";
import { Lifecycle } from "../../src/shared/lifecycle.ts";
import { memoryLog } from "./fake-capture.ts";

function rig() {
  const log = memoryLog();
  const life = new Lifecycle(log);
  const order: string[] = [];
  const step = (name: string) =>
    life.step(
      name,
      () => (order.push(`start ${name}`), name),
      () => void order.push(`close ${name}`),
    );
  return { life, log, order, step };
}

test("closes in reverse order of start, once", async () => {
  const { life, order, step } = rig();
  life.add("signals", () => order.push("close signals"));
  await step("archive");
  await step("http");
  await step("pipeline");
  await Promise.all([life.stop(), life.stop()]);
  expect(order).toEqual([
    "start archive",
    "start http",
    "start pipeline",
    "close pipeline",
    "close http",
    "close archive",
    "close signals",
  ]);
});

test("a stop during a step aborts it, waits for it, then closes what started", async () => {
  const { life, order, step } = rig();
  await step("archive");
  const started = Promise.withResolvers<void>();
  const pipeline = life.step(
    "pipeline",
    (signal) =>
      new Promise<string>((_, reject) => {
        started.resolve();
        signal.addEventListener("abort", () => {
          order.push("pipeline aborted");
          reject(signal.reason);
        });
      }),
    () => order.push("close pipeline"),
  );
  await started.promise;
  await life.stop();
  await expect(pipeline).rejects.toThrow("stopping");
  expect(order).toEqual(["start archive", "pipeline aborted", "close archive"]);
});

test("a step that finishes after stop() is closed too, and says it was stopped", async () => {
  const { life, order } = rig();
  const go = Promise.withResolvers<void>();
  const slow = life.step(
    "slow",
    async () => {
      await go.promise;
      order.push("slow started");
      return 1;
    },
    () => order.push("close slow"),
  );
  const stopping = life.stop();
  go.resolve();
  await stopping;
  await expect(slow).rejects.toThrow("stopping");
  expect(order).toEqual(["slow started", "close slow"]);
});

test("after stop() no step starts; a closer that throws is logged and the rest still run", async () => {
  const { life, log, order, step } = rig();
  await step("a");
  life.add("bad", () => {
    throw new Error("boom");
  });
  await life.stop();
  await expect(step("b")).rejects.toThrow("stopping");
  expect(order).toEqual(["start a", "close a"]);
  expect(log.lines).toEqual(["warn closing bad failed: boom"]);
});
