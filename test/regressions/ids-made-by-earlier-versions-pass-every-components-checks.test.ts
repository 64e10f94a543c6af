/**
 * Ids made by earlier versions are upper-case (i-4F2A0B3C, sg-0A1B2C3D), and the CLC passes
 * the stored id on to clusters, nodes and storage unchanged. A node checked a cluster view's
 * instance and group ids as lower-case only, so one such instance or group in a MANAGED
 * cluster made every node refuse the whole view ("an instance is malformed") and keep its
 * old network; the SC refused such a volume id. Every component now checks ids with the
 * one isResourceId (either case, 8 to 17 hex digits).
 */
import { describe, expect, it } from "vitest";
import { isResourceId } from "../../src/common/ids";
import { isInstanceId } from "../../src/hypervisor/domain-state";
import { checkView } from "../../src/net/managed";
import type { ClusterView } from "../../src/net/view";
import { createFileBackend } from "../../src/roles/sc/backends/files";
import { runProgram } from "../../src/common/run-program";
import { tempDir } from "../support/cloud";

const view = (instanceId: string, groupId: string): ClusterView => ({
  mode: "MANAGED",
  privateRange: "10.128.0.0/16",
  segments: [{ vlan: 11, cidr: "10.128.0.32/27", gateway: "10.128.0.33" }],
  instances: [
    {
      instanceId,
      node: "n1",
      mac: "d0:0d:00:00:00:a1",
      ip: "10.128.0.34",
      hostname: "euca-10-128-0-34",
      vlan: 11,
      groupIds: [groupId],
    },
  ],
  rules: { [groupId]: [{ protocol: "tcp", fromPort: 22, toPort: 22, sourceGroupId: groupId }] },
  nodes: { n1: "192.168.50.2" },
  gateway: { underlay: "192.168.50.1", publicDev: "pub0" },
  vxlan: { port: 4789, mtu: 1450, novlanVni: 1 },
  dhcp: { leaseSeconds: 3600, user: "nobody", group: "nogroup" },
});

describe("ids made by earlier versions (upper-case)", () => {
  it("a node takes a cluster view holding them", () => {
    expect(checkView(view("i-4F2A0B3C", "sg-0A1B2C3D"), "n1")).toBeUndefined();
    expect(checkView(view("i-4f2a0b3c", "sg-0a1b2c3d"), "n1")).toBeUndefined();
    expect(checkView(view("i-4F2A0B3C; reboot", "sg-0A1B2C3D"), "n1")).toBe("an instance is malformed");
  });

  it("the storage controller keeps their volumes, and the hypervisors their instances", async () => {
    const b = createFileBackend({ dir: tempDir("euca-vol-"), format: "raw", run: runProgram });
    await b.create("vol-1A2B3C4D", 1);
    expect(await b.list()).toEqual(["vol-1A2B3C4D"]);
    expect(isInstanceId("i-4F2A0B3C")).toBe(true);
  });

  it("one rule for every kind: the prefix and 8 to 17 hex digits, nothing else", () => {
    expect(isResourceId("volume", "vol-0123456789abcdef0")).toBe(true);
    expect(isResourceId("snapshot", "snap-ABCDEF01")).toBe(true);
    expect(isResourceId("volume", "vol-1234567")).toBe(false);
    expect(isResourceId("volume", "vol-0123456789abcdef01")).toBe(false);
    expect(isResourceId("volume", "snap-12345678")).toBe(false);
    expect(isResourceId("volume", "vol-1234567g")).toBe(false);
    expect(isResourceId("volume", 12345678)).toBe(false);
  });
});
