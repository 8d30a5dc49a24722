/** Colours in the CLI's usage text: kept on a terminal, stripped when piped or with NO_COLOR. */
import { expect, test } from "bun:test";
import { forStream, wantsColor } from "../../src/cli/color.ts";

const coloured = "\x1b[4m\x1b[1mUSAGE\x1b[22m\x1b[24m \x1b[36mhazardcam <MODEL>\x1b[39m";

test("a terminal gets the colours", () => {
  expect(forStream(coloured, { isTTY: true }, {})).toBe(coloured);
});

test("a pipe or a file gets plain text", () => {
  expect(forStream(coloured, { isTTY: false }, {})).toBe("USAGE hazardcam <MODEL>");
  expect(forStream(coloured, {}, {})).toBe("USAGE hazardcam <MODEL>");
});

test("NO_COLOR with any non-empty value, and TERM=dumb, turn them off on a terminal", () => {
  for (const env of [{ NO_COLOR: "1" }, { NO_COLOR: "yes" }, { NO_COLOR: "0" }, { TERM: "dumb" }]) {
    expect(wantsColor({ isTTY: true }, env)).toBe(false);
    expect(forStream(coloured, { isTTY: true }, env)).not.toContain("\x1b");
  }
  // An empty NO_COLOR is not set (no-color.org).
  expect(wantsColor({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
});
