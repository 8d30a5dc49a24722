#!/usr/bin/env bash
# Builds the C shim (ffi/build/linux-{x64,arm64}/libhazardcam.so) and the fake V4L2 camera for
# tests (ffi/build/linux-*/libfakecam.so). Only outputs older than their sources are rebuilt;
# one line per build. libjpeg-turbo is linked statically, so the shim needs only libc.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "build-ffi: $*"; }

if [ ! -f /usr/include/jpeglib.h ]; then
  say "missing /usr/include/jpeglib.h: sudo apt-get install libjpeg62-turbo-dev libturbojpeg0-dev" >&2
  exit 1
fi

CFLAGS=(-O2 -fPIC -std=gnu11 -Wall -Wextra -Werror -fvisibility=hidden)
# --exclude-libs keeps libjpeg's symbols private (only hc_* / the interposed libc calls are
# exported); nodelete keeps the code mapped for the thread-exit destructor of our TLS state.
LDFLAGS=(-shared -Wl,--no-undefined -Wl,--exclude-libs,ALL -Wl,-z,nodelete -Wl,-z,relro -Wl,-z,now)
SHIM_SRC=(ffi/hazardcam.c)
SHIM_DEPS=(ffi/hazardcam.c ffi/hazardcam.h ffi/font8x8.h scripts/build-ffi.sh)
FAKE_SRC=(test/fakecam/fakecam.c)
FAKE_DEPS=(test/fakecam/fakecam.c scripts/build-ffi.sh)

built=0

# needs_build OUT DEP... → true if OUT is missing or older than any DEP.
needs_build() {
  local out=$1
  shift
  [ -f "$out" ] || return 0
  local d
  for d in "$@"; do
    [ "$d" -nt "$out" ] && return 0
  done
  return 1
}

# link OUT CC EXTRA_FLAGS(array name) LIBJPEG SOURCES(array name) DEPS(array name) [LIBS...]
link() {
  local out=$1 cc=$2 extra_name=$3 jpeg=$4 src_name=$5 deps_name=$6
  shift 6
  local -n extra=$extra_name src=$src_name deps=$deps_name
  needs_build "$out" "${deps[@]}" "$jpeg" || return 0
  mkdir -p "$(dirname "$out")"
  # Build next to the target, then rename: a running process keeps its mapped copy intact.
  local tmp="$out.tmp.$$"
  "$cc" "${CFLAGS[@]}" "${extra[@]}" -Iffi "${LDFLAGS[@]}" -o "$tmp" "${src[@]}" "$jpeg" "$@"
  mv -f "$tmp" "$out"
  say "built ${out#ffi/build/}"
  built=$((built + 1))
}

# ---- linux-x64 ----
X64_JPEG=/usr/lib/x86_64-linux-gnu/libturbojpeg.a
X64_FLAGS=()
if [ "$(uname -m)" = x86_64 ] || command -v x86_64-linux-gnu-gcc >/dev/null 2>&1; then
  X64_CC=gcc
  [ "$(uname -m)" = x86_64 ] || X64_CC=x86_64-linux-gnu-gcc
  if [ -f "$X64_JPEG" ]; then
    link ffi/build/linux-x64/libhazardcam.so "$X64_CC" X64_FLAGS "$X64_JPEG" SHIM_SRC SHIM_DEPS
    link ffi/build/linux-x64/libfakecam.so "$X64_CC" X64_FLAGS "$X64_JPEG" FAKE_SRC FAKE_DEPS -ldl -lpthread
  else
    say "skipping linux-x64: $X64_JPEG is missing (sudo apt-get install libturbojpeg0-dev)"
  fi
fi

# ---- linux-arm64 (Raspberry Pi 4/5; Cortex-A72 has no LSE atomics, hence plain armv8-a) ----
A64_JPEG=/usr/lib/aarch64-linux-gnu/libturbojpeg.a
A64_FLAGS=(-march=armv8-a)
if [ "$(uname -m)" = aarch64 ]; then
  A64_CC=gcc
else
  A64_CC=aarch64-linux-gnu-gcc
fi
if ! command -v "$A64_CC" >/dev/null 2>&1 || [ ! -f "$A64_JPEG" ]; then
  say "skipping linux-arm64: needs aarch64-linux-gnu-gcc and $A64_JPEG (gcc-aarch64-linux-gnu, libturbojpeg0-dev:arm64)"
else
  # jconfig.h is arch-specific in path only: libjpeg62-turbo-dev:arm64 may be absent, and the
  # amd64 copy of the same 2.1.5 build has identical contents.
  if [ ! -f /usr/include/aarch64-linux-gnu/jconfig.h ] && [ "$A64_CC" != gcc ]; then
    mkdir -p ffi/build/include-arm64
    if [ ! -f ffi/build/include-arm64/jconfig.h ]; then
      cp /usr/include/x86_64-linux-gnu/jconfig.h ffi/build/include-arm64/jconfig.h
    fi
    A64_FLAGS+=(-idirafter ffi/build/include-arm64)
  fi
  link ffi/build/linux-arm64/libhazardcam.so "$A64_CC" A64_FLAGS "$A64_JPEG" SHIM_SRC SHIM_DEPS
  link ffi/build/linux-arm64/libfakecam.so "$A64_CC" A64_FLAGS "$A64_JPEG" FAKE_SRC FAKE_DEPS -ldl -lpthread
fi

[ "$built" -gt 0 ] || say "up to date"
