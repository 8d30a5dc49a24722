/**
 * The integration flags: --mqtt, --mqtt-topic, --public-url, --webhook (repeatable). Bad values
 * end the program with exit code 2 and a message that shows a valid example.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgv, repeatable } from "../../src/config/argv.ts";
import { buildConfig, runArgs } from "../../src/config/run.ts";
import { HcError } from "../../src/shared/errors.ts";
import {
  defaultPublicUrl,
  integrationsConfig,
  redactUrl,
  sanitizeName,
} from "../../src/config/integrations.ts";
import { discoveryMessages } from "../../src/integrations/homeassistant.ts";
import { main } from "../../src/main.ts";

const MODEL = "models/ssd_mobilenet_v2_coco_quant_postprocess.tflite";
const CLIP = "test/fixtures/people_640x480_q5.mjpeg";
const OUT = join(mkdtempSync(join(tmpdir(), "hazardcam-integ-")), "out");

function config(flags: string[], env: Record<string, string> = {}) {
  const p = parseArgv([MODEL, CLIP, "0.5", "640", "480", "8080", OUT, ...flags], runArgs);
  return { ...buildConfig(p), ...integrationsConfig(p, { port: 8080, bind: "0.0.0.0" }, env) };
}

function failure(flags: string[]): HcError {
  try {
    config(flags);
  } catch (e) {
    if (e instanceof HcError) return e;
    throw e;
  }
  throw new Error(`accepted: ${flags.join(" ")}`);
}

describe("repeatable flags", () => {
  const def = {
    hook: repeatable({ type: "string", description: "x" }),
    one: { type: "string", description: "y" },
  } as const;

  test("collect every value in order, in both spellings", () => {
    const p = parseArgv(["--hook", "a", "--hook=b", "--one", "1", "--one=2", "--hook", "c"], def);
    expect(p.flags.hook).toEqual(["a", "b", "c"]);
    // Other flags keep "the last one wins".
    expect(p.flags.one).toBe("2");
  });

  test("one value is still an array; absent is absent", () => {
    expect(parseArgv(["--hook", "a"], def).flags.hook).toEqual(["a"]);
    expect(parseArgv([], def).flags).toEqual({});
  });
});

describe("defaults", () => {
  test("no integrations unless asked", () => {
    const c = config([]);
    expect(c.mqtt).toBeNull();
    expect(c.webhooks).toEqual([]);
    expect(c.publicUrl).toBe(`http://${hostname()}:8080`);
  });

  test("the topic is hazardcam/<hostname>, sanitized", () => {
    const c = config(["--mqtt", "mqtt://broker"]);
    expect(c.mqtt?.topic).toBe(`hazardcam/${sanitizeName(hostname())}`);
    expect(sanitizeName("Kitchen Pi.local")).toBe("kitchen_pi_local");
    expect(sanitizeName("--")).toBe("camera");
  });

  test("public URL: the bind address when bound to one, brackets for IPv6", () => {
    expect(defaultPublicUrl(8080, "0.0.0.0", "pi")).toBe("http://pi:8080");
    expect(defaultPublicUrl(8080, "192.168.1.9", "pi")).toBe("http://192.168.1.9:8080");
    expect(defaultPublicUrl(81, "::1", "pi")).toBe("http://[::1]:81");
  });
});

describe("--mqtt", () => {
  test("host, default ports, credentials (percent-decoded) and a display without password", () => {
    const c = config(["--mqtt", "mqtt://ha%40home:p%3Ass@192.168.1.10", "--mqtt-topic", "cams/a"]);
    expect(c.mqtt).toMatchObject({
      protocol: "mqtt",
      host: "192.168.1.10",
      port: 1883,
      username: "ha@home",
      password: "p:ss",
      topic: "cams/a",
      nodeId: "cams_a",
      display: "mqtt://ha%40home@192.168.1.10",
    });
    expect(config(["--mqtt", "mqtts://b.example"]).mqtt?.port).toBe(8883);
    expect(config(["--mqtt", "mqtt://[::1]:1999"]).mqtt).toMatchObject({ host: "::1", port: 1999 });
  });

  test("the password can come from HAZARDCAM_MQTT_PASSWORD (kept out of ps)", () => {
    const c = config(["--mqtt", "mqtt://ha@broker"], { HAZARDCAM_MQTT_PASSWORD: "s3cret" });
    expect(c.mqtt).toMatchObject({ username: "ha", password: "s3cret" });
  });

  test.each([
    ["http://broker:1883", /scheme is http:/],
    ["broker:1883", /not valid/],
    ["mqtt://", /not valid/],
    ["mqtt://broker:99999", /not valid/],
    ["mqtt://broker/topic", /no path/],
    ["mqtt://broker?x=1", /no path/],
  ])("%s is refused with exit code 2", (url, re) => {
    const e = failure(["--mqtt", url]);
    expect(e.exitCode).toBe(2);
    expect(e.code).toBe("EARG_MQTT");
    expect(e.message).toMatch(re);
    expect(e.message).toContain("mqtt://[user:pass@]host[:port]");
  });

  test("a refused URL is echoed as typed, without its password", () => {
    const e = failure(["--mqtt", "http://u:hunter2@broker"]);
    expect(e.message).toStartWith('--mqtt "http://u:***@broker" is not valid');
    expect(e.message).not.toContain("hunter2");
  });

  test.each(["a/#", "a/+/b", "/a", "a/", "a//b", "$SYS/a", "x".repeat(101), ""])(
    "--mqtt-topic %p is refused",
    (topic) => {
      const e = failure(["--mqtt", "mqtt://broker", "--mqtt-topic", topic]);
      expect(e.exitCode).toBe(2);
      expect(e.code).toBe("EARG_MQTT_TOPIC");
    },
  );

  test("--mqtt-topic alone asks for --mqtt", () => {
    const e = failure(["--mqtt-topic", "hazardcam/x"]);
    expect(e.message).toContain("--mqtt-topic needs --mqtt");
  });
});

describe("--public-url and --webhook", () => {
  test("public URL: path kept, trailing slash dropped", () => {
    expect(config(["--public-url", "https://cams.example/front/"]).publicUrl).toBe(
      "https://cams.example/front",
    );
    expect(config(["--public-url", "http://pi.local:8080"]).publicUrl).toBe("http://pi.local:8080");
  });

  test.each(["ftp://x", "pi.local:8080", "http://x/?a=1", "http://x/#f"])(
    "--public-url %p is refused",
    (u) => {
      const e = failure(["--public-url", u]);
      expect(e.exitCode).toBe(2);
      expect(e.code).toBe("EARG_PUBLIC_URL");
    },
  );

  test("--webhook is repeatable", () => {
    const c = config(["--webhook", "http://a:1/x", "--webhook", "https://b.example/hook?t=1"]);
    expect(c.webhooks).toEqual(["http://a:1/x", "https://b.example/hook?t=1"]);
  });

  test.each(["ftp://x", "localhost:8123/hook", "http://"])("--webhook %p is refused", (u) => {
    const e = failure(["--webhook", u]);
    expect(e.exitCode).toBe(2);
    expect(e.code).toBe("EARG_WEBHOOK");
  });

  test("at most 10 webhooks", () => {
    const flags = Array.from({ length: 11 }, (_, i) => ["--webhook", `http://h/${i}`]).flat();
    expect(failure(flags).message).toContain("at most 10");
  });

  test("redactUrl hides passwords and query tokens", () => {
    expect(redactUrl("http://u:pw@h/x?token=abc")).toBe("http://u:***@h/x?***");
    expect(redactUrl("http://h/x")).toBe("http://h/x");
  });
});

describe("service install keeps every --webhook", () => {
  test("repeated flags are written once each into the unit", async () => {
    const unitDir = mkdtempSync(join(tmpdir(), "hazardcam-unit-"));
    const log = console.log;
    console.log = () => undefined;
    try {
      const code = await main([
        "service",
        "install",
        MODEL,
        CLIP,
        "0.5",
        "640",
        "480",
        "8080",
        OUT,
        "--unit-dir",
        unitDir,
        "--user",
        "nobody",
        "--webhook",
        "http://a:1/x",
        "--webhook",
        "http://b:2/y",
        "--mqtt",
        "mqtt://broker:1883",
      ]);
      expect(code).toBe(0);
    } finally {
      console.log = log;
    }
    const unit = readFileSync(join(unitDir, "hazardcam.service"), "utf8");
    expect(unit).toContain("--webhook=http://a:1/x");
    expect(unit).toContain("--webhook=http://b:2/y");
    expect(unit).toContain("--mqtt=mqtt://broker:1883");
  });
});

describe("Home Assistant discovery", () => {
  test("binary sensor, people and fps sensors on one device, with availability", () => {
    const c = config(["--mqtt", "mqtt://broker", "--mqtt-topic", "hazardcam/kitchen"]);
    const msgs = discoveryMessages(c.mqtt!, {
      version: "1.2.3",
      configurationUrl: "http://pi:8080",
    });
    const topics = msgs.map((m) => m.topic);
    expect(topics).toContain("homeassistant/binary_sensor/hazardcam_kitchen/person/config");
    expect(topics).toContain("homeassistant/sensor/hazardcam_kitchen/people/config");
    expect(topics).toContain("homeassistant/sensor/hazardcam_kitchen/fps/config");
    for (const m of msgs) {
      expect(m.retain).toBe(true);
      const p = JSON.parse(m.payload) as Record<string, unknown>;
      expect(p.availability_topic).toBe("hazardcam/kitchen/availability");
      expect(p.device).toEqual({
        identifiers: ["hazardcam_kitchen"],
        name: "hazardcam kitchen",
        manufacturer: "hazardcam",
        model: "hazardcam people detector",
        sw_version: "1.2.3",
        configuration_url: "http://pi:8080",
      });
      expect(String(p.unique_id)).toStartWith("hazardcam_kitchen_");
    }
    const ids = msgs.map((m) => (JSON.parse(m.payload) as { unique_id: string }).unique_id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
