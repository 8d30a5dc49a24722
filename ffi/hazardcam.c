/* hazardcam shim: V4L2 capture, JPEG (libjpeg-turbo, static) and pixel work for bun:ffi.
 * The ABI is ffi/hazardcam.h. Never aborts, never prints: every failure is a negative HC_E*.
 *
 * JPEG goes through libjpeg-turbo's libjpeg API, not its TurboJPEG (tj*) API: Debian's x86-64
 * libturbojpeg.a has turbojpeg.c and jerror.c built without -fPIC (a local-exec TLS errStr, a
 * direct stderr reference), so they cannot be linked into a shared object. The libjpeg objects
 * of the same archive can, as long as we bring our own error manager (below). The codec and
 * its SIMD code are the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

/* jpeglib.h needs FILE and size_t declared first. */
#include <jpeglib.h>

#pragma GCC visibility push(default)
#include "hazardcam.h"
#pragma GCC visibility pop

#include "font8x8.h"

#define HC_MAX_BUFS 32
#define HC_MAX_DIM 65500       /* JPEG's limit; also bounds w*h*3 below INT_MAX checks */
#define HC_TFL_CAP 4096        /* per-thread TFLite message buffer, bytes */
#define HC_FIX 14              /* fixed-point bits of resize weights */

/* ------------------------------------------------------------------------------------------ */
/* per-thread state                                                                            */

static __thread int tls_errno;

typedef struct hc_jerr {
  struct jpeg_error_mgr pub; /* first: libjpeg casts cinfo->err to this */
  jmp_buf jb;
  int code; /* HC_E* to return after the longjmp */
} hc_jerr;

typedef struct hc_dest {
  struct jpeg_destination_mgr pub; /* first: libjpeg casts cinfo->dest to this */
  uint8_t *buf;
  size_t cap;
} hc_dest;

typedef struct hc_tls {
  int dec_ready;
  struct jpeg_decompress_struct dec;
  hc_jerr dec_err;
  int enc_ready;
  struct jpeg_compress_struct enc;
  hc_jerr enc_err;
  hc_dest dest;
  uint8_t *scratch; /* resize intermediate rows */
  size_t scratch_cap;
  int32_t *taps; /* resize taps: [start, count] per dst index, then weights */
  size_t taps_cap;
  int32_t *acc; /* resize: one output row of vertical-pass sums */
  size_t acc_cap;
  int32_t *ustart; /* resize: per dst pixel, the first of its n taps (uniform_taps) */
  int16_t *uwts;   /* resize: n weights per dst pixel (uniform_taps) */
  size_t utaps_cap; /* dst pixels ustart has room for; uwts has room for utaps_n times that */
  int utaps_n;
  int16_t *blk; /* resize: HC_RB source rows interleaved (hpass_block) */
  size_t blk_cap;
  size_t tfl_len;
  char tfl[HC_TFL_CAP];
} hc_tls;

static __thread hc_tls *tls_self;
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static int tls_key_ok;

static void tls_destroy(void *p) {
  hc_tls *t = p;
  if (!t) return;
  if (t->dec_ready) jpeg_destroy_decompress(&t->dec);
  if (t->enc_ready) jpeg_destroy_compress(&t->enc);
  free(t->scratch);
  free(t->acc);
  free(t->ustart);
  free(t->uwts);
  free(t->blk);
  free(t->taps);
  free(t);
}

static void tls_key_create(void) { tls_key_ok = pthread_key_create(&tls_key, tls_destroy) == 0; }

static hc_tls *tls_get(void) {
  if (tls_self) return tls_self;
  pthread_once(&tls_once, tls_key_create);
  hc_tls *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  /* Without a key the state leaks at thread exit instead of being freed: still correct. */
  if (tls_key_ok) pthread_setspecific(tls_key, t);
  tls_self = t;
  return t;
}

static int fail_errno(int code, int e) {
  tls_errno = e;
  return code;
}

/* ------------------------------------------------------------------------------------------ */
/* misc                                                                                        */

int hc_abi_version(void) { return HC_ABI_VERSION; }

int hc_last_errno(void) { return tls_errno; }

const char *hc_strerror(int code) {
  switch (code) {
    case HC_OK: return "ok";
    case HC_ENODEV: return "no such device";
    case HC_EBUSY: return "device is busy (used by another program)";
    case HC_EFORMAT: return "camera offers neither MJPEG nor YUYV";
    case HC_ETIMEOUT: return "no frame within the timeout";
    case HC_EGONE: return "device disappeared (unplugged?)";
    case HC_ENOTCAM: return "not a V4L2 video capture device";
    case HC_EIO: return "I/O error";
    case HC_EJPEG: return "corrupt or unsupported JPEG";
    case HC_EARG: return "bad argument or buffer too small";
    case HC_EPERM: return "permission denied";
    case HC_ENOMEM: return "out of memory";
    case HC_ESTATE: return "wrong call order";
    default: return code >= 0 ? "ok" : "unknown error";
  }
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int xioctl(int fd, unsigned long req, void *arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

/* ------------------------------------------------------------------------------------------ */
/* V4L2 camera                                                                                 */

struct hc_cam {
  int fd;
  int streaming;
  int width, height;
  uint32_t fourcc;
  uint32_t bytesperline, sizeimage;
  int nbufs;
  void *mem[HC_MAX_BUFS];
  size_t len[HC_MAX_BUFS];
  size_t maxlen;
};

/* errno of a failed open(2) → HC_E*. */
static int map_open_errno(const char *path, int e) {
  switch (e) {
    case ENOENT:
    case ENXIO:
    case ENODEV:
    case ENOTDIR: return HC_ENODEV;
    case EACCES:
    case EPERM: {
      /* A file we may not write is not a camera problem: say so instead of "join group video". */
      struct stat st;
      if (stat(path, &st) == 0 && !S_ISCHR(st.st_mode)) return HC_ENOTCAM;
      return HC_EPERM;
    }
    case EBUSY: return HC_EBUSY;
    case EISDIR: return HC_ENOTCAM;
    case ENOMEM: return HC_ENOMEM;
    default: return HC_EIO;
  }
}

/* errno of a failed ioctl/mmap while setting up streaming → HC_E*. */
static int map_setup_errno(int e) {
  switch (e) {
    case ENODEV:
    case ENXIO: return HC_EGONE;
    case EBUSY: return HC_EBUSY;
    case ENOMEM: return HC_ENOMEM;
    case EACCES:
    case EPERM: return HC_EPERM;
    default: return HC_EIO;
  }
}

hc_cam *hc_cam_open(const char *path, int *err) {
  int dummy;
  if (!err) err = &dummy;
  *err = HC_OK;
  if (!path || !*path) {
    *err = HC_EARG;
    return NULL;
  }
  int fd;
  do fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int e = errno;
    *err = fail_errno(map_open_errno(path, e), e);
    return NULL;
  }
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof cap);
  if (xioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
    int e = errno;
    close(fd);
    if (e == ENODEV || e == ENXIO) *err = fail_errno(HC_EGONE, e);
    /* ENOSYS: an emulator (qemu-user) that does not know the ioctl; same meaning. */
    else if (e == ENOTTY || e == EINVAL || e == ENOSYS) *err = fail_errno(HC_ENOTCAM, e);
    else *err = fail_errno(HC_EIO, e);
    return NULL;
  }
  uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
    close(fd);
    *err = fail_errno(HC_ENOTCAM, 0);
    return NULL;
  }
  hc_cam *cam = calloc(1, sizeof *cam);
  if (!cam) {
    close(fd);
    *err = fail_errno(HC_ENOMEM, ENOMEM);
    return NULL;
  }
  cam->fd = fd;
  return cam;
}

