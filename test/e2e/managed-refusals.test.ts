/**
 * What `euca run` refuses at start in the networking settings, with a message that says
 * why — before it binds anything — rather than a cloud whose launches fail later.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { BUNDLE } from "../support/process";

const euca = (...args: string[]) => run(process.execPath, [BUNDLE, "run", "--data-dir", tempDir(), "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake", ...args], { env: { PATH: process.env.PATH }, timeoutMs: 60_000 });

describe("networking settings refused at start", () => {
  it("SYSTEM and STATIC are not supported yet; an unknown mode names the valid ones", async () => {
    for (const mode of ["SYSTEM", "static"]) {
      const r = await euca("--vnet-mode", mode);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`VNET_MODE ${mode.toUpperCase()} is not supported yet; use ROOTLESS, MANAGED, MANAGED-NOVLAN`);
    }
    expect((await euca("--vnet-mode", "FLAT")).stderr).toContain("unknown VNET_MODE 'FLAT'");
  });

  it.runIf(process.getuid?.() === 0)("MANAGED refuses a loopback gateway address, and 802.1Q segments on a kernel without them", async () => {
    const r = await euca("--role", "cc", "--vnet-mode", "MANAGED");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is 127.0.0.1, a loopback address");
    if (!existsSync("/proc/net/vlan/config")) {
      const v = await euca("--role", "nc", "--vnet-mode", "MANAGED", "--vnet-segment", "vlan", "--nc-port", "0");
      expect(v.status).not.toBe(0);
      expect(v.stderr).toContain("kernel has no 802.1Q VLAN devices");
    }
  });

  it.runIf(process.getuid?.() !== 0)("MANAGED needs root", async () => {
    const r = await euca("--role", "nc", "--vnet-mode", "MANAGED", "--nc-port", "0");
    expect(r.stderr).toContain("needs root on the nc host");
  });
});
