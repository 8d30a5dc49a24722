/** A Logger that records its lines (with the same once/clear rules as src/log.ts). */
import type { Logger } from "../../src/shared/log.ts";

export interface LogLine {
  level: string;
  msg: string;
}

export function recordingLog(lines: LogLine[]): Logger {
  const once = new Set<string>();
  return {
    info: (msg) => void lines.push({ level: "info", msg }),
    warn: (msg) => void lines.push({ level: "warn", msg }),
    error: (msg) => void lines.push({ level: "error", msg }),
    once(key, level, msg) {
      if (once.has(key)) return;
      once.add(key);
      lines.push({ level, msg });
    },
    clear: (key) => once.delete(key),
  };
}