static void fourcc_str(uint32_t f, char out[5]) {
  for (int i = 0; i < 4; i++) {
    char c = (char)((f >> (8 * i)) & 0xff);
    out[i] = (c >= 33 && c <= 126) ? c : '?';
  }
  out[4] = 0;
}

typedef struct {
  char *out;
  int cap;
  int pos;
} hc_sbuf;

static void sb_add(hc_sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(hc_sbuf *sb, const char *fmt, ...) {
  if (sb->pos >= sb->cap - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(sb->out + sb->pos, (size_t)(sb->cap - sb->pos), fmt, ap);
  va_end(ap);
  if (n < 0) return;
  sb->pos += n;
  if (sb->pos > sb->cap - 1) sb->pos = sb->cap - 1;
}

int hc_cam_formats(hc_cam *cam, char *out, int out_cap) {
  if (!cam || !out || out_cap <= 0) return HC_EARG;
  out[0] = 0;
  if (cam->fd < 0) return HC_ESTATE;
  hc_sbuf sb = {out, out_cap, 0};
  for (uint32_t i = 0; i < 64; i++) {
    struct v4l2_fmtdesc fd;
    memset(&fd, 0, sizeof fd);
    fd.index = i;
    fd.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(cam->fd, VIDIOC_ENUM_FMT, &fd) < 0) {
      int e = errno;
      if (i == 0 && (e == ENODEV || e == ENXIO)) return fail_errno(HC_EGONE, e);
      break;
    }
    char name[5];
    fourcc_str(fd.pixelformat, name);
    sb_add(&sb, "%s", name);
    for (uint32_t j = 0; j < 256; j++) {
      struct v4l2_frmsizeenum fs;
      memset(&fs, 0, sizeof fs);
      fs.index = j;
      fs.pixel_format = fd.pixelformat;
      if (xioctl(cam->fd, VIDIOC_ENUM_FRAMESIZES, &fs) < 0) break;
      if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        sb_add(&sb, " %ux%u", fs.discrete.width, fs.discrete.height);
      } else {
        sb_add(&sb, " %ux%u-%ux%u", fs.stepwise.min_width, fs.stepwise.min_height,
               fs.stepwise.max_width, fs.stepwise.max_height);
        break;
      }
    }
    sb_add(&sb, "\n");
  }
  out[sb.pos] = 0;
  return sb.pos;
}

static void cam_release_buffers(hc_cam *cam) {
  for (int i = 0; i < cam->nbufs; i++) {
    if (cam->mem[i] && cam->mem[i] != MAP_FAILED) munmap(cam->mem[i], cam->len[i]);
    cam->mem[i] = NULL;
    cam->len[i] = 0;
  }
  if (cam->nbufs > 0 && cam->fd >= 0) {
    struct v4l2_requestbuffers rb;
    memset(&rb, 0, sizeof rb);
    rb.count = 0;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    xioctl(cam->fd, VIDIOC_REQBUFS, &rb); /* frees the driver's buffers; failure is harmless */
  }
  cam->nbufs = 0;
  cam->maxlen = 0;
}

/* Tries S_FMT with one pixel format. Returns 1 if the driver took it, 0 if it chose another
 * format or refused, or a negative HC_E* for errors that end negotiation. */
static int cam_try_format(hc_cam *cam, uint32_t fourcc, int w, int h) {
  struct v4l2_format f;
  memset(&f, 0, sizeof f);
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  f.fmt.pix.width = (uint32_t)w;
  f.fmt.pix.height = (uint32_t)h;
  f.fmt.pix.pixelformat = fourcc;
  f.fmt.pix.field = V4L2_FIELD_ANY;
  if (xioctl(cam->fd, VIDIOC_S_FMT, &f) < 0) {
    int e = errno;
    if (e == EINVAL) return 0;
    return fail_errno(map_setup_errno(e), e);
  }
  if (f.fmt.pix.pixelformat != fourcc) return 0;
  cam->fourcc = fourcc;
  cam->width = (int)f.fmt.pix.width;
  cam->height = (int)f.fmt.pix.height;
  cam->bytesperline = f.fmt.pix.bytesperline;
  cam->sizeimage = f.fmt.pix.sizeimage;
  return 1;
}

/* Negotiates the pixel format: the one asked for, else MJPEG, then YUYV, among those the driver
 * lists (a driver that cannot enumerate still gets asked for both, in order). */
