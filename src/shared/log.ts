/** Log lines carry a module prefix ("cam:", "tpu:", "http:"); a repeating failure is logged once. */

type Level = "info" | "warn" | "error";

let quiet = false;
const onceKeys = new Set<string>();

export function setQuiet(value: boolean): void {
  quiet = value;
}

function write(level: Level, prefix: string, msg: string): void {
  if (quiet && level === "info") return;
  const line = `${prefix}: ${msg}`;
  if (level === "info") console.log(line);
  else console.error(line);
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Logs only the first time `key` is seen until `clear(key)`: for failures that repeat. */
  once(key: string, level: Level, msg: string): void;
  /** Forgets `key`, so the failure is logged again next time (call on recovery). */
  clear(key: string): boolean;
}

export function logger(prefix: string): Logger {
  return {
    info: (msg) => write("info", prefix, msg),
    warn: (msg) => write("warn", prefix, msg),
    error: (msg) => write("error", prefix, msg),
    once(key, level, msg) {
      const k = `${prefix}:${key}`;
      if (onceKeys.has(k)) return;
      onceKeys.add(k);
      write(level, prefix, msg);
    },
    clear: (key) => onceKeys.delete(`${prefix}:${key}`),
  };
}
