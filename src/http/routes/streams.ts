/**
 * The live streams: /video (multipart MJPEG; ?fps=N with 0 < N <= 60, ?raw=1 for the camera's
 * own JPEG) and /api/stream (the dashboard's server-sent events; ?fps=N up to 30).
 */
import { Elysia } from "elysia";
import { flagParam, fpsParam } from "../query.ts";
import { searchParams } from "../respond.tsx";
import type { StreamHub } from "../streams.ts";

export function streamRoutes(hub: StreamHub) {
  return (
    new Elysia()
      .get("/video", ({ request }) => {
        const sp = searchParams(request);
        const raw = flagParam(sp, "raw");
        const fps = fpsParam(sp, "fps", 60) ?? null;
        return hub.video({ raw, fps, signal: request.signal });
      })
      .get("/api/stream", ({ request }) => {
        const fps = fpsParam(searchParams(request), "fps", 30) ?? 15;
        return hub.sse({ fps, signal: request.signal });
      })
      // Elysia answers HEAD by running GET and measuring the whole body: endless for a stream.
      .head("/video", () => new Response(null, { headers: hub.videoHeaders() }))
      .head("/api/stream", () => new Response(null, { headers: hub.sseHeaders() }))
  );
}
