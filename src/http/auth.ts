/** HTTP Basic auth for every route (issue 6): constant-time comparison, 401 with a challenge. */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { inputError } from "../shared/errors.ts";

import type { BasicAuth } from "../shared/config.ts";
export type { BasicAuth } from "../shared/config.ts";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Compares fixed-length digests so neither the length nor the content leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** True when `header` (the Authorization value) carries exactly these credentials. */
export function checkBasicAuth(header: string | null, auth: BasicAuth): boolean {
  if (!header || header.length > 4096) return false;
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m || !m[1]) return false;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  // Both halves are always compared: no early exit on a wrong user name.
  const userOk = sameSecret(decoded.slice(0, colon), auth.user);
  const passOk = sameSecret(decoded.slice(colon + 1), auth.pass);
  return userOk && passOk;
}

export function unauthorized(): Response {
  return new Response(JSON.stringify({ error: "unauthorized", reason: "login required" }), {
    status: 401,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "www-authenticate": 'Basic realm="hazardcam", charset="UTF-8"',
      "cache-control": "no-store",
    },
  });
}

/** Longest accepted user or password, in characters. */
const MAX_CREDENTIAL = 256;

/**
 * Parses "user:pass" (the password may contain ":"), as given by `where` ("--auth",
 * "HAZARDCAM_AUTH", "--auth-file PATH"). Throws an input error (exit code 2) naming it.
 */
export function parseCredentials(text: string, where: string): BasicAuth {
  const colon = text.indexOf(":");
  const bad = (why: string) =>
    inputError("EARG_AUTH", `${where} is not valid: ${why}`, 'expected "user:password"');
  if (colon < 0) throw bad("no ':' between user and password");
  const user = text.slice(0, colon);
  const pass = text.slice(colon + 1);
  if (!user) throw bad("the user name is empty");
  if (!pass) throw bad("the password is empty");
  if (user.length > MAX_CREDENTIAL || pass.length > MAX_CREDENTIAL)
    throw bad(`user and password are limited to ${MAX_CREDENTIAL} characters`);
  // Control characters cannot be typed into a browser's login box.
  if (/[\x00-\x1f\x7f]/.test(text)) throw bad("it contains control characters");
  return { user, pass };
}

/**
 * The credentials from `--auth`, else `--auth-file` (its first line), else the HAZARDCAM_AUTH
 * environment variable; null when none is set. Both flags at once is an error.
 */
export function authFromArgs(
  flag: string | undefined,
  file: string | undefined,
  env: string | undefined,
): BasicAuth | null {
  if (flag !== undefined && file !== undefined) {
    throw inputError("EARG_AUTH", "--auth and --auth-file are both given", "use one of them");
  }
  if (flag !== undefined) return parseCredentials(flag, "--auth");
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw inputError(
        "EARG_AUTH",
        `--auth-file "${file}" cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`,
        'give a file containing one line "user:password", readable by this user only (chmod 600)',
      );
    }
    const line = text.split(/\r?\n/)[0] ?? "";
    return parseCredentials(line, `--auth-file "${file}"`);
  }
  if (env) return parseCredentials(env, "HAZARDCAM_AUTH");
  return null;
}
