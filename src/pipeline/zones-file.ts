/**
 * The zones file service (issue 11; ZonesService of src/pipeline/scene-api.ts): `<outdir>/
 * zones.json` or `--zones PATH`, in the format of src/track/zones.ts.
 *
 * - Missing file = no zones, masks or lines (the whole picture is the one implicit zone).
 * - Loaded at open, then watched: fs.watch on its folder (an editor that saves by rename is
 *   seen too), and a stat every `pollMs` (default 2 s) in case the watch misses it (network file
 *   systems, a folder made later). Changes are read `debounceMs` (200 ms) after the last one, so
 *   an editor's several writes are read once.
 * - A bad file (invalid JSON, a wrong key): one log line naming the key, `error()` says it, and
 *   the last good config stays in use; the server goes on. The same bad content is logged once.
 * - save(): validated (a ZonesError naming the key, for a 400), then written atomically (temp
 *   file, fsync, rename, fsync of the folder: src/events/files.ts), applied, and returned. Saves
 *   run one at a time, in call order.
 * - onChange listeners run after every applied change: each save, and each hand edit that
 *   changes the config (the analyzer and the capture Worker listen).
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { basename, dirname } from "node:path";
import { fsyncDir, replace, stage } from "../events/files.ts";
import { errorMessage, errorWhat, HcError } from "../shared/errors.ts";
import { logger, type Logger } from "../shared/log.ts";
import {
  EMPTY_ZONES,
  parseZones,
  serializeZones,
  validateZones,
  ZonesError,
  type ZonesConfig,
} from "../track/zones.ts";
import type { ZonesError as ZonesProblem, ZonesService } from "./scene-api.ts";

export interface ZonesFileOptions {
  path: string;
  log?: Logger;
  /** The fallback stat poll, ms (default 2000; 0: none). */
  pollMs?: number;
  /** Quiet time after a change before the file is read, ms (default 200). */
  debounceMs?: number;
  /** ms since the epoch, for error().at. */
  now?: () => number;
}

/** What the file looked like when last read: its stat, or "missing". */
function statKey(path: string): string {
  try {
    const st = fs.statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return "missing";
  }
}

