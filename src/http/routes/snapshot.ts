/**
 * GET|POST /snapshot: saves the current frame (reason "snapshot") and redirects (302) to the
 * image; 503 JSON {error, reason} without a frame or when the save failed; 429 beyond the rate
 * limit. HEAD is refused: it would run GET, and GET saves.
 */
import { Elysia } from "elysia";
import type { EventRecord } from "../../events/archive.ts";
import type { ServerDeps } from "../deps.ts";
import { refuseMethod } from "../methods.ts";
import { TokenBucket } from "../ratelimit.ts";
import { NO_STORE, json } from "../respond.tsx";

export type SnapshotDeps = Pick<ServerDeps, "snapshot" | "latest" | "status" | "archive">;

/** /snapshot: bursts of 3, then 1 per second, so a poller cannot fill the card. */
export const SNAPSHOT_BURST = 3;
export const SNAPSHOT_PER_SEC = 1;

export function snapshotRoutes(deps: SnapshotDeps) {
  const limit = new TokenBucket(SNAPSHOT_PER_SEC, SNAPSHOT_BURST);
  const handler = (): Promise<Response> | Response => {
    const waitMs = limit.take();
    return waitMs > 0 ? rateLimited(waitMs) : snapshot(deps);
  };
  return new Elysia()
    .get("/snapshot", handler)
    .post("/snapshot", handler, { parse: "none" })
    .head("/snapshot", refuseMethod);
}

function rateLimited(waitMs: number): Response {
  const retrySec = Math.ceil(waitMs / 1000);
  return json(
    {
      error: "rate_limited",
      reason: `at most ${SNAPSHOT_PER_SEC} snapshot per second (bursts of ${SNAPSHOT_BURST}): try again in ${retrySec} s`,
      retry_after_s: retrySec,
    },
    429,
    { "retry-after": String(retrySec) },
  );
}

async function snapshot(deps: SnapshotDeps): Promise<Response> {
  let rec: EventRecord | null;
  try {
    rec = await deps.snapshot();
  } catch (e) {
    return json({ error: "save_failed", reason: (e as Error).message }, 503);
  }
  if (rec) {
    return new Response(null, {
      status: 302,
      headers: { location: `/out/${rec.file}`, "cache-control": NO_STORE },
    });
  }
  if (!deps.latest()) {
    const st = deps.status();
    return json({ error: "no_frame", reason: st.offlineReason ?? "no frame captured yet" }, 503, {
      "retry-after": "1",
    });
  }
  const reason = deps.archive.stats().lastError ?? "the snapshot was not saved";
  return json({ error: "save_failed", reason }, 503);
}
