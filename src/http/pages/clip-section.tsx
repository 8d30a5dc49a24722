/**
 * Where a visit's clip player goes on the visit page (/visits/:id). Empty for now: the clips of
 * issue 12 fill it (the player, its script and the download link); the visit page already
 * renders it under the best snapshot, so filling it touches only this file.
 */
import type { VisitDetail } from "../../events/visit-types.ts";

export interface ClipSectionProps {
  visit: VisitDetail;
}

export function ClipSection(_p: ClipSectionProps): JSX.Element {
  return "";
}
