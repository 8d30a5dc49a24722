/* fakecam: an LD_PRELOAD library that makes /dev/videoN answer like a UVC camera, serving the
 * frames of an MJPEG clip as MJPEG or YUYV at a set rate. Tests use it to drive the shim's real
 * V4L2 path (open, ioctl, mmap, poll) on a machine without a camera.
 *
 * Environment (read at the first open of a fake device):
 *   FAKECAM_SOURCE     concatenated JPEG frames (required)
 *   FAKECAM_DEVICES    comma-separated device paths (default /dev/video0)
 *   FAKECAM_FORMATS    offered formats in order, MJPG and/or YUYV (default MJPG,YUYV)
 *   FAKECAM_SIZES      offered sizes, e.g. 640x480,320x240 (default: the source's size);
 *                      S_FMT answers a size not offered with the nearest one, as UVC does
 *   FAKECAM_FPS        frame rate on the monotonic clock (default 10)
 *   FAKECAM_LOG        file to append one line per notable event ("open /dev/video0",
 *                      "s_fmt MJPG 640x480", "streamon", "streamoff", "munmap N", "close")
 * Faults (issue 6 adds more through fault_* below):
 *   FAKECAM_UNPLUG_AFTER=N     after N frames were dequeued the device is unplugged: ioctls
 *                              fail with ENODEV, poll reports POLLERR|POLLHUP, open gives ENOENT
 *   FAKECAM_REPLUG_AFTER_MS=T  the device can be opened again T ms after the unplug (the unplug
 *                              happens once per process)
 *   FAKECAM_STALL_AFTER=N      after N frames the camera stays open but sends nothing more
 *   FAKECAM_CORRUPT_EVERY=N    every Nth frame is broken (MJPEG: no image; YUYV: the
 *                              V4L2_BUF_FLAG_ERROR flag)
 *   FAKECAM_DOUBLE_HEIGHT_EVERY=N  every Nth MJPEG frame is a JPEG of twice the negotiated height
 *                              (640x960 while S_FMT said 640x480), as some interlaced UVC
 *                              bridges send
 *   FAKECAM_BAD_INDEX_AT=N     the Nth DQBUF reports an index past the buffer count (a driver
 *                              bug); that buffer is lost, as it would be. STREAMOFF logs
 *                              "held K" first: the buffers the app had dequeued and not
 *                              queued again (so a test sees a buffer the app forgot)
 * The "unplug" log line carries at=<ms since epoch> (CLOCK_REALTIME), so tests can time the
 * replug (at + FAKECAM_REPLUG_AFTER_MS).
 *
 * Everything else (other paths, other fds) goes to the next definition (dlsym RTLD_NEXT), or
 * straight to the kernel while that lookup is in progress: Bun itself opens and maps memory
 * through these functions, from many threads, before any constructor runs. */
#define _GNU_SOURCE
#undef _FORTIFY_SOURCE /* we define open() and friends ourselves */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include <jpeglib.h>

#define EXPORT __attribute__((visibility("default")))

#define MAX_HANDLES 16
#define MAX_DEVS 8
#define MAX_BUFS 32
#define MAX_MAPS 256
#define MAX_SIZES 16
#define COOKIE_STEP 0x1000000 /* mmap offset of buffer i = i * COOKIE_STEP */

/* ------------------------------------------------------------------------------------------ */
/* the real functions                                                                          */

static __thread int resolving __attribute__((tls_model("initial-exec")));

static void *next_sym(void **slot, const char *name) {
  void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (p || resolving) return p;
  resolving = 1; /* dlsym may allocate, and malloc may mmap: those calls go to the kernel */
  p = dlsym(RTLD_NEXT, name);
  resolving = 0;
  if (p) __atomic_store_n(slot, p, __ATOMIC_RELEASE);
  return p;
}

#define NEXT(type, name) ((type)next_sym(&next_##name, #name))
static void *next_open, *next_open64, *next_openat, *next_openat64, *next___open_2,
    *next___open64_2, *next___openat_2, *next___openat64_2, *next_close, *next_ioctl, *next_mmap,
    *next_mmap64, *next_munmap, *next_poll, *next_ppoll;

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef int (*close_fn)(int);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);

static int sys_openat(int dirfd, const char *path, int flags, mode_t mode) {
  return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}
static int real_close(int fd) {
  close_fn f = NEXT(close_fn, close);
  return f ? f(fd) : (int)syscall(SYS_close, fd);
}
static int real_ioctl(int fd, unsigned long req, void *arg) {
  ioctl_fn f = NEXT(ioctl_fn, ioctl);
  return f ? f(fd, req, arg) : (int)syscall(SYS_ioctl, fd, req, arg);
}
static void *real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  mmap_fn f = NEXT(mmap_fn, mmap);
  return f ? f(addr, len, prot, flags, fd, off)
           : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
static int real_munmap(void *addr, size_t len) {
  munmap_fn f = NEXT(munmap_fn, munmap);
  return f ? f(addr, len) : (int)syscall(SYS_munmap, addr, len);
}
static int sys_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
  return (int)syscall(SYS_ppoll, fds, n, ts, mask, (size_t)(_NSIG / 8));
}

/* ------------------------------------------------------------------------------------------ */
/* state                                                                                       */

typedef struct {
  int w, h;
} size2;

typedef struct {
  int memfd;
  uint8_t *mem; /* our own shared mapping, for writing frames */
  size_t len;
  int queued, done, maps;
  uint32_t bytesused, seq, flags;
  struct timeval ts;
} fbuf;

typedef struct {
  int fd; /* the real fd (of /dev/null) standing for the device; -1 = free slot */
  int dev;
  int gone;
  uint32_t fourcc;
  int w, h;
  int nbufs;
  fbuf bufs[MAX_BUFS];
  int qfifo[MAX_BUFS], qhead, qn; /* queued by the app, oldest first */
  int dfifo[MAX_BUFS], dhead, dn; /* filled, oldest first */
  int streaming;
  int64_t next_due_ns;
  uint32_t seq;
  long produced, dequeued;
  uint8_t *ycc, *ycc2; /* decode and scale scratch, YCbCr interleaved */
  size_t ycc_cap, ycc2_cap;
} handle;

