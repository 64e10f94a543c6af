import { describe, expect, it } from "vitest";
import { place, type Candidate } from "../../../src/roles/cc/placement";

const node = (name: string, mem: number, cores: number, used = { mem: 0, cores: 0 }): Candidate => ({
  name,
  resource: {
    nodeStatus: "enabled",
    memorySizeMax: mem,
    memorySizeAvailable: mem - used.mem,
    diskSizeMax: 100,
    diskSizeAvailable: 100,
    numberOfCoresMax: cores,
    numberOfCoresAvailable: cores - used.cores,
    powerControl: true,
  },
});
const small = { cpus: 1, memoryMb: 512, diskGb: 5 };

describe("placement policies", () => {
  const nodes = [node("n1", 1024, 2), node("n2", 1024, 2), node("n3", 1024, 2)];

  it("GREEDY fills the first node first", () => {
    expect(place("GREEDY", nodes, small, 3)?.nodes).toEqual(["n1", "n1", "n2"]);
  });

  it("ROUNDROBIN spreads, continuing after the last node used", () => {
    const first = place("ROUNDROBIN", nodes, small, 2)!;
    expect(first.nodes).toEqual(["n1", "n2"]);
    expect(place("ROUNDROBIN", nodes, small, 2, first.nextStart)?.nodes).toEqual(["n3", "n1"]);
  });

  it("POWERSAVE prefers nodes already running instances, leaving idle ones idle", () => {
    const mixed = [node("idle", 1024, 2), node("busy", 2048, 4, { mem: 512, cores: 1 })];
    expect(place("POWERSAVE", mixed, small, 3)?.nodes).toEqual(["busy", "busy", "busy"]);
    expect(place("GREEDY", mixed, small, 1)?.nodes).toEqual(["idle"]);
  });

  it("every policy uses awake nodes first, then the first sleeping node that fits, which then counts as awake", () => {
    const sleeping = { ...node("zzz", 2048, 4), asleep: true };
    const awake = node("awake", 1024, 2);
    for (const policy of ["GREEDY", "ROUNDROBIN", "POWERSAVE"] as const) {
      expect(place(policy, [sleeping, awake], small, 2)?.nodes).toEqual(["awake", "awake"]);
      expect(place(policy, [sleeping, awake], small, 4)?.nodes.sort()).toEqual(["awake", "awake", "zzz", "zzz"]);
    }
    expect(place("GREEDY", [sleeping, { ...node("zzz2", 2048, 4), asleep: true }], small, 1)?.nodes).toEqual(["zzz"]);
  });

  it("all or nothing: undefined when the whole request does not fit; disabled nodes are skipped", () => {
    expect(place("GREEDY", nodes, small, 7)).toBeUndefined();
    expect(place("GREEDY", nodes, small, 6)?.nodes).toHaveLength(6);
    const off = [
      { ...node("off", 4096, 8), resource: { ...node("off", 4096, 8).resource, nodeStatus: "disabled" as const } },
      node("on", 1024, 2),
    ];
    expect(place("GREEDY", off, small, 1)?.nodes).toEqual(["on"]);
    expect(place("ROUNDROBIN", [], small, 1)).toBeUndefined();
  });
});
