/**
 * The capture Worker: message wiring around the CaptureLoop (src/workers/capture-loop.ts), which
 * grabs, decodes, hands frames to the detect Worker and publishes them, so the HTTP thread never
 * decodes, resizes or encodes.
 */
import { createSource } from "../camera/source.ts";
import { configureLibs } from "../native/libs.ts";
import { CaptureLoop } from "./capture-loop.ts";
import { realClock } from "./clock.ts";
import { shimCodec } from "./codec.ts";
import { errorMessage } from "../shared/errors.ts";
import {
  toWireError,
  type DetectToCapture,
  type FromCapture,
  type RenderRequest,
  type ToCapture,
} from "./protocol.ts";
import { renderImages } from "./render.ts";

declare const self: Worker;

/** How often the stall watchdog looks (ms). */
const STALL_CHECK_MS = 250;

let loop: CaptureLoop | null = null;
let port: MessagePort | null = null;
let stallTimer: ReturnType<typeof setInterval> | undefined;

function post(msg: FromCapture, transfer: ArrayBuffer[] = []): void {
  self.postMessage(msg, transfer);
}

function connect(next: MessagePort): void {
  port?.close();
  port = next;
  port.onmessage = (e) => loop?.onDetect(e.data as DetectToCapture);
  loop?.setDetectPort(port);
}

function init(msg: Extract<ToCapture, { type: "init" }>): void {
  const { config } = msg;
  configureLibs(msg.libs);
  const opts = { width: config.width, height: config.height, fps: config.fps };
  loop = new CaptureLoop({
    config,
    openSource: () => createSource(config.source, opts),
    codec: shimCodec,
    clock: realClock,
    post,
    resume: msg.resume,
  });
  loop.setWantAnnotated(msg.wantAnnotated);
  loop.setZones(msg.zones);
  connect(msg.detectPort);
  stallTimer = setInterval(() => loop?.watchStall(), STALL_CHECK_MS);
  loop.run().catch((e) => post({ type: "fatal", error: toWireError(e) }));
}

/** A visit's best snapshot, drawn here so the main thread never decodes or encodes. */
function render(req: RenderRequest): void {
  try {
    const images = renderImages(shimCodec, req);
    post({ type: "rendered", id: req.id, images, error: null }, [
      images.jpeg.buffer as ArrayBuffer,
      images.thumbJpeg.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    post({ type: "rendered", id: req.id, images: null, error: errorMessage(e) });
  }
}

function stop(): void {
  clearInterval(stallTimer);
  loop?.stop();
  port?.close();
  port = null;
  post({ type: "stopped" });
}

self.onmessage = (ev: MessageEvent<ToCapture>) => {
  const msg = ev.data;
  switch (msg.type) {
    case "init":
      init(msg);
      break;
    case "detect-port":
      connect(msg.port);
      break;
    case "want-annotated":
      loop?.setWantAnnotated(msg.on);
      break;
    case "snapshot":
      loop?.requestSnapshot(msg.id);
      break;
    case "zones":
      loop?.setZones(msg.zones);
      break;
    case "render":
      render(msg.request);
      break;
    case "stop":
      stop();
      break;
  }
};