typedef struct {
  void *addr;
  size_t len;
  int handle, buf;
} mapping;

static struct {
  int ready;
  int bad; /* configuration error: opens of fake devices fail with EIO */
  char devices[MAX_DEVS][128];
  int ndev;
  uint32_t formats[2];
  int nformats;
  size2 sizes[MAX_SIZES];
  int nsizes;
  int fps;
  char log[PATH_MAX];
  long unplug_after, replug_after_ms, stall_after, corrupt_every, double_every, bad_index_at;
  uint8_t *src;
  size_t src_len;
  size_t *frame_off, *frame_len;
  int nframes;
  int src_w, src_h;
} cfg;

/* Recursive: libjpeg's malloc/free inside the lock may come back through our mmap/munmap. */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static handle handles[MAX_HANDLES] = {[0 ... MAX_HANDLES - 1] = {.fd = -1}};
static mapping maps[MAX_MAPS];
static int nmaps;    /* read without the lock as a fast path */
static int nhandles; /* open fake fds, read without the lock as a fast path */
static int64_t dev_gone_ms[MAX_DEVS]; /* unplug time, 0 = present */
static int unplug_done;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  if (!cfg.log[0]) return;
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  int fd = sys_openat(AT_FDCWD, cfg.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t w = syscall(SYS_write, fd, line, (size_t)n);
  (void)w;
  syscall(SYS_close, fd);
}

static void complain(const char *msg) {
  ssize_t w = syscall(SYS_write, 2, msg, strlen(msg));
  (void)w;
}

static const char *fourcc_name(uint32_t f) {
  return f == V4L2_PIX_FMT_MJPEG ? "MJPG" : f == V4L2_PIX_FMT_YUYV ? "YUYV" : "????";
}

/* ------------------------------------------------------------------------------------------ */
/* JPEG helpers (libjpeg API, our own error manager: nothing may print)                        */

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
} jerr;

static void jerr_exit(j_common_ptr c) { longjmp(((jerr *)c->err)->jb, 1); }
static void jerr_emit(j_common_ptr c, int level) {
  if (level < 0) c->err->num_warnings++;
}
static void jerr_output(j_common_ptr c) { (void)c; }
static void jerr_format(j_common_ptr c, char *buf) { snprintf(buf, JMSG_LENGTH_MAX, "jpeg %d", c->err->msg_code); }
static void jerr_reset(j_common_ptr c) { c->err->num_warnings = 0; }
static void jerr_init(jerr *e) {
  memset(e, 0, sizeof *e);
  e->pub.error_exit = jerr_exit;
  e->pub.emit_message = jerr_emit;
  e->pub.output_message = jerr_output;
  e->pub.format_message = jerr_format;
  e->pub.reset_error_mgr = jerr_reset;
}

/* Decodes to interleaved YCbCr (no colour conversion: YUYV is made from the same samples).
 * out may be NULL to read only the size. Returns 0 or -1. */
static int jpeg_to_ycc(const uint8_t *jpg, size_t len, uint8_t **out, size_t *cap, int *w, int *h) {
  struct jpeg_decompress_struct d;
  jerr e;
  jerr_init(&e);
  d.err = &e.pub;
  if (setjmp(e.jb)) {
    jpeg_destroy_decompress(&d);
    return -1;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, jpg, (unsigned long)len);
  jpeg_read_header(&d, TRUE);
  *w = (int)d.image_width;
  *h = (int)d.image_height;
  if (!out) {
    jpeg_destroy_decompress(&d);
    return 0;
  }
  d.out_color_space = JCS_YCbCr;
  jpeg_start_decompress(&d);
  size_t need = (size_t)d.output_width * d.output_height * 3;
  if (d.output_components != 3) longjmp(e.jb, 1);
  if (need > *cap) {
    uint8_t *p = realloc(*out, need);
    if (!p) longjmp(e.jb, 1);
    *out = p;
    *cap = need;
  }
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = *out + (size_t)d.output_scanline * d.output_width * 3;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return 0;
}

typedef struct {
  struct jpeg_destination_mgr pub;
  uint8_t *buf;
  size_t cap;
  jmp_buf *jb;
} fixed_dest;
static void fd_init(j_compress_ptr c) {
  fixed_dest *d = (fixed_dest *)c->dest;
  d->pub.next_output_byte = d->buf;
  d->pub.free_in_buffer = d->cap;
}
static boolean fd_full(j_compress_ptr c) { longjmp(*((fixed_dest *)c->dest)->jb, 1); }
static void fd_term(j_compress_ptr c) { (void)c; }

/* Encodes interleaved YCbCr w x h into out. Returns bytes or -1. */
static long ycc_to_jpeg(const uint8_t *ycc, int w, int h, uint8_t *out, size_t cap) {
  struct jpeg_compress_struct c;
  jerr e;
  fixed_dest dst = {{0}, out, cap, &e.jb};
  jerr_init(&e);
  c.err = &e.pub;
  if (setjmp(e.jb)) {
    jpeg_destroy_compress(&c);
    return -1;
  }
  jpeg_create_compress(&c);
  dst.pub.init_destination = fd_init;
  dst.pub.empty_output_buffer = fd_full;
  dst.pub.term_destination = fd_term;
  c.dest = &dst.pub;
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = 3;
  c.in_color_space = JCS_YCbCr;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 85, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(uintptr_t)(ycc + (size_t)c.next_scanline * w * 3);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  long n = (long)(cap - dst.pub.free_in_buffer);
  jpeg_destroy_compress(&c);
  return n;
}

