/** Shim results (negative HC_E* codes) as ShimErrors a user can act on, and argument checks. */
import { constants as osConstants } from "node:os";
import { HcError } from "../../shared/errors.ts";

/** HC_E* of ffi/hazardcam.h. */
export const HC = {
  ENODEV: -1,
  EBUSY: -2,
  EFORMAT: -3,
  ETIMEOUT: -4,
  EGONE: -5,
  ENOTCAM: -6,
  EIO: -7,
  EJPEG: -8,
  EARG: -9,
  EPERM: -10,
  ENOMEM: -11,
  ESTATE: -12,
} as const;

export type ShimErrorName = keyof typeof HC;

const NAMES = new Map<number, ShimErrorName>(
  Object.entries(HC).map(([k, v]) => [v, k as ShimErrorName]),
);

/** A shim failure: `hcCode` is the negative HC_E* value, `hcName` (also `code`) e.g. "EGONE". */
export class ShimError extends HcError {
  readonly hcCode: number;
  readonly hcName: ShimErrorName;
  /** errno of the failing system call, when there was one (0 otherwise). */
  readonly errno: number;

  constructor(hcCode: number, message: string, fix: string, errno = 0) {
    const name = NAMES.get(hcCode) ?? "EIO";
    // Bad input from the user (a wrong device path, a broken image file): exit code 2.
    const input = name === "ENODEV" || name === "ENOTCAM" || name === "EJPEG" || name === "EFORMAT";
    super(name, message, fix, input ? 2 : 1);
    this.name = "ShimError";
    this.hcCode = hcCode;
    this.hcName = name;
    this.errno = errno;
  }
}

export const BUG = "this is a bug in hazardcam: please report it";

function errnoName(n: number): string {
  const hit = Object.entries(osConstants.errno).find(([, v]) => v === n);
  return hit ? hit[0] : `errno ${n}`;
}

/** Builds the error for an HC_E* result. `what` names the object ("camera /dev/video0", "JPEG"). */
export function shimError(
  code: number,
  what: string,
  ctx: { path?: string; timeoutMs?: number; errno?: number } = {},
): ShimError {
  const dev = ctx.path ?? "/dev/video0";
  const errno = ctx.errno ?? 0;
  const mk = (msg: string, fix: string): ShimError =>
    new ShimError(code, `${what}: ${msg}`, fix, errno);
  switch (NAMES.get(code)) {
    case "ENODEV":
      return mk(
        "no such device",
        "check that the camera is plugged in; list cameras with `hazardcam devices` or `v4l2-ctl --list-devices`",
      );
    case "EBUSY":
      return mk(
        "the camera is busy",
        `another program uses the camera: close it (\`fuser ${dev}\` shows which)`,
      );
    case "EFORMAT":
      return mk(
        "the camera offers neither MJPEG nor YUYV",
        `use a UVC webcam; \`v4l2-ctl -d ${dev} --list-formats-ext\` lists what this one offers`,
      );
    case "ETIMEOUT":
      return mk(
        `no frame within ${ctx.timeoutMs ?? 0} ms`,
        "check the camera's cable and power (a powered USB hub helps), or ask for a lower resolution",
      );
    case "EGONE":
      return mk(
        "the camera disappeared (unplugged?)",
        "check the USB cable and power, then open the camera again",
      );
    case "ENOTCAM":
      return mk(
        "not a V4L2 video capture device",
        "list cameras with `hazardcam devices` or `v4l2-ctl --list-devices`",
      );
    case "EJPEG":
      return mk(
        "corrupt or unsupported JPEG",
        "use a baseline or progressive JPEG in colour or greyscale",
      );
    case "EPERM":
      return mk(
        "permission denied",
        "add your user to the video group: sudo usermod -aG video $USER, then log in again",
      );
    case "ENOMEM":
      return mk("out of memory", "ask for a lower resolution or close other programs");
    case "EARG":
      return mk("bad argument or buffer too small", BUG);
    case "ESTATE":
      return mk("wrong call order", BUG);
    default:
      if (errno === osConstants.errno.ENOSPC) {
        return mk(
          "not enough USB bandwidth (ENOSPC)",
          "ask for a lower resolution, prefer MJPEG, or give the camera its own USB port",
        );
      }
      return mk(
        `I/O error${errno ? ` (${errnoName(errno)})` : ""}`,
        "check `dmesg` for USB errors; try another USB port or a lower resolution",
      );
  }
}

export function badArg(what: string, msg: string): ShimError {
  return new ShimError(HC.EARG, `${what}: ${msg}`, BUG);
}

export function checkDims(what: string, w: number, h: number): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 65500 || h > 65500) {
    throw badArg(what, `bad size ${w}x${h}`);
  }
}

export function checkLen(what: string, buf: Uint8Array, need: number): void {
  if (buf.length < need) throw badArg(what, `needs ${need} bytes, got ${buf.length}`);
}

export function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}
