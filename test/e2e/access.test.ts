/**
 * Access on the compiled binary: a login from --auth-file guards every route (pages, /video,
 * /out, the SSE stream, the API); listening on all interfaces without a login is warned about;
 * absurd raw HTTP requests get a 4xx (or Bun's own 505 for a request line it cannot parse),
 * never a 500, and the server keeps serving.
 */
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { camArgs, fakecamEnv, readParts, startServer, tempDir, type Running } from "./harness.ts";

let srv: Running | null = null;

afterEach(async () => {
  const s = srv;
  srv = null;
  if (s) expect(await s.stop("SIGINT")).toBe(0);
});

const basic = (u: string, p: string): string =>
  `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

test("--auth-file: every route asks for the login; with it everything works", async () => {
  const file = join(tempDir("auth"), "login");
  writeFileSync(file, "viewer:correct horse:battery\n", { mode: 0o600 });
  srv = await startServer(camArgs("0", { flags: ["--auth-file", file] }), fakecamEnv());
  const s = await srv.ready();
  expect(s.output()).toMatch(/^http: listening on .*, login required$/m);
  expect(s.output()).not.toMatch(/anyone on the network/);
  // Wait for an event, so /out has a real file to protect.
  const saved = await s.waitFor(/events: saved \S+\.jpg/, 15000);
  const file1 = saved.split(" ").pop()!;
  const ok = { authorization: basic("viewer", "correct horse:battery") };

  const routes = [
    "/",
    "/video",
    "/video?raw=1",
    "/api/stream",
    "/status",
    "/snapshot",
    "/events",
    "/events/1",
    `/out/${file1}`,
    `/out/thumbs/${file1}`,
    "/latest.jpg",
    "/api/events",
    "/api/events/1",
    "/no-such-page",
  ];
  for (const path of routes) {
    for (const authorization of [
      undefined,
      basic("viewer", "wrong"),
      basic("Viewer", "correct horse:battery"),
      "Bearer abc",
    ]) {
      const res = await fetch(`${s.url}${path}`, {
        headers: authorization ? { authorization } : {},
        redirect: "manual",
      });
      expect({ path, authorization, status: res.status }).toEqual({
        path,
        authorization,
        status: 401,
      });
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="hazardcam", charset="UTF-8"');
      await res.body?.cancel();
    }
  }

  expect((await fetch(`${s.url}/status`, { headers: ok })).status).toBe(200);
  expect((await fetch(`${s.url}/out/${file1}`, { headers: ok })).status).toBe(200);
  const video = await fetch(`${s.url}/video`, { headers: ok });
  expect((await readParts(video, 3, 5000)).length).toBe(3);
  const sse = await fetch(`${s.url}/api/stream`, { headers: ok });
  const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toMatch(/event: /);
  await reader.cancel();
}, 60000);

/** Sends raw bytes; resolves with the status line, "(closed)" or "(timeout)". */
function raw(port: number, req: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    let out = "";
    const done = (v: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(out.split("\r\n")[0] || "(timeout)"), 5000);
    sock.on("data", (d) => {
      out += d.toString("latin1");
      if (out.includes("\r\n")) done(out.split("\r\n")[0]!);
    });
    sock.on("error", () => done(out.split("\r\n")[0] || "(closed)"));
    sock.on("close", () => done(out.split("\r\n")[0] || "(closed)"));
    sock.write(req);
  });
}

test("on all interfaces without a login: one warning; absurd raw requests are refused", async () => {
  srv = await startServer(camArgs("0", { bind: "0.0.0.0" }), fakecamEnv());
  const s = await srv.ready();
  const warnings = s
    .output()
    .split("\n")
    .filter((l) => /anyone on the network/.test(l));
  expect(warnings).toEqual([
    "http: anyone on the network can watch the camera and read the archive: pass --auth user:pass (or --auth-file), or --bind 127.0.0.1",
  ]);

  const H = "Host: cam\r\n";
  const big = "x".repeat(100_000);
  const headers = (n: number): string =>
    Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join("");
  // [name, request, expected status code or "closed"]
  const table: [string, string, number | "closed"][] = [
    ["a giant header", `GET /status HTTP/1.1\r\n${H}X-Big: ${big}\r\n\r\n`, 431],
    [
      "a giant Authorization",
      `GET /status HTTP/1.1\r\n${H}Authorization: Basic ${big}\r\n\r\n`,
      431,
    ],
    ["500 headers", `GET /status HTTP/1.1\r\n${H}${headers(500)}\r\n`, 431],
    ["a 100 KB path", `GET /${"a".repeat(100_000)} HTTP/1.1\r\n${H}\r\n`, 431],
    ["a 10 KB path", `GET /${"a".repeat(10_000)} HTTP/1.1\r\n${H}\r\n`, 404],
    ["a 50 KB number", `GET /api/events?limit=${"9".repeat(50_000)} HTTP/1.1\r\n${H}\r\n`, 431],
    ["an encoded NUL", `GET /out/%00.jpg HTTP/1.1\r\n${H}\r\n`, 404],
    ["invalid percent-encoding", `GET /out/%zz%E0%A4%A.jpg HTTP/1.1\r\n${H}\r\n`, 404],
    ["a path escape", `GET /out/..%2f..%2fetc%2fpasswd HTTP/1.1\r\n${H}\r\n`, 404],
    ["NaN", `GET /api/events?limit=NaN HTTP/1.1\r\n${H}\r\n`, 400],
    ["a list", `GET /api/events?limit[]=1 HTTP/1.1\r\n${H}\r\n`, 400],
    ["Infinity", `GET /events?before=Infinity HTTP/1.1\r\n${H}\r\n`, 400],
    ["fps 1e309", `GET /video?fps=1e309 HTTP/1.1\r\n${H}\r\n`, 400],
    ["no Host", `GET /status HTTP/1.1\r\n\r\n`, 400],
    ["a header without a colon", `GET /status HTTP/1.1\r\n${H}garbage\r\n\r\n`, 400],
    ["a bare CR in a header", `GET /status HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 400],
    ["Content-Length abc", `POST /snapshot HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`, 400],
    ["a 99 TB body", `POST /snapshot HTTP/1.1\r\n${H}Content-Length: 99999999999999\r\n\r\n`, 413],
    [
      "a broken chunk",
      `POST /snapshot HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
      400,
    ],
    ["an unknown method", `BREW /status HTTP/1.1\r\n${H}\r\n`, "closed"],
    // Bun's HTTP parser answers these malformed request lines itself, before hazardcam runs.
    ["a raw NUL in the path", `GET /sta\0tus HTTP/1.1\r\n${H}\r\n`, 505],
    ["a space in the path", `GET /sta tus HTTP/1.1\r\n${H}\r\n`, 505],
  ];
  for (const [name, req, want] of table) {
    const line = await raw(s.port, req);
    const got = /^HTTP\/1\.1 (\d{3})/.exec(line)?.[1];
    expect({ name, got: got ? Number(got) : "closed" }).toEqual({ name, got: want });
    expect(line).not.toMatch(/ 500 /);
  }
  // Still serving, no error logged for any of them.
  expect((await fetch(`${s.url}/status`)).status).toBe(200);
  expect(s.output()).not.toMatch(/failed:|internal/);
}, 60000);
