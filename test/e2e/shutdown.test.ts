/** Ctrl+C with 50 viewers streaming: exit 0 within a second, camera released, nothing aborted. */
import { expect, test } from "bun:test";
import { camArgs, fakecamEnv, readLog, startServer, tempDir } from "./harness.ts";

test("SIGINT with 50 /video clients: exit 0 in under 1 s, STREAMOFF and close seen", async () => {
  const camLog = `${tempDir("camlog")}/fakecam.log`;
  const srv = await (await startServer(camArgs(), fakecamEnv({ log: camLog }))).ready();
  const controllers: AbortController[] = [];
  const readers = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const ac = new AbortController();
      controllers.push(ac);
      const res = await fetch(`${srv.url}/video`, { signal: ac.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      return reader;
    }),
  );
  expect(readers).toHaveLength(50);
  // Keep them reading so they are live streams, not stalled sockets.
  const draining = readers.map(async (r) => {
    try {
      while (!(await r.read()).done);
    } catch {
      // The server closed the stream: expected.
    }
  });
  const t0 = performance.now();
  const code = await srv.stop("SIGINT");
  const ms = performance.now() - t0;
  expect(code).toBe(0);
  expect(ms).toBeLessThan(1000);
  await Promise.race([Promise.all(draining), Bun.sleep(2000)]);
  for (const c of controllers) c.abort();
  const log = readLog(camLog).join("\n");
  expect(log).toMatch(/streamoff/);
  expect(log).toMatch(/close/);
  expect(srv.output()).not.toMatch(/Aborted|core dumped|Segmentation/);
  expect(srv.output()).toMatch(/stopped in \d+ ms/);
}, 60000);
