/**
 * Flags and validation of tracking, zones, visits (issue 11) and clips (issue 12):
 * --zones, --min-frames, --lost-sec, --visit-gap, --clip-pre, --clip-post, --clip-max,
 * --clip-fps, --clip-buffer-mb, --no-clips. src/config/run.ts spreads `sceneArgs` into the run
 * command and calls `sceneConfig`.
 */
import type { ArgsDef } from "citty";
import { join, resolve } from "node:path";
import { inputError } from "../shared/errors.ts";
import type { ClipsConfig, SceneConfig } from "../shared/config.ts";
import { parseInteger, parseNumber, type ParsedArgv } from "./argv.ts";

export const sceneArgs = {
  zones: {
    type: "string",
    description:
      "Zones, masks and counting lines (JSON; default <outdir>/zones.json, edited on the dashboard)",
    valueHint: "path",
  },
  "min-frames": {
    type: "string",
    description: "Detection results before a person is tracked (default 3; 1..30)",
    valueHint: "n",
  },
  "lost-sec": {
    type: "string",
    description: "Seconds unseen before a track ends (default 2)",
    valueHint: "s",
  },
  "visit-gap": {
    type: "string",
    description: "Seconds with nobody in a zone before a visit closes (default 5)",
    valueHint: "s",
  },
  clips: {
    type: "boolean",
    description: "Record a clip of each visit; --no-clips turns clips off",
    default: true,
  },
  "clip-pre": {
    type: "string",
    description: "Seconds of video kept before a visit opens (default 3)",
    valueHint: "s",
  },
  "clip-post": {
    type: "string",
    description: "Seconds recorded after a visit closes (default 3)",
    valueHint: "s",
  },
  "clip-max": {
    type: "string",
    description: "Longest clip in seconds; a longer visit gets consecutive clips (default 120)",
    valueHint: "s",
  },
  "clip-fps": {
    type: "string",
    description: "Frame rate of clips (default the camera's, at most 15)",
    valueHint: "n",
  },
  "clip-buffer-mb": {
    type: "string",
    description: "Memory for the seconds before a visit (default 32)",
    valueHint: "mb",
  },
} as const satisfies ArgsDef;

function str(p: ParsedArgv, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

function code(name: string): string {
  return "EARG_" + name.toUpperCase().replace(/-/g, "_");
}

/** A number of seconds (or other unit) within [min, max]; the default when the flag is absent. */
function numFlag(
  p: ParsedArgv,
  name: string,
  dflt: number,
  [min, max]: [number, number],
  what: string,
): number {
  const raw = str(p, name);
  if (raw === undefined) return dflt;
  const n = parseNumber(raw);
  if (n === null || n < min || n > max)
    throw inputError(code(name), `--${name} "${raw}" is not valid: expected ${what}`);
  return n;
}

function intFlag(p: ParsedArgv, name: string, dflt: number, [min, max]: [number, number]): number {
  const raw = str(p, name);
  if (raw === undefined) return dflt;
  const n = parseInteger(raw);
  if (n === null || n < min || n > max)
    throw inputError(
      code(name),
      `--${name} "${raw}" is not valid: expected a whole number from ${min} to ${max}`,
    );
  return n;
}

export function sceneConfig(p: ParsedArgv, outdir: string): SceneConfig {
  const zones = str(p, "zones");
  return {
    zonesPath: zones !== undefined ? resolve(zones) : join(outdir, "zones.json"),
    zonesFromFlag: zones !== undefined,
    minFrames: intFlag(p, "min-frames", 3, [1, 30]),
    lostSec: numFlag(p, "lost-sec", 2, [0.1, 60], "seconds from 0.1 to 60"),
    visitGapSec: numFlag(p, "visit-gap", 5, [0, 3600], "seconds from 0 to 3600"),
  };
}

export function clipsConfig(p: ParsedArgv): ClipsConfig {
  const fps = str(p, "clip-fps");
  const c: ClipsConfig = {
    enabled: p.flags.clips !== false,
    preSec: numFlag(p, "clip-pre", 3, [0, 30], "seconds from 0 to 30"),
    postSec: numFlag(p, "clip-post", 3, [0, 60], "seconds from 0 to 60"),
    maxSec: numFlag(p, "clip-max", 120, [5, 3600], "seconds from 5 to 3600"),
    fps: fps === undefined ? null : numFlag(p, "clip-fps", 0, [0.5, 60], "a number from 0.5 to 60"),
    bufferMb: intFlag(p, "clip-buffer-mb", 32, [1, 1024]),
  };
  if (c.preSec === 0 && c.postSec === 0) c.enabled = false;
  return c;
}
