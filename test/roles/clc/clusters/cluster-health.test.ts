/** A cluster's nodes summed up for `euca admin cluster list`: counted by state; capacity from up nodes only. */
import { describe, expect, it } from "vitest";
import { summarizeNodes } from "../../../../src/roles/clc/clusters/cluster-health";
import type { NodeStatus } from "../../../../src/roles/cc/client";

const resource = (free: number, max: number, memFree: number, memMax: number) => ({
  nodeStatus: "enabled" as const,
  powerControl: false,
  memorySizeMax: memMax,
  memorySizeAvailable: memFree,
  diskSizeMax: 100,
  diskSizeAvailable: 100,
  numberOfCoresMax: max,
  numberOfCoresAvailable: free,
});
const node = (name: string, state: NodeStatus["state"], extra: Partial<NodeStatus> = {}): NodeStatus => ({
  name,
  state,
  instances: 0,
  unknown: [],
  drained: false,
  ...extra,
});

describe("summarizeNodes", () => {
  it("counts nodes by state and drained ones, and sums what up nodes offer", () => {
    const s = summarizeNodes([
      node("a", "up", { resource: resource(2, 4, 1024, 2048) }),
      node("b", "up", { resource: resource(1, 4, 512, 2048), drained: true }),
      node("c", "suspect", { resource: resource(4, 4, 2048, 2048) }),
      node("d", "down"),
    ]);
    expect(s).toEqual({ nodes: "2 up, 1 suspect, 1 down (1 drained)", cores: "3/8", memoryMb: "1536/4096" });
  });

  it("a cluster without nodes says so", () => {
    expect(summarizeNodes([])).toEqual({ nodes: "no nodes", cores: "0/0", memoryMb: "0/0" });
  });
});