static int cam_choose_format(hc_cam *cam, int w, int h, uint32_t fourcc) {
  int enum_ok = 0, has_mjpg = 0, has_yuyv = 0;
  for (uint32_t i = 0; i < 64; i++) {
    struct v4l2_fmtdesc fd;
    memset(&fd, 0, sizeof fd);
    fd.index = i;
    fd.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(cam->fd, VIDIOC_ENUM_FMT, &fd) < 0) {
      int e = errno;
      if (e == ENODEV || e == ENXIO) return fail_errno(HC_EGONE, e);
      break;
    }
    enum_ok = 1;
    if (fd.pixelformat == HC_FOURCC_MJPG) has_mjpg = 1;
    if (fd.pixelformat == HC_FOURCC_YUYV) has_yuyv = 1;
  }
  uint32_t order[2];
  int n = 0;
  if (fourcc) {
    if (enum_ok && !((fourcc == HC_FOURCC_MJPG && has_mjpg) || (fourcc == HC_FOURCC_YUYV && has_yuyv)))
      return HC_EFORMAT;
    order[n++] = fourcc;
  } else {
    if (!enum_ok || has_mjpg) order[n++] = HC_FOURCC_MJPG;
    if (!enum_ok || has_yuyv) order[n++] = HC_FOURCC_YUYV;
  }
  for (int i = 0; i < n; i++) {
    int r = cam_try_format(cam, order[i], w, h);
    if (r != 0) return r < 0 ? r : HC_OK;
  }
  return HC_EFORMAT;
}

/* Asks for fps frames per second. Not every driver can set a rate: the camera then runs at its
 * own, which is fine. */
static void cam_set_fps(hc_cam *cam, int fps) {
  if (fps <= 0) return;
  struct v4l2_streamparm p;
  memset(&p, 0, sizeof p);
  p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(cam->fd, VIDIOC_G_PARM, &p) == 0 &&
      (p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
    p.parm.capture.timeperframe.numerator = 1;
    p.parm.capture.timeperframe.denominator = (uint32_t)fps;
    xioctl(cam->fd, VIDIOC_S_PARM, &p);
  }
}

/* REQBUFS nb mmap buffers and maps each. On failure what was mapped stays in cam for
 * cam_release_buffers. */
static int cam_map_buffers(hc_cam *cam, int nb) {
  struct v4l2_requestbuffers rb;
  memset(&rb, 0, sizeof rb);
  rb.count = (uint32_t)nb;
  rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  rb.memory = V4L2_MEMORY_MMAP;
  if (xioctl(cam->fd, VIDIOC_REQBUFS, &rb) < 0) {
    int e = errno;
    return fail_errno(e == EINVAL ? HC_ENOTCAM : map_setup_errno(e), e);
  }
  cam->nbufs = (int)rb.count; /* even when refused below, so the release frees them */
  if (rb.count < 2 || rb.count > HC_MAX_BUFS) {
    if (rb.count > HC_MAX_BUFS) cam->nbufs = HC_MAX_BUFS; /* mem[] has no room for more */
    return fail_errno(HC_ENOMEM, 0);
  }
  for (int i = 0; i < cam->nbufs; i++) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = (uint32_t)i;
    if (xioctl(cam->fd, VIDIOC_QUERYBUF, &b) < 0) return fail_errno(map_setup_errno(errno), errno);
    void *m = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, cam->fd, b.m.offset);
    if (m == MAP_FAILED)
      return fail_errno(errno == ENOMEM ? HC_ENOMEM : map_setup_errno(errno), errno);
    cam->mem[i] = m;
    cam->len[i] = b.length;
    if (b.length > cam->maxlen) cam->maxlen = b.length;
  }
  return HC_OK;
}

/* Queues every buffer and starts streaming. */
static int cam_stream_on(hc_cam *cam) {
  for (int i = 0; i < cam->nbufs; i++) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = (uint32_t)i;
    if (xioctl(cam->fd, VIDIOC_QBUF, &b) < 0) return fail_errno(map_setup_errno(errno), errno);
  }
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(cam->fd, VIDIOC_STREAMON, &type) < 0) return fail_errno(map_setup_errno(errno), errno);
  return HC_OK;
}

int hc_cam_start(hc_cam *cam, int w, int h, uint32_t fourcc, int fps, int n_buffers) {
  if (!cam) return HC_EARG;
  if (cam->fd < 0 || cam->streaming) return HC_ESTATE;
  if (w <= 0 || h <= 0 || w > HC_MAX_DIM || h > HC_MAX_DIM || fps < 0) return HC_EARG;
  if (fourcc && fourcc != HC_FOURCC_MJPG && fourcc != HC_FOURCC_YUYV) return HC_EFORMAT;
  int nb = n_buffers < 3 ? 3 : n_buffers > HC_MAX_BUFS ? HC_MAX_BUFS : n_buffers;
  int rc = cam_choose_format(cam, w, h, fourcc);
  if (rc != HC_OK) return rc;
  cam_set_fps(cam, fps);
  rc = cam_map_buffers(cam, nb);
  if (rc == HC_OK) rc = cam_stream_on(cam);
  if (rc != HC_OK) {
    cam_release_buffers(cam);
    return rc;
  }
  cam->streaming = 1;
  return HC_OK;
}

int hc_cam_width(hc_cam *cam) { return cam ? cam->width : HC_EARG; }
int hc_cam_height(hc_cam *cam) { return cam ? cam->height : HC_EARG; }
uint32_t hc_cam_fourcc(hc_cam *cam) { return cam ? cam->fourcc : 0; }
int hc_cam_buffer_size(hc_cam *cam) {
  if (!cam) return HC_EARG;
  if (!cam->streaming) return HC_ESTATE;
  return cam->maxlen > INT_MAX ? INT_MAX : (int)cam->maxlen;
}

static int cam_requeue(hc_cam *cam, uint32_t index) {
  struct v4l2_buffer b;
  memset(&b, 0, sizeof b);
  b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b.memory = V4L2_MEMORY_MMAP;
  b.index = index;
  return xioctl(cam->fd, VIDIOC_QBUF, &b);
}

static int is_gone_errno(int e) { return e == ENODEV || e == ENXIO || e == EIO; }

/* Dequeues what the driver has captured, keeping only the newest good frame in *best (*have set)
 * and requeueing the rest. At most one buffer count of DQBUFs per call: a camera that fills
 * buffers faster than we drain them cannot keep grab here. Returns HC_OK, or a negative HC_E*
 * with nothing held (what was held is requeued). */