/** The file's text, or null when it does not exist. */
function readText(path: string): string | null {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export class ZonesFile implements ZonesService {
  readonly path: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #debounceMs: number;
  readonly #listeners = new Set<(c: ZonesConfig) => void>();
  #current: ZonesConfig = EMPTY_ZONES;
  #error: ZonesProblem | null = null;
  /** The text last read or written (null: no file), so an unchanged file is not read again. */
  #text: string | null = null;
  #stat = "missing";
  #watcher: fs.FSWatcher | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #debounce: ReturnType<typeof setTimeout> | null = null;
  #saves: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(o: ZonesFileOptions) {
    this.path = o.path;
    this.#log = o.log ?? logger("zones");
    this.#now = o.now ?? Date.now;
    this.#debounceMs = o.debounceMs ?? 200;
  }

  /** Reads the file (a bad one is logged, not thrown) and starts watching it. */
  static open(o: ZonesFileOptions): ZonesFile {
    const z = new ZonesFile(o);
    z.reload();
    z.#watch(o.pollMs ?? 2000);
    return z;
  }

  current(): ZonesConfig {
    return this.#current;
  }

  error(): ZonesProblem | null {
    return this.#error;
  }

  onChange(cb: (c: ZonesConfig) => void): () => void {
    this.#listeners.add(cb);
    return () => void this.#listeners.delete(cb);
  }

  save(config: unknown): Promise<ZonesConfig> {
    if (this.#closed) return Promise.reject(new HcError("ZONES_CLOSED", "the server is stopping"));
    // Validated before queueing: a bad body is the caller's error at once (a rejection).
    let c: ZonesConfig;
    try {
      c = validateZones(config);
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.#saves.then(() => this.#write(c));
    this.#saves = run.catch(() => undefined);
    return run;
  }

  /** Reads the file if it changed since the last read, and applies it (or reports it). */
  reload(): void {
    if (this.#closed) return;
    this.#stat = statKey(this.path);
    let text: string | null;
    try {
      text = readText(this.path);
    } catch (e) {
      this.#bad(null, `cannot read the file (${errorMessage(e)})`, "check its permissions");
      return;
    }
    if (text === this.#text && this.#error === null) return;
    this.#text = text;
    if (text === null) {
      const had = this.#current !== EMPTY_ZONES;
      if (had || this.#error) this.#log.info(`${this.path} is gone: no zones now`);
      this.#error = null;
      this.#apply(EMPTY_ZONES);
      return;
    }
    let c: ZonesConfig;
    try {
      c = parseZones(text);
    } catch (e) {
      if (!(e instanceof ZonesError)) throw e;
      this.#bad(e.key || null, e.what, e.fix);
      return;
    }
    if (this.#apply(c)) this.#log.info(`${this.path}: ${summary(c)}`);
  }

  /** Stops watching; later saves are refused. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#poll = null;
    this.#debounce = null;
    this.#listeners.clear();
    await this.#saves;
  }

  async #write(c: ZonesConfig): Promise<ZonesConfig> {
    const text = serializeZones(c);
    const dir = dirname(this.path);
    try {
      await fsp.mkdir(dir, { recursive: true });
      const tmp = await stage(dir, new TextEncoder().encode(text), basename(this.path));
      await replace(tmp, this.path);
      await fsyncDir(dir);
    } catch (e) {
      throw new HcError(
        "ZONES_WRITE",
        `cannot write ${this.path}: ${errorMessage(e)}`,
        "check that its folder is writable",
      );
    }
    this.#text = text;
    this.#stat = statKey(this.path);
    this.#log.info(`${this.path} saved: ${summary(c)}`);
    // The watcher may have read the renamed file already (during the fsync): then this applies
    // nothing new and tells nobody again.
    this.#apply(c);
    return this.#current;
  }

  /**
   * Puts `c` in use and tells the listeners, when its content differs from the config in use
   * (an equal one keeps the object current() returns). True when it changed.
   */
  #apply(c: ZonesConfig): boolean {
    if (this.#error) this.#log.info(`${this.path} is valid again`);
    this.#error = null;
    if (serializeZones(c) === serializeZones(this.#current)) return false;
    this.#current = c;
    for (const cb of this.#listeners) {
      try {
        cb(c);
      } catch (e) {
        this.#log.once("listener", "error", `a zones listener failed: ${errorMessage(e)}`);
      }
    }
    return true;
  }

  /** A bad file: said once per distinct problem; the config in use stays. */
  #bad(key: string | null, what: string, fix: string): void {
    const same = this.#error?.message === what;
    this.#error = { message: what, key, at: this.#now() };
    if (same) return;
    const kept =
      this.#current === EMPTY_ZONES ? "running without zones" : "keeping the last good zones";
    this.#log.error(`${this.path}: ${what}; ${kept} (${fix})`);
  }

  #watch(pollMs: number): void {
    try {
      this.#watcher = fs.watch(dirname(this.path), { persistent: false }, (_ev, name) => {
        if (name === null || name === basename(this.path)) this.#changed();
      });
      this.#watcher.on("error", () => {
        // The folder went away: the poll goes on alone.
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch {
      this.#watcher = null; // no folder yet (--zones in a folder made later): poll only
    }
    if (pollMs > 0) {
      this.#poll = setInterval(() => {
        if (statKey(this.path) !== this.#stat) this.#changed();
      }, pollMs);
      this.#poll.unref();
    }
  }

  #changed(): void {
    if (this.#closed) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      try {
        this.reload();
      } catch (e) {
        this.#log.once("reload", "error", `reading ${this.path} failed: ${errorWhat(e)}`);
      }
    }, this.#debounceMs);
    this.#debounce.unref();
  }
}

function summary(c: ZonesConfig): string {
  const n = (k: number, one: string): string => `${k} ${one}${k === 1 ? "" : "s"}`;
  return `${n(c.zones.length, "zone")}, ${n(c.masks.length, "mask")}, ${n(c.lines.length, "line")}`;
}
