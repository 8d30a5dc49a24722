/**
 * hazardcam: args → Config → start. The only place that calls process.exit.
 *   hazardcam <model> <cam> [thresh] [w] [h] [port] [outdir] [cooldown] [--flags]
 *   hazardcam detect <model> <image...>
 *   hazardcam devices
 *   hazardcam service install <run args> | uninstall
 */
import { defineCommand, renderUsage, type ArgsDef, type CommandDef } from "citty";
import { parseArgv, parseNumber } from "./config/argv.ts";
import { buildConfig, checkModelPath, detectorArgs, runArgs, type Config } from "./config/run.ts";
import { errorMessage, HcError, inputError } from "./shared/errors.ts";
import { checkThreads } from "./detect/options.ts";
import { logger } from "./shared/log.ts";
import { configureLibs } from "./native/libs.ts";
import { forStream } from "./cli/color.ts";
import { VERSION } from "./shared/version.ts";

const log = logger("hazardcam");

const detectArgs = {
  model: { type: "positional", description: "Detection model (.tflite)", required: true },
  images: { type: "positional", description: "JPEG or BMP images", required: true },
  thresh: { type: "string", description: "Score threshold (default 0.5)", valueHint: "t" },
  json: { type: "boolean", description: "Print one JSON document" },
  ...detectorArgs,
} as const satisfies ArgsDef;

const devicesArgs = {
  ...detectorArgs,
  json: { type: "boolean", description: "Print JSON" },
} as const satisfies ArgsDef;

const serviceFlags = {
  name: { type: "string", description: "Unit name (default hazardcam)", valueHint: "name" },
  "unit-dir": {
    type: "string",
    description: "Where to write the unit (default /etc/systemd/system)",
    valueHint: "dir",
  },
  user: {
    type: "string",
    description: "User to run as (default: the user who ran sudo)",
    valueHint: "name",
  },
} as const satisfies ArgsDef;

const serviceArgs = {
  action: {
    type: "positional",
    description: "install <run arguments...> | uninstall",
    required: true,
  },
  ...serviceFlags,
  ...runArgs,
} as const satisfies ArgsDef;

const detectCmd = defineCommand({
  meta: { name: "detect", description: "Detect objects in images and print them with timings" },
  args: detectArgs,
});
const devicesCmd = defineCommand({
  meta: {
    name: "devices",
    description: "List cameras (formats, sizes), Edge TPUs and library versions",
  },
  args: devicesArgs,
});
const serviceCmd = defineCommand({
  meta: {
    name: "service",
    description: "Install or remove a systemd unit that runs hazardcam with these arguments",
  },
  args: serviceArgs,
});
const mainCmd = defineCommand({
  meta: {
    name: "hazardcam",
    version: VERSION,
    description: "People detection camera server for Raspberry Pi + Coral Edge TPU",
  },
  args: {
    ...runArgs,
    version: {
      type: "boolean",
      description: "Print the version, the TFLite version and the libedgetpu version",
    },
  },
  subCommands: { detect: detectCmd, devices: devicesCmd, service: serviceCmd },
});

const SUBCOMMANDS: Record<string, CommandDef<ArgsDef>> = {
  detect: detectCmd as CommandDef<ArgsDef>,
  devices: devicesCmd as CommandDef<ArgsDef>,
  service: serviceCmd as CommandDef<ArgsDef>,
};

/** The usage of `cmd`, coloured only if `stream` is a terminal and NO_COLOR is not set. */
async function usage(
  stream: NodeJS.WriteStream,
  cmd: CommandDef<ArgsDef>,
  parent?: CommandDef<ArgsDef>,
): Promise<string> {
  // citty pads the columns to the widest line, colour codes included: no trailing blanks in a
  // terminal or a file.
  return forStream(await renderUsage(cmd, parent), stream).replace(/[ \t]+$/gm, "");
}

function applyLibFlags(flags: Record<string, string | boolean | string[]>): void {
  configureLibs({
    tflite: typeof flags["tflite-lib"] === "string" ? flags["tflite-lib"] : undefined,
    edgetpu: typeof flags["edgetpu-lib"] === "string" ? flags["edgetpu-lib"] : undefined,
  });
}

async function runDetectCommand(argv: string[]): Promise<number> {
  const p = parseArgv(argv, detectArgs);
  applyLibFlags(p.flags);
  const [model, ...images] = p.positionals;
  if (!model) throw inputError("EARG_MISSING", "missing <model>");
  if (images.length === 0)
    throw inputError("EARG_MISSING", "missing <image...>: give one or more JPEG or BMP files");
  checkModelPath(model);
  const threshRaw = typeof p.flags.thresh === "string" ? p.flags.thresh : "0.5";
  const threshold = parseNumber(threshRaw);
  if (threshold === null || threshold <= 0 || threshold > 1) {
    throw inputError(
      "EARG_THRESH",
      `--thresh "${threshRaw}" is not valid: expected 0 < thresh <= 1`,
    );
  }
  const threads = checkThreads(typeof p.flags.threads === "string" ? p.flags.threads : undefined);
  const { runDetect } = await import("./cli/detect.ts");
  return runDetect({
    model,
    images,
    threshold,
    json: p.flags.json === true,
    threads,
    cpuFallback: p.flags["cpu-fallback"] === true,
  });
}

