import type { CallContext } from "../../rpc/types";
import type { NodeInstance, RunInstanceRequest } from "../nc/client";

export interface VmTypeSpec {
  name: string;
  cpus: number;
  memoryMb: number;
  diskGb: number;
}

export interface TypeAvailability {
  name: string;
  available: number;
  max: number;
}

export interface ClusterInfo {
  name: string;
  host: string;
  nodes: number;
}

/** The CLC's view of one cluster controller (in-process or signed HTTP). */
export interface ClusterClient {
  describeCluster(input: Record<string, never>, ctx: CallContext): Promise<ClusterInfo>;
  /** How many instances of each type alone fit, now and on an empty cluster (reference §5.4). */
  describeResources(input: { vmTypes: VmTypeSpec[] }, ctx: CallContext): Promise<{ resources: TypeAvailability[] }>;
  /**
   * Leases the instances' addresses in their (first) security group's network, places
   * them and starts them on their nodes: all of them, or none (InsufficientCapacity,
   * and every lease goes back).
   */
  runInstances(input: { accountId: string; groupName: string; instances: ClusterRunRequest[] }, ctx: CallContext): Promise<{ placed: PlacedInstance[] }>;
  describeInstances(input: { instanceIds?: string[] }, ctx: CallContext): Promise<{ instances: Array<NodeInstance & { node: string }> }>;
  terminateInstances(input: { instanceIds: string[] }, ctx: CallContext): Promise<{ instances: NodeInstance[] }>;
  rebootInstances(input: { instanceIds: string[] }, ctx: CallContext): Promise<void>;
  getConsoleOutput(input: { instanceId: string }, ctx: CallContext): Promise<{ output: string }>;
}

/** An instance as the CLC asks for it: everything but its network card, which the cluster plans. */
export type ClusterRunRequest = Omit<RunInstanceRequest, "nic">;

export interface PlacedInstance {
  instanceId: string;
  node: string;
  privateIp: string;
  mac: string;
  /** What runs it (the node's report), as EC2 names it. */
  hypervisor?: string;
}

export const CLUSTER_METHODS = [
  "describeCluster", "describeResources", "runInstances", "describeInstances", "terminateInstances", "rebootInstances", "getConsoleOutput",
] as const satisfies readonly (keyof ClusterClient)[];
