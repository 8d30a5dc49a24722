/**
 * --webhook: POSTs each saved event's JSON to every URL. Each URL has its own bounded queue and
 * one delivery at a time (events arrive in order); send() only enqueues, so a slow or failing
 * endpoint never blocks the pipeline nor another URL. A delivery is retried with backoff on
 * network errors, timeouts, 408, 429 and 5xx; other answers are final.
 */
import { errorMessage } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import type { WebhookStatus } from "../shared/status.ts";
import { VERSION } from "../shared/version.ts";
import { redactUrl } from "./names.ts";

export const WEBHOOK_TIMEOUT_MS = 5000;
export const WEBHOOK_TRIES = 3;
/** Wait before the 2nd try; doubles for each further one. */
export const WEBHOOK_BACKOFF_MS = 1000;
/** Events waiting per URL; when full the oldest is dropped. */
export const WEBHOOK_MAX_QUEUE = 50;

export interface WebhookOptions {
  timeoutMs?: number;
  tries?: number;
  backoffMs?: number;
  maxQueue?: number;
  log?: Logger;
}

type Outcome = { ok: true } | { ok: false; retry: boolean; error: string; status: number | null };

class Target {
  private readonly queue: string[] = [];
  private busy = false;
  private failing = false;
  private droppedUnreported = 0;
  private readonly stats: WebhookStatus;
  private readonly inflight = new Set<AbortController>();
  private wakeBackoff: (() => void) | null = null;
  stopped = false;
  idle: Promise<void> = Promise.resolve();

  constructor(
    readonly url: string,
    private readonly o: Required<WebhookOptions>,
  ) {
    this.stats = {
      url: redactUrl(url),
      delivered: 0,
      failed: 0,
      dropped: 0,
      queued: 0,
      last_status: null,
      last_error: null,
    };
  }

  status(): WebhookStatus {
    return { ...this.stats, queued: this.queue.length };
  }

  push(body: string): void {
    if (this.stopped) return;
    if (this.queue.length >= this.o.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
      this.droppedUnreported++;
      this.o.log.once(
        `drop:${this.url}`,
        "warn",
        `${this.stats.url} is too slow or down: queue full (${this.o.maxQueue}), dropping the oldest events (counted in /status and /metrics)`,
      );
    }
    this.queue.push(body);
    if (!this.busy) this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (!this.stopped) {
        const body = this.queue.shift();
        if (body === undefined) break;
        await this.deliver(body);
      }
    } finally {
      this.busy = false;
    }
  }

  private async deliver(body: string): Promise<void> {
    let last: Outcome = { ok: false, retry: false, error: "not sent", status: null };
    for (let attempt = 1; attempt <= this.o.tries && !this.stopped; attempt++) {
      if (attempt > 1) await this.backoff(this.o.backoffMs * 2 ** (attempt - 2));
      if (this.stopped) return;
      last = await this.post(body);
      if (last.ok) {
        this.stats.delivered++;
        this.stats.last_error = null;
        if (this.failing || this.droppedUnreported > 0) {
          const lost = this.droppedUnreported
            ? `; ${this.droppedUnreported} event(s) were dropped meanwhile`
            : "";
          this.o.log.info(`${this.stats.url} accepts events again${lost}`);
        }
        this.failing = false;
        this.droppedUnreported = 0;
        this.o.log.clear(`fail:${this.url}`);
        this.o.log.clear(`drop:${this.url}`);
        return;
      }
      if (!last.retry) break;
    }
    if (this.stopped) return;
    this.stats.failed++;
    this.stats.last_error = last.error;
    this.failing = true;
    this.o.log.once(
      `fail:${this.url}`,
      "warn",
      `${this.stats.url}: ${last.error}; gave up on an event after ${this.o.tries} tries (further failures are counted in /status)`,
    );
  }

  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wakeBackoff = null;
        resolve();
      }
      this.wakeBackoff = done;
    });
  }

  private async post(body: string): Promise<Outcome> {
    const ac = new AbortController();
    this.inflight.add(ac);
    const timer = setTimeout(() => ac.abort(new Error("timeout")), this.o.timeoutMs);
    try {
      const res = await fetch(this.url, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "user-agent": `hazardcam/${VERSION}`,
        },
        signal: ac.signal,
        redirect: "manual",
      });
      // Read the answer so the connection is reused (bounded by the same timeout).
      await res.arrayBuffer().catch(() => undefined);
      this.stats.last_status = res.status;
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      return { ok: false, retry, error: `HTTP ${res.status}`, status: res.status };
    } catch (e) {
      this.stats.last_status = null;
      const timedOut = ac.signal.aborted && !this.stopped;
      const error = timedOut ? `no answer within ${this.o.timeoutMs} ms` : errorMessage(e);
      return { ok: false, retry: true, error, status: null };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(ac);
    }
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.wakeBackoff?.();
    for (const ac of this.inflight) ac.abort(new Error("stopping"));
  }
}

export class WebhookSender {
  private readonly targets: Target[];

  constructor(urls: readonly string[], opts: WebhookOptions = {}) {
    const o: Required<WebhookOptions> = {
      timeoutMs: opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
      tries: Math.max(1, opts.tries ?? WEBHOOK_TRIES),
      backoffMs: opts.backoffMs ?? WEBHOOK_BACKOFF_MS,
      maxQueue: Math.max(1, opts.maxQueue ?? WEBHOOK_MAX_QUEUE),
      log: opts.log ?? logger("webhook"),
    };
    this.targets = urls.map((u) => new Target(u, o));
  }

  /** Queues `body` (serialized once) for every URL; returns at once. */
  send(body: unknown): void {
    if (this.targets.length === 0) return;
    const text = JSON.stringify(body);
    for (const t of this.targets) t.push(text);
  }

  status(): WebhookStatus[] {
    return this.targets.map((t) => t.status());
  }

  /** Drops what is queued, aborts deliveries in flight and waits for them to end. */
  async stop(): Promise<void> {
    for (const t of this.targets) t.stop();
    await Promise.all(this.targets.map((t) => t.idle));
  }
}
