import { describe, expect, test } from "bun:test";
import pkg from "../../package.json";
import { UPLOT_VERSION, uplotCss, uplotJs, uplotLicense } from "../../src/http/vendor.ts";

describe("embedded uPlot (activity charts)", () => {
  test("is the exact version pinned in package.json, with its CSS and MIT license", () => {
    expect(pkg.dependencies.uplot).toBe(UPLOT_VERSION);
    expect(uplotJs).toStartWith(`/*! https://github.com/leeoniya/uPlot (v${UPLOT_VERSION}) */`);
    expect(uplotJs).toContain("var uPlot=");
    expect(uplotJs.length).toBeLessThan(80_000);
    expect(uplotCss).toContain(".uplot");
    expect(uplotLicense).toStartWith("The MIT License (MIT)");
  });
});
