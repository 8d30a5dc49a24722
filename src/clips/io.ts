/** Small async file helpers of the clips (node:fs/promises: Bun runs them on its thread pool). */
import { open, stat, type FileHandle } from "node:fs/promises";

/** Writes all of `bytes` at `position`; a short write is continued, a failure thrown. */
export async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error("short write"), { code: "EIO" });
    done += bytesWritten;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsync of a folder, so that the renames in it survive a power cut. */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Some file systems (vfat on a USB stick) refuse fsync on a folder: the rename still holds.
  } finally {
    await fh?.close();
  }
}
