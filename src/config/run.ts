/**
 * The run command's arguments: positional exactly as the original
 * `<model> <cam> [thresh] [w] [h] [port] [outdir] [cooldown]`, extras as flags. Every value is
 * validated here so a bad one ends the program with one line and exit code 2.
 */
import type { ArgsDef } from "citty";
import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseInteger, parseNumber, type ParsedArgv } from "./argv.ts";
import { inputError } from "../shared/errors.ts";
import { checkModelFile } from "../detect/model-check.ts";
import { checkThreads } from "../detect/options.ts";
import { authFromArgs } from "../http/auth.ts";
import { integrationArgs, integrationsConfig } from "./integrations.ts";
import { clipsConfig, sceneArgs, sceneConfig } from "./scene.ts";
import type { Config, SourceSpec } from "../shared/config.ts";

export type { Config, SourceSpec } from "../shared/config.ts";

export const MAX_SIDE = 4096;

/** Flags shared by every command that loads the detector. */
export const detectorArgs = {
  "cpu-fallback": {
    type: "boolean",
    description:
      "If the Edge TPU (or libedgetpu) is missing, run the CPU model next to the _edgetpu one",
  },
  threads: {
    type: "string",
    description: "CPU inference threads (default 1; 1..16)",
    valueHint: "n",
  },
  "tflite-lib": {
    type: "string",
    description:
      "Use this libtensorflowlite_c.so instead of the built-in TFLite 2.9 (env HAZARDCAM_TFLITE_LIB)",
    valueHint: "path",
  },
  "edgetpu-lib": {
    type: "string",
    description: "Use this libedgetpu.so.1 (env HAZARDCAM_EDGETPU_LIB)",
    valueHint: "path",
  },
} as const satisfies ArgsDef;

export const runArgs = {
  model: {
    type: "positional",
    description: "Detection model (.tflite; _edgetpu.tflite runs on the Coral)",
    required: true,
  },
  cam: {
    type: "positional",
    description:
      "Camera index (0 = /dev/video0), device path, .mjpeg file, folder of JPEGs, or http(s) MJPEG URL",
    required: true,
  },
  thresh: {
    type: "positional",
    description: "Score threshold, 0 < t <= 1",
    default: "0.5",
    required: false,
  },
  w: {
    type: "positional",
    description: "Capture width in pixels",
    default: "640",
    required: false,
  },
  h: {
    type: "positional",
    description: "Capture height in pixels",
    default: "480",
    required: false,
  },
  port: { type: "positional", description: "HTTP port", default: "8080", required: false },
  outdir: {
    type: "positional",
    description: "Folder for event images",
    default: "./out",
    required: false,
  },
  cooldown: {
    type: "positional",
    description: "Seconds between saved events, >= 0",
    default: "2",
    required: false,
  },
  ...detectorArgs,
  fps: {
    type: "string",
    description:
      "Frame rate for file sources (default 10) and asked of the camera (default: the camera's)",
    valueHint: "n",
  },
  bind: {
    type: "string",
    description: "Address to listen on (default 0.0.0.0, all interfaces)",
    valueHint: "addr",
  },
  auth: {
    type: "string",
    description:
      "Require this login (HTTP Basic) on every page, stream and API (env HAZARDCAM_AUTH)",
    valueHint: "user:pass",
  },
  "auth-file": {
    type: "string",
    description: "Read the login from this file (one line user:pass; chmod 600)",
    valueHint: "path",
  },
  "keep-days": {
    type: "string",
    description: "Delete events older than this many days (default 30; 0 = never)",
    valueHint: "n",
  },
  "max-events": {
    type: "string",
    description: "Keep at most this many events (default 10000; 0 = no limit)",
    valueHint: "n",
  },
  "min-free-mb": {
    type: "string",
    description: "Delete the oldest events while the disk has less free space (default 500)",
    valueHint: "mb",
  },
  letterbox: {
    type: "boolean",
    description: "Keep the aspect ratio when resizing for the model (pad) instead of stretching",
  },
  ...integrationArgs,
  ...sceneArgs,
} as const satisfies ArgsDef;

