/** --auth, --auth-file and HAZARDCAM_AUTH become config.auth; bad values are exit-code-2 errors. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgv } from "../../src/config/argv.ts";
import { buildConfig, runArgs, type Config } from "../../src/config/run.ts";
import { HcError } from "../../src/shared/errors.ts";
import { checkBasicAuth } from "../../src/http/auth.ts";

const MODEL = "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite";
const CLIP = "test/fixtures/people_640x480_q5.mjpeg";
const tmp = mkdtempSync(join(tmpdir(), "hazardcam-auth-"));
const OUT = join(tmp, "out");

function config(flags: string[], env: Record<string, string> = {}): Config {
  return buildConfig(
    parseArgv([MODEL, CLIP, "0.5", "640", "480", "8080", OUT, ...flags], runArgs),
    env,
  );
}

function failure(flags: string[], env: Record<string, string> = {}): HcError {
  try {
    config(flags, env);
  } catch (e) {
    if (e instanceof HcError) return e;
    throw e;
  }
  throw new Error(`accepted: ${flags.join(" ")}`);
}

function fileWith(text: string): string {
  const p = join(tmp, `auth-${Math.random().toString(36).slice(2)}`);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

describe("where the login comes from", () => {
  test("none: open, as the original", () => {
    expect(config([]).auth).toBeNull();
  });

  test("--auth user:pass; the password may contain ':'", () => {
    expect(config(["--auth", "admin:s3cret:x"]).auth).toEqual({ user: "admin", pass: "s3cret:x" });
  });

  test("HAZARDCAM_AUTH when no flag is given; a flag wins over it", () => {
    expect(config([], { HAZARDCAM_AUTH: "cam:pw" }).auth).toEqual({ user: "cam", pass: "pw" });
    expect(config(["--auth", "a:b"], { HAZARDCAM_AUTH: "cam:pw" }).auth).toEqual({
      user: "a",
      pass: "b",
    });
  });

  test("--auth-file: the first line, without its line ending", () => {
    const f = fileWith("viewer:long password with spaces\r\nignored:line\n");
    expect(config(["--auth-file", f]).auth).toEqual({
      user: "viewer",
      pass: "long password with spaces",
    });
  });

  test("the login from the config opens the door, others do not", () => {
    const auth = config(["--auth", "admin:pw"]).auth!;
    const basic = (s: string): string => `Basic ${Buffer.from(s).toString("base64")}`;
    expect(checkBasicAuth(basic("admin:pw"), auth)).toBe(true);
    expect(checkBasicAuth(basic("admin:pw2"), auth)).toBe(false);
    expect(checkBasicAuth(basic("Admin:pw"), auth)).toBe(false);
    expect(checkBasicAuth(null, auth)).toBe(false);
  });
});

describe("bad logins: one message naming the source, exit code 2, the password never echoed", () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ["no colon", ["--auth", "adminpw"], {}, /--auth is not valid: no ':'/],
    ["empty user", ["--auth", ":pw"], {}, /--auth is not valid: the user name is empty/],
    ["empty password", ["--auth", "admin:"], {}, /--auth is not valid: the password is empty/],
    ["too long", ["--auth", `a:${"p".repeat(300)}`], {}, /limited to 256 characters/],
    ["control character", ["--auth", "a:p\u0007w"], {}, /control characters/],
    ["bad env", [], { HAZARDCAM_AUTH: "nocolon" }, /HAZARDCAM_AUTH is not valid/],
    ["both flags", ["--auth", "a:b", "--auth-file", "/x"], {}, /both given/],
    [
      "missing file",
      ["--auth-file", join(tmp, "nope")],
      {},
      /--auth-file ".*nope" cannot be read \(ENOENT\)/,
    ],
  ];
  test.each(cases)("%s", (_name, flags, env, re) => {
    const e = failure(flags, env);
    expect(e.code).toBe("EARG_AUTH");
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(re);
    expect(e.message).not.toContain("adminpw");
    expect(e.message).toMatch(/user:password|use one of them/);
  });

  test("an unreadable file", () => {
    if (process.getuid?.() === 0) return; // root reads everything
    const f = fileWith("a:b");
    chmodSync(f, 0o000);
    expect(failure(["--auth-file", f]).message).toMatch(/cannot be read \(EACCES\)/);
  });

  test("an empty file", () => {
    expect(failure(["--auth-file", fileWith("")]).message).toMatch(/--auth-file .* no ':'/);
  });
});