static int cam_drain(hc_cam *cam, struct v4l2_buffer *best, int *have, int64_t *dropped) {
  for (int i = 0; i < cam->nbufs; i++) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    if (xioctl(cam->fd, VIDIOC_DQBUF, &b) < 0) {
      int e = errno;
      if (e == EAGAIN) return HC_OK;
      if (*have) return HC_OK; /* deliver the frame we hold; the next grab meets the error again */
      return fail_errno(is_gone_errno(e) ? HC_EGONE : HC_EIO, e);
    }
    if (b.index >= (uint32_t)cam->nbufs) {
      /* A driver bug: that buffer cannot be queued again, but the one we hold can. */
      if (*have) cam_requeue(cam, best->index);
      *have = 0;
      return fail_errno(HC_EIO, 0);
    }
    if ((b.flags & V4L2_BUF_FLAG_ERROR) || b.bytesused == 0) {
      cam_requeue(cam, b.index); /* a damaged frame: the driver says so, skip it */
      (*dropped)++;
      continue;
    }
    if (*have) {
      cam_requeue(cam, best->index);
      (*dropped)++;
    }
    *best = b;
    *have = 1;
  }
  return HC_OK;
}

int hc_cam_grab(hc_cam *cam, uint8_t *dst, int dst_cap, int timeout_ms, int64_t *meta) {
  if (!cam || !dst || dst_cap <= 0) return HC_EARG;
  if (cam->fd < 0 || !cam->streaming) return HC_ESTATE;
  int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
  int64_t dropped = 0;
  int have = 0;
  struct v4l2_buffer best;
  memset(&best, 0, sizeof best);
  for (;;) {
    int rc = cam_drain(cam, &best, &have, &dropped);
    if (rc != HC_OK) return rc;
    if (have) break;
    int wait = -1;
    if (timeout_ms >= 0) {
      int64_t left = deadline - now_ms();
      if (left <= 0) return HC_ETIMEOUT;
      wait = left > INT_MAX ? INT_MAX : (int)left;
    }
    struct pollfd p = {.fd = cam->fd, .events = POLLIN, .revents = 0};
    int r = poll(&p, 1, wait);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail_errno(HC_EIO, errno);
    }
    if (r == 0) return HC_ETIMEOUT;
    if (!(p.revents & POLLIN) && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
      return fail_errno(HC_EGONE, ENODEV);
  }
  size_t n = best.bytesused;
  if (n > cam->len[best.index]) n = cam->len[best.index];
  if (n > (size_t)dst_cap) {
    cam_requeue(cam, best.index);
    return HC_EARG;
  }
  memcpy(dst, cam->mem[best.index], n);
  if (meta) {
    meta[0] = best.sequence;
    meta[1] = (int64_t)best.timestamp.tv_sec * 1000000 + best.timestamp.tv_usec;
    meta[2] = dropped;
  }
  /* A failed requeue means the device is going away: the next grab reports it. */
  cam_requeue(cam, best.index);
  return (int)n;
}

int hc_cam_stop(hc_cam *cam) {
  if (!cam) return HC_EARG;
  if (cam->fd < 0) return HC_OK;
  if (cam->streaming) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(cam->fd, VIDIOC_STREAMOFF, &type);
    cam->streaming = 0;
  }
  cam_release_buffers(cam);
  close(cam->fd);
  cam->fd = -1;
  return HC_OK;
}

void hc_cam_free(hc_cam *cam) {
  if (!cam) return;
  hc_cam_stop(cam);
  free(cam);
}

/* ------------------------------------------------------------------------------------------ */
/* JPEG                                                                                        */

static void jerr_exit(j_common_ptr c) {
  hc_jerr *e = (hc_jerr *)c->err;
  longjmp(e->jb, 1);
}
static void jerr_emit(j_common_ptr c, int level) {
  if (level < 0) c->err->num_warnings++; /* warnings (e.g. truncated data) still give an image */
}
static void jerr_output(j_common_ptr c) { (void)c; }
static void jerr_format(j_common_ptr c, char *buf) {
  snprintf(buf, JMSG_LENGTH_MAX, "libjpeg message %d", c->err->msg_code);
}
static void jerr_reset(j_common_ptr c) {
  c->err->num_warnings = 0;
  c->err->msg_code = 0;
}

static void jerr_init(hc_jerr *e) {
  memset(e, 0, sizeof *e);
  e->pub.error_exit = jerr_exit;
  e->pub.emit_message = jerr_emit;
  e->pub.output_message = jerr_output;
  e->pub.format_message = jerr_format;
  e->pub.reset_error_mgr = jerr_reset;
}

/* The thread's decompressor, created on first use (creation itself can fail only on ENOMEM). */
static struct jpeg_decompress_struct *dec_get(hc_tls *t) {
  if (t->dec_ready) return &t->dec;
  jerr_init(&t->dec_err);
  t->dec.err = &t->dec_err.pub;
  if (setjmp(t->dec_err.jb)) return NULL;
  jpeg_create_decompress(&t->dec);
  t->dec_ready = 1;
  return &t->dec;
}

static struct jpeg_compress_struct *enc_get(hc_tls *t) {
  if (t->enc_ready) return &t->enc;
  jerr_init(&t->enc_err);
  t->enc.err = &t->enc_err.pub;
  if (setjmp(t->enc_err.jb)) return NULL;
  jpeg_create_compress(&t->enc);
  t->enc_ready = 1;
  return &t->enc;
}

int hc_jpeg_info(const uint8_t *jpg, int len, int32_t *dims) {
  if (!dims) return HC_EARG;
  if (!jpg || len < 4) return HC_EJPEG;
  hc_tls *t = tls_get();
  if (!t) return HC_ENOMEM;
  struct jpeg_decompress_struct *d = dec_get(t);
  if (!d) return HC_ENOMEM;
  t->dec_err.code = HC_EJPEG;
  if (setjmp(t->dec_err.jb)) {
    jpeg_abort_decompress(d);
    return t->dec_err.code;
  }
  jpeg_mem_src(d, jpg, (unsigned long)len);
  if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK) {
    jpeg_abort_decompress(d);
    return HC_EJPEG;
  }
  dims[0] = (int32_t)d->image_width;
  dims[1] = (int32_t)d->image_height;
  jpeg_abort_decompress(d);
  return HC_OK;
}

