#!/usr/bin/env bash
# The demo: the bundled clip through the CPU model, dashboard on http://localhost:8080/
# Extra arguments are passed on (e.g. --threads 2).
set -euo pipefail
cd "$(dirname "$0")/.."
HAZARDCAM_SETUP_MIN=1 bash scripts/setup.sh
exec bun src/main.ts models/ssd_mobilenet_v2_coco_quant_postprocess.tflite \
  test/fixtures/people_640x480_q5.mjpeg 0.5 640 480 8080 ./out 2 --fps 10 "$@"
