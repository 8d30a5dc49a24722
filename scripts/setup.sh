#!/usr/bin/env bash
# Installs what hazardcam needs to build and test, only what is missing: safe to run again.
#   Bun (via npm), apt build deps for x64 and arm64, Chromium for e2e, mosquitto for the MQTT
#   tests, node modules, the C shim.
# HAZARDCAM_SETUP_MIN=1 skips the arm64 toolchain, Chromium and mosquitto (enough for the demo).
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.5
say() { echo "setup: $*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  say "installing bun $BUN_VERSION with npm"
  $SUDO npm install -g --allow-scripts=bun "bun@$BUN_VERSION" >/dev/null 2>&1 \
    || $SUDO npm install -g "bun@$BUN_VERSION"
fi

pkgs=(gcc libc6-dev libturbojpeg0-dev libjpeg62-turbo-dev)
if [ "${HAZARDCAM_SETUP_MIN:-0}" != 1 ]; then
  # mosquitto: the MQTT tests start /usr/sbin/mosquitto themselves on a free loopback port; the
  # package's own service (port 1883) is neither needed nor used.
  # ffmpeg: ffprobe checks that recorded clips play (test/http/clips-*.test.ts).
  pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libturbojpeg0-dev:arm64 qemu-user chromium mosquitto ffmpeg)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules/elysia ] || [ package.json -nt node_modules/.hazardcam-installed ]; then
  say "bun install"
  bun install --frozen-lockfile
  touch node_modules/.hazardcam-installed
fi

bash scripts/build-ffi.sh
say "ready"
