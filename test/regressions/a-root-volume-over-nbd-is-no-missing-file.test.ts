/**
 * Regression: an EBS-backed guest on a node other than its SC's host never started — the
 * drivers' check for missing boot files took its root volume's nbd:// URL for a file path
 * ("disk vda nbd://… does not exist"), so the instance went back to stopped. Found by the
 * four-host site test (test/e2e/site.test.ts), which now boots one over NBD.
 */
import { describe, expect, it } from "vitest";
import { checkBootFiles } from "../../src/hypervisor/boot-files";
import type { DomainSpec } from "../../src/hypervisor/types";

const spec = (disks: DomainSpec["disks"]): DomainSpec => ({
  instanceId: "i-0000ab02",
  memoryMb: 128,
  cores: 1,
  disks,
  nics: [],
  consolePath: "/nonexistent/console.log",
});

describe("the boot file check", () => {
  it("passes a root volume served over NBD or iSCSI and still refuses a missing file", () => {
    expect(() =>
      checkBootFiles(
        spec([
          {
            path: "nbd://10.0.0.2:10810/vol-0000ab02",
            device: "vda",
            volumeId: "vol-0000ab02",
            nbd: { host: "10.0.0.2", port: 10810, export: "vol-0000ab02", identity: "i-0000ab02", pskDir: "/k" },
          },
          {
            path: "iscsi://10.0.0.2:3260/iqn.x/1",
            device: "vdb",
            volumeId: "vol-0000ab03",
            iscsi: { portal: "10.0.0.2:3260", target: "iqn.x", lun: 1, user: "u", password: "p" },
          },
        ]),
      ),
    ).not.toThrow();
    expect(() => checkBootFiles(spec([{ path: "/nonexistent/root", device: "vda" }]))).toThrow(/does not exist/);
  });
});
