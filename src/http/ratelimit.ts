/** A token bucket: `burst` requests at once, then `perSec` per second sustained. */
export class TokenBucket {
  #tokens: number;
  #lastMs: number;

  constructor(
    readonly perSec: number,
    readonly burst: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#lastMs = nowMs();
  }

  /** Takes a token: 0 when the request may go ahead, else the ms until the next token. */
  take(): number {
    const now = this.nowMs();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#lastMs) * this.perSec) / 1000);
    this.#lastMs = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.perSec);
  }
}