int hc_jpeg_decode(const uint8_t *jpg, int len, uint8_t *rgb, int rgb_cap) {
  if (!rgb || rgb_cap <= 0) return HC_EARG;
  if (!jpg || len < 4) return HC_EJPEG;
  hc_tls *t = tls_get();
  if (!t) return HC_ENOMEM;
  struct jpeg_decompress_struct *d = dec_get(t);
  if (!d) return HC_ENOMEM;
  t->dec_err.code = HC_EJPEG;
  if (setjmp(t->dec_err.jb)) {
    jpeg_abort_decompress(d);
    return t->dec_err.code;
  }
  jpeg_mem_src(d, jpg, (unsigned long)len);
  if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK) {
    jpeg_abort_decompress(d);
    return HC_EJPEG;
  }
  int64_t need = (int64_t)d->image_width * d->image_height * 3;
  if (need > rgb_cap) {
    jpeg_abort_decompress(d);
    return HC_EARG;
  }
  d->out_color_space = JCS_RGB;
  jpeg_start_decompress(d);
  if (d->output_components != 3 || d->output_width != d->image_width ||
      d->output_height != d->image_height) {
    jpeg_abort_decompress(d);
    return HC_EJPEG;
  }
  size_t stride = (size_t)d->output_width * 3;
  while (d->output_scanline < d->output_height) {
    JSAMPROW rows[8];
    JDIMENSION want = d->output_height - d->output_scanline;
    if (want > 8) want = 8;
    for (JDIMENSION i = 0; i < want; i++) rows[i] = rgb + (size_t)(d->output_scanline + i) * stride;
    if (jpeg_read_scanlines(d, rows, want) == 0) break;
  }
  jpeg_finish_decompress(d);
  return (int)need;
}

static void dest_init(j_compress_ptr c) {
  hc_dest *d = (hc_dest *)c->dest;
  d->pub.next_output_byte = d->buf;
  d->pub.free_in_buffer = d->cap;
}
static boolean dest_full(j_compress_ptr c) {
  hc_jerr *e = (hc_jerr *)c->err;
  e->code = HC_EARG; /* out is smaller than hc_jpeg_bound */
  longjmp(e->jb, 1);
  return FALSE;
}
static void dest_term(j_compress_ptr c) { (void)c; }

int hc_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, uint8_t *out, int out_cap) {
  if (!rgb || !out || out_cap <= 0) return HC_EARG;
  if (w <= 0 || h <= 0 || w > HC_MAX_DIM || h > HC_MAX_DIM) return HC_EARG;
  if (quality < 1 || quality > 100) return HC_EARG;
  hc_tls *t = tls_get();
  if (!t) return HC_ENOMEM;
  struct jpeg_compress_struct *c = enc_get(t);
  if (!c) return HC_ENOMEM;
  t->dest.pub.init_destination = dest_init;
  t->dest.pub.empty_output_buffer = dest_full;
  t->dest.pub.term_destination = dest_term;
  t->dest.buf = out;
  t->dest.cap = (size_t)out_cap;
  c->dest = &t->dest.pub;
  t->enc_err.code = HC_EJPEG;
  if (setjmp(t->enc_err.jb)) {
    jpeg_abort_compress(c);
    return t->enc_err.code;
  }
  c->image_width = (JDIMENSION)w;
  c->image_height = (JDIMENSION)h;
  c->input_components = 3;
  c->in_color_space = JCS_RGB;
  jpeg_set_defaults(c);
  jpeg_set_quality(c, quality, TRUE);
  c->comp_info[0].h_samp_factor = 2; /* 4:2:0 */
  c->comp_info[0].v_samp_factor = 2;
  c->comp_info[1].h_samp_factor = c->comp_info[1].v_samp_factor = 1;
  c->comp_info[2].h_samp_factor = c->comp_info[2].v_samp_factor = 1;
  c->dct_method = JDCT_ISLOW;
  jpeg_start_compress(c, TRUE);
  size_t stride = (size_t)w * 3;
  while (c->next_scanline < c->image_height) {
    JSAMPROW rows[8];
    JDIMENSION want = c->image_height - c->next_scanline;
    if (want > 8) want = 8;
    for (JDIMENSION i = 0; i < want; i++)
      rows[i] = (JSAMPROW)(uintptr_t)(rgb + (size_t)(c->next_scanline + i) * stride);
    jpeg_write_scanlines(c, rows, want);
  }
  jpeg_finish_compress(c);
  return (int)(t->dest.cap - t->dest.pub.free_in_buffer);
}

int hc_jpeg_bound(int w, int h) {
  if (w <= 0 || h <= 0 || w > HC_MAX_DIM || h > HC_MAX_DIM) return HC_EARG;
  /* Worst case of baseline 4:2:0 with 16x16 MCUs: 1.5 samples per pixel at <= 2 bytes each,
   * plus headers and tables. */
  int64_t pw = ((int64_t)w + 15) / 16 * 16, ph = ((int64_t)h + 15) / 16 * 16;
  int64_t n = pw * ph * 3 + 2048;
  return n > INT_MAX ? HC_EARG : (int)n;
}

/* ------------------------------------------------------------------------------------------ */
/* pixels                                                                                      */

static inline uint8_t clamp_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* BT.601 limited range ("video range": Y 16..235, Cb/Cr 16..240), which V4L2 means by YUYV
 * with the default quantization and which UVC cameras send:
 * R = 1.164383 Y' + 1.596027 Cr', G = 1.164383 Y' - 0.391762 Cb' - 0.812968 Cr',
 * B = 1.164383 Y' + 2.017232 Cb', with Y' = Y - 16, Cb' = U - 128, Cr' = V - 128; scaled by 2^16. */
static inline void yuv_px(int y, int u, int v, uint8_t *o) {
  int yy = (y - 16) * 76309 + 32768;
  o[0] = clamp_u8((yy + 104597 * v) >> 16);
  o[1] = clamp_u8((yy - 25675 * u - 53279 * v) >> 16);
  o[2] = clamp_u8((yy + 132201 * u) >> 16);
}

int hc_yuyv_to_rgb(const uint8_t *yuyv, int w, int h, uint8_t *rgb, int rgb_cap) {
  if (!yuyv || !rgb || w <= 0 || h <= 0 || (w & 1) || w > HC_MAX_DIM || h > HC_MAX_DIM)
    return HC_EARG;
  int64_t need = (int64_t)w * h * 3;
  if (need > rgb_cap) return HC_EARG;
  int pairs = w / 2;
  for (int y = 0; y < h; y++) {
    const uint8_t *s = yuyv + (size_t)y * w * 2;
    uint8_t *o = rgb + (size_t)y * w * 3;
    for (int i = 0; i < pairs; i++, s += 4, o += 6) {
      int u = s[1] - 128, v = s[3] - 128;
      /* Chroma is sampled at the even pixel: the odd one takes the mean of its neighbours. */
      int u1 = u, v1 = v;
      if (i + 1 < pairs) {
        u1 = (u + s[5] - 128) / 2;
        v1 = (v + s[7] - 128) / 2;
      }
      yuv_px(s[0], u, v, o);
      yuv_px(s[2], u1, v1, o + 3);
    }
  }
  return (int)need;
}

