/**
 * The visit page's clip section (src/http/pages/clip-section.tsx) on fake deps: the player's
 * markup and script with the visit's clips for it (the consecutive parts of a long visit), the
 * download links, and the plain messages: no clip with clips off or on, a clip still recording
 * (what exists plays, the rest says so and links the replay), and escaping of the clips' data.
 */
import { describe, expect, test } from "bun:test";
import type { ClipRow } from "../../src/clips/store.ts";
import type { HazardcamServer } from "../../src/http/server.tsx";
import type { ClipsService } from "../../src/pipeline/clips-api.ts";
import type { ClipsStatusJson } from "../../src/shared/status.ts";
import { setQuiet } from "../../src/shared/log.ts";
import { serverSetup } from "./fake-deps.ts";
import { fakeScene, type FakeScene } from "./fake-scene.ts";

setQuiet(true);
const setup = serverSetup();

const T0 = new Date(2024, 4, 24, 8, 0, 0).getTime();

function row(id: number, part: number, over: Partial<ClipRow> = {}): ClipRow {
  const base = `20240524_080000_clip${part > 1 ? `_p00${part}` : ""}`;
  return {
    id,
    visitId: 2,
    part,
    file: `${base}.mjpeg`,
    index: `${base}.jsonl`,
    startMs: T0 - 3000 + (part - 1) * 120_000,
    endMs: T0 - 3000 + part * 120_000 - 100,
    frames: 1200,
    bytes: 24_000_000,
    status: "complete",
    reason: "capped",
    error: null,
    ...over,
  };
}

function fakeClips(rows: ClipRow[], enabled = true): ClipsService {
  return {
    dir: "/nonexistent",
    byFile: (name) => rows.find((r) => r.file === name || r.index === name) ?? null,
    forVisit: (id) => rows.filter((r) => r.visitId === id),
    status: () => ({
      bytes: 0,
      total: rows.length,
      recorder: { enabled } as ClipsStatusJson,
    }),
    clipUrl: (id) => `/api/visits/${id}/clip.mjpeg`,
  };
}

function withVisit(
  clips: ClipsService | undefined,
  open = false,
): { app: HazardcamServer; s: FakeScene } {
  const { fake, app } = setup();
  const s = fakeScene(fake.dir);
  fake.deps.scene = s.scene;
  fake.deps.clips = clips;
  s.visits.add({ id: 2, start: T0, end: T0 + 200_000, open });
  return { app, s };
}

async function visitPage(app: HazardcamServer): Promise<string> {
  const res = await app.handle(
    new Request("http://localhost/visits/2", { headers: { accept: "text/html" } }),
  );
  expect(res.status).toBe(200);
  return res.text();
}

/** The clips the page hands to the player (data-clips, HTML-unescaped). */
function dataClips(
  page: string,
): { file: string; url: string; index_url: string; status: string }[] {
  const m = /id="clip-player"[^>]*data-clips="([^"]*)"/.exec(page);
  expect(m).not.toBeNull();
  return JSON.parse(
    m![1]!
      .replace(/&#34;/g, '"')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&"),
  );
}

