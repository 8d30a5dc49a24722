/**
 * The detector supervisor with injected detectors: an invoke error closes the detector, logs
 * once, and reopens it with backoff; the CPU fallback stands in meanwhile; the Edge TPU takes
 * over again when it opens.
 */
import { describe, expect, test } from "bun:test";
import { HcError } from "../../src/shared/errors.ts";
import type { Logger } from "../../src/shared/log.ts";
import { DetectorSupervisor, type Engine } from "../../src/detect/supervisor.ts";
import type { Backend } from "../../src/shared/types.ts";

class FakeEngine implements Engine {
  readonly inputWidth = 2;
  readonly inputHeight = 2;
  closed = false;
  invokes = 0;
  constructor(
    readonly backend: Backend,
    readonly modelPath: string,
    private readonly world: World,
  ) {}
  inferRgb300(): { detections: []; inferMs: number } {
    if (this.closed) throw new Error("used after close");
    this.invokes++;
    if (this.backend === "edgetpu" && !this.world.tpuPresent) {
      throw new HcError("TFLITE_INVOKE", "inference failed (status 1)", "check the USB, restart");
    }
    return { detections: [], inferMs: this.backend === "edgetpu" ? 8 : 75 };
  }
  close(): void {
    this.closed = true;
  }
}

interface World {
  tpuPresent: boolean;
  opened: FakeEngine[];
  /** openPrimary calls. */
  attempts: number;
}

function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keys = new Set<string>();
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    once(key, level, m) {
      if (keys.has(key)) return;
      keys.add(key);
      lines.push(`${level} ${m}`);
    },
    clear: (key) => keys.delete(key),
  };
}

const input = new Uint8Array(2 * 2 * 3);

function setup(opts: { fallback: boolean; initialIsFallback?: boolean }) {
  const world: World = { tpuPresent: !opts.initialIsFallback, opened: [], attempts: 0 };
  const log = memoryLog();
  const changes: (Backend | null)[] = [];
  const openTpu = (): FakeEngine => {
    world.attempts++;
    if (!world.tpuPresent) throw new HcError("EDGETPU_NO_DEVICE", "No Edge TPU found");
    const e = new FakeEngine("edgetpu", "m_edgetpu.tflite", world);
    world.opened.push(e);
    return e;
  };
  const openCpu = (): FakeEngine => {
    const e = new FakeEngine("cpu", "m.tflite", world);
    world.opened.push(e);
    return e;
  };
  const sup = new DetectorSupervisor<FakeEngine>({
    initial: opts.initialIsFallback ? openCpu() : openTpu(),
    initialIsFallback: opts.initialIsFallback,
    openPrimary: openTpu,
    openFallback: opts.fallback ? openCpu : null,
    backoffMinMs: 20,
    backoffMaxMs: 80,
    log,
    onChange: (e) => changes.push(e?.backend ?? null),
  });
  return { sup, world, log, changes };
}

/** Calls infer like the detect Worker does: errors are the frame's, not the caller's. */
function tryInfer(sup: DetectorSupervisor<FakeEngine>): string {
  try {
    sup.infer(input);
    return sup.engine?.backend ?? "?";
  } catch (e) {
    return (e as HcError).code;
  }
}

describe("an Edge TPU that goes away", () => {
  test("with --cpu-fallback: the CPU takes over, the Edge TPU takes back, logged once", async () => {
    const { sup, world, log, changes } = setup({ fallback: true });
    expect(tryInfer(sup)).toBe("edgetpu");
    world.tpuPresent = false;
    expect(tryInfer(sup)).toBe("TFLITE_INVOKE");
    expect(sup.engine?.backend).toBe("cpu");
    expect(sup.lastError).toContain("edgetpu: inference failed (status 1)");
    // The failed fix text ("restart") is not repeated: we reopen it ourselves.
    expect(sup.lastError).not.toContain("restart");
    expect(world.opened[0]!.closed).toBe(true);
    // Frames keep being detected on the CPU while reopening fails a few times.
    for (let i = 0; i < 10; i++) {
      expect(tryInfer(sup)).toBe("cpu");
      await Bun.sleep(15);
    }
    expect(
      log.lines.filter((l) => l.includes("the Edge TPU failed: inference failed")).length,
    ).toBe(1);
    expect(log.lines.filter((l) => l.includes("cannot reopen")).length).toBe(1);
    world.tpuPresent = true;
    await Bun.sleep(200);
    expect(sup.engine?.backend).toBe("edgetpu");
    expect(tryInfer(sup)).toBe("edgetpu");
    const cpu = world.opened.find((e) => e.backend === "cpu");
    expect(cpu?.closed).toBe(true);
    expect(log.lines.some((l) => /Edge TPU is back/.test(l))).toBe(true);
    // Every change on the way reported the CPU, the last one the Edge TPU.
    expect(changes.slice(0, -1).every((b) => b === "cpu")).toBe(true);
    expect(changes.at(-1)).toBe("edgetpu");
    sup.close();
  });

  test("without a fallback: nothing runs meanwhile, a clear error per frame, then back", async () => {
    const { sup, world, changes } = setup({ fallback: false });
    world.tpuPresent = false;
    expect(tryInfer(sup)).toBe("TFLITE_INVOKE");
    expect(sup.engine).toBeNull();
    expect(tryInfer(sup)).toBe("DETECTOR_DOWN");
    expect(changes[0]).toBeNull();
    world.tpuPresent = true;
    await Bun.sleep(200);
    expect(tryInfer(sup)).toBe("edgetpu");
    sup.close();
  });

  test("backoff doubles while the reopen fails and resets after a good invoke", async () => {
    const { sup, world } = setup({ fallback: false });
    world.tpuPresent = false;
    tryInfer(sup);
    const before = world.attempts;
    // Retries after 20, 40, 80, 80, 80... ms: about 6 in 400 ms (20 without the doubling).
    await Bun.sleep(400);
    const tries = world.attempts - before;
    expect(tries).toBeGreaterThanOrEqual(3);
    expect(tries).toBeLessThanOrEqual(7);
    world.tpuPresent = true;
    await Bun.sleep(150);
    expect(tryInfer(sup)).toBe("edgetpu");
    // A fresh outage starts again at the shortest delay.
    world.tpuPresent = false;
    tryInfer(sup);
    world.tpuPresent = true;
    await Bun.sleep(40);
    expect(sup.engine?.backend).toBe("edgetpu");
    sup.close();
  });

  test("started on the CPU because no Edge TPU was plugged in: switches when it appears", async () => {
    const { sup, world } = setup({ fallback: true, initialIsFallback: true });
    expect(tryInfer(sup)).toBe("cpu");
    world.tpuPresent = true;
    await Bun.sleep(100);
    expect(sup.engine?.backend).toBe("edgetpu");
    sup.close();
  });

  test("close stops reopening and frees everything", async () => {
    const { sup, world } = setup({ fallback: true });
    world.tpuPresent = false;
    tryInfer(sup);
    sup.close();
    sup.close();
    const n = world.opened.length;
    world.tpuPresent = true;
    await Bun.sleep(100);
    expect(world.opened.length).toBe(n);
    expect(world.opened.every((e) => e.closed)).toBe(true);
    expect(tryInfer(sup)).toBe("DETECTOR_DOWN");
  });
});
