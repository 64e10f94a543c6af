/**
 * Regression: `--vnet-pubinterface` was read by commander as `vnetPubinterface`, so the
 * setting `vnetPubInterface` never saw it and elastic addresses went to eth0. Every flag
 * must name its setting exactly as commander spells it, and a value given on the command
 * line must arrive.
 */
import { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { OPTIONS, OPTION_KEYS } from "../../src/config/settings";
import { settingsOf, withSettings } from "../../src/cli/settings-flags";

describe("settings flags", () => {
  it("each flag's attribute is its setting's key", () => {
    // --role is read as `role` and handed on as `roles` (settings-flags.ts).
    const wrong = OPTION_KEYS.filter((k) => k !== "roles")
      .filter((k) => new Option(OPTIONS[k].flag).attributeName() !== k)
      .map((k) => `${OPTIONS[k].flag} → ${new Option(OPTIONS[k].flag).attributeName()}, not ${k}`);
    expect(wrong).toEqual([]);
  });

  it("a networking value given on the command line is the setting", () => {
    const cmd = withSettings(new Command("run"));
    cmd.exitOverride().action(() => undefined);
    cmd.parse(
      [
        "--vnet-mode",
        "MANAGED",
        "--vnet-pub-interface",
        "pub0",
        "--vnet-local-ip",
        "192.0.2.1",
        "--vnet-dhcp-user",
        "dnsmasq",
      ],
      { from: "user" },
    );
    const s = settingsOf(cmd, { env: {}, out: () => undefined, err: () => undefined });
    expect([s.vnetMode, s.vnetPubInterface, s.vnetLocalIp, s.vnetDhcpUser]).toEqual([
      "MANAGED",
      "pub0",
      "192.0.2.1",
      "dnsmasq",
    ]);
  });
});
