/**
 * What `euca run` refuses at start in the networking settings, with a message that says
 * why — before it binds anything — rather than a cloud whose launches fail later.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { BUNDLE } from "../support/process";

const euca = (...args: string[]) =>
  run(
    process.execPath,
    [BUNDLE, "run", "--data-dir", tempDir(), "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake", ...args],
    { env: { PATH: process.env.PATH, EUCA_WEB_PORT: "0" }, timeoutMs: 60_000 },
  );

describe("networking settings refused at start", () => {
  it("an unknown mode names the valid ones; a bad VNET_MACMAP or netmask is refused", async () => {
    expect((await euca("--vnet-mode", "FLAT")).stderr).toContain(
      "unknown VNET_MODE 'FLAT'; valid VNET_MODEs: ROOTLESS, MANAGED, MANAGED-NOVLAN, SYSTEM, STATIC",
    );
    expect(
      (await euca("--vnet-mode", "STATIC", "--vnet-mac-map", "d0:0d:00:00:00:01=10.0.0.1 d0:0d:00:00:00:02=10.0.0.1"))
        .stderr,
    ).toContain("10.0.0.1 is given twice");
    expect((await euca("--vnet-mode", "STATIC", "--vnet-mac-map", "d0:0d:00:00:00:01=10.0.0.300")).stderr).toContain(
      "is not a MAC=IPv4 pair",
    );
    expect((await euca("--vnet-mode", "STATIC", "--vnet-mac-map", "01:00:5e:00:00:01=10.0.0.1")).stderr).toContain(
      "is a multicast MAC",
    );
    expect((await euca("--vnet-netmask", "255.0.255.0")).stderr).toContain("is not a netmask");
  });

  it.runIf(process.getuid?.() === 0)(
    "SYSTEM and STATIC need the site's LAN bridge on a node; STATIC needs VNET_MACMAP",
    async () => {
      const r = await euca("--role", "nc", "--vnet-mode", "SYSTEM", "--vnet-bridge", "nosuchbr0", "--nc-port", "0");
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("this node has no bridge nosuchbr0 (VNET_BRIDGE)");
      const s = await euca("--role", "cc", "--vnet-mode", "STATIC", "--cc-port", "0");
      expect(s.status).not.toBe(0);
      expect(s.stderr).toContain("VNET_MACMAP (--vnet-mac-map) gives no MAC=IP pairs");
    },
  );

  it.runIf(process.getuid?.() === 0)(
    "MANAGED refuses a loopback gateway address, and 802.1Q segments on a kernel without them",
    async () => {
      const r = await euca("--role", "cc", "--vnet-mode", "MANAGED");
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("is 127.0.0.1, a loopback address");
      if (!existsSync("/proc/net/vlan/config")) {
        const v = await euca("--role", "nc", "--vnet-mode", "MANAGED", "--vnet-segment", "vlan", "--nc-port", "0");
        expect(v.status).not.toBe(0);
        expect(v.stderr).toContain("kernel has no 802.1Q VLAN devices");
      }
    },
  );

  it.runIf(process.getuid?.() !== 0)("MANAGED needs root", async () => {
    const r = await euca("--role", "nc", "--vnet-mode", "MANAGED", "--nc-port", "0");
    expect(r.stderr).toContain("needs root on the nc host");
  });
});
