/**
 * src/main.ts is the only place that ends the process: everything else returns an exit code
 * or throws an HcError, so stopping (closers, the archive, the camera) always runs.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

test("process.exit is called in src/main.ts only", () => {
  const callers = [...new Bun.Glob("src/**/*.{ts,tsx}").scanSync(root)].filter((f) => {
    // Comments aside: a line that calls it, not one that mentions it.
    const code = readFileSync(join(root, f), "utf8").replace(/\/\*[^]*?\*\/|\/\/.*$/gm, "");
    return /\bprocess\.exit\s*\(/.test(code) || /\bprocess\.reallyExit\b/.test(code);
  });
  expect(callers.sort()).toEqual(["src/main.ts"]);
});
