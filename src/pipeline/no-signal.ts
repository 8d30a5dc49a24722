/** The frame HTTP shows without a camera frame: dark, "NO SIGNAL", the reason and the time. */
import { drawText, jpegEncode } from "../native/shim.ts";

let cache: { key: string; jpeg: Uint8Array } | null = null;

/**
 * A JPEG of width x height (at most 1280x960) saying "no signal", the reason and the time
 * (µStreamer does the same). The same reason in the same second is encoded once.
 */
export function noSignal(
  width: number,
  height: number,
  reason: string,
  now: Date = new Date(),
): Uint8Array {
  const w = Math.min(width, 1280);
  const h = Math.min(height, 960);
  const time = now.toLocaleTimeString();
  const key = `${w}x${h}|${reason}|${time}`;
  if (cache?.key === key) return cache.jpeg;
  const rgb = new Uint8Array(w * h * 3).fill(24);
  const scale = w >= 640 ? 3 : 2;
  const mid = Math.round(h / 2);
  drawText(rgb, w, h, 16, mid - 12 * scale, "NO SIGNAL", scale, 0xff5252, -1);
  const shown = reason.slice(0, Math.floor((w - 32) / 8));
  drawText(rgb, w, h, 16, mid, shown, 1, 0xffffff, -1);
  drawText(rgb, w, h, 16, mid + 16, time, 1, 0xbbbbbb, -1);
  const jpeg = jpegEncode(rgb, w, h, 70);
  cache = { key, jpeg };
  return jpeg;
}
