/* The C baseline of bench/ffi-overhead.ts: times TfLiteInterpreterInvoke (with the same input
 * and output copies hazardcam's Detector does) through the TFLite C API, loaded with dlopen
 * from the same libtensorflowlite_c.so.
 * usage: tflite_invoke <libtensorflowlite_c.so> <model.tflite> <input.rgb> <runs> <warmup> <threads>
 * Prints one JSON line: {"version":..,"threads":..,"runs":..,"ms":[per-run milliseconds]}. */
#define _POSIX_C_SOURCE 199309L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct TfLiteModel TfLiteModel;
typedef struct TfLiteInterpreterOptions TfLiteInterpreterOptions;
typedef struct TfLiteInterpreter TfLiteInterpreter;
typedef struct TfLiteTensor TfLiteTensor;

static const char *(*TfLiteVersion)(void);
static TfLiteModel *(*TfLiteModelCreateFromFile)(const char *);
static void (*TfLiteModelDelete)(TfLiteModel *);
static TfLiteInterpreterOptions *(*TfLiteInterpreterOptionsCreate)(void);
static void (*TfLiteInterpreterOptionsDelete)(TfLiteInterpreterOptions *);
static void (*TfLiteInterpreterOptionsSetNumThreads)(TfLiteInterpreterOptions *, int32_t);
static TfLiteInterpreter *(*TfLiteInterpreterCreate)(const TfLiteModel *,
                                                     const TfLiteInterpreterOptions *);
static void (*TfLiteInterpreterDelete)(TfLiteInterpreter *);
static int (*TfLiteInterpreterAllocateTensors)(TfLiteInterpreter *);
static int (*TfLiteInterpreterInvoke)(TfLiteInterpreter *);
static TfLiteTensor *(*TfLiteInterpreterGetInputTensor)(const TfLiteInterpreter *, int32_t);
static int32_t (*TfLiteInterpreterGetOutputTensorCount)(const TfLiteInterpreter *);
static const TfLiteTensor *(*TfLiteInterpreterGetOutputTensor)(const TfLiteInterpreter *, int32_t);
static size_t (*TfLiteTensorByteSize)(const TfLiteTensor *);
static int (*TfLiteTensorCopyFromBuffer)(TfLiteTensor *, const void *, size_t);
static int (*TfLiteTensorCopyToBuffer)(const TfLiteTensor *, void *, size_t);

#define LOAD(lib, name)                                          \
  do {                                                           \
    *(void **)(&name) = dlsym(lib, #name);                       \
    if (!name) {                                                 \
      fprintf(stderr, "tflite_invoke: no symbol %s\n", #name);   \
      return 1;                                                  \
    }                                                            \
  } while (0)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s <lib.so> <model> <input.rgb> <runs> <warmup> <threads>\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[4]), warmup = atoi(argv[5]), threads = atoi(argv[6]);
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "tflite_invoke: %s\n", dlerror());
    return 1;
  }
  LOAD(lib, TfLiteVersion);
  LOAD(lib, TfLiteModelCreateFromFile);
  LOAD(lib, TfLiteModelDelete);
  LOAD(lib, TfLiteInterpreterOptionsCreate);
  LOAD(lib, TfLiteInterpreterOptionsDelete);
  LOAD(lib, TfLiteInterpreterOptionsSetNumThreads);
  LOAD(lib, TfLiteInterpreterCreate);
  LOAD(lib, TfLiteInterpreterDelete);
  LOAD(lib, TfLiteInterpreterAllocateTensors);
  LOAD(lib, TfLiteInterpreterInvoke);
  LOAD(lib, TfLiteInterpreterGetInputTensor);
  LOAD(lib, TfLiteInterpreterGetOutputTensorCount);
  LOAD(lib, TfLiteInterpreterGetOutputTensor);
  LOAD(lib, TfLiteTensorByteSize);
  LOAD(lib, TfLiteTensorCopyFromBuffer);
  LOAD(lib, TfLiteTensorCopyToBuffer);

  FILE *f = fopen(argv[3], "rb");
  if (!f) {
    perror(argv[3]);
    return 1;
  }
  static uint8_t input[16 << 20];
  size_t input_len = fread(input, 1, sizeof input, f);
  fclose(f);

  TfLiteModel *model = TfLiteModelCreateFromFile(argv[2]);
  if (!model) return 1;
  TfLiteInterpreterOptions *opts = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(opts, threads);
  TfLiteInterpreter *interp = TfLiteInterpreterCreate(model, opts);
  TfLiteInterpreterOptionsDelete(opts);
  if (!interp || TfLiteInterpreterAllocateTensors(interp) != 0) return 1;
  TfLiteTensor *in = TfLiteInterpreterGetInputTensor(interp, 0);
  if (TfLiteTensorByteSize(in) != input_len) {
    fprintf(stderr, "tflite_invoke: input is %zu bytes, the tensor %zu\n", input_len,
            TfLiteTensorByteSize(in));
    return 1;
  }
  int n_out = TfLiteInterpreterGetOutputTensorCount(interp);
  static float out[4][4096];

  double *ms = calloc((size_t)(runs > 0 ? runs : 1), sizeof *ms);
  for (int i = -warmup; i < runs; i++) {
    double t0 = now_ms();
    TfLiteTensorCopyFromBuffer(in, input, input_len);
    if (TfLiteInterpreterInvoke(interp) != 0) return 1;
    for (int o = 0; o < n_out && o < 4; o++) {
      const TfLiteTensor *t = TfLiteInterpreterGetOutputTensor(interp, o);
      TfLiteTensorCopyToBuffer(t, out[o], TfLiteTensorByteSize(t));
    }
    double t1 = now_ms();
    if (i >= 0) ms[i] = t1 - t0;
  }
  printf("{\"version\":\"%s\",\"threads\":%d,\"runs\":%d,\"ms\":[", TfLiteVersion(), threads, runs);
  for (int i = 0; i < runs; i++) printf("%s%.4f", i ? "," : "", ms[i]);
  printf("]}\n");
  free(ms);
  TfLiteInterpreterDelete(interp);
  TfLiteModelDelete(model);
  return 0;
}
