/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: it throws on
 * anything Prometheus would reject or a client library would never write (bad names, escapes
 * or values, a family split in two, TYPE after samples, duplicate series, a histogram whose
 * buckets are not cumulative or whose +Inf bucket differs from _count, a negative counter).
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string | null;
  samples: PromSample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s: string, line: number): number {
  if (s === "NaN") return Number.NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) {
    throw new Error(`line ${line}: bad value "${s}"`);
  }
  return Number(s);
}

function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after "{"
  for (;;) {
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (!m) throw new Error(`line ${line}: bad label name at "${s.slice(i)}"`);
    const name = m[0];
    if (name.startsWith("__")) throw new Error(`line ${line}: reserved label name ${name}`);
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    i += name.length;
    if (s[i] !== "=" || s[i + 1] !== '"') throw new Error(`line ${line}: expected ="`);
    i += 2;
    let v = "";
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === "\n") throw new Error(`line ${line}: raw newline in a label value`);
      if (c === "\\") {
        const e = s[i + 1];
        if (e === "\\") v += "\\";
        else if (e === '"') v += '"';
        else if (e === "n") v += "\n";
        else throw new Error(`line ${line}: bad escape \\${e ?? ""}`);
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[name] = v;
    i++; // closing quote
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw new Error(`line ${line}: expected , or } after a label`);
  }
}

function familyOf(sample: string, families: Map<string, PromFamily>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      const t = families.get(base)?.type;
      if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return sample;
}

export function parsePromText(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: string | null = null;
  const lines = text.slice(0, -1).split("\n");
  const get = (name: string): PromFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: "untyped", help: null, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const enter = (name: string, line: number): void => {
    if (current === name) return;
    if (finished.has(name)) throw new Error(`line ${line}: family ${name} is split`);
    if (current) finished.add(current);
    current = name;
  };
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (!m) return; // a comment
      const [, kw, name, rest = ""] = m as unknown as [string, string, string, string?];
      if (!METRIC.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      enter(name, line);
      const f = get(name);
      if (kw === "HELP") {
        if (f.help !== null) throw new Error(`line ${line}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) {
          throw new Error(`line ${line}: bad escape in HELP`);
        }
        f.help = rest.replace(/\\(\\|n)/g, (_, e: string) => (e === "n" ? "\n" : "\\"));
      } else {
        const t = rest.trim();
        if (!TYPES.has(t)) throw new Error(`line ${line}: unknown type "${t}"`);
        if (f.samples.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        if (typed.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
        typed.add(name);
        f.type = t as PromFamily["type"];
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nameMatch) throw new Error(`line ${line}: bad sample "${raw}"`);
    const sampleName = nameMatch[0];
    let rest = raw.slice(sampleName.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || parts.length < 1 || parts.length > 2) {
      throw new Error(`line ${line}: expected " value [timestamp]" in "${raw}"`);
    }
    const value = parseValue(parts[0] as string, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) {
      throw new Error(`line ${line}: bad timestamp ${parts[1]}`);
    }
    const fam = familyOf(sampleName, families);
    enter(fam, line);
    const f = get(fam);
    const key = `${sampleName}{${Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(",")}}`;
    if (series.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    series.add(key);
    for (const k of Object.keys(labels)) {
      if (!LABEL.test(k)) throw new Error(`line ${line}: bad label name ${k}`);
    }
    if (f.type === "counter" && !(value >= 0)) {
      throw new Error(`line ${line}: counter ${sampleName} is ${value}`);
    }
    if (f.type === "histogram" && sampleName === `${fam}_bucket` && !("le" in labels)) {
      throw new Error(`line ${line}: histogram bucket without le`);
    }
    if (f.type === "histogram" && sampleName === fam) {
      throw new Error(`line ${line}: histogram sample ${sampleName} without a suffix`);
    }
    f.samples.push({ name: sampleName, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, PromSample[]>();
  for (const s of f.samples) {
    const { le: _le, ...rest } = s.labels;
    const k = JSON.stringify(rest);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  for (const [k, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum) throw new Error(`${f.name}${k}: _sum or _count missing`);
    let prevLe = -Infinity;
    let prevN = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le as string, 0);
      if (!(le > prevLe)) throw new Error(`${f.name}${k}: buckets not in increasing le order`);
      if (b.value < prevN) throw new Error(`${f.name}${k}: buckets not cumulative`);
      prevLe = le;
      prevN = b.value;
    }
    if (prevLe !== Infinity) throw new Error(`${f.name}${k}: no le="+Inf" bucket`);
    if (prevN !== count.value) throw new Error(`${f.name}${k}: +Inf bucket != _count`);
  }
}
