/**
 * The dashboard tabs on the WebSocket (/api/live): one socket per tab carries the live picture
 * and the live state (see live/ws.ts for what one tab is sent). The hub encodes each message
 * once for all tabs, holds the frame and saved-event subscriptions only while a tab is
 * connected, and runs a 1 s tick meanwhile: the status every STATUS_MS and on online/offline
 * changes, the no-signal picture while offline, and a retry for tabs that were busy.
 *
 * The payloads are the SSE stream's (live/sse.ts), so the dashboard's feature scripts see the
 * same window events whichever transport fed them: with the scene analyzer (issue 11), "frame"
 * carries `tracks` and "status" the rest of SceneStatusJson (zone_people, people_in_zones,
 * lines, day, visit, zones_error), both read from the scene when a frame is encoded (and each
 * tick); a change of those sends "status" with that frame, at most every SCENE_STATUS_MS,
 * instead of waiting for the STATUS_MS tick.
 *
 * The JPEG is the camera's own (frame.jpeg, as /video?raw=1): boxes are drawn by the browser,
 * so tabs never ask the pipeline for annotated frames.
 */
import { eventJson, type EventRecord } from "../../events/archive.ts";
import type { SceneFeed } from "../../pipeline/scene-api.ts";
import type { FrameState } from "../../shared/types.ts";
import type { LiveCounts } from "../deps.ts";
import { sceneSignature } from "../scene-status.ts";
import { frameWithScene, statusWithScene } from "./sse.ts";
import { LiveSocket, type LiveFrame, type WsPeer } from "./ws.ts";

/** Status message period (ms), as the SSE stream's. */
export const STATUS_MS = 5_000;
/** The hub's tick (ms): online/offline changes, the no-signal picture, retries. */
export const TICK_MS = 1_000;
/** A scene change (people per zone, line totals, the visit) sends the status early, at most this often (ms). */
export const SCENE_STATUS_MS = 1_000;

export interface LiveSource {
  latest(): FrameState | null;
  onFrame(cb: (s: FrameState) => void): () => void;
  online(): boolean;
  offlineReason(): string;
  noSignalJpeg(reason: string): Uint8Array;
  archive: { onSaved(cb: (e: EventRecord) => void): () => void };
  /** Detections at or above this score are sent. */
  threshold: number;
  /** The server's "status" fields (the scene's are added here, as the SSE stream does). */
  statusJson(): Record<string, unknown>;
  /** The live scene (issue 11), when the server has one (it may come after the start). */
  scene(): SceneFeed | undefined;
}

