import { describe, expect, it } from "vitest";
import { clusterAvailability, fits } from "../../../src/roles/cc/capacity";
import { verboseRow } from "../../../src/roles/clc/compute/zones";
import { DEFAULT_VM_TYPES } from "../../../src/roles/clc/compute/vm-types";
import type { NodeResource } from "../../../src/roles/nc/client";

const node = (
  mem: number,
  disk: number,
  cores: number,
  avail = { mem, disk, cores },
  status: NodeResource["nodeStatus"] = "enabled",
): NodeResource => ({
  nodeStatus: status,
  memorySizeMax: mem,
  memorySizeAvailable: avail.mem,
  diskSizeMax: disk,
  diskSizeAvailable: avail.disk,
  numberOfCoresMax: cores,
  numberOfCoresAvailable: avail.cores,
  powerControl: false,
});

describe("cluster capacity (Eucalyptus' per-type count)", () => {
  it("is limited by the scarcest of memory, disk and cores", () => {
    const small = DEFAULT_VM_TYPES[0]!;
    expect(fits(small, 3840, 1000, 4)).toBe(4);
    expect(fits(small, 256, 1000, 4)).toBe(2);
    expect(fits(small, 3840, 3, 4)).toBe(1);
    expect(fits({ ...small, cpus: 0 }, 3840, 3, 4)).toBe(0);
  });

  it("sums over enabled nodes, free from available and max from totals", () => {
    const nodes = [
      node(3840, 100, 4),
      node(2048, 100, 2, { mem: 1024, disk: 50, cores: 1 }),
      node(8192, 100, 8, undefined, "disabled"),
    ];
    expect(clusterAvailability(DEFAULT_VM_TYPES, nodes)).toEqual([
      { name: "m1.small", available: 5, max: 6 },
      { name: "c1.medium", available: 5, max: 6 },
      { name: "m1.large", available: 2, max: 3 },
      { name: "m1.xlarge", available: 2, max: 3 },
      { name: "c1.xlarge", available: 1, max: 1 }, // only the first node has 4 cores
    ]);
  });

  it("prints rows in Eucalyptus' STATE_FSTRING layout (reference §5.4)", () => {
    expect(verboseRow(4, 4, 1, 128, 2)).toBe("0004 / 0004   1    128     2");
    expect(verboseRow(2, 2, 2, 1024, 20)).toBe("0002 / 0002   2   1024    20");
    expect(verboseRow(12345, 1, 16, 65536, 1000)).toBe("12345 / 0001  16   65536  1000");
  });
});
