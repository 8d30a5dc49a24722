/**
 * The shape of the code, checked on every run (issue 14): imports run one way down the layers,
 * no import cycle, native code behind src/native/, and functions that fit on a screen.
 *
 * Why our own scan instead of madge or dependency-cruiser: they need a resolver setup for `.ts`
 * specifiers, `.tsx` and `bun:` modules, and they see only what survives type erasure; a regex
 * over the import lines sees `import type` too (a lower layer must not import a higher one even
 * for a type), and the TypeScript compiler we already have measures the functions.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const root = join(import.meta.dir, "..", "..");
const src = join(root, "src");

/** Layers, lowest first: a module may import from its own layer or any lower one. */
const LAYERS: readonly (readonly string[])[] = [
  ["shared"],
  ["native"],
  ["camera", "detect", "events", "image", "track", "clips"],
  ["workers"],
  ["pipeline"],
  ["integrations"],
  ["http"],
  ["main", "serve", "config", "cli"],
];

const MAX_FUNCTION_LINES = 80;
const MAX_FILE_LINES = 450;
/** Files that are data, not code. */
const SIZE_EXEMPT = new Set<string>([]);

function sourceFiles(): string[] {
  return [...new Bun.Glob("src/**/*.{ts,tsx}").scanSync(root)].map((f) => join(root, f)).sort();
}

const rel = (abs: string): string => relative(root, abs);

/** Every `import ... from "x"` and `export ... from "x"`, type-only ones included. */
function importSpecifiers(text: string): string[] {
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  return [...text.matchAll(re)].map((m) => (m[1] ?? m[2]) as string);
}

/** "src/http/routes/api.ts" → "http"; "src/serve.ts" → "serve"; "src/pipeline.ts" → "pipeline". */
function area(abs: string): string {
  const first = relative(src, abs).split("/")[0] as string;
  return first.replace(/\.tsx?$/, "");
}

function layerOf(abs: string): number {
  const a = area(abs);
  const i = LAYERS.findIndex((l) => l.includes(a));
  if (i < 0)
    throw new Error(`${rel(abs)}: folder "${a}" is in no layer of test/unit/layout.test.ts`);
  return i;
}

interface Graph {
  edges: Map<string, string[]>;
  /** Non-relative specifiers per file ("bun:ffi", "elysia"). */
  packages: Map<string, string[]>;
}

function importGraph(): Graph {
  const edges = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const f of sourceFiles()) {
    const specs = importSpecifiers(readFileSync(f, "utf8"));
    edges.set(
      f,
      specs.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(f), s)),
    );
    packages.set(
      f,
      specs.filter((s) => !s.startsWith(".")),
    );
  }
  return { edges, packages };
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(edges: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(rel(w));
    } while (w !== v);
    if (scc.length > 1 || (edges.get(v) ?? []).includes(v)) out.push(scc.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

interface FunctionSize {
  name: string;
  lines: number;
}

/** Lines of every function, method, arrow and accessor (a closure includes what it contains). */
function functionSizes(file: string): FunctionSize[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: FunctionSize[] = [];
  const nameOf = (n: ts.Node): string => {
    const named = n as { name?: ts.Node };
    if (named.name && ts.isIdentifier(named.name)) return named.name.text;
    if (ts.isConstructorDeclaration(n)) return "constructor";
    const p = n.parent;
    if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
    if (p && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return p.name.text;
    return "<anonymous>";
  };
  const walk = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && (n as { body?: ts.Node }).body) {
      const start = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      out.push({ name: nameOf(n), lines: end - start + 1 });
    }
    ts.forEachChild(n, walk);
  };
  walk(sf);
  return out;
}

/** Top-level C function bodies: a line that starts a definition, to its closing brace at column 0. */
function cFunctionSizes(file: string): FunctionSize[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: FunctionSize[] = [];
  let start = -1;
  let name = "";
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    const m = /^[A-Za-z_][\w \t*]*?\b(\w+)\s*\([^;]*$/.exec(l);
    if (start < 0 && m && !/^(typedef|struct|enum|static const|#)/.test(l)) {
      start = i;
      name = m[1] as string;
    } else if (start >= 0 && l.startsWith("}")) {
      out.push({ name, lines: i - start + 1 });
      start = -1;
    } else if (
      start >= 0 &&
      l.endsWith(";") &&
      !lines.slice(start, i).some((x) => x.includes("{"))
    ) {
      start = -1; // a multi-line prototype
    }
  }
  return out;
}

describe("imports", () => {
  const g = importGraph();

  test("no import cycle in src/ (type imports included)", () => {
    expect(cycles(g.edges)).toEqual([]);
  });

  test("imports run down the layers: shared ← native ← camera/detect/events ← workers ← pipeline ← integrations ← http ← main", () => {
    const upward: string[] = [];
    for (const [f, deps] of g.edges) {
      for (const d of deps) {
        if (!d.startsWith(src + "/")) continue;
        if (layerOf(d) > layerOf(f)) upward.push(`${rel(f)} → ${rel(d)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  test("nothing in src/ imports from test/ or bench/", () => {
    const bad: string[] = [];
    for (const [f, deps] of g.edges)
      for (const d of deps) if (/^(test|bench)\//.test(rel(d))) bad.push(`${rel(f)} → ${rel(d)}`);
    expect(bad).toEqual([]);
  });

  test("bun:ffi only in src/native/", () => {
    const bad = [...g.packages]
      .filter(([f, pkgs]) => pkgs.includes("bun:ffi") && area(f) !== "native")
      .map(([f]) => rel(f));
    expect(bad).toEqual([]);
  });
});

describe("size", () => {
  const files = sourceFiles();

  test(`no file in src/ over ${MAX_FILE_LINES} lines`, () => {
    const long: string[] = [];
    for (const f of files) {
      const r = rel(f);
      if (SIZE_EXEMPT.has(r)) continue;
      const n = readFileSync(f, "utf8").split("\n").length;
      if (n > MAX_FILE_LINES) long.push(`${r}: ${n} lines`);
    }
    expect(long).toEqual([]);
  });

  test(`no function in src/ or ffi/hazardcam.c over ${MAX_FUNCTION_LINES} lines`, () => {
    const long: string[] = [];
    const check = (r: string, sizes: FunctionSize[]): void => {
      for (const s of sizes) {
        if (s.lines > MAX_FUNCTION_LINES) long.push(`${r}:${s.name}: ${s.lines} lines`);
      }
    };
    for (const f of files) check(rel(f), functionSizes(f));
    check("ffi/hazardcam.c", cFunctionSizes(join(root, "ffi/hazardcam.c")));
    expect(long).toEqual([]);
  });
});