/* Taps of a separable triangle filter from sn to dn samples, pixel centres aligned. When
 * shrinking, the triangle widens with the scale (each output averages all inputs it covers),
 * as ffmpeg's `scale=...:flags=bilinear` does; when growing it is plain bilinear. With the edge
 * rule below and 8-bit rows between the passes this matches ffmpeg to +-1 per sample, which
 * matters: the reference detections were made with ffmpeg, and the quantized SSD's scores jump
 * by a step for a few +-1 differences (plain 2x2 bilinear loses 0.06 on kite_and_cold).
 * Layout: [start, count] per dst index in tab[0 .. 2*dn), then maxn weights per dst index
 * (sum 1 << HC_FIX). */
static int taps_maxn(int sn, int dn) {
  double scale = (double)sn / dn;
  return (int)((scale > 1.0 ? scale : 1.0) * 2.0) + 4;
}

static size_t taps_len(int dn, int maxn) { return (size_t)dn * 2 + (size_t)dn * (size_t)maxn; }

static int ifloor(double x) {
  int i = (int)x;
  return i - (x < i);
}

static int make_taps(int32_t *tab, int sn, int dn, int maxn) {
  double scale = (double)sn / dn;
  double support = scale > 1.0 ? scale : 1.0;
  int32_t *wts = tab + (size_t)dn * 2;
  double fw[256];
  double *f = maxn <= 256 ? fw : malloc(sizeof(double) * (size_t)maxn);
  if (!f) return HC_ENOMEM;
  for (int i = 0; i < dn; i++) {
    double centre = (i + 0.5) * scale;
    int lo = ifloor(centre - support);
    int hi = -ifloor(-(centre + support)) + 1;
    /* Taps beyond the image count for the edge pixel (the edge is repeated), as swscale does. */
    int a = lo < 0 ? 0 : lo, b = hi > sn ? sn : hi;
    if (b - a > maxn) b = a + maxn;
    if (a >= b) { /* cannot happen: the centre lies inside the image */
      a = centre >= sn ? sn - 1 : 0;
      b = a + 1;
    }
    for (int k = 0; k < b - a; k++) f[k] = 0;
    double sum = 0;
    for (int j = lo; j < hi; j++) {
      double x = (j + 0.5 - centre) / support;
      double v = 1.0 - (x < 0 ? -x : x);
      if (v <= 0) continue;
      int k = (j < a ? a : j >= b ? b - 1 : j) - a;
      f[k] += v;
      sum += v;
    }
    if (sum <= 0) {
      f[0] = sum = 1;
    }
    /* Trim zero-weight taps at both ends so the inner loops stay short. */
    int s0 = 0, s1 = b - a;
    while (s0 < s1 - 1 && f[s0] == 0) s0++;
    while (s1 > s0 + 1 && f[s1 - 1] == 0) s1--;
    int32_t *w = wts + (size_t)i * maxn;
    int32_t total = 0;
    int big = 0;
    for (int k = s0; k < s1; k++) {
      w[k - s0] = (int32_t)(f[k] / sum * (1 << HC_FIX) + 0.5);
      total += w[k - s0];
      if (w[k - s0] > w[big]) big = k - s0;
    }
    w[big] += (1 << HC_FIX) - total; /* weights sum to exactly 1.0 */
    tab[2 * i] = a + s0;
    tab[2 * i + 1] = s1 - s0;
  }
  if (f != fw) free(f);
  return HC_OK;
}

/* The horizontal taps with one count n for every pixel (the largest count; n <= sw as each
 * pixel's taps lie inside the row): a pixel's start moves left where needed to stay inside the
 * row, and the extra taps weigh 0, which adds nothing. Weights are <= 1 << HC_FIX: int16. */
static void uniform_taps(const int32_t *tx, const int32_t *wx, int mx, int dw, int sw, int n,
                         int32_t *start, int16_t *wts) {
  for (int x = 0; x < dw; x++) {
    int a = tx[2 * x], c = tx[2 * x + 1];
    int a2 = a + n > sw ? sw - n : a;
    int16_t *w = wts + (size_t)x * n;
    for (int k = 0; k < n; k++) w[k] = 0;
    for (int k = 0; k < c; k++) w[a - a2 + k] = (int16_t)wx[(size_t)x * mx + k];
    start[x] = a2;
  }
}

#define HC_RB 8 /* source rows per block of the horizontal pass */

/* The horizontal pass over `rows` (<= HC_RB) rows at once: the rows are first interleaved into t
 * so that each source sample holds its HC_RB rows side by side, then every tap is one
 * multiply-add over 3 * HC_RB lanes, which the compiler vectorizes. Integer sums in another
 * order give the same result as one row at a time. */
