/**
 * When to auto-save: people are in the frame and at least `cooldownSec` passed since the last save
 * of any reason (a manual snapshot restarts the cooldown too). Pure; the clock is injected.
 */
export class Cooldown {
  private lastSaveMs: number | null = null;

  constructor(
    readonly cooldownSec: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a frame with `people` persons should be auto-saved now. Does not record a save. */
  shouldAutoSave(people: number): boolean {
    if (!(people > 0)) return false;
    if (this.lastSaveMs === null) return true;
    const elapsedMs = this.now() - this.lastSaveMs;
    // A clock stepped backwards (NTP on a Pi without RTC) must not block saving for hours.
    if (elapsedMs < 0) return true;
    return elapsedMs >= this.cooldownSec * 1000;
  }

  /** Records a save (auto or snapshot) at `atMs` (default: now). */
  saved(atMs: number = this.now()): void {
    this.lastSaveMs = atMs;
  }

  /** Time of the last recorded save in ms since epoch, or null. */
  get lastSave(): number | null {
    return this.lastSaveMs;
  }
}