async function runDevicesCommand(argv: string[]): Promise<number> {
  const p = parseArgv(argv, devicesArgs);
  applyLibFlags(p.flags);
  if (p.positionals.length > 0)
    throw inputError("EARG_EXTRA", `devices takes no arguments (got "${p.positionals.join(" ")}")`);
  const { runDevices } = await import("./cli/devices.ts");
  return runDevices({ json: p.flags.json === true });
}

async function runServiceCommand(argv: string[]): Promise<number> {
  const p = parseArgv(argv, serviceArgs);
  const [action, ...runPositionals] = p.positionals;
  const svc = await import("./cli/service.ts");
  const name = typeof p.flags.name === "string" ? p.flags.name : "hazardcam";
  if (!/^[A-Za-z0-9_.@-]+$/.test(name))
    throw inputError("EARG_NAME", `--name "${name}" is not a valid unit name`);
  const unitDir =
    typeof p.flags["unit-dir"] === "string" ? p.flags["unit-dir"] : "/etc/systemd/system";
  if (action === "uninstall") {
    const removed = svc.uninstallService({ name, unitDir });
    console.log(
      removed
        ? `removed ${removed}\nrun: sudo systemctl daemon-reload`
        : `no ${name}.service in ${unitDir}`,
    );
    if (removed) console.log(`(stop it first if it runs: sudo systemctl disable --now ${name})`);
    return 0;
  }
  if (action !== "install")
    throw inputError(
      "EARG_ACTION",
      `service needs "install <arguments>" or "uninstall" (got "${action ?? ""}")`,
    );
  const runFlags = Object.entries(p.flags).filter(([k]) => !(k in serviceFlags));
  if ("auth" in p.flags) {
    // A unit file is world-readable and ExecStart shows in `ps`: keep the password out of both.
    throw inputError(
      "EARG_AUTH",
      "service install does not take --auth",
      "put user:pass in a file only the service user can read (chmod 600) and pass --auth-file PATH",
    );
  }
  const config = buildConfig({ positionals: runPositionals, flags: Object.fromEntries(runFlags) });
  const extra = runFlags.flatMap(([k, v]) =>
    v === true
      ? [`--${k}`]
      : v === false
        ? [`--no-${k}`]
        : [v].flat().map((one) => `--${k}=${one}`),
  );
  const user = typeof p.flags.user === "string" ? p.flags.user : svc.defaultServiceUser();
  const path = svc.installService(config, extra, { name, unitDir, user });
  console.log(`wrote ${path} (runs as ${user})`);
  console.log(
    `enable and start it:  sudo systemctl daemon-reload && sudo systemctl enable --now ${name}`,
  );
  console.log(`follow its log:       journalctl -u ${name} -f`);
  return 0;
}

async function printVersion(): Promise<number> {
  const { versions } = await import("./cli/devices.ts");
  const v = versions();
  console.log(`hazardcam ${VERSION}`);
  console.log(`TFLite ${v.tflite ?? `not loaded (${v.tfliteError})`}`);
  console.log(`libedgetpu ${v.edgetpu ?? `not found (${v.edgetpuError})`}`);
  return 0;
}

async function runServer(argv: string[]): Promise<number> {
  const p = parseArgv(argv, mainCmd.args as ArgsDef);
  if (p.flags.version === true) return printVersion();
  applyLibFlags(p.flags);
  const config: Config = buildConfig(p);
  const { serve } = await import("./serve.ts");
  return serve(config);
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first !== undefined && first in SUBCOMMANDS) {
    const sub = SUBCOMMANDS[first] as CommandDef<ArgsDef>;
    const rest = argv.slice(1);
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(await usage(process.stdout, sub, mainCmd as CommandDef<ArgsDef>));
      return 0;
    }
    try {
      if (first === "detect") return await runDetectCommand(rest);
      if (first === "service") return await runServiceCommand(rest);
      return await runDevicesCommand(rest);
    } catch (e) {
      return fail(e, sub, mainCmd as CommandDef<ArgsDef>);
    }
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(await usage(process.stdout, mainCmd as CommandDef<ArgsDef>));
    return 0;
  }
  if (argv.length === 1 && (first === "--version" || first === "-v")) return printVersion();
  try {
    return await runServer(argv);
  } catch (e) {
    return fail(e, mainCmd as CommandDef<ArgsDef>);
  }
}

async function fail(
  e: unknown,
  cmd: CommandDef<ArgsDef>,
  parent?: CommandDef<ArgsDef>,
): Promise<number> {
  if (e instanceof HcError) {
    console.error(`hazardcam: ${e.message}`);
    if (e.exitCode === 2 && e.code.startsWith("EARG")) {
      console.error(`\n${await usage(process.stderr, cmd, parent)}`);
    } else if (e.exitCode === 2) {
      console.error("Run with --help for usage.");
    }
    return e.exitCode;
  }
  log.error(`fatal: ${errorMessage(e)}`);
  if (e instanceof Error && e.stack) console.error(e.stack);
  return 1;
}

/** Runs the CLI and exits with its code: the compiled binary's entry calls this too. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<never> {
  const code = await main(argv);
  process.exit(code);
}

if (import.meta.main) await cli();

export { main };
