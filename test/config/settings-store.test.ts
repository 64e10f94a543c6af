/** The running cloud's settings: what the page lists, what a change does, and who hears of it. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSettingsStore } from "../../src/config/settings-store";
import { tempDir, testSettings } from "../support/cloud";

function store(over: Parameters<typeof testSettings>[1] = {}, withFile = true) {
  const dir = tempDir("euca-settings-");
  const configFile = join(dir, "euca.conf");
  writeFileSync(configFile, "WALRUS_MAX_BUCKETS=5\n");
  const values = testSettings(dir, over);
  return { values, configFile, s: createSettingsStore({ values, configFile: withFile ? configFile : undefined }) };
}

describe("settings store", () => {
  it("a live setting is in force at once, kept in the config file, and its followers are told", () => {
    const { s, values, configFile } = store();
    const heard: number[] = [];
    const off = s.onChange("walrusMaxBuckets", (v) => heard.push(v));
    expect(s.set("walrusMaxBuckets", "9")).toBe("now");
    expect(values.walrusMaxBuckets).toBe(9);
    expect(s.get("walrusMaxBuckets")).toBe(9);
    expect(readFileSync(configFile, "utf8")).toContain("WALRUS_MAX_BUCKETS=9");
    off();
    s.set("walrusMaxBuckets", "10");
    expect(heard).toEqual([9]);
  });

  it("a setting live only where its role runs waits for the next start elsewhere", () => {
    const here = store();
    expect(here.s.set("scMaxVolumeGb", "12")).toBe("now");
    expect(here.values.scMaxVolumeGb).toBe(12);
    const apart = store({ roles: ["clc", "walrus"] });
    expect(apart.s.set("scMaxVolumeGb", "12")).toBe("next start");
    expect(apart.values.scMaxVolumeGb).toBe(10);
    expect(apart.s.list().find((v) => v.key === "scMaxVolumeGb")).toMatchObject({ editable: true, live: false });
  });

  it("an editable setting that is not live changes the file only", () => {
    const { s, values, configFile } = store();
    expect(s.set("schedPolicy", "ROUNDROBIN")).toBe("next start");
    expect(values.schedPolicy).toBe("GREEDY");
    expect(readFileSync(configFile, "utf8")).toContain("SCHEDPOLICY=ROUNDROBIN");
  });

  it("refuses what cannot be changed here, a bad value, and any change without a config file", () => {
    const { s, values } = store();
    expect(() => s.set("dataDir", "/elsewhere")).toThrow(/cannot be changed while the cloud runs/);
    expect(() => s.set("toString", "x")).toThrow(/cannot be changed while the cloud runs/);
    // The site's settings are the admin's to change (euca admin property set), in force from the next start.
    expect(s.set("vnetMode", "MANAGED")).toBe("next start");
    expect(() => s.set("walrusMaxBuckets", "many")).toThrow(/WALRUS_MAX_BUCKETS/);
    expect(values.walrusMaxBuckets).toBe(5);
    expect(() => store({}, false).s.set("walrusMaxBuckets", "9")).toThrow(/without --config/);
    expect(
      store({}, false)
        .s.list()
        .every((v) => !v.editable),
    ).toBe(true);
  });

  it("lists values as the config file gives them: ranges, pairs and lists as text, no password, no key path", () => {
    const { s } = store({
      smtpUrl: "smtp://mailer:hunter2@mail.example:25",
      vnetMacMap: [{ mac: "d0:0d:00:00:00:01", ip: "192.0.2.5" }],
    });
    const shown = Object.fromEntries(s.list().map((v) => [v.key, v.value]));
    expect(shown.scNbdPorts).toBe("10810-10999");
    expect(shown.vnetMacMap).toBe("d0:0d:00:00:00:01=192.0.2.5");
    expect(shown.webSignupFields).toBe("telephone,affiliation,projectLeader,description");
    expect(shown.smtpUrl).toBe("smtp://mailer:********@mail.example:25");
    expect(shown).not.toHaveProperty("webKey");
  });
});