describe("the visit page's clip player", () => {
  test("a long visit: the player with its controls, both parts, their downloads and the replay", async () => {
    const { app } = withVisit(
      fakeClips([row(1, 1), row(2, 2, { reason: "post-roll", frames: 800 })]),
    );
    const page = await visitPage(app);
    expect(page).toContain('id="visit-clip"');
    expect(page).toMatch(/<h2>Clip <small>\d+\.\d s in 2 parts<\/small><\/h2>/);
    const clips = dataClips(page);
    expect(clips.map((c) => [c.file, c.url, c.index_url, c.status])).toEqual([
      [
        "20240524_080000_clip.mjpeg",
        "/out/clips/20240524_080000_clip.mjpeg",
        "/out/clips/20240524_080000_clip.jsonl",
        "complete",
      ],
      [
        "20240524_080000_clip_p002.mjpeg",
        "/out/clips/20240524_080000_clip_p002.mjpeg",
        "/out/clips/20240524_080000_clip_p002.jsonl",
        "complete",
      ],
    ]);
    expect(page).toContain('data-clips-url="/api/visits/2/clips"');
    expect(page).toContain('data-state="loading"');
    // The canvas and every control the script binds.
    for (const id of ["clip-scrub", "clip-play", "clip-prev", "clip-next", "clip-time"]) {
      expect(page).toContain(`id="${id}"`);
    }
    expect(page).toContain("<canvas");
    for (const s of ["0.5", "1", "2", "4"]) expect(page).toContain(`data-speed-to="${s}"`);
    expect(page).toContain('id="clip-show-boxes"');
    expect(page).toContain('id="clip-show-zones"');
    // Downloads of both parts, and the replay.
    expect(page).toContain(
      '<a href="/out/clips/20240524_080000_clip.mjpeg" download="20240524_080000_clip.mjpeg">',
    );
    expect(page).toContain('href="/out/clips/20240524_080000_clip_p002.mjpeg"');
    expect(page).toContain("800 frames");
    expect(page).toContain('href="/api/visits/2/clip.mjpeg"');
    // The script is inline (no external asset), with the painter and the core it needs.
    expect(page).toContain("hazardcamClipCore");
    expect(page).toContain("hazardcamZonesPainter");
    expect(page).not.toMatch(/<script[^>]+src=/);
    expect(page).not.toContain('id="clip-none"');
    expect(page).not.toContain('id="clip-recording"');
  });

  test("a clip cut by a crash plays what was kept, and says so", async () => {
    const { app } = withVisit(fakeClips([row(1, 1, { status: "recovered", reason: "crash" })]));
    const page = await visitPage(app);
    expect(dataClips(page)).toHaveLength(1);
    expect(page).toContain("cut short by a crash, kept to its last whole frame");
  });

  test("still recording: says so and links the replay; finished parts play meanwhile", async () => {
    const rec = row(2, 2, { status: "recording", reason: null });
    const { app } = withVisit(fakeClips([row(1, 1), rec]), true);
    const page = await visitPage(app);
    expect(page).toContain('id="clip-recording"');
    expect(page).toContain("The last part is still being recorded");
    expect(page).toContain('<a href="/api/visits/2/clip.mjpeg">Watch it as it is recorded</a>');
    expect(page).toContain('id="clip-scrub"');
    // The recording part is handed over (the script adds it when it finishes), not offered.
    expect(dataClips(page).map((c) => c.status)).toEqual(["complete", "recording"]);
    expect(page).not.toContain('download="20240524_080000_clip_p002.mjpeg"');

    const only = withVisit(fakeClips([row(1, 1, { status: "recording", reason: null })]), true);
    const waiting = await visitPage(only.app);
    expect(waiting).toContain("This clip is still being recorded");
    expect(waiting).toContain('data-state="waiting"');
    expect(waiting).not.toContain("<canvas");
    expect(waiting).not.toContain('id="clip-downloads"');
    expect(waiting).toContain("hazardcamClipCore"); // it follows the recording
  });

  test("no clip: a plain message that says why, and no player", async () => {
    const cases: [ClipsService | undefined, boolean, RegExp][] = [
      [undefined, false, /clips are off on this camera/],
      [fakeClips([], false), false, /clips are off on this camera/],
      [fakeClips([], true), false, /No clip was kept for this visit: writing it failed/],
      [fakeClips([], true), true, /No clip yet/],
    ];
    for (const [clips, open, text] of cases) {
      const { app } = withVisit(clips, open);
      const page = await visitPage(app);
      expect(page).toMatch(new RegExp(`id="clip-none"[^>]*>[^<]*${text.source}`));
      expect(page).not.toContain('id="clip-player"');
      expect(page).not.toContain("hazardcamClipCore");
    }
  });

  test("the clips' data cannot break out of its attribute", async () => {
    const { app } = withVisit(
      fakeClips([row(1, 1, { reason: '"><script>alert(1)</script>&amp;' })]),
    );
    const page = await visitPage(app);
    expect(page).not.toContain("<script>alert(1)");
    expect(page).not.toContain("&amp;amp;");
    expect(dataClips(page)[0]).toMatchObject({ reason: '"><script>alert(1)</script>&amp;' });
  });
});
