/**
 * The live scene's part of /status and of the SSE stream (issue 11): SceneFeed.statusJson() as
 * is, or nothing when the server runs without the scene analyzer (every key absent, so /status
 * is exactly what it was before). Read at request time: the scene may be set after the start.
 */
import type { SceneFeed } from "../pipeline/scene-api.ts";
import type { SceneStatusJson } from "../shared/status.ts";
import type { SceneDeps } from "./deps.ts";

/** The scene's /status fields, or {} without the scene. */
export function sceneStatus(scene: Pick<SceneDeps, "feed"> | undefined): Partial<SceneStatusJson> {
  return scene ? scene.feed.statusJson() : {};
}

/** The scene fields without `tracks` (those ride on the SSE "frame" event). */
export function sceneStatusWithoutTracks(
  feed: SceneFeed | undefined,
): Omit<SceneStatusJson, "tracks"> | null {
  if (!feed) return null;
  const { tracks: _tracks, ...rest } = feed.statusJson();
  return rest;
}

/**
 * What changes the dashboard should see at once (not at the next 5 s status): people per zone,
 * line totals, the open visit and the zones file error. Tracks move every frame and are left out.
 */
export function sceneSignature(s: Omit<SceneStatusJson, "tracks">): string {
  const v = s.visit;
  return JSON.stringify([
    s.zone_people,
    s.people_in_zones,
    s.lines,
    s.day,
    v ? [v.id, v.people, v.max_people, v.zones] : null,
    s.zones_error,
  ]);
}
