/**
 * Small pieces of the visit pages (issue 11), shared with the events gallery and the event page:
 * a visit's thumbnail card, the strip of recent visits, the "part of visit #N" line, and the
 * CSS they need (a <style> of their own: the shared stylesheet stays as it is).
 */
import { visitImagePath } from "../../events/visit-json.ts";
import type { VisitRecord } from "../../events/visit-types.ts";
import { fmtShort, fmtTime } from "./format.ts";

export const VISITS_CSS = `
.badge.visit-open { background: var(--ok); }
.thumb .noimg { aspect-ratio: 4 / 3; background: #1f2937; color: #9ca3af; display: flex;
  align-items: center; justify-content: center; font-size: 12px; }
.visits-strip { margin-bottom: 14px; }
.visits-strip h2 a, .visit-of a { font-weight: 600; }
.visit-of { margin: -6px 0 12px; }
.visit-facts td.zones { overflow-wrap: anywhere; }
`;

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

export const peopleText = (n: number): string => (n === 1 ? "1 person" : `${n} people`);

/** The zones entered, or what no zones means. */
export const zonesText = (zones: readonly string[]): string =>
  zones.length > 0 ? zones.join(", ") : "whole picture";

/** A visit's card linking to its page: the best snapshot's thumbnail, time, length, people. */
export function VisitThumb({ v }: { v: VisitRecord }): JSX.Element {
  const src = v.thumb ? visitImagePath(v.thumb, true) : v.image ? visitImagePath(v.image) : null;
  return (
    <a
      class="thumb visit"
      href={`/visits/${v.id}`}
      data-visit-id={String(v.id)}
      title={fmtTime(v.start)}
    >
      {src ? (
        <img src={src} alt={`visit ${v.id}`} loading="lazy" />
      ) : (
        <div class="noimg">{v.open ? "in progress" : "no snapshot"}</div>
      )}
      <div class="meta">
        <span class="t" safe>
          {fmtShort(v.start)}
        </span>
        <span class="muted" safe>
          {`${fmtDuration(v.durationMs)}${v.open ? " so far" : ""} · ${peopleText(v.people)}`}
        </span>
        <span class="muted" safe>
          {zonesText(v.zones)}
        </span>
      </div>
    </a>
  );
}

/**
 * The events gallery's strip: the recent visits (of the day shown, when filtered by day), with
 * a link to /visits. Nothing without the scene analyzer (`visits` undefined).
 */
export function VisitStrip(p: { visits: VisitRecord[] | undefined; day?: string }): JSX.Element {
  if (!p.visits) return "";
  const all = p.day ? `/visits?day=${p.day}` : "/visits";
  return (
    <section class="card visits-strip" id="visits-strip">
      <style>{VISITS_CSS}</style>
      <h2>
        {p.day ? "Visits of the day" : "Recent visits"} <a href={all}>all visits →</a>
      </h2>
      {p.visits.length === 0 ? (
        <p class="muted">No visits{p.day ? " that day" : " yet"}.</p>
      ) : (
        <div class="thumbs">
          {p.visits.map((v) => (
            <VisitThumb v={v} />
          ))}
        </div>
      )}
    </section>
  );
}

/** The event page's "Part of visit #N" line; nothing when the still fell in no visit. */
export function PartOfVisit({ v }: { v: VisitRecord | null | undefined }): JSX.Element {
  if (!v) return "";
  return (
    <p class="visit-of" id="part-of-visit">
      <style>{VISITS_CSS}</style>
      Part of <a href={`/visits/${v.id}`}>visit #{String(v.id)}</a>{" "}
      <span class="muted" safe>
        {`(${fmtTime(v.start)}, ${fmtDuration(v.durationMs)}, ${peopleText(v.people)})`}
      </span>
    </p>
  );
}
