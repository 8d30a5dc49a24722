/**
 * The archive's file operations. Saving goes through node:fs/promises, which Bun runs on its
 * thread pool: the writes and fsyncs of an event (tens of ms on an SD card) never stall the main
 * thread, where HTTP runs. The rest (open, reconcile, retention: unlinks and directory listings)
 * stays synchronous and short.
 *
 * A file appears whole or not at all: stage() writes and fsyncs `.tmp-<pid>-<n>-<name>.part`,
 * linkNoClobber() gives it its name (EEXIST instead of replacing) or replace() does (a rename),
 * discard() drops the temp name, fsyncDir() makes the names durable. A crash leaves at most a
 * `.tmp-*` file, deleted at the next open (src/events/reconcile.ts).
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { join } from "node:path";
import { TMP_PREFIX } from "./types.ts";

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** ENOSPC from a file write, SQLITE_FULL from the index: the card is full either way. */
export function diskFull(e: unknown): boolean {
  const c = errnoCode(e);
  return c === "ENOSPC" || c === "SQLITE_FULL" || c === "EDQUOT";
}

/** Free MB on the file system holding `dir` (statfs), or null if unknown. */
export function defaultFreeMb(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  } catch {
    return null;
  }
}

/** Deletes a file; a file already gone is fine. */
export function unlinkQuiet(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
  }
}

/** unlinkQuiet off the main thread. */
export async function unlinkQuietAsync(path: string): Promise<void> {
  try {
    await fsp.unlink(path);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
  }
}

/** True if `path` names anything (a dangling symlink included), as a name we must not take. */
export async function nameTaken(path: string): Promise<boolean> {
  try {
    await fsp.lstat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return false;
    throw e;
  }
}

/** fsyncs a directory, so the names made in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | null = null;
  try {
    fh = await fsp.open(dir, "r");
    await fh.sync();
  } catch {
    // Some file systems (vfat on a USB stick) refuse fsync on a directory: the rename still holds.
  } finally {
    await fh?.close();
  }
}

let tmpCounter = 0;

/**
 * Writes `data` to a new temp file in `dir` (one task on the thread pool: open with O_EXCL,
 * write, fsync, close); returns its path. `label` only makes the temp name readable.
 */
export async function stage(dir: string, data: Uint8Array, label: string): Promise<string> {
  // Hidden, and not `*.jpg`: nothing globbing for images picks up a file being written.
  const tmp = join(dir, `${TMP_PREFIX}${process.pid}-${++tmpCounter}-${label}.part`);
  try {
    await fsp.writeFile(tmp, data, { flag: "wx", mode: 0o644, flush: true });
  } catch (e) {
    await discard(tmp);
    throw e;
  }
  return tmp;
}

/** Deletes a temp file, if it is still there; never throws. */
export async function discard(tmp: string): Promise<void> {
  await unlinkQuietAsync(tmp).catch(() => undefined);
}

/**
 * Gives the staged file `tmp` the name `final` unless that name exists (then false). link() fails
 * with EEXIST instead of replacing, so nothing is ever clobbered; the temp name stays for the
 * caller to discard(). vfat/exfat have no hard links: there, check and rename (the archive's
 * saves are serialized).
 */
export async function linkNoClobber(tmp: string, final: string): Promise<boolean> {
  try {
    await fsp.link(tmp, final);
    return true;
  } catch (e) {
    const c = errnoCode(e);
    if (c === "EEXIST") return false;
    if (c !== "EPERM" && c !== "ENOTSUP" && c !== "EOPNOTSUPP" && c !== "ENOSYS") throw e;
  }
  if (await nameTaken(final)) return false;
  await fsp.rename(tmp, final);
  return true;
}

/** Gives the staged file `tmp` the name `final`, replacing what is there. */
export async function replace(tmp: string, final: string): Promise<void> {
  await fsp.rename(tmp, final);
}
