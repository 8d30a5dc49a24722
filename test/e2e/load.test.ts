/**
 * A bounded load on loopback (the short version of bench/load.ts): 20 MJPEG viewers, 100
 * /status requests per second and 10 viewers that never read, for 15 s. Every viewer keeps
 * getting pictures, /status always answers, and memory does not run away.
 */
import { expect, test } from "bun:test";
import { runLoad } from "../../bench/load.ts";

test("20 viewers + 100 /status per s + 10 stalled viewers for 15 s", async () => {
  const r = await runLoad({ seconds: 15, clients: 20, rps: 100, stalled: 10, log: () => {} });
  const s = r.server;
  console.log(
    `frames per viewer ${r.clients.framesMin}..${r.clients.framesMax}, longest gap ${r.clients.maxGapMs} ms; ` +
      `/status p99 ${r.status.p99Ms} ms; RSS ${s.rssBaselineMb} → ${s.rssEndMb} MB (max ${s.rssMaxMb})`,
  );
  expect(r.clients.failed).toBe(0);
  // Every viewer got a moving picture: at least half the camera's 10 fps, never frozen for 3 s.
  expect(r.clients.framesMin).toBeGreaterThanOrEqual(75);
  expect(r.clients.maxGapMs).toBeLessThan(3000);
  expect(r.status.errors).toBe(0);
  expect(r.status.statusCodes).toEqual({ "200": r.status.sent });
  expect(r.stalled.connected).toBe(10);
  expect(r.server.statusAfter?.online).toBe(true);
  // Generous: a leak of one frame per stalled client per second would add hundreds of MB.
  expect(s.rssGrowthMb).toBeLessThan(60);
}, 90000);