/* End of the JPEG starting at p[i] (an SOI), by walking its markers; 0 if malformed. */
static size_t jpeg_end(const uint8_t *p, size_t n, size_t i) {
  i += 2;
  for (;;) {
    while (i < n && p[i] != 0xFF) i++;
    while (i < n && p[i] == 0xFF) i++;
    if (i >= n) return 0;
    uint8_t m = p[i++];
    if (m == 0xD9) return i;
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;
    if (i + 2 > n) return 0;
    i += ((size_t)p[i] << 8) | p[i + 1];
    if (m == 0xDA) { /* entropy-coded data runs to the next marker that is not FF00 or RSTn */
      while (i + 1 < n) {
        if (p[i] == 0xFF && p[i + 1] != 0 && p[i + 1] != 0xFF && !(p[i + 1] >= 0xD0 && p[i + 1] <= 0xD7))
          break;
        i++;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* configuration                                                                               */

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  char *end;
  long x = strtol(v, &end, 10);
  return *end ? dflt : x;
}

static int load_source(const char *path) {
  int fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return -1;
  size_t cap = 1 << 20, len = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (len == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = syscall(SYS_read, fd, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  syscall(SYS_close, fd);
  if (!buf) return -1;
  size_t fcap = 64;
  cfg.frame_off = malloc(fcap * sizeof(size_t));
  cfg.frame_len = malloc(fcap * sizeof(size_t));
  size_t i = 0;
  while (i + 1 < len && cfg.frame_off && cfg.frame_len) {
    if (!(buf[i] == 0xFF && buf[i + 1] == 0xD8)) {
      i++;
      continue;
    }
    size_t end = jpeg_end(buf, len, i);
    if (!end) break;
    if ((size_t)cfg.nframes == fcap) {
      fcap *= 2;
      size_t *a = realloc(cfg.frame_off, fcap * sizeof(size_t));
      if (a) cfg.frame_off = a;
      size_t *b = realloc(cfg.frame_len, fcap * sizeof(size_t));
      if (b) cfg.frame_len = b;
      if (!a || !b) break;
    }
    cfg.frame_off[cfg.nframes] = i;
    cfg.frame_len[cfg.nframes] = end - i;
    cfg.nframes++;
    i = end;
  }
  cfg.src = buf;
  cfg.src_len = len;
  if (cfg.nframes == 0) return -1;
  return jpeg_to_ycc(buf + cfg.frame_off[0], cfg.frame_len[0], NULL, NULL, &cfg.src_w, &cfg.src_h);
}

static void load_config_fields(void);
static int config_ready(void) { return __atomic_load_n(&cfg.ready, __ATOMIC_ACQUIRE); }

/* Lock held. Publishes cfg.ready last, so lock-free readers see a complete configuration. */
static void load_config(void) {
  if (config_ready()) return;
  load_config_fields();
  __atomic_store_n(&cfg.ready, 1, __ATOMIC_RELEASE);
}

static void load_config_fields(void) {
  const char *devs = getenv("FAKECAM_DEVICES");
  if (!devs || !*devs) devs = "/dev/video0";
  for (const char *p = devs; *p && cfg.ndev < MAX_DEVS;) {
    size_t n = strcspn(p, ",");
    if (n > 0 && n < sizeof cfg.devices[0]) {
      memcpy(cfg.devices[cfg.ndev], p, n);
      cfg.devices[cfg.ndev++][n] = 0;
    }
    p += n;
    if (*p == ',') p++;
  }
  const char *fmts = getenv("FAKECAM_FORMATS");
  if (!fmts || !*fmts) fmts = "MJPG,YUYV";
  for (const char *p = fmts; *p && cfg.nformats < 2;) {
    size_t n = strcspn(p, ",");
    if (n == 4 && !strncmp(p, "MJPG", 4)) cfg.formats[cfg.nformats++] = V4L2_PIX_FMT_MJPEG;
    else if (n == 4 && !strncmp(p, "YUYV", 4)) cfg.formats[cfg.nformats++] = V4L2_PIX_FMT_YUYV;
    p += n;
    if (*p == ',') p++;
  }
  cfg.fps = (int)env_long("FAKECAM_FPS", 10);
  if (cfg.fps <= 0 || cfg.fps > 1000) cfg.fps = 10;
  const char *log = getenv("FAKECAM_LOG");
  if (log) snprintf(cfg.log, sizeof cfg.log, "%s", log);
  cfg.unplug_after = env_long("FAKECAM_UNPLUG_AFTER", -1);
  cfg.replug_after_ms = env_long("FAKECAM_REPLUG_AFTER_MS", -1);
  cfg.stall_after = env_long("FAKECAM_STALL_AFTER", -1);
  cfg.corrupt_every = env_long("FAKECAM_CORRUPT_EVERY", 0);
  cfg.double_every = env_long("FAKECAM_DOUBLE_HEIGHT_EVERY", 0);
  cfg.bad_index_at = env_long("FAKECAM_BAD_INDEX_AT", -1);
  const char *src = getenv("FAKECAM_SOURCE");
  if (!src || !*src || load_source(src) < 0) {
    complain("fakecam: FAKECAM_SOURCE must name a file of concatenated JPEG frames\n");
    cfg.bad = 1;
    return;
  }
  const char *sizes = getenv("FAKECAM_SIZES");
  for (const char *p = sizes ? sizes : ""; *p && cfg.nsizes < MAX_SIZES;) {
    int w = 0, h = 0;
    if (sscanf(p, "%dx%d", &w, &h) == 2 && w > 0 && h > 0 && !(w & 1))
      cfg.sizes[cfg.nsizes++] = (size2){w, h};
    p += strcspn(p, ",");
    if (*p == ',') p++;
  }
  if (cfg.nsizes == 0) cfg.sizes[cfg.nsizes++] = (size2){cfg.src_w, cfg.src_h};
  if (cfg.nformats == 0 || cfg.ndev == 0) cfg.bad = 1;
}

static int device_index(const char *path) {
  if (!path) return -1;
  /* Cheap reject before any locking: only /dev/ paths can be ours. */
  if (strncmp(path, "/dev/", 5) != 0) return -1;
  if (!config_ready()) {
    const char *devs = getenv("FAKECAM_DEVICES");
    /* Not configured yet: match against the environment directly. */
    if (!devs || !*devs) devs = "/dev/video0";
    size_t len = strlen(path);
    for (const char *p = devs; *p;) {
      size_t n = strcspn(p, ",");
      if (n == len && !strncmp(p, path, n)) return 0;
      p += n;
      if (*p == ',') p++;
    }
    return -1;
  }
  for (int i = 0; i < cfg.ndev; i++)
    if (!strcmp(cfg.devices[i], path)) return i;
  return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* frames                                                                                      */

static size2 nearest_size(int w, int h) {
  size2 best = cfg.sizes[0];
  int64_t bestd = INT64_MAX;
  for (int i = 0; i < cfg.nsizes; i++) {
    /* Area of the symmetric difference, as the UVC driver measures it. */
    int64_t sw = cfg.sizes[i].w, sh = cfg.sizes[i].h;
    int64_t mw = sw < w ? sw : w, mh = sh < h ? sh : h;
    int64_t d = sw * sh + (int64_t)w * h - 2 * mw * mh;
    if (d < bestd) {
      bestd = d;
      best = cfg.sizes[i];
    }
  }
  return best;
}

static uint32_t size_image(uint32_t fourcc, int w, int h) {
  /* YUYV is exact; MJPEG gets the UVC-style worst case of 2 bytes per pixel. */
  (void)fourcc;
  return (uint32_t)w * (uint32_t)h * 2;
}

static uint8_t lim_y(int y) { return (uint8_t)(16 + (y * 219 + 127) / 255); }
static uint8_t lim_c(int c) { return (uint8_t)(128 + ((c - 128) * 224 + (c >= 128 ? 127 : -127)) / 255); }

/* Renders clip frame k as fourcc at w x h into out. Returns bytes or -1. Issue 6's wrong-size
 * and double-height faults call this with a size other than the negotiated one. */
static long render_frame(handle *hd, int k, uint32_t fourcc, int w, int h, uint8_t *out, size_t cap) {
  const uint8_t *jpg = cfg.src + cfg.frame_off[k];
  size_t len = cfg.frame_len[k];
  if (fourcc == V4L2_PIX_FMT_MJPEG && w == cfg.src_w && h == cfg.src_h) {
    if (len > cap) return -1;
    memcpy(out, jpg, len);
    return (long)len;
  }
  int sw, sh;
  if (jpeg_to_ycc(jpg, len, &hd->ycc, &hd->ycc_cap, &sw, &sh) < 0) return -1;
  const uint8_t *ycc = hd->ycc;
  if (sw != w || sh != h) { /* nearest neighbour is enough for a test camera */
    size_t need = (size_t)w * h * 3;
    if (need > hd->ycc2_cap) {
      uint8_t *p = realloc(hd->ycc2, need);
      if (!p) return -1;
      hd->ycc2 = p;
      hd->ycc2_cap = need;
    }
    for (int y = 0; y < h; y++) {
      const uint8_t *srow = hd->ycc + (size_t)((int64_t)y * sh / h) * sw * 3;
      uint8_t *o = hd->ycc2 + (size_t)y * w * 3;
      for (int x = 0; x < w; x++) memcpy(o + x * 3, srow + (size_t)((int64_t)x * sw / w) * 3, 3);
    }
    ycc = hd->ycc2;
  }
  if (fourcc == V4L2_PIX_FMT_MJPEG) return ycc_to_jpeg(ycc, w, h, out, cap);
  size_t need = (size_t)w * h * 2;
  if (need > cap) return -1;
  for (int y = 0; y < h; y++) {
    const uint8_t *s = ycc + (size_t)y * w * 3;
    uint8_t *o = out + (size_t)y * w * 2;
    /* JPEG samples are full range; a UVC camera's YUYV is limited range (Y 16..235, C 16..240). */
    for (int x = 0; x + 1 < w; x += 2, s += 6, o += 4) {
      o[0] = lim_y(s[0]);
      o[1] = lim_c((s[1] + s[4] + 1) / 2);
      o[2] = lim_y(s[3]);
      o[3] = lim_c((s[2] + s[5] + 1) / 2);
    }
  }
  return (long)need;
}

/* fault hooks: each returns nonzero when the fault applies to the frame being produced. */
static int fault_stalled(handle *hd) { return cfg.stall_after >= 0 && hd->produced >= cfg.stall_after; }
static int fault_corrupt(handle *hd) {
  return cfg.corrupt_every > 0 && (hd->produced + 1) % cfg.corrupt_every == 0;
}
static int fault_double_height(handle *hd) {
  return cfg.double_every > 0 && hd->fourcc == V4L2_PIX_FMT_MJPEG &&
         (hd->produced + 1) % cfg.double_every == 0;
}

static void unplug(int dev) {
  dev_gone_ms[dev] = now_ns() / 1000000;
  if (dev_gone_ms[dev] == 0) dev_gone_ms[dev] = 1;
  unplug_done = 1;
  for (int i = 0; i < MAX_HANDLES; i++)
    if (handles[i].fd >= 0 && handles[i].dev == dev) handles[i].gone = 1;
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  logf_("unplug %s at=%lld", cfg.devices[dev], (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
}

/* Fills queued buffers with every frame that is due by now (lock held). */
static void produce_due(handle *hd) {
  if (!hd->streaming || hd->gone) return;
  int64_t now = now_ns(), period = 1000000000 / cfg.fps;
  if (now < hd->next_due_ns) return;
  int64_t due = (now - hd->next_due_ns) / period + 1;
  if (due > hd->nbufs + 1) { /* long pause: skip what nobody could have received */
    int64_t skip = due - hd->nbufs - 1;
    hd->seq += (uint32_t)skip;
    hd->produced += skip;
    hd->next_due_ns += skip * period;
    due -= skip;
  }
  for (; due > 0; due--) {
    int64_t at = hd->next_due_ns;
    hd->next_due_ns += period;
    if (fault_stalled(hd)) continue;
    uint32_t seq = hd->seq++;
    int corrupt = fault_corrupt(hd);
    int doubled = fault_double_height(hd);
    hd->produced++;
    if (hd->qn == 0) continue; /* no buffer queued: the driver drops the frame */
    int bi = hd->qfifo[hd->qhead];
    hd->qhead = (hd->qhead + 1) % MAX_BUFS;
    hd->qn--;
    fbuf *b = &hd->bufs[bi];
    b->queued = 0;
    b->flags = 0;
    long n = render_frame(hd, (int)(seq % (uint32_t)cfg.nframes), hd->fourcc, hd->w,
                          doubled ? hd->h * 2 : hd->h, b->mem, b->len);
    if (n < 0) {
      n = 0;
      b->flags |= V4L2_BUF_FLAG_ERROR;
    }
    if (corrupt) {
      if (hd->fourcc == V4L2_PIX_FMT_MJPEG && b->len >= 104) {
        memset(b->mem, 0, 104); /* SOI, no frame header, EOI: "no image" */
        b->mem[0] = 0xFF;
        b->mem[1] = 0xD8;
        b->mem[102] = 0xFF;
        b->mem[103] = 0xD9;
        n = 104;
      } else {
        b->flags |= V4L2_BUF_FLAG_ERROR;
      }
    }
    b->bytesused = (uint32_t)n;
    b->seq = seq;
    b->ts.tv_sec = at / 1000000000;
    b->ts.tv_usec = (at % 1000000000) / 1000;
    b->done = 1;
    hd->dfifo[(hd->dhead + hd->dn) % MAX_BUFS] = bi;
    hd->dn++;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* handles                                                                                     */

static handle *find_handle(int fd) {
  if (fd < 0 || __atomic_load_n(&nhandles, __ATOMIC_ACQUIRE) == 0) return NULL;
  for (int i = 0; i < MAX_HANDLES; i++)
    if (__atomic_load_n(&handles[i].fd, __ATOMIC_ACQUIRE) == fd) return &handles[i];
  return NULL;
}

static void free_buffers(handle *hd) {
  for (int i = 0; i < hd->nbufs; i++) {
    fbuf *b = &hd->bufs[i];
    if (b->mem) real_munmap(b->mem, b->len);
    if (b->memfd >= 0) real_close(b->memfd);
    memset(b, 0, sizeof *b);
    b->memfd = -1;
  }
  hd->nbufs = 0;
  hd->qn = hd->dn = hd->qhead = hd->dhead = 0;
}

static int alloc_buffers(handle *hd, int count) {
  size_t len = size_image(hd->fourcc, hd->w, hd->h);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  len = (len + page - 1) / page * page;
  for (int i = 0; i < count; i++) {
    fbuf *b = &hd->bufs[i];
    memset(b, 0, sizeof *b);
    b->memfd = (int)syscall(SYS_memfd_create, "fakecam-buffer", MFD_CLOEXEC);
    if (b->memfd < 0 || ftruncate(b->memfd, (off_t)len) < 0) goto fail;
    b->mem = real_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
    if (b->mem == MAP_FAILED) {
      b->mem = NULL;
      goto fail;
    }
    b->len = len;
    hd->nbufs = i + 1;
  }
  return 0;
fail:
  hd->nbufs = count; /* free_buffers copes with the half-made one */
  free_buffers(hd);
  return -1;
}

static int handle_maps(int hi) {
  int n = 0;
  for (int i = 0; i < nmaps; i++)
    if (maps[i].handle == hi) n++;
  return n;
}

static int other_owner(handle *hd) {
  for (int i = 0; i < MAX_HANDLES; i++) {
    handle *o = &handles[i];
    if (o != hd && o->fd >= 0 && o->dev == hd->dev && o->nbufs > 0 && !o->gone) return 1;
  }
  return 0;
}

static int fake_open(int dev, int flags) {
  pthread_mutex_lock(&lock);
  load_config();
  if (cfg.bad) {
    pthread_mutex_unlock(&lock);
    errno = EIO;
    return -1;
  }
  if (dev_gone_ms[dev]) {
    int64_t now = now_ns() / 1000000;
    if (cfg.replug_after_ms < 0 || now - dev_gone_ms[dev] < cfg.replug_after_ms) {
      pthread_mutex_unlock(&lock);
      errno = ENOENT;
      return -1;
    }
    dev_gone_ms[dev] = 0;
    logf_("replug %s", cfg.devices[dev]);
  }
  int slot = -1;
  for (int i = 0; i < MAX_HANDLES && slot < 0; i++)
    if (handles[i].fd < 0) slot = i;
  if (slot < 0) {
    pthread_mutex_unlock(&lock);
    errno = EMFILE;
    return -1;
  }
  int fd = sys_openat(AT_FDCWD, "/dev/null", O_RDWR | (flags & (O_NONBLOCK | O_CLOEXEC)), 0);
  if (fd < 0) {
    pthread_mutex_unlock(&lock);
    return -1;
  }
  handle *hd = &handles[slot];
  uint8_t *ycc = hd->ycc, *ycc2 = hd->ycc2; /* keep scratch across reuse of the slot */
  size_t c1 = hd->ycc_cap, c2 = hd->ycc2_cap;
  /* fd (the first field) stays -1 until the handle is ready: other threads read it unlocked. */
  memset((char *)hd + offsetof(handle, dev), 0, sizeof *hd - offsetof(handle, dev));
  for (int i = 0; i < MAX_BUFS; i++) hd->bufs[i].memfd = -1;
  hd->ycc = ycc;
  hd->ycc2 = ycc2;
  hd->ycc_cap = c1;
  hd->ycc2_cap = c2;
  hd->dev = dev;
  hd->fourcc = cfg.formats[0];
  hd->w = cfg.sizes[0].w;
  hd->h = cfg.sizes[0].h;
  __atomic_store_n(&hd->fd, fd, __ATOMIC_RELEASE);
  __atomic_add_fetch(&nhandles, 1, __ATOMIC_ACQ_REL);
  logf_("open %s", cfg.devices[dev]);
  pthread_mutex_unlock(&lock);
  return fd;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode, int *handled) {
  *handled = 0;
  if (!path || (dirfd != AT_FDCWD && path[0] != '/')) return -1;
  int dev = device_index(path);
  if (dev < 0) return -1;
  if (!config_ready()) {
    pthread_mutex_lock(&lock);
    load_config();
    pthread_mutex_unlock(&lock);
    dev = device_index(path);
    if (dev < 0) return -1;
  }
  (void)mode;
  *handled = 1;
  return fake_open(dev, flags);
}

/* ------------------------------------------------------------------------------------------ */
/* ioctl                                                                                       */

static int set_errno(int e) {
  errno = e;
  return -1;
}

static int fmt_offered(uint32_t f) {
  for (int i = 0; i < cfg.nformats; i++)
    if (cfg.formats[i] == f) return 1;
  return 0;
}

static void fill_pix(struct v4l2_pix_format *p, uint32_t fourcc, int w, int h) {
  memset(p, 0, sizeof *p);
  p->width = (uint32_t)w;
  p->height = (uint32_t)h;
  p->pixelformat = fourcc;
  p->field = V4L2_FIELD_NONE;
  p->bytesperline = fourcc == V4L2_PIX_FMT_YUYV ? (uint32_t)w * 2 : 0;
  p->sizeimage = size_image(fourcc, w, h);
  p->colorspace = fourcc == V4L2_PIX_FMT_MJPEG ? V4L2_COLORSPACE_JPEG : V4L2_COLORSPACE_SRGB;
}

static void fill_buf(handle *hd, int i, struct v4l2_buffer *b) {
  fbuf *f = &hd->bufs[i];
  int hi = (int)(hd - handles);
  memset(b, 0, sizeof *b);
  b->index = (uint32_t)i;
  b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b->memory = V4L2_MEMORY_MMAP;
  b->bytesused = f->bytesused;
  b->flags = f->flags | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
  if (f->queued) b->flags |= V4L2_BUF_FLAG_QUEUED;
  if (f->done) b->flags |= V4L2_BUF_FLAG_DONE;
  for (int m = 0; m < nmaps; m++)
    if (maps[m].handle == hi && maps[m].buf == i) b->flags |= V4L2_BUF_FLAG_MAPPED;
  b->field = V4L2_FIELD_NONE;
  b->timestamp = f->ts;
  b->sequence = f->seq;
  b->m.offset = (uint32_t)i * COOKIE_STEP;
  b->length = (uint32_t)f->len;
}

static int fake_ioctl_locked(handle *hd, unsigned long req, void *arg) {
  if (hd->gone) return set_errno(ENODEV);
  if (!arg) return set_errno(EFAULT);
  switch (req) {
    case VIDIOC_QUERYCAP: {
      struct v4l2_capability *c = arg;
      memset(c, 0, sizeof *c);
      snprintf((char *)c->driver, sizeof c->driver, "fakecam");
      snprintf((char *)c->card, sizeof c->card, "hazardcam fake camera");
      snprintf((char *)c->bus_info, sizeof c->bus_info, "usb-fakecam-%d", hd->dev + 1);
      c->version = (6u << 16) | (1u << 8);
      c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
      c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
      return 0;
    }
    case VIDIOC_ENUM_FMT: {
      struct v4l2_fmtdesc *f = arg;
      if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || f->index >= (uint32_t)cfg.nformats)
        return set_errno(EINVAL);
      uint32_t idx = f->index;
      memset(f, 0, sizeof *f);
      f->index = idx;
      f->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      f->pixelformat = cfg.formats[idx];
      f->flags = f->pixelformat == V4L2_PIX_FMT_MJPEG ? V4L2_FMT_FLAG_COMPRESSED : 0;
      snprintf((char *)f->description, sizeof f->description, "%s",
               f->pixelformat == V4L2_PIX_FMT_MJPEG ? "Motion-JPEG" : "YUYV 4:2:2");
      return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
      struct v4l2_frmsizeenum *s = arg;
      if (!fmt_offered(s->pixel_format) || s->index >= (uint32_t)cfg.nsizes) return set_errno(EINVAL);
      s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
      s->discrete.width = (uint32_t)cfg.sizes[s->index].w;
      s->discrete.height = (uint32_t)cfg.sizes[s->index].h;
      return 0;
    }
    case VIDIOC_ENUM_FRAMEINTERVALS: {
      struct v4l2_frmivalenum *v = arg;
      if (!fmt_offered(v->pixel_format) || v->index != 0) return set_errno(EINVAL);
      v->type = V4L2_FRMIVAL_TYPE_DISCRETE;
      v->discrete.numerator = 1;
      v->discrete.denominator = (uint32_t)cfg.fps;
      return 0;
    }
    case VIDIOC_G_FMT: {
      struct v4l2_format *f = arg;
      if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return set_errno(EINVAL);
      fill_pix(&f->fmt.pix, hd->fourcc, hd->w, hd->h);
      return 0;
    }
    case VIDIOC_S_FMT:
    case VIDIOC_TRY_FMT: {
      struct v4l2_format *f = arg;
      if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return set_errno(EINVAL);
      uint32_t fourcc = fmt_offered(f->fmt.pix.pixelformat) ? f->fmt.pix.pixelformat : cfg.formats[0];
      size2 s = nearest_size((int)f->fmt.pix.width, (int)f->fmt.pix.height);
      if (req == VIDIOC_S_FMT) {
        if (hd->nbufs > 0 || other_owner(hd)) return set_errno(EBUSY);
        hd->fourcc = fourcc;
        hd->w = s.w;
        hd->h = s.h;
        logf_("s_fmt %s %dx%d", fourcc_name(fourcc), s.w, s.h);
      }
      fill_pix(&f->fmt.pix, fourcc, s.w, s.h);
      return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
      struct v4l2_streamparm *p = arg;
      if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return set_errno(EINVAL);
      if (req == VIDIOC_S_PARM) {
        uint32_t n = p->parm.capture.timeperframe.numerator, d = p->parm.capture.timeperframe.denominator;
        logf_("s_parm %u/%u", n, d);
      }
      memset(&p->parm, 0, sizeof p->parm);
      p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
      p->parm.capture.timeperframe.numerator = 1; /* one rate only, like a simple UVC camera */
      p->parm.capture.timeperframe.denominator = (uint32_t)cfg.fps;
      return 0;
    }
    case VIDIOC_REQBUFS: {
      struct v4l2_requestbuffers *r = arg;
      if (r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r->memory != V4L2_MEMORY_MMAP)
        return set_errno(EINVAL);
      if (hd->streaming) return set_errno(EBUSY);
      if (other_owner(hd)) return set_errno(EBUSY);
      if (hd->nbufs > 0 && handle_maps((int)(hd - handles)) > 0) return set_errno(EBUSY);
      free_buffers(hd);
      uint32_t want = r->count;
      logf_("reqbufs %u", want);
      if (want == 0) return 0;
      if (want < 2) want = 2;
      if (want > MAX_BUFS) want = MAX_BUFS;
      if (alloc_buffers(hd, (int)want) < 0) return set_errno(ENOMEM);
      r->count = want;
      return 0;
    }
    case VIDIOC_QUERYBUF: {
      struct v4l2_buffer *b = arg;
      if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->index >= (uint32_t)hd->nbufs) return set_errno(EINVAL);
      fill_buf(hd, (int)b->index, b);
      return 0;
    }
    case VIDIOC_QBUF: {
      struct v4l2_buffer *b = arg;
      if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP ||
          b->index >= (uint32_t)hd->nbufs)
        return set_errno(EINVAL);
      fbuf *f = &hd->bufs[b->index];
      if (f->queued || f->done) return set_errno(EINVAL);
      f->queued = 1;
      hd->qfifo[(hd->qhead + hd->qn) % MAX_BUFS] = (int)b->index;
      hd->qn++;
      fill_buf(hd, (int)b->index, b);
      return 0;
    }
    case VIDIOC_DQBUF: {
      struct v4l2_buffer *b = arg;
      if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP) return set_errno(EINVAL);
      if (!hd->streaming) return set_errno(EINVAL);
      produce_due(hd);
      if (hd->dn == 0) return set_errno(EAGAIN); /* the caller waits if the fd is blocking */
      int bi = hd->dfifo[hd->dhead];
      hd->dhead = (hd->dhead + 1) % MAX_BUFS;
      hd->dn--;
      hd->bufs[bi].done = 0;
      fill_buf(hd, bi, b);
      hd->dequeued++;
      if (hd->dequeued == cfg.bad_index_at) {
        b->index = (uint32_t)hd->nbufs + 7;
        logf_("bad_index %d", bi);
      }
      if (cfg.unplug_after >= 0 && !unplug_done && hd->dequeued >= cfg.unplug_after) unplug(hd->dev);
      return 0;
    }
    case VIDIOC_STREAMON: {
      if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE || hd->nbufs == 0) return set_errno(EINVAL);
      if (hd->streaming) return 0;
      hd->streaming = 1;
      hd->next_due_ns = now_ns() + 1000000000 / cfg.fps;
      logf_("streamon");
      return 0;
    }
    case VIDIOC_STREAMOFF: {
      if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE) return set_errno(EINVAL);
      int held = 0;
      for (int i = 0; i < hd->nbufs; i++) held += !hd->bufs[i].queued && !hd->bufs[i].done;
      if (hd->streaming) logf_("held %d", held);
      hd->streaming = 0;
      for (int i = 0; i < hd->nbufs; i++) hd->bufs[i].queued = hd->bufs[i].done = 0;
      hd->qn = hd->dn = hd->qhead = hd->dhead = 0;
      logf_("streamoff");
      return 0;
    }
    default: return set_errno(ENOTTY);
  }
}

static int fake_ioctl(handle *hd, unsigned long req, void *arg) {
  int blocking_dq = 0;
  for (;;) {
    pthread_mutex_lock(&lock);
    if (hd->fd < 0) { /* closed by another thread meanwhile */
      pthread_mutex_unlock(&lock);
      return set_errno(EBADF);
    }
    int r = fake_ioctl_locked(hd, req, arg);
    int e = errno;
    int64_t next = hd->next_due_ns;
    int stalled = fault_stalled(hd);
    int fd = hd->fd;
    pthread_mutex_unlock(&lock);
    if (!(r < 0 && e == EAGAIN && req == VIDIOC_DQBUF)) {
      errno = e;
      return r;
    }
    if (!blocking_dq) {
      int fl = (int)syscall(SYS_fcntl, fd, F_GETFL);
      if (fl < 0 || (fl & O_NONBLOCK)) {
        errno = EAGAIN;
        return -1;
      }
      blocking_dq = 1;
    }
    /* A blocking DQBUF sleeps until the next frame is due (or 100 ms while stalled). */
    int64_t wait = stalled ? 100000000 : next - now_ns();
    if (wait > 0) {
      struct timespec ts = {wait / 1000000000, wait % 1000000000};
      nanosleep(&ts, NULL);
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* poll                                                                                        */

/* Readiness of a fake fd (lock held); *next_ns receives when it may change. */
static short fake_revents(handle *hd, int64_t *next_ns) {
  if (hd->gone) return POLLIN | POLLERR | POLLHUP;
  if (!hd->streaming) return POLLERR;
  produce_due(hd);
  if (hd->dn > 0) return POLLIN | POLLRDNORM;
  if (!fault_stalled(hd) && hd->next_due_ns < *next_ns) *next_ns = hd->next_due_ns;
  return 0;
}

static int fake_poll(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *mask) {
  int64_t deadline = timeout_ns < 0 ? INT64_MAX : now_ns() + timeout_ns;
  int saved[64];
  handle *fake[64];
  if (n > 64) return set_errno(EINVAL);
  for (;;) {
    int ready = 0, reals = 0;
    int64_t next = INT64_MAX;
    short rev[64];
    pthread_mutex_lock(&lock);
    for (nfds_t i = 0; i < n; i++) {
      fake[i] = fds[i].fd >= 0 ? find_handle(fds[i].fd) : NULL;
      rev[i] = 0;
      if (fake[i]) {
        rev[i] = fake_revents(fake[i], &next) & (short)(fds[i].events | POLLERR | POLLHUP | POLLNVAL);
        if (rev[i]) ready++;
      } else if (fds[i].fd >= 0) {
        reals++;
      }
    }
    pthread_mutex_unlock(&lock);
    int64_t now = now_ns();
    int64_t until = next < deadline ? next : deadline;
    int64_t wait = ready ? 0 : (until == INT64_MAX ? -1 : (until > now ? until - now : 0));
    struct timespec ts = {0, 0};
    if (wait > 0) {
      ts.tv_sec = wait / 1000000000;
      ts.tv_nsec = wait % 1000000000;
    }
    for (nfds_t i = 0; i < n; i++) {
      saved[i] = fds[i].fd;
      if (fake[i]) fds[i].fd = -1; /* the kernel skips negative fds */
    }
    int r = 0;
    if (reals > 0 || wait != 0) r = sys_ppoll(fds, n, wait < 0 ? NULL : &ts, mask);
    int e = errno;
    for (nfds_t i = 0; i < n; i++) {
      fds[i].fd = saved[i];
      if (fake[i]) fds[i].revents = rev[i];
    }
    if (r < 0) {
      errno = e;
      return r;
    }
    if (r + ready > 0) return r + ready;
    if (now_ns() >= deadline) return 0;
  }
}

static int any_fake(struct pollfd *fds, nfds_t n) {
  if (__atomic_load_n(&nhandles, __ATOMIC_ACQUIRE) == 0) return 0;
  for (nfds_t i = 0; i < n; i++)
    if (find_handle(fds[i].fd)) return 1;
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the interposed functions                                                                    */

static mode_t va_mode(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_mode(flags, ap);
  va_end(ap);
  int handled, fd = open_common(AT_FDCWD, path, flags, mode, &handled);
  if (handled) return fd;
  open_fn f = NEXT(open_fn, open);
  return f ? f(path, flags, mode) : sys_openat(AT_FDCWD, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_mode(flags, ap);
  va_end(ap);
  int handled, fd = open_common(AT_FDCWD, path, flags, mode, &handled);
  if (handled) return fd;
  open_fn f = NEXT(open_fn, open64);
  return f ? f(path, flags, mode) : sys_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_mode(flags, ap);
  va_end(ap);
  int handled, fd = open_common(dirfd, path, flags, mode, &handled);
  if (handled) return fd;
  openat_fn f = NEXT(openat_fn, openat);
  return f ? f(dirfd, path, flags, mode) : sys_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_mode(flags, ap);
  va_end(ap);
  int handled, fd = open_common(dirfd, path, flags, mode, &handled);
  if (handled) return fd;
  openat_fn f = NEXT(openat_fn, openat64);
  return f ? f(dirfd, path, flags, mode) : sys_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

/* The _FORTIFY_SOURCE entry points (called for opens without a mode argument). */
EXPORT int __open_2(const char *path, int flags) {
  int handled, fd = open_common(AT_FDCWD, path, flags, 0, &handled);
  if (handled) return fd;
  open2_fn f = NEXT(open2_fn, __open_2);
  return f ? f(path, flags) : sys_openat(AT_FDCWD, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags) {
  int handled, fd = open_common(AT_FDCWD, path, flags, 0, &handled);
  if (handled) return fd;
  open2_fn f = NEXT(open2_fn, __open64_2);
  return f ? f(path, flags) : sys_openat(AT_FDCWD, path, flags | O_LARGEFILE, 0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags) {
  int handled, fd = open_common(dirfd, path, flags, 0, &handled);
  if (handled) return fd;
  openat2_fn f = NEXT(openat2_fn, __openat_2);
  return f ? f(dirfd, path, flags) : sys_openat(dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags) {
  int handled, fd = open_common(dirfd, path, flags, 0, &handled);
  if (handled) return fd;
  openat2_fn f = NEXT(openat2_fn, __openat64_2);
  return f ? f(dirfd, path, flags) : sys_openat(dirfd, path, flags | O_LARGEFILE, 0);
}

EXPORT int close(int fd) {
  handle *hd = find_handle(fd);
  if (hd) {
    pthread_mutex_lock(&lock);
    if (hd->fd == fd) {
      /* Forget the fd before the kernel can hand its number to someone else. */
      __atomic_store_n(&hd->fd, -1, __ATOMIC_RELEASE);
      __atomic_sub_fetch(&nhandles, 1, __ATOMIC_ACQ_REL);
      hd->streaming = 0;
      free_buffers(hd); /* the app's mappings keep their memfds alive */
      for (int i = 0; i < nmaps; i++)
        if (maps[i].handle == (int)(hd - handles)) maps[i].handle = -1;
      logf_("close");
    }
    pthread_mutex_unlock(&lock);
  }
  return real_close(fd);
}

EXPORT int ioctl(int fd, unsigned long req, ...) {
  va_list ap;
  va_start(ap, req);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  handle *hd = find_handle(fd);
  if (hd) return fake_ioctl(hd, req, arg);
  return real_ioctl(fd, req, arg);
}

static void *fake_mmap(handle *hd, void *addr, size_t len, int prot, int flags, off_t off) {
  pthread_mutex_lock(&lock);
  int hi = (int)(hd - handles);
  void *res = MAP_FAILED;
  int e = EINVAL;
  if (hd->gone) {
    e = ENODEV;
  } else if (off >= 0 && off % COOKIE_STEP == 0 && off / COOKIE_STEP < hd->nbufs && nmaps < MAX_MAPS &&
             (flags & MAP_SHARED)) {
    int bi = (int)(off / COOKIE_STEP);
    fbuf *b = &hd->bufs[bi];
    if (len > 0 && len <= b->len) {
      res = real_mmap(addr, len, prot, flags, b->memfd, 0);
      e = errno;
      if (res != MAP_FAILED) {
        maps[nmaps++] = (mapping){res, len, hi, bi};
        __atomic_thread_fence(__ATOMIC_RELEASE);
      }
    }
  }
  pthread_mutex_unlock(&lock);
  if (res == MAP_FAILED) errno = e;
  return res;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  handle *hd = fd >= 0 ? find_handle(fd) : NULL;
  if (hd) return fake_mmap(hd, addr, len, prot, flags, off);
  return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  handle *hd = fd >= 0 ? find_handle(fd) : NULL;
  if (hd) return fake_mmap(hd, addr, len, prot, flags, off);
  mmap_fn f = NEXT(mmap_fn, mmap64);
  return f ? f(addr, len, prot, flags, fd, off) : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len) {
  if (__atomic_load_n(&nmaps, __ATOMIC_ACQUIRE) > 0) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nmaps; i++) {
      if (maps[i].addr == addr) {
        logf_("munmap %d", maps[i].buf);
        maps[i] = maps[--nmaps];
        break;
      }
    }
    pthread_mutex_unlock(&lock);
  }
  return real_munmap(addr, len);
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
  if (fds && any_fake(fds, n)) return fake_poll(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000, NULL);
  poll_fn f = NEXT(poll_fn, poll);
  if (f) return f(fds, n, timeout);
  struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000};
  return sys_ppoll(fds, n, timeout < 0 ? NULL : &ts, NULL);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
  if (fds && any_fake(fds, n))
    return fake_poll(fds, n, ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1, mask);
  ppoll_fn f = NEXT(ppoll_fn, ppoll);
  return f ? f(fds, n, ts, mask) : sys_ppoll(fds, n, ts, mask);
}
