/** HTTP Basic auth for every route (issue 6): constant-time comparison, 401 with a challenge. */
import { createHash, timingSafeEqual } from "node:crypto";

export interface BasicAuth {
  user: string;
  pass: string;
}

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
