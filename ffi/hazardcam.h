/* hazardcam shim: V4L2 capture and libjpeg-turbo image work for bun:ffi.
 * Conventions: JS owns every buffer, C fills it. Functions return >= 0 on success
 * (a byte count where it says so) or one of the negative HC_E* codes; never abort.
 * Images are packed RGB24 (3 bytes per pixel, stride = width * 3). */
#ifndef HAZARDCAM_H
#define HAZARDCAM_H
#include <stdint.h>

#define HC_OK 0
#define HC_ENODEV -1   /* no such device file */
#define HC_EBUSY -2    /* device is used by another process */
#define HC_EFORMAT -3  /* no supported pixel format (MJPEG or YUYV) */
#define HC_ETIMEOUT -4 /* no frame within the timeout */
#define HC_EGONE -5    /* device disappeared (unplugged): close and reopen */
#define HC_ENOTCAM -6  /* file exists but is not a V4L2 video capture device */
#define HC_EIO -7      /* other I/O error (errno in hc_last_errno) */
#define HC_EJPEG -8    /* corrupt or unsupported JPEG */
#define HC_EARG -9     /* bad argument or a buffer too small */
#define HC_EPERM -10   /* permission denied (add the user to group video) */
#define HC_ENOMEM -11
#define HC_ESTATE -12  /* wrong call order, e.g. grab before start */

#define HC_FOURCC_MJPG 0x47504a4d /* v4l2_fourcc('M','J','P','G') */
#define HC_FOURCC_YUYV 0x56595559 /* v4l2_fourcc('Y','U','Y','V') */

#define HC_ABI_VERSION 1 /* what hc_abi_version returns for this header */

int hc_abi_version(void);               /* bumped on any signature change */
const char *hc_strerror(int code);      /* static string, never NULL */
int hc_last_errno(void);                /* errno of the last failing call, this thread */

/* ---- V4L2 camera ---- */
typedef struct hc_cam hc_cam;
/* Opens a device path (e.g. /dev/video0). On failure returns NULL and sets *err. */
hc_cam *hc_cam_open(const char *path, int *err);
/* Writes "FOURCC WxH WxH ...\n" lines (one per format the device offers, discrete sizes;
 * stepwise ranges as "FOURCC min WxH-WxH") into out, NUL-terminated. Returns bytes written. */
int hc_cam_formats(hc_cam *cam, char *out, int out_cap);
/* Negotiates MJPEG first, then YUYV (fourcc 0 = auto, or force one), asks for w x h and
 * fps (0 = driver default), maps n_buffers (>= 3) and starts streaming.
 * The size the driver gave is in hc_cam_width/height: it may differ from w x h. */
int hc_cam_start(hc_cam *cam, int w, int h, uint32_t fourcc, int fps, int n_buffers);
int hc_cam_width(hc_cam *cam);
int hc_cam_height(hc_cam *cam);
uint32_t hc_cam_fourcc(hc_cam *cam);
/* After hc_cam_start: the largest frame hc_cam_grab can return (the biggest mmap buffer), so
 * JS can size dst. */
int hc_cam_buffer_size(hc_cam *cam);
/* Waits up to timeout_ms for a frame, drains the queue so the newest frame wins (older ones
 * are requeued and counted in *dropped), copies it into dst. Returns bytes copied.
 * meta (may be NULL) receives: [0] sequence, [1] driver timestamp in us (monotonic),
 * [2] frames dropped by this call. */
int hc_cam_grab(hc_cam *cam, uint8_t *dst, int dst_cap, int timeout_ms, int64_t *meta);
/* STREAMOFF, munmap, close. Idempotent; the handle stays valid until hc_cam_free. */
int hc_cam_stop(hc_cam *cam);
void hc_cam_free(hc_cam *cam); /* stops if needed, then frees the handle */

/* ---- JPEG (libjpeg-turbo, linked statically) ---- */
/* Reads the header. dims receives [0] width, [1] height. */
int hc_jpeg_info(const uint8_t *jpg, int len, int32_t *dims);
/* Decodes to RGB24 of exactly the header size into rgb (cap >= w*h*3). */
int hc_jpeg_decode(const uint8_t *jpg, int len, uint8_t *rgb, int rgb_cap);
/* Encodes RGB24 at quality 1..100 (4:2:0). Returns JPEG bytes written to out. */
int hc_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, uint8_t *out, int out_cap);
/* Upper bound of hc_jpeg_encode's output for w x h. */
int hc_jpeg_bound(int w, int h);

/* ---- pixels ---- */
/* YUYV 4:2:2 (Y0 U Y1 V, stride w*2, w even) to RGB24, BT.601 limited range (Y 16..235), which
 * is what V4L2's YUYV means by default and what UVC cameras send. Returns bytes written. */
int hc_yuyv_to_rgb(const uint8_t *yuyv, int w, int h, uint8_t *rgb, int rgb_cap);
/* Bilinear resize RGB24 sw x sh to dw x dh. letterbox = 0: stretch (as the original did);
 * 1: keep aspect, pad with black, centred. For letterbox, pad (may be NULL) receives
 * [0] x offset, [1] y offset, [2] scaled width, [3] scaled height, in dst pixels. */
int hc_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int letterbox, int32_t *pad);
/* Rectangle outline in pixels (inclusive corners, clipped), rgb = 0xRRGGBB. */
int hc_draw_rect(uint8_t *img, int w, int h, int x0, int y0, int x1, int y1, uint32_t rgb, int thickness);
/* Text in the built-in 8x8 bitmap font (ASCII 32..126), scaled by an integer, on a filled
 * background box (bg_rgb < 0: transparent). Returns the text width in pixels. */
int hc_draw_text(uint8_t *img, int w, int h, int x, int y, const char *text, int scale, uint32_t fg_rgb, int64_t bg_rgb);

/* ---- TFLite error reporter ---- */
/* Address of a C function usable as TfLiteInterpreterOptionsSetErrorReporter's reporter:
 * it formats each message into a per-thread buffer (user_data is ignored). */
void *hc_tflite_reporter(void);
/* Copies the messages reported since the last call (newline-separated) into out and clears
 * them. Returns bytes written. */
int hc_tflite_take_errors(char *out, int out_cap);
#endif
