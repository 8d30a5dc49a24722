/**
 * Bindings of our C shim (ffi/hazardcam.h): V4L2 capture, JPEG (libjpeg-turbo) and pixel work,
 * and TFLite's error reporter. JS owns every buffer; C fills it. Images are packed RGB24
 * (stride = width * 3). src/native/shim/lib.ts is the only module that loads libhazardcam.so;
 * the rest is split by concern: camera.ts, image.ts, reporter.ts, errors.ts.
 */
export { ShimError, type ShimErrorName } from "./shim/errors.ts";
export {
  Camera,
  parseFormats,
  type CameraFormat,
  type Fourcc,
  type FrameSize,
  type GrabResult,
  type StartOptions,
  type StartedFormat,
} from "./shim/camera.ts";
export {
  drawRect,
  drawText,
  jpegDecode,
  jpegEncode,
  jpegInfo,
  resizeRgb,
  yuyvToRgb,
  type DecodedImage,
  type ResizeOptions,
} from "./shim/image.ts";
export { takeTfliteErrors, tfliteReporterPtr } from "./shim/reporter.ts";
