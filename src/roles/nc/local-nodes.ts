/**
 * The node controllers of this process: the machine's own node, or — with the fake
 * hypervisor and --fake-nodes N — a simulated rack of N nodes behind the CC in the
 * same process (scale simulation: bench/scale runs 10 clusters of 100). Each node has
 * its own database, image cache, instance directory and fake host, as separate machines
 * would. compose/nc.ts assembles them from the places and sizes given here.
 */
import { join } from "node:path";
import type { DataDirLayout } from "../../common/data-dir";
import { ConfigError } from "../../config/values";
import type { HostProbe } from "./host-probe";
import type { NodeNetwork } from "./node-network";
import type { createNodeService, NodeLimits } from "./service";

export type NodeService = ReturnType<typeof createNodeService>;

export interface LocalNode {
  name: string;
  service: NodeService;
  /** Its part of the cluster's network (every mode but ROOTLESS). */
  network?: NodeNetwork;
}

/** Where one node of this process keeps its state. */
export interface NodeSlot {
  name: string;
  /** Its directory (image cache, driver state, network files). */
  root: string;
  instancesDir: string;
  database: string;
  simulated: boolean;
}

/** The settings that say how many nodes run here and how big each is. */
export interface NodeSizing {
  hypervisor: string;
  fakeNodes: number;
  /** Caps on what a node offers (0 = none); with the fake driver, the simulated node's size. */
  maxMem: number;
  maxCores: number;
  maxDisk: number;
}

/** Memory the host keeps for itself (dom0 / the OS). */
export const RESERVED_MB = 256;

/** This process's nodes: "local", or node-001… when simulating (with the CC in the same process). */
export function localNodeSlots(
  s: NodeSizing & { dataDir: string },
  layout: DataDirLayout,
  withCc: boolean,
): NodeSlot[] {
  if (s.fakeNodes > 1 && s.hypervisor !== "fake")
    throw new ConfigError(`--fake-nodes ${s.fakeNodes} simulates nodes and needs --hypervisor fake`);
  if (s.fakeNodes > 1 && !withCc)
    throw new ConfigError(
      "--fake-nodes above 1 needs the cc role in the same process (the simulated nodes are its in-process nodes)",
    );
  if (s.fakeNodes <= 1)
    return [
      {
        name: "local",
        root: join(s.dataDir, "nc"),
        instancesDir: layout.instancesDir,
        database: layout.database("nc"),
        simulated: false,
      },
    ];
  return Array.from({ length: s.fakeNodes }, (_, i) => {
    const name = `node-${String(i + 1).padStart(3, "0")}`;
    const root = join(s.dataDir, "nc", "sim", name);
    return { name, root, instancesDir: join(root, "instances"), database: join(root, "nc.db"), simulated: true };
  });
}

export function nodeLimits(s: NodeSizing): NodeLimits {
  return {
    reservedMemoryMb: RESERVED_MB,
    maxMemoryMb: s.maxMem || undefined,
    maxCores: s.maxCores || undefined,
    maxDiskGb: s.maxDisk || undefined,
  };
}

/** A fake host is what MAX_MEM / MAX_CORES / MAX_DISK say (a simulated machine), else this machine. */
export function fakeHostOf(s: NodeSizing, probe: HostProbe, instancesDir: string) {
  return {
    memoryMb: s.maxMem || probe.memoryMb() - RESERVED_MB,
    cores: s.maxCores || probe.cores(),
    diskGb: s.maxDisk || probe.diskGb(instancesDir),
  };
}

/** What the fake driver's node reports as its host: the fake host it was given. */
export const fakeHostProbe = (host: ReturnType<typeof fakeHostOf>): HostProbe => ({
  memoryMb: () => host.memoryMb + RESERVED_MB,
  cores: () => host.cores,
  diskGb: () => host.diskGb,
});
