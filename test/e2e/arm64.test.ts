/**
 * The Pi binary under qemu as a Cortex-A72 (a Pi 4 has no LSE atomics): --version, detect on
 * kite_and_cold.jpg, and the server on the bundled clip answering /status.
 */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { camArgs, CLIP, CPU_MODEL, freePort, root, tempDir, waitFor } from "./harness.ts";

const bin = join(root, "dist/hazardcam-linux-arm64");
const qemu = Bun.which("qemu-aarch64");
// qemu-user 7.2 -L only redirects paths that exist under the prefix: the guest's ld.so comes from
// /usr/aarch64-linux-gnu/lib (libc6-arm64-cross) but libc.so.6 from the host's multiarch
// /lib/aarch64-linux-gnu (libc6:arm64, a different build), and that mixed glibc loops forever in
// pthread_create (JSC's first thread), so even --version hangs. LD_LIBRARY_PATH in the guest only
// (-E) makes libc match ld.so. Not needed on a real Pi, where both come from one libc6.
const QEMU = [
  qemu ?? "qemu-aarch64",
  "-cpu",
  "cortex-a72",
  "-L",
  "/usr/aarch64-linux-gnu",
  "-E",
  "LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib",
];
const ready = existsSync(bin) && qemu !== null && process.arch === "x64";

describe.skipIf(!ready && !process.env.CI)(
  "arm64 binary under qemu-aarch64 -cpu cortex-a72",
  () => {
    test("it was built (CI builds both arches)", () => {
      expect(existsSync(bin)).toBe(true);
      expect(qemu).not.toBeNull();
    });

    test("--version", () => {
      const r = Bun.spawnSync([...QEMU, bin, "--version"], {
        stdout: "pipe",
        stderr: "pipe",
        timeout: 120000,
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString()).toContain("TFLite 2.9.0");
    }, 120000);

    test("detect finds the five people of kite_and_cold.jpg", () => {
      const r = Bun.spawnSync(
        [
          ...QEMU,
          bin,
          "detect",
          CPU_MODEL,
          join(root, "test/fixtures/kite_and_cold.jpg"),
          "--json",
        ],
        {
          stdout: "pipe",
          stderr: "pipe",
          timeout: 240000,
        },
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString().match(/"person"/g)?.length).toBe(5);
    }, 240000);

    test("the server on the bundled clip answers /status", async () => {
      const port = await freePort();
      const out = join(tempDir("arm64"), "out");
      const proc = Bun.spawn([...QEMU, bin, ...camArgs(CLIP, { port, outdir: out })], {
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        type Status = { online?: boolean; backend?: string };
        const body = await waitFor(
          async () => {
            try {
              const r = await fetch(`http://127.0.0.1:${port}/status`);
              const st = (await r.json()) as Status;
              return st.online && st.backend === "cpu" && st;
            } catch {
              return null; // Not listening yet.
            }
          },
          { timeoutMs: 180000, pollMs: 500, what: "/status online on the CPU under qemu" },
        );
        expect(body.online).toBe(true);
        expect(body.backend).toBe("cpu");
      } finally {
        proc.kill("SIGINT");
        expect(await proc.exited).toBe(0);
      }
    }, 240000);
  },
);
