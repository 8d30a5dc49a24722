/** A small tmpfs for storage-fault tests (needs root; callers skip when it cannot be mounted). */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";

/** Mounts a tmpfs of `mb` MB, or returns null where that is not allowed (not root). */
export function mountTmpfs(mb: number): string | null {
  const dir = fs.mkdtempSync(join(os.tmpdir(), "hazardcam-tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${mb}m`, "tmpfs", dir]);
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    return null;
  }
  mounts.push(dir);
  return dir;
}
const mounts: string[] = [];

/** Unmounts (lazily, in case a process still has files open) what mountTmpfs mounted. */
export function unmountAll(): void {
  for (const m of mounts.splice(0)) {
    spawnSync("umount", ["-l", m]);
    fs.rmSync(m, { recursive: true, force: true });
  }
}

/** Fills the file system holding `dir` to the last byte; returns the ballast's path. */
export function fillDisk(dir: string): string {
  const path = join(dir, "ballast.bin");
  const fd = fs.openSync(path, "w");
  try {
    for (let chunk = 1 << 16; chunk >= 1; chunk >>= 1) {
      const buf = new Uint8Array(chunk).fill(7);
      for (;;) {
        try {
          fs.writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return path;
}
