/**
 * `hazardcam service install <run args>` writes a systemd unit that runs hazardcam as a plain
 * user with the same arguments (validated first), restarts it on failure and logs to journald.
 * `hazardcam service uninstall` removes it.
 */
import { existsSync, mkdirSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { userInfo } from "node:os";
import type { Config } from "../config/run.ts";
import { inputError } from "../shared/errors.ts";

export interface ServiceOptions {
  name: string;
  unitDir: string;
  user: string;
}

/** Quotes one argument for systemd's ExecStart (C-style escapes inside double quotes). */
export function systemdQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg.replace(/%/g, "%%");
  return `"${arg.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** The command that runs this very program: the compiled binary, or bun + src/main.ts. */
export function selfCommand(): string[] {
  const exe = process.execPath;
  const main = Bun.main;
  if (main.startsWith("/$bunfs/") || !main.endsWith(".ts")) return [exe];
  return [exe, realpathSync(main)];
}

/** Run arguments with paths made absolute, since the unit runs from another directory. */
export function absoluteRunArgs(config: Config, extraFlags: string[]): string[] {
  const cam =
    config.source.kind === "mjpeg-file" || config.source.kind === "jpeg-dir"
      ? config.source.path
      : config.cam;
  return [
    config.model,
    cam,
    String(config.threshold),
    String(config.width),
    String(config.height),
    String(config.port),
    config.outdir,
    String(config.cooldownSec),
    ...extraFlags,
  ];
}

export function unitText(config: Config, extraFlags: string[], opts: ServiceOptions): string {
  const exec = [...selfCommand(), ...absoluteRunArgs(config, extraFlags)]
    .map(systemdQuote)
    .join(" ");
  return [
    "[Unit]",
    "Description=hazardcam people detection camera",
    "Documentation=https://github.com/ (see README: Running on the Pi)",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `User=${opts.user}`,
    // video: /dev/video*; plugdev: the Coral USB device (udev rule from libedgetpu1-std).
    "SupplementaryGroups=video plugdev",
    `WorkingDirectory=${config.outdir}`,
    `ExecStart=${exec}`,
    "Restart=on-failure",
    "RestartSec=3",
    // SIGINT stops it within a second; give it a little more before SIGKILL.
    "KillSignal=SIGINT",
    "TimeoutStopSec=5",
    "StandardOutput=journal",
    "StandardError=journal",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

export function defaultServiceUser(): string {
  return process.env.SUDO_USER || userInfo().username;
}

export function installService(config: Config, extraFlags: string[], opts: ServiceOptions): string {
  if (opts.user === "root") {
    throw inputError(
      "ESERVICE_USER",
      "refusing to run the service as root",
      "pass --user NAME (a user in the video and plugdev groups), or run the install with sudo from that user",
    );
  }
  const path = join(resolve(opts.unitDir), `${opts.name}.service`);
  try {
    mkdirSync(resolve(opts.unitDir), { recursive: true });
    writeFileSync(path, unitText(config, extraFlags, opts));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(
      "ESERVICE_WRITE",
      `cannot write ${path} (${code ?? e})`,
      code === "EACCES" ? "run it with sudo" : "check the --unit-dir",
    );
  }
  return path;
}

export function uninstallService(opts: Pick<ServiceOptions, "name" | "unitDir">): string | null {
  const path = join(resolve(opts.unitDir), `${opts.name}.service`);
  if (!existsSync(path)) return null;
  try {
    unlinkSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(
      "ESERVICE_WRITE",
      `cannot remove ${path} (${code ?? e})`,
      code === "EACCES" ? "run it with sudo" : "",
    );
  }
  return path;
}
