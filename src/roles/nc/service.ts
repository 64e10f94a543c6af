/**
 * The node controller. In this release it reports the node's capacity; running
 * instances through a hypervisor arrives with the compute work, and capacity claimed
 * by instances is subtracted then.
 */
import type { HostProbe } from "./host-probe";
import type { NodeClient, NodeResource } from "./client";

export interface NodeLimits {
  /** Memory kept for the host itself (dom0 / the OS), MB. */
  reservedMemoryMb: number;
  maxMemoryMb?: number;
  maxCores?: number;
  maxDiskGb?: number;
}

export function createNodeService(o: { probe: HostProbe; instancesDir: string; limits: NodeLimits }): NodeClient {
  const cap = (v: number, max?: number) => Math.max(0, max === undefined ? v : Math.min(v, max));
  return {
    async describeResource(): Promise<NodeResource> {
      const memory = cap(o.probe.memoryMb() - o.limits.reservedMemoryMb, o.limits.maxMemoryMb);
      const cores = cap(o.probe.cores(), o.limits.maxCores);
      const disk = cap(o.probe.diskGb(o.instancesDir), o.limits.maxDiskGb);
      return {
        nodeStatus: "enabled",
        memorySizeMax: memory,
        memorySizeAvailable: memory,
        diskSizeMax: disk,
        diskSizeAvailable: disk,
        numberOfCoresMax: cores,
        numberOfCoresAvailable: cores,
      };
    },
  };
}
