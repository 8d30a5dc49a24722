/**
 * /api/stream: the dashboard's server-sent events. `status` (counters that do not ride on frames,
 * every 5 s and on online/offline changes), `frame` (detections of the newest frame, at most
 * `fps` a second) and `saved` (each saved event), plus a keepalive comment.
 *
 * With the scene analyzer (issue 11): `frame` also carries `tracks` (the confirmed tracks of the
 * latest scene update: id, box, score, zones) and `status` the rest of SceneStatusJson
 * (zone_people, people_in_zones, lines, day, visit, zones_error); a change of those (someone
 * enters a zone, a line crossing, a visit opens or closes) sends `status` at once, at most once
 * a second, instead of waiting for the 5 s tick.
 */
import { eventJson, type EventRecord } from "../../events/archive.ts";
import type { SceneFeed } from "../../pipeline/scene-api.ts";
import type { FrameState } from "../../shared/types.ts";
import { sceneSignature, sceneStatusWithoutTracks } from "../scene-status.ts";
import type { ClientLoop } from "./client.ts";

/** SSE comment sent when nothing else was sent for this long (ms), so proxies keep the stream. */
const SSE_KEEPALIVE_MS = 15_000;
/** SSE status event period (ms): counters that do not ride on frames (clients, events_total). */
const SSE_STATUS_MS = 5_000;
/** Without frames, the loop still looks this often (ms) for offline/online changes. */
const SSE_IDLE_MS = 1000;
/** A scene change sends the status early, but not more often than this (ms). */
const SSE_SCENE_STATUS_MS = 1000;

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store, no-cache, max-age=0",
  "x-accel-buffering": "no",
};

export interface SseOptions {
  /** Max frame events per second. */
  fps: number;
  signal?: AbortSignal;
}

export interface SseSource {
  latest(): FrameState | null;
  online(): boolean;
  /** Detections at or above this score are sent to the dashboard. */
  threshold: number;
  /** Extra status fields pushed to dashboards every few seconds. */
  statusJson(): Record<string, unknown>;
  /** The live scene (issue 11), when the server has one; read each time (it may come later). */
  scene?(): SceneFeed | undefined;
}

const enc = new TextEncoder();

/** One SSE message; JSON never contains a raw newline, so one `data:` line suffices. */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const round1 = (v: number): number => (Number.isFinite(v) ? Math.round(v * 10) / 10 : 0);

/** The `frame` payload of a frame: the numbers and the detections at or above `threshold`. */
export function frameData(frame: FrameState, threshold: number): Record<string, unknown> {
  return {
    seq: frame.seq,
    t: frame.grabbedAt,
    w: frame.width,
    h: frame.height,
    people: frame.people,
    fps: round1(frame.captureFps),
    detect_fps: round1(frame.detectFps),
    infer_ms: round1(frame.inferMs),
    // Detection results so far: which result the boxes are (a client counts results by it).
    detect_seq: frame.detectSeq,
    det: frame.detections
      .filter((d) => d.score >= threshold)
      .map((d) => ({
        l: d.label,
        s: Math.round(d.score * 1000) / 1000,
        b: [d.box.ymin, d.box.xmin, d.box.ymax, d.box.xmax].map(
          (v) => Math.round(v * 10000) / 10000,
        ),
      })),
  };
}

/** A frame's payload with the scene's tracks, and the scene's signature (null without one). */
export function frameWithScene(
  frame: FrameState,
  threshold: number,
  feed: SceneFeed | undefined,
): { data: Record<string, unknown>; sceneSig: string | null } {
  const scene = feed ? feed.statusJson() : null;
  const data = frameData(frame, threshold);
  if (scene) data.tracks = scene.tracks;
  return { data, sceneSig: scene ? sceneSignature(scene) : null };
}

/** The `status` payload: the server's status fields, and the scene's but its tracks. */
export function statusWithScene(
  statusJson: Record<string, unknown>,
  feed: SceneFeed | undefined,
): { data: Record<string, unknown>; sceneSig: string | null } {
  const scene = sceneStatusWithoutTracks(feed);
  return { data: { ...statusJson, ...scene }, sceneSig: scene ? sceneSignature(scene) : null };
}

/** The `frame` message of a frame, encoded once for all clients. */
export class SseFrames {
  private cache: { seq: number; text: string; sceneSig: string | null } | null = null;

  constructor(readonly src: SseSource) {}

  text(frame: FrameState): string {
    return this.encode(frame).text;
  }

  /** The scene's signature (sceneSignature) when the frame was encoded; null without a scene. */
  sceneSig(frame: FrameState): string | null {
    return this.encode(frame).sceneSig;
  }

  /** The `status` payload: the server's status fields, and the scene's but its tracks. */
  status(): { data: Record<string, unknown>; sceneSig: string | null } {
    return statusWithScene(this.src.statusJson(), this.src.scene?.());
  }

  private encode(frame: FrameState): { text: string; sceneSig: string | null } {
    if (this.cache?.seq === frame.seq) return this.cache;
    const { data, sceneSig } = frameWithScene(frame, this.src.threshold, this.src.scene?.());
    this.cache = { seq: frame.seq, text: sseMessage("frame", data), sceneSig };
    return this.cache;
  }
}

/** Saved events first (`queue`, filled by the hub), then status, then the newest frame. */
export function sseLoop(frames: SseFrames, opts: SseOptions, queue: EventRecord[]): ClientLoop {
  const src = frames.src;
  const minIntervalMs = 1000 / opts.fps;
  let lastSeq = -1;
  let lastFrameAt = -Infinity;
  let lastWriteAt = performance.now();
  let lastStatusAt = -Infinity;
  let lastOnline: boolean | null = null;
  let lastSceneSig: string | null = null;
  const send = (now: number, text: string): Uint8Array => {
    lastWriteAt = now;
    return enc.encode(text);
  };
  return {
    first: enc.encode("retry: 2000\n\n"),
    next(now) {
      if (queue.length) {
        return send(
          now,
          queue
            .splice(0)
            .map((e) => sseMessage("saved", eventJson(e)))
            .join(""),
        );
      }
      const online = src.online();
      const frame = src.latest();
      const sceneMoved =
        frame !== null &&
        frame.seq !== lastSeq &&
        frames.sceneSig(frame) !== lastSceneSig &&
        now - lastStatusAt >= SSE_SCENE_STATUS_MS;
      if (online !== lastOnline || now - lastStatusAt >= SSE_STATUS_MS || sceneMoved) {
        const status = frames.status();
        lastOnline = online;
        lastStatusAt = now;
        lastSceneSig = status.sceneSig;
        return send(now, sseMessage("status", status.data));
      }
      if (frame && frame.seq !== lastSeq) {
        const dueIn = lastFrameAt + minIntervalMs - now;
        if (dueIn > 0) return dueIn;
        lastSeq = frame.seq;
        lastFrameAt = now;
        return send(now, frames.text(frame));
      }
      if (now - lastWriteAt >= SSE_KEEPALIVE_MS) return send(now, ": keepalive\n\n");
      return SSE_IDLE_MS;
    },
  };
}
