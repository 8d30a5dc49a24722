/** Looped playback of an MJPEG file (concatenated JPEGs) or a folder of JPEGs, paced at fps. */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { inputError } from "../shared/errors.ts";
import { jpegInfo } from "../native/shim.ts";
import { splitJpegs } from "./mjpeg.ts";
import type { FrameSource, RawFrame, SourceInfo, SourceOptions } from "./types.ts";

abstract class PacedSource implements FrameSource {
  protected frames: Uint8Array[] = [];
  private index = 0;
  private nextDueAt = 0;
  private closed = false;
  private width = 0;
  private height = 0;

  constructor(
    protected readonly path: string,
    private readonly opts: SourceOptions,
  ) {}

  protected abstract load(): Uint8Array[];
  protected abstract label(): string;

  async open(): Promise<SourceInfo> {
    this.frames = this.load();
    if (this.frames.length === 0) {
      throw inputError(
        "ECAM",
        `"${this.path}" holds no JPEG frames`,
        "give an MJPEG file (concatenated JPEGs) or a folder of .jpg files",
      );
    }
    const first = this.frames[0] as Uint8Array;
    const dims = jpegInfo(first);
    this.width = dims.width;
    this.height = dims.height;
    this.nextDueAt = performance.now();
    const sizeNote =
      this.width !== this.opts.width || this.height !== this.opts.height
        ? `asked for ${this.opts.width}x${this.opts.height}, the file is ${this.width}x${this.height}`
        : null;
    return {
      description: `${this.label()} (${this.frames.length} frames, looped) at ${this.opts.fps} fps`,
      width: this.width,
      height: this.height,
      format: "MJPG",
      sizeNote,
    };
  }

  async next(): Promise<RawFrame> {
    if (this.closed) throw new Error("source closed");
    const periodMs = 1000 / this.opts.fps;
    let now = performance.now();
    if (this.nextDueAt > now) await Bun.sleep(this.nextDueAt - now);
    now = performance.now();
    // Late by more than a frame (a slow consumer): skip ahead, as a camera drops frames.
    let dropped = 0;
    while (now - this.nextDueAt >= periodMs) {
      this.nextDueAt += periodMs;
      this.index = (this.index + 1) % this.frames.length;
      dropped++;
    }
    this.nextDueAt += periodMs;
    const data = this.frames[this.index] as Uint8Array;
    this.index = (this.index + 1) % this.frames.length;
    return {
      data,
      format: "jpeg",
      width: this.width,
      height: this.height,
      grabbedAt: Date.now(),
      dropped,
    };
  }

  close(): void {
    this.closed = true;
    this.frames = [];
  }
}

export class FileSource extends PacedSource {
  protected load(): Uint8Array[] {
    return splitJpegs(new Uint8Array(readFileSync(this.path)));
  }
  protected label(): string {
    return `file ${basename(this.path)}`;
  }
}

export class DirSource extends PacedSource {
  protected load(): Uint8Array[] {
    const names = readdirSync(this.path)
      .filter((n) => /\.jpe?g$/i.test(n))
      .sort();
    return names.map((n) => new Uint8Array(readFileSync(join(this.path, n))));
  }
  protected label(): string {
    return `folder ${this.path}`;
  }
}
