/**
 * The one place that decides when the CPU model stands in for the Edge TPU (--cpu-fallback), at
 * start (Detector.open, the supervisor's first open) and while running (the supervisor's
 * reopens): which open errors mean "no Edge TPU here" and which of those may heal by waiting.
 */
import { basename, dirname, join } from "node:path";
import { HcError } from "../shared/errors.ts";

const EDGETPU_SUFFIX = "_edgetpu.tflite";

export function isEdgeTpuModel(path: string): boolean {
  return basename(path).endsWith(EDGETPU_SUFFIX);
}

/** The CPU model that goes with an Edge TPU model: the same path without `_edgetpu`. */
export function cpuSibling(path: string): string {
  return join(dirname(path), basename(path).slice(0, -EDGETPU_SUFFIX.length) + ".tflite");
}

/** A name for a CPU model that hazardcam would run on the Edge TPU. */
export function edgeTpuName(): string {
  return `*${EDGETPU_SUFFIX}`;
}

/** Edge TPU open errors that waiting may heal: a device not plugged in yet, or busy. */
const TPU_MAY_RETURN: ReadonlySet<string> = new Set(["EDGETPU_NO_DEVICE", "EDGETPU_OPEN"]);
/** Edge TPU open errors that waiting will not heal: no libedgetpu, a TFLite it does not fit. */
const TPU_GONE_FOR_GOOD: ReadonlySet<string> = new Set([
  "EDGETPU_LIB_MISSING",
  "EDGETPU_DELEGATE",
  "EDGETPU_MISMATCH",
]);

/**
 * Whether an open error means the Edge TPU cannot be used here (the CPU model may stand in):
 * "heals" if waiting may bring it back, "permanent" if not; null for any other error (a bad
 * model, a missing file), which a stand-in would only hide.
 */
export function tpuOutage(e: unknown): "heals" | "permanent" | null {
  if (!(e instanceof HcError)) return null;
  if (TPU_MAY_RETURN.has(e.code)) return "heals";
  if (TPU_GONE_FOR_GOOD.has(e.code)) return "permanent";
  return null;
}

export interface Started<E> {
  engine: E;
  /** Set when `engine` is the stand-in: why the primary could not open, and if it may heal. */
  standIn: { why: HcError; heals: boolean } | null;
}

/**
 * Opens the primary once; if it fails because the Edge TPU cannot be used and there is a
 * stand-in, opens that instead. Any other error (or no stand-in) is thrown as it is.
 */
export function openWithFallback<E>(
  openPrimary: () => E,
  openStandIn: ((why: unknown) => E) | null,
): Started<E> {
  try {
    return { engine: openPrimary(), standIn: null };
  } catch (e) {
    const outage = tpuOutage(e);
    if (!openStandIn || outage === null) throw e;
    const why = e as HcError;
    return { engine: openStandIn(why), standIn: { why, heals: outage === "heals" } };
  }
}