__attribute__((optimize("O3"))) static void hpass_block(const uint8_t *src, size_t sstride,
                                                        int rows, int sw, uint8_t *dst,
                                                        size_t dstride, int dw,
                                                        const int32_t *start, const int16_t *wts,
                                                        int n, int16_t *restrict t) {
  const int32_t half = 1 << (HC_FIX - 1);
  const uint8_t *s[HC_RB];
  for (int r = 0; r < HC_RB; r++) s[r] = src + (size_t)(r < rows ? r : rows - 1) * sstride;
  for (size_t j = 0; j < (size_t)sw * 3; j++) {
    int16_t *o = t + j * HC_RB;
    for (int r = 0; r < HC_RB; r++) o[r] = s[r][j];
  }
  for (int x = 0; x < dw; x++) {
    const int16_t *w = wts + (size_t)x * n;
    const int16_t *p = t + (size_t)start[x] * 3 * HC_RB;
    int32_t acc[3 * HC_RB]; /* [channel][row] */
    for (int i = 0; i < 3 * HC_RB; i++) acc[i] = half;
    for (int k = 0; k < n; k++, p += 3 * HC_RB) {
      const int16_t wk = w[k];
      for (int i = 0; i < 3 * HC_RB; i++) acc[i] += (int32_t)wk * p[i];
    }
    uint8_t v[3 * HC_RB];
    for (int i = 0; i < 3 * HC_RB; i++) {
      int32_t q = acc[i] >> HC_FIX;
      v[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
    }
    for (int r = 0; r < rows; r++) {
      uint8_t *o = dst + (size_t)r * dstride + (size_t)x * 3;
      o[0] = v[r];
      o[1] = v[HC_RB + r];
      o[2] = v[2 * HC_RB + r];
    }
  }
}

/* One row of the vertical pass: n rows of the intermediate (row bytes apart, from s) weighted
 * by w into o. Tap by tap over whole rows, so the compiler vectorizes the inner loops; integer
 * sums in another order give the same result. Weights are <= 1 << HC_FIX, so they fit int16. */
__attribute__((optimize("O3"))) static void vpass_row(const uint8_t *restrict s, size_t row,
                                                      int n, const int32_t *w,
                                                      int32_t *restrict acc,
                                                      uint8_t *restrict o) {
  const int32_t half = 1 << (HC_FIX - 1);
  const int16_t w0 = (int16_t)w[0];
  for (size_t x = 0; x < row; x++) acc[x] = half + (int32_t)w0 * (int16_t)s[x];
  for (int k = 1; k < n; k++) {
    const uint8_t *restrict p = s + (size_t)k * row;
    const int16_t wk = (int16_t)w[k];
    for (size_t x = 0; x < row; x++) acc[x] += (int32_t)wk * (int16_t)p[x];
  }
  for (size_t x = 0; x < row; x++) {
    int32_t v = acc[x] >> HC_FIX;
    o[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

/* Resizes src (sw x sh, stride sw*3) into dst (dw x dh) whose rows are dst_stride bytes apart. */
static int resize_into(hc_tls *t, const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh,
                       size_t dst_stride) {
  int mx = taps_maxn(sw, dw), my = taps_maxn(sh, dh);
  size_t nx = taps_len(dw, mx), ntaps = nx + taps_len(dh, my);
  if (ntaps > t->taps_cap) {
    int32_t *nt = realloc(t->taps, ntaps * sizeof *nt);
    if (!nt) return HC_ENOMEM;
    t->taps = nt;
    t->taps_cap = ntaps;
  }
  int32_t *tx = t->taps, *ty = t->taps + nx;
  if (make_taps(tx, sw, dw, mx) < 0 || make_taps(ty, sh, dh, my) < 0) return HC_ENOMEM;
  int32_t *wx = tx + (size_t)dw * 2, *wy = ty + (size_t)dh * 2;
  size_t need = (size_t)dw * 3 * (size_t)sh;
  if (need > t->scratch_cap) {
    uint8_t *s = realloc(t->scratch, need);
    if (!s) return HC_ENOMEM;
    t->scratch = s;
    t->scratch_cap = need;
  }
  if ((size_t)dw * 3 > t->acc_cap) {
    int32_t *a = realloc(t->acc, (size_t)dw * 3 * sizeof *a);
    if (!a) return HC_ENOMEM;
    t->acc = a;
    t->acc_cap = (size_t)dw * 3;
  }
  uint8_t *tmp = t->scratch;
  int32_t *acc = t->acc;
  int n = 1;
  for (int x = 0; x < dw; x++) n = tx[2 * x + 1] > n ? tx[2 * x + 1] : n;
  if ((size_t)dw > t->utaps_cap || n > t->utaps_n) {
    size_t cap = (size_t)dw > t->utaps_cap ? (size_t)dw : t->utaps_cap;
    int cn = n > t->utaps_n ? n : t->utaps_n;
    int32_t *us = realloc(t->ustart, cap * sizeof *us);
    if (!us) return HC_ENOMEM;
    t->ustart = us;
    int16_t *uw = realloc(t->uwts, cap * (size_t)cn * sizeof *uw);
    if (!uw) return HC_ENOMEM;
    t->uwts = uw;
    t->utaps_cap = cap;
    t->utaps_n = cn;
  }
  if ((size_t)sw * 3 * HC_RB > t->blk_cap) {
    int16_t *b = realloc(t->blk, (size_t)sw * 3 * HC_RB * sizeof *b);
    if (!b) return HC_ENOMEM;
    t->blk = b;
    t->blk_cap = (size_t)sw * 3 * HC_RB;
  }
  uniform_taps(tx, wx, mx, dw, sw, n, t->ustart, t->uwts);
  /* Only the source rows some output row reads are filtered horizontally. */
  int ylo = ty[0], yhi = ty[2 * (dh - 1)] + ty[2 * (dh - 1) + 1];
  for (int y = ylo; y < yhi; y += HC_RB) {
    int rows = yhi - y < HC_RB ? yhi - y : HC_RB;
    hpass_block(src + (size_t)y * sw * 3, (size_t)sw * 3, rows, sw, tmp + (size_t)y * dw * 3,
                (size_t)dw * 3, dw, t->ustart, t->uwts, n, t->blk);
  }
  size_t row = (size_t)dw * 3;
  for (int y = 0; y < dh; y++)
    vpass_row(tmp + (size_t)ty[2 * y] * row, row, ty[2 * y + 1], wy + (size_t)y * my, acc,
              dst + (size_t)y * dst_stride);
  return HC_OK;
}

int hc_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh, int letterbox,
              int32_t *pad) {
  if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0) return HC_EARG;
  if (sw > HC_MAX_DIM || sh > HC_MAX_DIM || dw > HC_MAX_DIM || dh > HC_MAX_DIM) return HC_EARG;
  hc_tls *t = tls_get();
  if (!t) return HC_ENOMEM;
  int ox = 0, oy = 0, nw = dw, nh = dh;
  if (letterbox) {
    double s = (double)dw / sw < (double)dh / sh ? (double)dw / sw : (double)dh / sh;
    nw = (int)(sw * s + 0.5);
    nh = (int)(sh * s + 0.5);
    if (nw < 1) nw = 1;
    if (nh < 1) nh = 1;
    if (nw > dw) nw = dw;
    if (nh > dh) nh = dh;
    ox = (dw - nw) / 2;
    oy = (dh - nh) / 2;
    memset(dst, 0, (size_t)dw * dh * 3);
  }
  if (pad) {
    pad[0] = ox;
    pad[1] = oy;
    pad[2] = nw;
    pad[3] = nh;
  }
  size_t stride = (size_t)dw * 3;
  return resize_into(t, src, sw, sh, dst + (size_t)oy * stride + (size_t)ox * 3, nw, nh, stride);
}

static void fill_rect(uint8_t *img, int w, int h, int x0, int y0, int x1, int y1, uint32_t rgb) {
  /* Inclusive corners, already ordered; clipped here. */
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 >= w) x1 = w - 1;
  if (y1 >= h) y1 = h - 1;
  if (x0 > x1 || y0 > y1) return;
  uint8_t r = (uint8_t)(rgb >> 16), g = (uint8_t)(rgb >> 8), b = (uint8_t)rgb;
  for (int y = y0; y <= y1; y++) {
    uint8_t *p = img + ((size_t)y * w + x0) * 3;
    for (int x = x0; x <= x1; x++, p += 3) {
      p[0] = r;
      p[1] = g;
      p[2] = b;
    }
  }
}

int hc_draw_rect(uint8_t *img, int w, int h, int x0, int y0, int x1, int y1, uint32_t rgb,
                 int thickness) {
  if (!img || w <= 0 || h <= 0 || thickness <= 0) return HC_EARG;
  if (x0 > x1) {
    int s = x0;
    x0 = x1;
    x1 = s;
  }
  if (y0 > y1) {
    int s = y0;
    y0 = y1;
    y1 = s;
  }
  /* Widen in 64 bits: a huge thickness or coordinate must not overflow. */
  int64_t t = thickness - 1;
  int ty0 = (int)((int64_t)y0 + t > y1 ? y1 : y0 + t);
  int ty1 = (int)((int64_t)y1 - t < y0 ? y0 : y1 - t);
  int tx0 = (int)((int64_t)x0 + t > x1 ? x1 : x0 + t);
  int tx1 = (int)((int64_t)x1 - t < x0 ? x0 : x1 - t);
  fill_rect(img, w, h, x0, y0, x1, ty0, rgb); /* top */
  fill_rect(img, w, h, x0, ty1, x1, y1, rgb); /* bottom */
  fill_rect(img, w, h, x0, y0, tx0, y1, rgb); /* left */
  fill_rect(img, w, h, tx1, y0, x1, y1, rgb); /* right */
  return HC_OK;
}

static uint8_t font_bits[HC_FONT_COUNT][8]; /* bit 7 = leftmost column */
static pthread_once_t font_once = PTHREAD_ONCE_INIT;

static void font_build(void) {
  for (int g = 0; g < HC_FONT_COUNT; g++) {
    const char *a = hc_font_art[g];
    for (int r = 0; r < 8; r++) {
      uint8_t bits = 0;
      for (int c = 0; c < 5; c++)
        if (a[r * 5 + c] == '#') bits |= (uint8_t)(0x80 >> (c + 1));
      font_bits[g][r] = bits;
    }
  }
}

int hc_draw_text(uint8_t *img, int w, int h, int x, int y, const char *text, int scale,
                 uint32_t fg_rgb, int64_t bg_rgb) {
  if (!img || !text || w <= 0 || h <= 0 || scale <= 0 || scale > 64) return HC_EARG;
  pthread_once(&font_once, font_build);
  size_t len = strlen(text);
  int64_t width = (int64_t)len * 8 * scale;
  if (width > INT_MAX) return HC_EARG;
  if (bg_rgb >= 0 && len > 0) {
    int64_t x1 = (int64_t)x + width - 1, y1 = (int64_t)y + 8 * scale - 1;
    if (x < w && y < h && x1 >= 0 && y1 >= 0)
      fill_rect(img, w, h, x, y, (int)(x1 >= w ? w - 1 : x1), (int)(y1 >= h ? h - 1 : y1),
                (uint32_t)bg_rgb & 0xffffff);
  }
  for (size_t i = 0; i < len; i++) {
    int64_t gx = (int64_t)x + (int64_t)i * 8 * scale;
    if (gx >= w) break;
    if (gx + 8 * scale <= 0) continue;
    unsigned char ch = (unsigned char)text[i];
    if (ch < HC_FONT_FIRST || ch >= HC_FONT_FIRST + HC_FONT_COUNT) ch = '?';
    const uint8_t *rows = font_bits[ch - HC_FONT_FIRST];
    for (int r = 0; r < 8; r++) {
      for (int c = 0; c < 8; c++) {
        if (!(rows[r] & (0x80 >> c))) continue;
        int64_t px = gx + (int64_t)c * scale, py = (int64_t)y + (int64_t)r * scale;
        if (px >= w || py >= h || px + scale <= 0 || py + scale <= 0) continue;
        fill_rect(img, w, h, (int)px, (int)py, (int)(px + scale - 1), (int)(py + scale - 1),
                  fg_rgb & 0xffffff);
      }
    }
  }
  return (int)width;
}

/* ------------------------------------------------------------------------------------------ */
/* TFLite error reporter                                                                       */

static void reporter(void *user, const char *fmt, va_list args) {
  (void)user;
  hc_tls *t = tls_get();
  if (!t || !fmt) return;
  size_t room = HC_TFL_CAP - t->tfl_len; /* includes the NUL */
  if (room < 2) return;
  int n = vsnprintf(t->tfl + t->tfl_len, room, fmt, args);
  if (n < 0) return;
  if ((size_t)n + 1 >= room) {
    /* Full: keep the first messages (the cause comes first) and mark the cut. */
    t->tfl_len = HC_TFL_CAP - 1;
    memcpy(t->tfl + HC_TFL_CAP - 5, "...\n", 5);
    return;
  }
  t->tfl_len += (size_t)n;
  if (t->tfl_len > 0 && t->tfl[t->tfl_len - 1] != '\n') {
    t->tfl[t->tfl_len++] = '\n';
    t->tfl[t->tfl_len] = 0;
  }
}

void *hc_tflite_reporter(void) { return (void *)reporter; }

int hc_tflite_take_errors(char *out, int out_cap) {
  if (!out || out_cap <= 0) return HC_EARG;
  hc_tls *t = tls_get();
  if (!t) {
    out[0] = 0;
    return 0;
  }
  size_t n = t->tfl_len < (size_t)out_cap - 1 ? t->tfl_len : (size_t)out_cap - 1;
  memcpy(out, t->tfl, n);
  out[n] = 0;
  t->tfl_len = 0;
  t->tfl[0] = 0;
  return (int)n;
}
