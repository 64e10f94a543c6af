/** What a node offers: the hypervisor's host, within the probe's view and the admin's caps, less what its instances hold. */
import type { Hypervisor } from "../../hypervisor/types";
import type { HostProbe } from "./host-probe";
import type { NodeResource, RunInstanceRequest } from "./client";

export interface NodeLimits {
  /** Memory kept for the host itself (dom0 / the OS), MB. */
  reservedMemoryMb: number;
  maxMemoryMb?: number;
  maxCores?: number;
  maxDiskGb?: number;
}

const cap = (v: number, max?: number) => Math.max(0, max === undefined ? v : Math.min(v, max));

function hypervisorLabel(c: { name: string; acceleration?: string }): string {
  return c.name === "qemu" ? (c.acceleration === "kvm" ? "kvm" : "qemu") : c.name;
}

export async function nodeResource(
  d: { hypervisor: Hypervisor; probe: HostProbe; limits: NodeLimits; instancesDir: string },
  active: readonly RunInstanceRequest[],
): Promise<NodeResource> {
  const host = await d.hypervisor.describeHost();
  const memory = cap(Math.min(host.memoryMb, d.probe.memoryMb() - d.limits.reservedMemoryMb), d.limits.maxMemoryMb);
  const cores = cap(Math.min(host.cores, d.probe.cores()), d.limits.maxCores);
  const disk = cap(d.probe.diskGb(d.instancesDir), d.limits.maxDiskGb);
  const used = active.reduce(
    (u, r) => ({ mem: u.mem + r.vmType.memoryMb, cores: u.cores + r.vmType.cpus, disk: u.disk + r.vmType.diskGb }),
    { mem: 0, cores: 0, disk: 0 },
  );
  return {
    nodeStatus: "enabled",
    memorySizeMax: memory,
    memorySizeAvailable: Math.max(0, memory - used.mem),
    diskSizeMax: disk,
    diskSizeAvailable: Math.max(0, disk - used.disk),
    numberOfCoresMax: cores,
    numberOfCoresAvailable: Math.max(0, cores - used.cores),
    powerControl: d.hypervisor.capabilities().powerControl,
    hypervisor: hypervisorLabel(d.hypervisor.capabilities()),
  };
}
