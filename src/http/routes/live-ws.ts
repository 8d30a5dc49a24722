/**
 * /api/live: the dashboard's WebSocket, one per tab (src/http/live/tabs.ts says what goes over
 * it). `?hidden=1` when the tab opens hidden (no frame is sent until it shows). The tab sends
 * {"type": "visibility", "visible": boolean} when it is hidden or shown.
 *
 * The login check of every route (the server's onRequest hook) runs on the upgrade request:
 * a wrong login gets 401 and no socket. A plain GET (no upgrade) gets 426.
 */
import { Elysia } from "elysia";
import type { LiveTabs } from "../live/tabs.ts";
import type { WsPeer } from "../live/ws.ts";
import { json } from "../respond.tsx";

/**
 * Bun's ServerWebSocket, the same object in every callback of one connection (so it keys the
 * tab). Elysia's bundled copy of Bun's types predates getBufferedAmount(), which Bun 1.4 has
 * (test/http/live-ws.test.ts runs against it).
 */
const peer = (raw: unknown): WsPeer => raw as WsPeer;

/**
 * A tab only ever sends a visibility message (~40 bytes): anything bigger closes its socket.
 * Bun applies it to the whole server (the root app's `websocket` config, src/http/server.tsx).
 */
export const LIVE_MAX_MESSAGE_BYTES = 4096;

export function liveWsRoutes(tabs: LiveTabs) {
  return new Elysia()
    .ws("/api/live", {
      open(ws) {
        const hidden = (ws.data.query as Record<string, string | undefined>).hidden === "1";
        tabs.open(peer(ws.raw), { visible: !hidden });
      },
      message(ws, msg) {
        tabs.message(peer(ws.raw), msg);
      },
      drain(ws) {
        tabs.drain(peer(ws.raw));
      },
      close(ws) {
        tabs.close(peer(ws.raw));
      },
    })
    .get("/api/live", () =>
      json(
        {
          error: "upgrade_required",
          reason: "/api/live is a WebSocket (the dashboard's live picture and state)",
        },
        426,
        { upgrade: "websocket", connection: "Upgrade" },
      ),
    );
}
