import type { NodeResource } from "../nc/client";
import type { TypeAvailability, VmTypeSpec } from "./client";

/** How many instances of `t` fit into the given memory, disk and cores (Eucalyptus' repeated subtraction). */
export function fits(t: VmTypeSpec, memoryMb: number, diskGb: number, cores: number): number {
  if (t.memoryMb <= 0 || t.diskGb <= 0 || t.cpus <= 0) return 0;
  return Math.max(
    0,
    Math.min(Math.floor(memoryMb / t.memoryMb), Math.floor(diskGb / t.diskGb), Math.floor(cores / t.cpus)),
  );
}

/** Sums, over enabled nodes, how many of each type alone fit now (available) and when empty (max). */
export function clusterAvailability(types: readonly VmTypeSpec[], nodes: readonly NodeResource[]): TypeAvailability[] {
  return types.map((t) => {
    let available = 0;
    let max = 0;
    for (const n of nodes) {
      if (n.nodeStatus !== "enabled") continue;
      available += fits(t, n.memorySizeAvailable, n.diskSizeAvailable, n.numberOfCoresAvailable);
      max += fits(t, n.memorySizeMax, n.diskSizeMax, n.numberOfCoresMax);
    }
    return { name: t.name, available, max };
  });
}
