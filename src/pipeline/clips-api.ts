/**
 * The visit clips as HTTP and the integrations use them (issue 12). Implemented in
 * src/pipeline/clips.ts over the archive's index (the clips table, migration 3) and
 * <outdir>/clips; consumers take these interfaces, so tests can give them fakes.
 */
import type { ClipRow } from "../clips/store.ts";
import type { ClipsStatusJson } from "../shared/status.ts";

export type { ClipRow } from "../clips/store.ts";

/** [ymin, xmin, ymax, xmax], 0..1 of the picture, 4 decimals. */
export type OverlayBox = [number, number, number, number];

/**
 * What the clip index stores per frame (its "d", src/clips/format.ts), for the player to draw:
 * the frame's detections at or above the threshold and, with the scene engine, the confirmed
 * tracks of the latest scene update. A frame repeats the newest result until the next one, so
 * consecutive frames share `r` (and the same object in memory).
 */
export interface ClipOverlay {
  /** Detection results so far (FrameState.detectSeq): which result the boxes are. */
  r: number;
  /**
   * Capture time of the frame the boxes were detected on (ms since epoch; absent when unknown):
   * a frame shows the newest result, which is of a frame an inference time older or more.
   */
  rt?: number;
  det: { label: string; score: number; box: OverlayBox }[];
  /** Confirmed tracks with their ids (absent without the scene engine). */
  tracks?: { id: number; score: number; box: OverlayBox; zones: string[] }[];
}

export interface ClipsService {
  /** Absolute path of <outdir>/clips. */
  readonly dir: string;
  /** The clip whose .mjpeg or index is `name`, or null. */
  byFile(name: string): ClipRow | null;
  /** A visit's clips in time order: the one it opened, or the consecutive parts of a long one. */
  forVisit(visitId: number): ClipRow[];
  /** /status: bytes and count of the stored clips, and the recorder now. */
  status(): { bytes: number; total: number; recorder: ClipsStatusJson };
  /**
   * The MJPEG replay of a visit's clip (`<base>/api/visits/<id>/clip.mjpeg`), for the visit's
   * MQTT/webhook message; `base` (--public-url) makes it absolute. Null when clips are off and
   * the visit has none. With clips on, the URL is given from the visit's open event on (the clip
   * is being recorded then); it answers 404 only if writing the clip failed.
   */
  clipUrl(visitId: number, base?: string): string | null;
}
