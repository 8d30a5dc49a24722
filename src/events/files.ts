/**
 * The archive's file operations. Saving goes through node:fs/promises, which Bun runs on its
 * thread pool: the writes and fsyncs of an event (tens of ms on an SD card) never stall the main
 * thread, where HTTP runs. The rest (open, reconcile, retention: unlinks and directory listings)
 * stays synchronous and short.
 *
 * A file appears whole or not at all: write `.tmp-<pid>-<n>-<name>`, fsync, link it to its name
 * (EEXIST instead of replacing), unlink the temp name, fsync the directory. A crash leaves at
 * most a `.tmp-*` file, deleted at the next open (src/events/reconcile.ts).
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

async function fsyncDir(dir: string): Promise<void> {
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

/** link() where the file system has hard links; else rename() after checking (one writer). */
async function publish(tmp: string, final: string): Promise<void> {
  try {
    // link() fails with EEXIST instead of replacing: two saves can never clobber each other.
    await fsp.link(tmp, final);
    await fsp.unlink(tmp);
  } catch (e) {
    const c = errnoCode(e);
    if (c !== "EPERM" && c !== "ENOTSUP" && c !== "EOPNOTSUPP" && c !== "ENOSYS") throw e;
    // vfat/exfat have no hard links: the archive's saves are serialized, so check, then rename.
    if (await nameTaken(final)) {
      throw Object.assign(new Error(`${final} exists`), { code: "EEXIST" });
    }
    await fsp.rename(tmp, final);
  }
}

let tmpCounter = 0;

/**
 * Writes `data` to dir/name so the name never shows a partial file; runs off the main thread.
 * An existing file is never overwritten (rejects with code EEXIST), unless `replace` (for a
 * thumbnail, whose name is its image's, which was just taken: one already there is an orphan).
 */
export async function writeAtomic(
  dir: string,
  name: string,
  data: Uint8Array,
  replace = false,
): Promise<void> {
  const tmp = join(dir, `${TMP_PREFIX}${process.pid}-${++tmpCounter}-${name}`);
  try {
    // One task on the thread pool: open (O_EXCL), write, fsync, close.
    await fsp.writeFile(tmp, data, { flag: "wx", mode: 0o644, flush: true });
    if (replace) await fsp.rename(tmp, join(dir, name));
    else await publish(tmp, join(dir, name));
  } catch (e) {
    await unlinkQuietAsync(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}
