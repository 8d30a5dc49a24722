/**
 * One dashboard tab's sender (src/http/live/ws.ts) on a fake socket: what a visible, a hidden
 * and a busy tab are sent, and that a busy tab holds the newest of everything, never a queue.
 */
import { describe, expect, test } from "bun:test";
import {
  HIDDEN_STATE_MS,
  LiveSocket,
  MAX_PENDING_SAVED,
  type LiveFrame,
  type WsPeer,
} from "../../src/http/live/ws.ts";

/** A socket whose buffered amount the test sets; records what was sent. */
function fakePeer(): WsPeer & { sent: string[]; buffered: number; corks: number } {
  const peer = {
    sent: [] as string[],
    buffered: 0,
    corks: 0,
    sendText(t: string) {
      peer.sent.push(t);
      return t.length;
    },
    sendBinary(b: Uint8Array) {
      peer.sent.push(`jpeg:${b[2]}`);
      return b.byteLength;
    },
    getBufferedAmount: () => peer.buffered,
    cork<T>(fn: () => T): T {
      peer.corks++;
      return fn();
    },
  };
  return peer;
}

const frame = (n: number): LiveFrame => ({
  key: `f${n}`,
  text: `frame${n}`,
  jpeg: new Uint8Array([0xff, 0xd8, n]),
});

describe("LiveSocket", () => {
  test("a visible tab gets each new frame once: its state, then its JPEG, in one write", () => {
    const peer = fakePeer();
    const tab = new LiveSocket(1, peer, { visible: true });
    tab.newFrame(frame(1), 0);
    tab.flush(frame(1), 10);
    tab.newFrame(frame(2), 20);
    expect(peer.sent).toEqual(["frame1", "jpeg:1", "frame2", "jpeg:2"]);
    expect(tab.framesSent).toBe(2);
    expect(tab.framesSkipped).toBe(0);
    expect(peer.corks).toBe(3);
  });

  test("a hidden tab gets no JPEG and state at most once a second; shown, the newest at once", () => {
    const peer = fakePeer();
    const tab = new LiveSocket(1, peer, { visible: false });
    tab.newFrame(frame(1), 0);
    tab.newFrame(frame(2), 100);
    tab.newFrame(frame(3), HIDDEN_STATE_MS + 1);
    expect(peer.sent).toEqual(["frame1", "frame3"]);
    tab.newFrame(frame(4), HIDDEN_STATE_MS + 50);
    tab.setVisible(true, frame(4), HIDDEN_STATE_MS + 60);
    expect(peer.sent).toEqual(["frame1", "frame3", "frame4", "jpeg:4"]);
    expect(tab.framesSent).toBe(1);
    // Hidden frames were not offered: nothing counts as skipped.
    expect(tab.framesSkipped).toBe(0);
  });

  test("a busy tab is sent nothing; then the newest status, the saved events and frame", () => {
    const peer = fakePeer();
    const tab = new LiveSocket(1, peer, { visible: true });
    tab.newFrame(frame(1), 0);
    peer.buffered = 100_000; // more than one frame (and more than the 32 KB floor)
    for (let i = 2; i <= 50; i++) {
      tab.queueState("status", `status${i}`);
      tab.queueSaved(`saved${i}`);
      tab.newFrame(frame(i), i);
    }
    expect(peer.sent).toEqual(["frame1", "jpeg:1"]);
    expect(tab.framesSkipped).toBe(49);
    peer.buffered = 0;
    tab.flush(frame(50), 60);
    const saved = Array.from({ length: MAX_PENDING_SAVED }, (_, i) => `saved${31 + i}`);
    expect(peer.sent).toEqual(["frame1", "jpeg:1", ...saved, "status50", "frame50", "jpeg:50"]);
    expect(tab.framesSent).toBe(2);
    expect(tab.framesSkipped).toBe(48);
  });

  test("a buffer under one frame still takes the next frame; a closed tab takes nothing", () => {
    const peer = fakePeer();
    const tab = new LiveSocket(1, peer, { visible: true });
    peer.buffered = 20_000;
    tab.newFrame(frame(1), 0);
    expect(peer.sent).toEqual(["frame1", "jpeg:1"]);
    tab.close();
    tab.newFrame(frame(2), 1);
    tab.queueSaved("x");
    tab.flush(frame(2), 2);
    expect(peer.sent).toEqual(["frame1", "jpeg:1"]);
    expect(tab.bufferedBytes()).toBe(0);
  });
});
