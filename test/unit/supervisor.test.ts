/**
 * The detector supervisor with injected detectors and a hand-driven clock (no sleeps): it opens
 * the Edge TPU once at start, the CPU model standing in with a fallback; an invoke error closes
 * the detector, logs once, and reopens it with backoff; the Edge TPU takes over again when it
 * opens.
 */
import { describe, expect, test } from "bun:test";
import { HcError } from "../../src/shared/errors.ts";
import type { Logger } from "../../src/shared/log.ts";
import { DetectorSupervisor, type Engine, type Timers } from "../../src/detect/supervisor.ts";
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
    if (this.backend === "edgetpu" && this.world.tpu !== "present") {
      throw new HcError("TFLITE_INVOKE", "inference failed (status 1)", "check the USB, restart");
    }
    return { detections: [], inferMs: this.backend === "edgetpu" ? 8 : 75 };
  }
  close(): void {
    this.closed = true;
  }
}

interface World {
  /** "unplugged": may come back; "no-lib": libedgetpu missing, will not come back by waiting. */
  tpu: "present" | "unplugged" | "no-lib" | "not-ssd";
  opened: FakeEngine[];
  /** openPrimary calls. */
  attempts: number;
}

/** The supervisor's one pending timer, fired by hand; `delays` are the ones it asked for (ms). */
class FakeClock implements Timers {
  pending: (() => void) | null = null;
  delays: number[] = [];
  set(fn: () => void, delayMs: number): unknown {
    expect(this.pending).toBeNull();
    this.pending = fn;
    this.delays.push(delayMs);
    return fn;
  }
  clear(handle: unknown): void {
    if (handle === this.pending) this.pending = null;
  }
  /** Runs the pending timer; false if none was pending. */
  fire(): boolean {
    const fn = this.pending;
    this.pending = null;
    fn?.();
    return fn !== null;
  }
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

function setup(opts: { fallback: boolean; tpu?: World["tpu"] }) {
  const world: World = { tpu: opts.tpu ?? "present", opened: [], attempts: 0 };
  const log = memoryLog();
  const clock = new FakeClock();
  const changes: (Backend | null)[] = [];
  const standInReasons: string[] = [];
  const openTpu = (): FakeEngine => {
    world.attempts++;
    if (world.tpu === "unplugged") throw new HcError("EDGETPU_NO_DEVICE", "No Edge TPU found");
    if (world.tpu === "no-lib") throw new HcError("EDGETPU_LIB_MISSING", "no libedgetpu");
    if (world.tpu === "not-ssd") throw new HcError("MODEL_NOT_SSD", "not an SSD detector");
    const e = new FakeEngine("edgetpu", "m_edgetpu.tflite", world);
    world.opened.push(e);
    return e;
  };
  const openCpu = (why: unknown): FakeEngine => {
    standInReasons.push((why as Error).message);
    const e = new FakeEngine("cpu", "m.tflite", world);
    world.opened.push(e);
    return e;
  };
  const sup = new DetectorSupervisor<FakeEngine>({
    openPrimary: openTpu,
    openFallback: opts.fallback ? openCpu : null,
    backoffMinMs: 20,
    backoffMaxMs: 80,
    log,
    timers: clock,
    onChange: (e) => changes.push(e?.backend ?? null),
  });
  return { sup, world, log, clock, changes, standInReasons };
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

describe("at start", () => {
  test("the Edge TPU is opened once; no timer while it runs", () => {
    const { sup, world, clock } = setup({ fallback: true });
    expect(world.attempts).toBe(1);
    expect(sup.engine?.backend).toBe("edgetpu");
    expect(clock.pending).toBeNull();
    sup.close();
  });

  test("not plugged in, with a fallback: the CPU model runs, the Edge TPU is taken up when it appears", () => {
    const { sup, world, clock, log, standInReasons } = setup({ fallback: true, tpu: "unplugged" });
    // One Edge TPU open, then the stand-in, told why.
    expect(world.attempts).toBe(1);
    expect(standInReasons).toEqual(["No Edge TPU found"]);
    expect(tryInfer(sup)).toBe("cpu");
    expect(clock.fire()).toBe(true);
    expect(tryInfer(sup)).toBe("cpu");
    world.tpu = "present";
    expect(clock.fire()).toBe(true);
    expect(sup.engine?.backend).toBe("edgetpu");
    expect(world.opened.find((e) => e.backend === "cpu")?.closed).toBe(true);
    expect(log.lines.some((l) => /Edge TPU is back/.test(l))).toBe(true);
    expect(clock.pending).toBeNull();
    sup.close();
  });

  test("no libedgetpu, with a fallback: the CPU model for good, no reopening", () => {
    const { sup, world, clock } = setup({ fallback: true, tpu: "no-lib" });
    expect(sup.engine?.backend).toBe("cpu");
    expect(world.attempts).toBe(1);
    expect(clock.pending).toBeNull();
    // A failing CPU model is reopened as the CPU model, never as the Edge TPU.
    sup.engine!.closed = true;
    tryInfer(sup);
    expect(sup.engine).toBeNull();
    expect(clock.fire()).toBe(true);
    expect(tryInfer(sup)).toBe("cpu");
    expect(world.attempts).toBe(1);
    expect(clock.pending).toBeNull();
    sup.close();
  });

  test("without a fallback, or for errors a stand-in would hide: the error is thrown", () => {
    for (const [fallback, tpu, code] of [
      [false, "unplugged", "EDGETPU_NO_DEVICE"],
      [false, "no-lib", "EDGETPU_LIB_MISSING"],
      [true, "not-ssd", "MODEL_NOT_SSD"],
    ] as const) {
      let thrown: unknown = null;
      try {
        setup({ fallback, tpu });
      } catch (e) {
        thrown = e;
      }
      expect((thrown as HcError | null)?.code).toBe(code);
    }
  });
});

describe("an Edge TPU that goes away", () => {
  test("with --cpu-fallback: the CPU takes over, the Edge TPU takes back, logged once", () => {
    const { sup, world, log, clock, changes } = setup({ fallback: true });
    expect(tryInfer(sup)).toBe("edgetpu");
    world.tpu = "unplugged";
    expect(tryInfer(sup)).toBe("TFLITE_INVOKE");
    expect(sup.engine?.backend).toBe("cpu");
    expect(sup.lastError).toContain("edgetpu: inference failed (status 1)");
    // The failed fix text ("restart") is not repeated: we reopen it ourselves.
    expect(sup.lastError).not.toContain("restart");
    expect(world.opened[0]!.closed).toBe(true);
    // Frames keep being detected on the CPU while reopening fails a few times.
    for (let i = 0; i < 5; i++) {
      expect(tryInfer(sup)).toBe("cpu");
      expect(clock.fire()).toBe(true);
    }
    expect(
      log.lines.filter((l) => l.includes("the Edge TPU failed: inference failed")).length,
    ).toBe(1);
    expect(log.lines.filter((l) => l.includes("cannot reopen")).length).toBe(1);
    world.tpu = "present";
    expect(clock.fire()).toBe(true);
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

  test("without a fallback: nothing runs meanwhile, a clear error per frame, then back", () => {
    const { sup, world, clock, changes } = setup({ fallback: false });
    world.tpu = "unplugged";
    expect(tryInfer(sup)).toBe("TFLITE_INVOKE");
    expect(sup.engine).toBeNull();
    expect(tryInfer(sup)).toBe("DETECTOR_DOWN");
    expect(changes[0]).toBeNull();
    world.tpu = "present";
    expect(clock.fire()).toBe(true);
    expect(tryInfer(sup)).toBe("edgetpu");
    sup.close();
  });

  test("backoff doubles while the reopen fails and resets after a good invoke", () => {
    const { sup, world, clock } = setup({ fallback: false });
    world.tpu = "unplugged";
    tryInfer(sup);
    for (let i = 0; i < 4; i++) expect(clock.fire()).toBe(true);
    expect(world.attempts).toBe(1 + 4);
    // 20 ms doubling up to the 80 ms cap, then the next try pending at 80.
    expect(clock.delays).toEqual([20, 40, 80, 80, 80]);
    world.tpu = "present";
    expect(clock.fire()).toBe(true);
    expect(tryInfer(sup)).toBe("edgetpu");
    // A fresh outage starts again at the shortest delay.
    world.tpu = "unplugged";
    tryInfer(sup);
    expect(clock.delays.at(-1)).toBe(20);
    sup.close();
  });

  test("close stops reopening and frees everything", () => {
    const { sup, world, clock } = setup({ fallback: true });
    world.tpu = "unplugged";
    tryInfer(sup);
    expect(clock.pending).not.toBeNull();
    sup.close();
    sup.close();
    expect(clock.pending).toBeNull();
    const n = world.opened.length;
    world.tpu = "present";
    expect(clock.fire()).toBe(false);
    expect(world.opened.length).toBe(n);
    expect(world.opened.every((e) => e.closed)).toBe(true);
    expect(tryInfer(sup)).toBe("DETECTOR_DOWN");
  });
});
