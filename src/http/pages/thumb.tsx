/** Small pieces shared by the pages: an event's thumbnail link and its reason badge. */
import { thumbUrl, type EventRecord } from "../../events/archive.ts";
import { fmtShort, fmtTime } from "./format.ts";

export function ReasonBadge({ reason }: { reason: string }): JSX.Element {
  return (
    <span class={`badge ${reason}`} safe>
      {reason}
    </span>
  );
}

/** A thumbnail linking to the event page (the dashboard's script builds the same markup). */
export function Thumb({ e }: { e: EventRecord }): JSX.Element {
  return (
    <a class="thumb" href={`/events/${e.id}`} data-id={String(e.id)} title={fmtTime(e.time)}>
      <img src={thumbUrl(e)} alt={`${e.reason} ${e.people} people`} loading="lazy" />
      <div class="meta">
        <span class="t" safe>
          {fmtShort(e.time)}
        </span>
        <span class="muted">
          {e.people === 1 ? "1 person" : `${e.people} people`}
          {e.reason === "auto" ? "" : ` · ${e.reason}`}
        </span>
      </div>
    </a>
  );
}