const POSITIONAL_ORDER = [
  "model",
  "cam",
  "thresh",
  "w",
  "h",
  "port",
  "outdir",
  "cooldown",
] as const;
type Positional = (typeof POSITIONAL_ORDER)[number];
const POSITIONAL_DEFAULTS: Partial<Record<Positional, string>> = {
  thresh: runArgs.thresh.default,
  w: runArgs.w.default,
  h: runArgs.h.default,
  port: runArgs.port.default,
  outdir: runArgs.outdir.default,
  cooldown: runArgs.cooldown.default,
};

function flagString(p: ParsedArgv, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

function intFlag(
  p: ParsedArgv,
  name: string,
  dflt: number,
  min: number,
  max: number,
  what: string,
): number {
  const raw = flagString(p, name);
  if (raw === undefined) return dflt;
  const n = parseInteger(raw);
  if (n === null || n < min || n > max) {
    throw inputError(
      "EARG_" + name.toUpperCase().replace(/-/g, "_"),
      `--${name} "${raw}" is not valid: expected ${what}`,
    );
  }
  return n;
}

/** The model's path made absolute, once the file is there, readable, TFLite and named .tflite. */
export function checkModelPath(model: string): string {
  if (!model.toLowerCase().endsWith(".tflite")) {
    throw inputError(
      "MODEL_EXT",
      `model "${model}" is not a .tflite file`,
      "give a TensorFlow Lite model, e.g. ssd_mobilenet_v2_coco_quant_postprocess_edgetpu.tflite",
    );
  }
  const path = resolve(model);
  checkModelFile(path, model);
  return path;
}

export function parseSource(cam: string): SourceSpec {
  if (/^\d+$/.test(cam)) {
    const n = Number(cam);
    if (n > 63)
      throw inputError(
        "ECAM",
        `camera index ${cam} is out of range`,
        "use 0..63 or a device path like /dev/video0",
      );
    return { kind: "v4l2", device: `/dev/video${n}` };
  }
  if (/^https?:\/\//i.test(cam)) {
    try {
      new URL(cam);
    } catch {
      throw inputError("ECAM", `camera URL "${cam}" is not a valid URL`);
    }
    return { kind: "http", url: cam };
  }
  if (cam.startsWith("/dev/")) return { kind: "v4l2", device: cam };
  let st;
  try {
    st = statSync(cam);
  } catch {
    throw inputError(
      "ECAM",
      `camera "${cam}" not found`,
      "use a camera index (0), a device path (/dev/video0), a .mjpeg file, a folder of JPEGs or an http(s) MJPEG URL; `hazardcam devices` lists cameras",
    );
  }
  if (st.isDirectory()) return { kind: "jpeg-dir", path: resolve(cam) };
  if (st.isCharacterDevice()) return { kind: "v4l2", device: cam };
  if (st.isFile() && /\.(mjpe?g|jpe?g)$/i.test(cam))
    return { kind: "mjpeg-file", path: resolve(cam) };
  throw inputError(
    "ECAM",
    `camera "${cam}" is not a camera`,
    "use a camera index, a /dev/video* device, a .mjpeg file, a folder of JPEGs or an http(s) MJPEG URL",
  );
}

/** Creates outdir if needed and proves it is writable. */
export function checkOutdir(outdir: string): string {
  const path = resolve(outdir);
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw inputError(
      "EOUTDIR",
      `outdir "${outdir}" cannot be created (${(e as NodeJS.ErrnoException).code ?? e})`,
      "pick a folder you can write to",
    );
  }
  if (!statSync(path).isDirectory())
    throw inputError("EOUTDIR", `outdir "${outdir}" is not a folder`);
  try {
    accessSync(path, constants.W_OK);
  } catch {
    throw inputError(
      "EOUTDIR",
      `outdir "${outdir}" is not writable`,
      "fix its permissions or pick another folder",
    );
  }
  return path;
}

/** The positionals by name, defaults filled in; throws on too few or too many. */
function positionals(pos: readonly string[]): (name: Positional) => string {
  if (pos.length === 0) throw inputError("EARG_MISSING", "missing <model> and <cam>");
  if (pos.length === 1)
    throw inputError("EARG_MISSING", "missing <cam> (a camera index such as 0, or a device path)");
  if (pos.length > POSITIONAL_ORDER.length) {
    throw inputError(
      "EARG_EXTRA",
      `too many arguments: "${pos.slice(POSITIONAL_ORDER.length).join(" ")}"`,
      `expected at most ${POSITIONAL_ORDER.length}`,
    );
  }
  return (name) => pos[POSITIONAL_ORDER.indexOf(name)] ?? String(POSITIONAL_DEFAULTS[name] ?? "");
}

