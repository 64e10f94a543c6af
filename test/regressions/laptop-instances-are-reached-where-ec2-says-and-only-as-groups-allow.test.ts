/**
 * Issue 16: on a laptop cloud run with `--hypervisor qemu`, describe-instances showed no
 * PublicIpAddress (the loopback pool was only the fake driver's default), and the guest's
 * SSH port was forwarded from 127.0.0.1 and a random port — named only in the server log,
 * and open whatever the security group said. Now the pool follows the loopback private
 * subnet, and QEMU starts with no host forward at all: every forward is one a group opens
 * (test/e2e/laptop-reach.test.ts connects through them to a real guest).
 */
import { describe, expect, it } from "vitest";
import { publicAddressRanges } from "../../src/config/network";
import { qemuArgs } from "../../src/hypervisor/qemu/args";
import { loopbackForwards } from "../../src/net/port-forwards";

describe("laptop instances are reached where EC2 says, and only as their groups allow", () => {
  it("rootless QEMU gets the loopback public pool; a cloud on real networks needs PUBLIC_IPS", () => {
    for (const hypervisor of ["qemu", "auto", "fake"] as const)
      expect(publicAddressRanges({ hypervisor, publicIps: "", vnetSubnet: "" })).toBe("127.65.0.2-127.65.0.254");
    expect(publicAddressRanges({ hypervisor: "xen", publicIps: "", vnetSubnet: "" })).toBe("");
    expect(publicAddressRanges({ hypervisor: "qemu", publicIps: "", vnetSubnet: "10.20.0.0/16" })).toBe("");
    expect(publicAddressRanges({ hypervisor: "qemu", publicIps: "192.0.2.1", vnetSubnet: "" })).toBe("192.0.2.1");
  });

  it("QEMU starts with no forward of its own, and the default (empty) group opens nothing", () => {
    const args = qemuArgs(
      {
        instanceId: "i-0a1b2c3d",
        memoryMb: 256,
        cores: 1,
        disks: [],
        consolePath: "/d/console.log",
        nics: [
          {
            mode: "user",
            mac: "d0:0d:0a:1b:2c:3d",
            ip: "127.64.0.34",
            forwards: [{ protocol: "tcp", hostIp: "127.64.0.34", port: 22 }],
          },
        ],
      },
      { accel: "tcg", qmpPath: "/d/qmp", pidPath: "/d/pid", net: { mode: "user" } },
    );
    expect(args.join(" ")).not.toContain("hostfwd"); // forwards are added over QMP, only those asked for
    expect(loopbackForwards(["127.64.0.34", "127.65.0.2"], []).forwards).toEqual([]);
  });
});
