/** A V4L2 camera through the shim: MJPEG preferred, YUYV otherwise; the newest frame wins. */
import { Camera, ShimError } from "../native/shim.ts";
import {
  SourceLost,
  type FrameSource,
  type RawFrame,
  type SourceInfo,
  type SourceOptions,
} from "./types.ts";

/**
 * One poll wait (ms): short, so the Worker's message queue is read between waits: stop, snapshot,
 * and detection results (a result read late leaves the detector idle; 100 ms cost CPU detection
 * 10% of its rate at 30 fps, see docs/PERFORMANCE.md).
 */
const GRAB_SLICE_MS = 10;
/** No frame for this long (ms) means the camera stalled: reopen it. */
const STALL_MS = 3000;

export class V4l2Source implements FrameSource {
  private cam: Camera | null = null;
  private buf = new Uint8Array(0);
  private format: "jpeg" | "yuyv" = "jpeg";
  private width = 0;
  private height = 0;

  constructor(
    private readonly device: string,
    private readonly opts: SourceOptions,
  ) {}

  async open(): Promise<SourceInfo> {
    this.close();
    const cam = Camera.open(this.device);
    try {
      const got = cam.start({
        width: this.opts.width,
        height: this.opts.height,
        fps: this.opts.fps,
        buffers: 4,
      });
      this.cam = cam;
      this.width = got.width;
      this.height = got.height;
      this.format = got.fourcc === "YUYV" ? "yuyv" : "jpeg";
      this.buf = new Uint8Array(got.frameBytes);
      const sizeNote =
        got.width !== this.opts.width || got.height !== this.opts.height
          ? `asked for ${this.opts.width}x${this.opts.height}, the camera gave ${got.width}x${got.height}`
          : null;
      return {
        description: `${this.device} ${got.fourcc} ${got.width}x${got.height}`,
        width: got.width,
        height: got.height,
        format: got.fourcc,
        sizeNote,
      };
    } catch (e) {
      cam.close();
      throw e;
    }
  }

  async next(): Promise<RawFrame> {
    const cam = this.cam;
    if (!cam) throw new SourceLost(`${this.device} is not open`);
    const startedAt = performance.now();
    for (;;) {
      try {
        const r = cam.grab(this.buf, GRAB_SLICE_MS);
        return {
          data: this.buf.subarray(0, r.bytes),
          format: this.format,
          width: this.width,
          height: this.height,
          grabbedAt: Date.now(),
          dropped: r.dropped,
        };
      } catch (e) {
        if (!(e instanceof ShimError)) throw e;
        if (e.hcName !== "ETIMEOUT") {
          throw new SourceLost(`${this.device}: ${e.message}`);
        }
      }
      if (performance.now() - startedAt > STALL_MS) {
        throw new SourceLost(
          `${this.device} sent no frame for ${STALL_MS / 1000} s`,
          "check the USB cable and power",
        );
      }
      // Let the Worker handle its messages between waits.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  close(): void {
    this.cam?.close();
    this.cam = null;
  }
}
