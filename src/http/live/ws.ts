/**
 * One dashboard tab on the WebSocket (/api/live): what it is sent, and when. The hub
 * (live/tabs.ts) hands every tab the same encoded messages; this class decides per tab.
 *
 *   binary message   one JPEG: the camera's own (what /video?raw=1 sends), or the no-signal
 *                    picture once a second while offline
 *   text message     JSON {"type": "frame"|"status"|"saved", "data": {...}}; `data` is the
 *                    payload of the SSE event of the same name (/api/stream): with the scene
 *                    analyzer, "frame" with `tracks` and "status" with the other scene fields
 *
 * A visible tab gets each new frame as its "frame" text followed by its JPEG. A hidden tab gets
 * no JPEG, and "frame" texts at most every HIDDEN_STATE_MS; when it shows again, it gets the
 * newest frame at once. A slow tab never gets a queue: while more than about one frame is
 * still unwritten in the socket's buffer, nothing new is sent; "status" waits as the newest
 * one, "saved" as up to MAX_PENDING_SAVED; the newest frame goes out on
 * the next drain. So a stalled tab holds at most about two frames of memory.
 */

/** What a tab's socket offers (Bun's ServerWebSocket has these; tests give a fake). */
export interface WsPeer {
  /** Bytes written or queued (> 0), -1 when queued under backpressure, 0 when dropped. */
  sendText(data: string): number;
  sendBinary(data: Uint8Array): number;
  /** Bytes given to send() and not yet written to the socket. */
  getBufferedAmount(): number;
  /** Runs `fn` with the sends gathered into one write (optional: Bun's cork). */
  cork?<T>(fn: () => T): T;
}

/** The newest thing to show, shared by every tab. */
export interface LiveFrame {
  /** Changes with every new frame: "f<seq>", or "n<second>" for a no-signal picture. */
  key: string;
  /** The "frame" text message, or null for a no-signal picture (state comes with "status"). */
  text: string | null;
  jpeg: Uint8Array;
}

/** Hidden tabs get per-frame state at most this often (ms): the people count, for the title. */
export const HIDDEN_STATE_MS = 1000;
/** Saved-event messages kept for a tab that does not read before the oldest is dropped. */
export const MAX_PENDING_SAVED = 20;
/** The buffer limit is one frame, but at least this many bytes (room for the state texts). */
export const MIN_BUFFER_LIMIT_BYTES = 32 * 1024;

export class LiveSocket {
  /** Frames (JPEGs) sent to this tab. */
  framesSent = 0;
  /** New frames that arrived while this tab was visible (framesSent of them went out). */
  framesOffered = 0;
  visible: boolean;
  #sentJpegKey: string | null = null;
  #sentTextKey: string | null = null;
  #lastHiddenTextAt = -Infinity;
  /** The newest text of each kind ("status") not yet sent. */
  readonly #pending = new Map<string, string>();
  readonly #saved: string[] = [];
  #closed = false;

  constructor(
    readonly id: number,
    private readonly peer: WsPeer,
    opts: { visible: boolean },
  ) {
    this.visible = opts.visible;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Frames not sent to this tab while it was visible (it was still busy with an older one). */
  get framesSkipped(): number {
    return Math.max(0, this.framesOffered - this.framesSent);
  }

  bufferedBytes(): number {
    if (this.#closed) return 0;
    try {
      return this.peer.getBufferedAmount();
    } catch {
      return 0;
    }
  }

  close(): void {
    this.#closed = true;
    this.#pending.clear();
    this.#saved.length = 0;
  }

  /** A new frame exists (counts it as offered to a visible tab), then flush. */
  newFrame(frame: LiveFrame, nowMs: number): void {
    if (this.visible) this.framesOffered++;
    this.flush(frame, nowMs);
  }

  /** Keeps the newest text of `kind` ("status") until it can be sent. */
  queueState(kind: string, text: string): void {
    this.#pending.set(kind, text);
  }

  queueSaved(text: string): void {
    this.#saved.push(text);
    if (this.#saved.length > MAX_PENDING_SAVED) this.#saved.shift();
  }

  /** The tab was shown or hidden; shown: the newest frame goes out now. */
  setVisible(visible: boolean, frame: LiveFrame | null, nowMs: number): void {
    this.visible = visible;
    this.flush(frame, nowMs);
  }

  /**
   * Sends what is pending and `frame` if this tab still needs it, unless the socket's buffer
   * holds more than about one frame (then the next drain or tick calls this again).
   */
  flush(frame: LiveFrame | null, nowMs: number): void {
    if (this.#closed) return;
    const limit = Math.max(MIN_BUFFER_LIMIT_BYTES, frame?.jpeg.byteLength ?? 0);
    if (this.bufferedBytes() > limit) return;
    const send = (): void => {
      for (const text of this.#saved.splice(0)) this.peer.sendText(text);
      for (const text of this.#pending.values()) this.peer.sendText(text);
      this.#pending.clear();
      if (frame) this.#sendFrame(frame, nowMs);
    };
    if (this.peer.cork) this.peer.cork(send);
    else send();
  }

  #sendFrame(frame: LiveFrame, nowMs: number): void {
    if (this.visible) {
      if (frame.key === this.#sentJpegKey) return;
      if (frame.text && frame.key !== this.#sentTextKey) this.peer.sendText(frame.text);
      this.peer.sendBinary(frame.jpeg);
      this.#sentTextKey = this.#sentJpegKey = frame.key;
      this.framesSent++;
      return;
    }
    if (!frame.text || frame.key === this.#sentTextKey) return;
    if (nowMs - this.#lastHiddenTextAt < HIDDEN_STATE_MS) return;
    this.peer.sendText(frame.text);
    this.#sentTextKey = frame.key;
    this.#lastHiddenTextAt = nowMs;
  }
}
