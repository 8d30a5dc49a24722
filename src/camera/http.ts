/** An MJPEG stream over HTTP (another hazardcam's /video?raw=1, an ESP32-CAM, an IP camera). */
import { jpegInfo } from "../native/shim.ts";
import { MjpegSplitter } from "./mjpeg.ts";
import {
  SourceLost,
  type FrameSource,
  type RawFrame,
  type SourceInfo,
  type SourceOptions,
} from "./types.ts";

const CONNECT_TIMEOUT_MS = 5000;
const STALL_MS = 5000;

export class HttpMjpegSource implements FrameSource {
  private abort: AbortController | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private parser = new MjpegSplitter();
  private queue: Uint8Array[] = [];
  private width = 0;
  private height = 0;

  constructor(
    private readonly url: string,
    private readonly opts: SourceOptions,
  ) {}

  private redacted(): string {
    const u = new URL(this.url);
    if (u.password) u.password = "***";
    return u.toString();
  }

  async open(): Promise<SourceInfo> {
    this.close();
    this.abort = new AbortController();
    const timer = setTimeout(() => this.abort?.abort(), CONNECT_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(this.url, { signal: this.abort.signal });
    } catch (e) {
      throw new SourceLost(
        `${this.redacted()}: cannot connect (${(e as Error).message})`,
        "check the URL and that the camera is on",
      );
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok || !res.body) throw new SourceLost(`${this.redacted()}: HTTP ${res.status}`);
    this.reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    this.parser = new MjpegSplitter();
    this.queue = [];
    const first = await this.readFrame();
    const dims = jpegInfo(first);
    this.width = dims.width;
    this.height = dims.height;
    this.queue.unshift(first);
    const sizeNote =
      dims.width !== this.opts.width || dims.height !== this.opts.height
        ? `asked for ${this.opts.width}x${this.opts.height}, the stream is ${dims.width}x${dims.height}`
        : null;
    return {
      description: `${this.redacted()} MJPG ${dims.width}x${dims.height}`,
      width: dims.width,
      height: dims.height,
      format: "MJPG",
      sizeNote,
    };
  }

  private async readFrame(): Promise<Uint8Array> {
    const reader = this.reader;
    if (!reader) throw new SourceLost(`${this.redacted()} is not open`);
    while (this.queue.length === 0) {
      let timer: Timer | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new SourceLost(`${this.redacted()} sent nothing for ${STALL_MS / 1000} s`)),
          STALL_MS,
        );
      });
      let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
      try {
        chunk = await Promise.race([reader.read(), stalled]);
      } catch (e) {
        if (e instanceof SourceLost) throw e;
        throw new SourceLost(`${this.redacted()}: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done) throw new SourceLost(`${this.redacted()}: the stream ended`);
      this.queue.push(...this.parser.push(chunk.value));
    }
    return this.queue.shift() as Uint8Array;
  }

  async next(): Promise<RawFrame> {
    const frame = await this.readFrame();
    // Newest frame wins: drop what queued up behind it.
    const dropped = this.queue.length;
    const newest = dropped > 0 ? (this.queue.pop() as Uint8Array) : frame;
    this.queue = [];
    return {
      data: newest,
      format: "jpeg",
      width: this.width,
      height: this.height,
      grabbedAt: Date.now(),
      dropped,
    };
  }

  close(): void {
    this.abort?.abort();
    this.abort = null;
    this.reader = null;
  }
}
