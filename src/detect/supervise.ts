/**
 * The detector the server runs: the model asked for, under a DetectorSupervisor that opens it
 * once at start, lets the CPU model stand in per --cpu-fallback (src/detect/fallback.ts), and
 * reopens it after faults. The detect Worker's only way to open a detector.
 */
import type { Logger } from "../shared/log.ts";
import { Detector } from "./detector.ts";
import { isEdgeTpuModel } from "./fallback.ts";
import type { DetectorOptions } from "./options.ts";
import { DetectorSupervisor } from "./supervisor.ts";

export interface SuperviseHooks {
  log: Logger;
  /** The detector in use changed (null: none), or a new error happened. */
  onChange?(detector: Detector | null, lastError: string | null): void;
}

/** Throws what the user must fix (a bad model; no Edge TPU without --cpu-fallback). */
export function superviseDetector(
  opts: DetectorOptions,
  hooks: SuperviseHooks,
): DetectorSupervisor<Detector> {
  const primary = { ...opts, cpuFallback: false };
  const hasStandIn = opts.cpuFallback === true && isEdgeTpuModel(opts.modelPath);
  return new DetectorSupervisor<Detector>({
    openPrimary: () => Detector.open(primary),
    openFallback: hasStandIn ? (why) => Detector.openStandIn(primary, why) : null,
    log: hooks.log,
    onChange: hooks.onChange,
  });
}
