/* A stand-in libedgetpu for tests on machines without a Coral: the edgetpu_c.h functions with
 * behaviour chosen by environment variables, read at each call:
 *   FAKE_EDGETPU_DEVICES  number of devices listed (default 1)
 *   FAKE_EDGETPU_DELEGATE "null": edgetpu_create_delegate fails; otherwise it returns a delegate
 *                         that claims no nodes (as a libedgetpu built for another TFLite would).
 *   FAKE_EDGETPU_FAIL_AFTER=N  a TPU that goes away (issue 6): the delegate takes the model's
 *                         first RESHAPE node (a plain copy, so a CPU model named *_edgetpu.tflite
 *                         runs through it); invoke N+1 fails, and for FAKE_EDGETPU_GONE_MS
 *                         (default 1500) edgetpu_list_devices finds nothing. Then the device is
 *                         back and its new delegates work. Happens once per process.
 * fake_edgetpu_counts reports calls, so tests can check that everything is freed;
 * fake_edgetpu_last_options the options the last edgetpu_create_delegate received, as
 * "name=value;" pairs, copied while the call ran (the caller's strings may be gone after it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensorflow/lite/c/common.h"

enum edgetpu_device_type { EDGETPU_APEX_PCI = 0, EDGETPU_APEX_USB = 1 };
struct edgetpu_device {
  enum edgetpu_device_type type;
  const char *path;
};
struct edgetpu_option {
  const char *name;
  const char *value;
};

static int n_list, n_free_devices, n_create, n_free_delegate, n_live_delegates;
static char last_options[1024];
static const char *paths[] = {"/sys/bus/usb/devices/2-1", "/dev/apex_0"};

static TfLiteStatus prepare(TfLiteContext *context, TfLiteDelegate *delegate) {
  (void)context;
  (void)delegate;
  return kTfLiteOk;
}

/* ---- FAKE_EDGETPU_FAIL_AFTER ---- */

#define BUILTIN_RESHAPE 22 /* tflite::BuiltinOperator_RESHAPE */

static long n_invokes;
static int64_t gone_since_ms; /* 0: present */
static int lost_once;

static long env_long(const char *name, long dflt) {
  const char *v = getenv(name);
  return v && *v ? atol(v) : dflt;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gone now? Ends the absence once FAKE_EDGETPU_GONE_MS have passed. */
static int device_gone(void) {
  if (!gone_since_ms) return 0;
  if (now_ms() - gone_since_ms < env_long("FAKE_EDGETPU_GONE_MS", 1500)) return 1;
  gone_since_ms = 0;
  return 0;
}

/* The copy input -> output of the taken RESHAPE (same bytes, other shape). */
static TfLiteStatus copy_invoke(TfLiteContext *ctx, TfLiteNode *node) {
  n_invokes++;
  long fail_after = env_long("FAKE_EDGETPU_FAIL_AFTER", -1);
  if (!lost_once && fail_after >= 0 && n_invokes > fail_after) {
    lost_once = 1;
    gone_since_ms = now_ms();
  }
  if (gone_since_ms) {
    ctx->ReportError(ctx, "fake edgetpu: the device is gone");
    return kTfLiteError;
  }
  TfLiteTensor *out = &ctx->tensors[node->outputs->data[0]];
  for (int i = 0; i < node->inputs->size; i++) {
    TfLiteTensor *in = &ctx->tensors[node->inputs->data[i]];
    if (in->type == out->type && in->bytes == out->bytes) {
      memcpy(out->data.raw, in->data.raw, out->bytes);
      return kTfLiteOk;
    }
  }
  return kTfLiteError;
}

static TfLiteRegistration copy_kernel = {
    .invoke = copy_invoke,
    .builtin_code = 0, /* kTfLiteBuiltinDelegate */
    .custom_name = "fake_edgetpu_copy",
    .version = 1,
};

static TfLiteStatus prepare_claim(TfLiteContext *ctx, TfLiteDelegate *delegate) {
  TfLiteIntArray *plan;
  if (ctx->GetExecutionPlan(ctx, &plan) != kTfLiteOk) return kTfLiteError;
  for (int i = 0; i < plan->size; i++) {
    TfLiteNode *node;
    TfLiteRegistration *reg;
    if (ctx->GetNodeAndRegistration(ctx, plan->data[i], &node, &reg) != kTfLiteOk) continue;
    if (reg->builtin_code != BUILTIN_RESHAPE || node->outputs->size != 1) continue;
    TfLiteTensor *in = &ctx->tensors[node->inputs->data[0]];
    TfLiteTensor *out = &ctx->tensors[node->outputs->data[0]];
    if (in->bytes == 0 || in->bytes != out->bytes || in->type != out->type) continue;
    struct {
      int size;
      int data[1];
    } one = {1, {plan->data[i]}};
    return ctx->ReplaceNodeSubsetsWithDelegateKernels(ctx, copy_kernel, (TfLiteIntArray *)&one,
                                                      delegate);
  }
  return kTfLiteOk;
}

struct edgetpu_device *edgetpu_list_devices(size_t *num_devices) {
  n_list++;
  const char *env = getenv("FAKE_EDGETPU_DEVICES");
  int n = env ? atoi(env) : 1;
  if (device_gone()) n = 0;
  if (n > 2) n = 2;
  *num_devices = (size_t)(n < 0 ? 0 : n);
  if (n <= 0) return NULL;
  struct edgetpu_device *devs = calloc((size_t)n, sizeof *devs);
  for (int i = 0; i < n; i++) {
    devs[i].type = i == 0 ? EDGETPU_APEX_USB : EDGETPU_APEX_PCI;
    devs[i].path = paths[i];
  }
  return devs;
}

void edgetpu_free_devices(struct edgetpu_device *dev) {
  n_free_devices++;
  free(dev);
}

TfLiteDelegate *edgetpu_create_delegate(enum edgetpu_device_type type, const char *name,
                                        const struct edgetpu_option *options, size_t num_options) {
  (void)type;
  n_create++;
  size_t at = 0;
  last_options[0] = 0;
  for (size_t i = 0; i < num_options && at < sizeof last_options; i++) {
    int n = snprintf(last_options + at, sizeof last_options - at, "%s=%s;", options[i].name,
                     options[i].value);
    if (n < 0) break;
    at += (size_t)n;
  }
  const char *mode = getenv("FAKE_EDGETPU_DELEGATE");
  if (mode && strcmp(mode, "null") == 0) return NULL;
  if (!name || strcmp(name, paths[0]) != 0) return NULL;
  TfLiteDelegate *d = calloc(1, sizeof *d);
  d->Prepare = env_long("FAKE_EDGETPU_FAIL_AFTER", -1) >= 0 ? prepare_claim : prepare;
  d->flags = kTfLiteDelegateFlagsNone;
  n_live_delegates++;
  return d;
}

void edgetpu_free_delegate(TfLiteDelegate *delegate) {
  n_free_delegate++;
  if (delegate) n_live_delegates--;
  free(delegate);
}

const char *edgetpu_version(void) { return "BuildLabel(fake), RuntimeVersion(14)"; }

void edgetpu_verbosity(int verbosity) { (void)verbosity; }

const char *fake_edgetpu_last_options(void) { return last_options; }

/* [0] list, [1] free_devices, [2] create, [3] free_delegate, [4] live delegates. */
void fake_edgetpu_counts(int32_t *out) {
  out[0] = n_list;
  out[1] = n_free_devices;
  out[2] = n_create;
  out[3] = n_free_delegate;
  out[4] = n_live_delegates;
}
