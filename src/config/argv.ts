/**
 * A strict argv parser driven by citty's ArgsDef (citty renders --help from the same table).
 * Why not citty's own parser: it reads `-0.5` as a flag, has no numbers and accepts unknown flags.
 */
import type { ArgsDef } from "citty";
import { inputError } from "../shared/errors.ts";

export interface ParsedArgv {
  positionals: string[];
  /**
   * Flag values by their long name: string for string flags, boolean for boolean flags, and an
   * array (in command-line order) for string flags marked with `repeatable()`.
   */
  flags: Record<string, string | boolean | string[]>;
}

const repeatableDefs = new WeakSet<object>();

/**
 * Marks a string flag as repeatable (`--webhook A --webhook B`): parseArgv collects its values
 * into an array. Other flags keep "the last one wins". citty's ArgDef has no such field, hence
 * the mark on the definition object (spreading an ArgsDef keeps the same objects).
 */
export function repeatable<T extends { type: "string" }>(def: T): T {
  repeatableDefs.add(def);
  return def;
}

/** A token that looks like a negative number is a value, not a flag (`-0.5`, `-1`, `-.5`). */
const negativeNumber = /^-(\d|\.\d)/;

export function parseArgv(argv: readonly string[], def: ArgsDef): ParsedArgv {
  const byName = new Map<string, { name: string; type: string; many: boolean }>();
  for (const [name, d] of Object.entries(def)) {
    if (d.type === "positional") continue;
    const type = d.type ?? "string";
    const spec = { name, type, many: repeatableDefs.has(d) };
    byName.set(name, spec);
    const aliases = "alias" in d && d.alias ? [d.alias].flat() : [];
    for (const a of aliases) byName.set(a, spec);
  }
  const positionals: string[] = [];
  const flags: Record<string, string | boolean | string[]> = {};
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (onlyPositionals || !tok.startsWith("-") || tok === "-" || negativeNumber.test(tok)) {
      positionals.push(tok);
      continue;
    }
    if (tok === "--") {
      onlyPositionals = true;
      continue;
    }
    const body = tok.replace(/^--?/, "");
    const eq = body.indexOf("=");
    let key = eq >= 0 ? body.slice(0, eq) : body;
    let inline: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    let negated = false;
    let spec = byName.get(key);
    if (!spec && key.startsWith("no-") && byName.get(key.slice(3))?.type === "boolean") {
      spec = byName.get(key.slice(3));
      negated = true;
      key = key.slice(3);
    }
    if (!spec) {
      throw inputError("EARG_UNKNOWN", `unknown option ${tok}`, "see --help for the options");
    }
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        if (!/^(true|false|1|0)$/.test(inline)) {
          throw inputError("EARG_BOOL", `--${spec.name} takes no value (got "${inline}")`);
        }
        flags[spec.name] = (inline === "true" || inline === "1") !== negated;
      } else flags[spec.name] = !negated;
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw inputError("EARG_VALUE", `--${spec.name} needs a value`);
      }
      inline = next;
      i++;
    }
    if (spec.many) {
      const prev = flags[spec.name];
      flags[spec.name] = Array.isArray(prev) ? [...prev, inline] : [inline];
    } else flags[spec.name] = inline;
  }
  return { positionals, flags };
}

/** Parses a finite decimal number; rejects "", "1e", "0x10", " 3". */
export function parseNumber(s: string): number | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

export function parseInteger(s: string): number | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