function parseThreshold(raw: string): number {
  const threshold = parseNumber(raw);
  if (threshold === null || threshold <= 0 || threshold > 1) {
    throw inputError(
      "EARG_THRESH",
      `threshold "${raw}" is not valid: expected a number with 0 < thresh <= 1, e.g. 0.5`,
    );
  }
  return threshold;
}

/** A capture width or height in pixels. */
function parseSide(raw: string, what: "width" | "height"): number {
  const n = parseInteger(raw);
  if (n === null || n <= 0 || n > MAX_SIDE) {
    throw inputError(
      "EARG_SIZE",
      `${what} "${raw}" is not valid: expected a whole number of pixels from 1 to ${MAX_SIDE}`,
    );
  }
  return n;
}

function parsePort(raw: string): number {
  const port = parseInteger(raw);
  if (port === null || port < 1 || port > 65535) {
    throw inputError(
      "EARG_PORT",
      `port "${raw}" is not valid: expected a whole number from 1 to 65535`,
    );
  }
  return port;
}

function parseCooldownSec(raw: string): number {
  const cooldownSec = parseNumber(raw);
  if (cooldownSec === null || cooldownSec < 0) {
    throw inputError(
      "EARG_COOLDOWN",
      `cooldown "${raw}" is not valid: expected seconds >= 0, e.g. 2`,
    );
  }
  return cooldownSec;
}

/** --fps; without it, the camera's own rate (0) for live sources and 10 for files. */
function parseFps(raw: string | undefined, source: SourceSpec): number {
  if (raw === undefined) return source.kind === "v4l2" || source.kind === "http" ? 0 : 10;
  const n = parseNumber(raw);
  if (n === null || n <= 0 || n > 240)
    throw inputError("EARG_FPS", `--fps "${raw}" is not valid: expected a number from 0 to 240`);
  return n;
}

/** The archive's retention flags. */
function retention(p: ParsedArgv): Pick<Config, "keepDays" | "maxEvents" | "minFreeMb"> {
  return {
    keepDays: intFlag(p, "keep-days", 30, 0, 36500, "a whole number of days (0 = keep forever)"),
    maxEvents: intFlag(
      p,
      "max-events",
      10000,
      0,
      10_000_000,
      "a whole number of events (0 = no limit)",
    ),
    minFreeMb: intFlag(p, "min-free-mb", 500, 0, 10_000_000, "a whole number of megabytes"),
  };
}

/**
 * Validates in the order a user reads the command line (positionals left to right, then the
 * flags), so the first bad argument is the one reported.
 */
export function buildConfig(
  p: ParsedArgv,
  env: Record<string, string | undefined> = process.env,
): Config {
  const at = positionals(p.positionals);
  const threshold = parseThreshold(at("thresh"));
  const width = parseSide(at("w"), "width");
  const height = parseSide(at("h"), "height");
  const port = parsePort(at("port"));
  const cooldownSec = parseCooldownSec(at("cooldown"));
  const model = checkModelPath(at("model"));
  const cam = at("cam");
  const source = parseSource(cam);
  const fps = parseFps(flagString(p, "fps"), source);
  const bind = flagString(p, "bind") ?? "0.0.0.0";
  const integrations = integrationsConfig(p, { port, bind });
  const outdir = checkOutdir(at("outdir"));
  return {
    model,
    cam,
    source,
    threshold,
    width,
    height,
    port,
    bind,
    outdir,
    cooldownSec,
    cpuFallback: p.flags["cpu-fallback"] === true,
    threads: checkThreads(flagString(p, "threads")),
    fps,
    ...retention(p),
    tfliteLib: flagString(p, "tflite-lib") ?? null,
    edgetpuLib: flagString(p, "edgetpu-lib") ?? null,
    letterbox: p.flags.letterbox === true,
    auth: authFromArgs(flagString(p, "auth"), flagString(p, "auth-file"), env.HAZARDCAM_AUTH),
    ...integrations,
    scene: sceneConfig(p, outdir),
    clips: clipsConfig(p),
  };
}