const message = (type: string, data: unknown): string => JSON.stringify({ type, data });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export class LiveTabs {
  readonly #tabs = new Map<WsPeer, LiveSocket>();
  #nextId = 1;
  /** JPEGs sent to tabs since start, closed tabs included. */
  #framesSentClosed = 0;
  #current: LiveFrame | null = null;
  /** sceneSignature of the scene the last "status" to every tab carried; whether it moved since. */
  #sceneSig: string | null = null;
  #sceneMoved = false;
  #unsubs: (() => void)[] = [];
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastOnline: boolean | null = null;
  #lastStatusAt = -Infinity;

  constructor(private readonly src: LiveSource) {}

  get size(): number {
    return this.#tabs.size;
  }

  /** For /status and /metrics. */
  counts(): LiveCounts {
    let sent = this.#framesSentClosed;
    const tabs: LiveCounts["tabs"] = [];
    for (const t of this.#tabs.values()) {
      sent += t.framesSent;
      tabs.push({
        id: t.id,
        visible: t.visible,
        framesSent: t.framesSent,
        framesSkipped: t.framesSkipped,
        bufferedBytes: t.bufferedBytes(),
      });
    }
    return { clients: this.#tabs.size, framesSent: sent, tabs };
  }

  /** A tab connected: it gets the status and the newest frame at once. */
  open(peer: WsPeer, opts: { visible: boolean }): LiveSocket {
    const tab = new LiveSocket(this.#nextId++, peer, opts);
    this.#tabs.set(peer, tab);
    const now = performance.now();
    if (this.#tabs.size === 1) {
      this.#subscribe();
      this.#sendStatus(now); // to every tab: this one
    } else
      tab.queueState(
        "status",
        message("status", statusWithScene(this.src.statusJson(), this.src.scene()).data),
      );
    tab.flush(this.#frameNow(), now);
    return tab;
  }

  /** A text message from the tab: {"type": "visibility", "visible": boolean}. */
  message(peer: WsPeer, msg: unknown): void {
    const tab = this.#tabs.get(peer);
    if (typeof msg === "string") msg = parseJson(msg);
    if (!tab || typeof msg !== "object" || msg === null) return;
    const m = msg as { type?: unknown; visible?: unknown };
    if (m.type === "visibility" && typeof m.visible === "boolean") {
      tab.setVisible(m.visible, this.#frameNow(), performance.now());
    }
  }

  /** The socket wrote what it had buffered: send what waits. */
  drain(peer: WsPeer): void {
    this.#tabs.get(peer)?.flush(this.#current, performance.now());
  }

  close(peer: WsPeer): void {
    const tab = this.#tabs.get(peer);
    if (!tab) return;
    tab.close();
    this.#framesSentClosed += tab.framesSent;
    this.#tabs.delete(peer);
    if (this.#tabs.size === 0) this.#unsubscribe();
  }

  /** Forgets every tab (the server closes their sockets on stop). */
  closeAll(): void {
    for (const peer of [...this.#tabs.keys()]) this.close(peer);
  }

  #subscribe(): void {
    this.#unsubs.push(this.src.onFrame((f) => this.#onFrame(f)));
    this.#unsubs.push(this.src.archive.onSaved((e) => this.#broadcast("saved", eventJson(e))));
    this.#lastOnline = null;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref?.();
  }

  #unsubscribe(): void {
    for (const u of this.#unsubs.splice(0)) u();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#current = null;
    this.#sceneSig = null;
    this.#sceneMoved = false;
  }

  /** A new frame: what goes out is the pipeline's latest (what /video reads), `f` if none. */
  #onFrame(f: FrameState): void {
    const frame = this.#encode(this.src.latest() ?? f);
    const now = performance.now();
    if (this.#sceneMoved && now - this.#lastStatusAt >= SCENE_STATUS_MS) this.#sendStatus(now);
    for (const tab of this.#tabs.values()) tab.newFrame(frame, now);
  }

  /** Notes whether the scene's status fields moved since the last status (null: no scene). */
  #noteScene(sig: string | null): void {
    if (sig !== null && sig !== this.#sceneSig) this.#sceneMoved = true;
  }

  #sendStatus(now: number): void {
    const status = statusWithScene(this.src.statusJson(), this.src.scene());
    this.#lastStatusAt = now;
    this.#lastOnline = status.data.online === true;
    this.#sceneSig = status.sceneSig;
    this.#sceneMoved = false;
    this.#broadcast("status", status.data);
  }

  #broadcast(type: "saved" | "status", data: unknown): void {
    const text = message(type, data);
    const now = performance.now();
    for (const tab of this.#tabs.values()) {
      if (type === "saved") tab.queueSaved(text);
      else tab.queueState(type, text);
      tab.flush(this.#current, now);
    }
  }

  /** The newest frame as every tab gets it, encoded once per frame. */
  #encode(f: FrameState): LiveFrame {
    const key = `f${f.seq}`;
    if (this.#current?.key === key) return this.#current;
    const { data, sceneSig } = frameWithScene(f, this.src.threshold, this.src.scene());
    this.#noteScene(sceneSig);
    this.#current = { key, text: message("frame", data), jpeg: f.jpeg };
    return this.#current;
  }

  /** The newest frame, or the no-signal picture (a new one each second) while offline. */
  #frameNow(): LiveFrame {
    const f = this.src.latest();
    if (f && this.src.online()) return this.#encode(f);
    const key = `n${Math.floor(Date.now() / TICK_MS)}`;
    if (this.#current?.key !== key) {
      const jpeg = this.src.noSignalJpeg(this.src.offlineReason());
      this.#current = { key, text: null, jpeg };
    }
    return this.#current;
  }

  #tick(): void {
    const feed = this.src.scene(); // a visit closed while no frames came
    this.#noteScene(feed ? sceneSignature(feed.statusJson()) : null);
    const now = performance.now();
    const online = this.src.online();
    const sinceStatusMs = now - this.#lastStatusAt;
    if (
      online !== this.#lastOnline ||
      sinceStatusMs >= STATUS_MS ||
      (this.#sceneMoved && sinceStatusMs >= SCENE_STATUS_MS)
    ) {
      this.#sendStatus(now);
    }
    // Offline: a new no-signal picture each tick; online: retries for busy or hidden tabs.
    const before = this.#current?.key;
    const frame = online ? this.#current : this.#frameNow();
    const fresh = frame !== null && frame.key !== before;
    for (const tab of this.#tabs.values()) {
      if (fresh) tab.newFrame(frame, now);
      else tab.flush(frame, now);
    }
  }
}
