import type { CallContext } from "../../rpc/types";
import type { NodeInstance, RunInstanceRequest } from "../nc/client";
import type { Lease } from "./networks";

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
  /** Places and starts instances of one type: all of them, or none (InsufficientCapacity). */
  runInstances(input: { instances: RunInstanceRequest[] }, ctx: CallContext): Promise<{ placed: Array<{ instanceId: string; node: string }> }>;
  describeInstances(input: { instanceIds?: string[] }, ctx: CallContext): Promise<{ instances: Array<NodeInstance & { node: string }> }>;
  terminateInstances(input: { instanceIds: string[] }, ctx: CallContext): Promise<{ instances: NodeInstance[] }>;
  rebootInstances(input: { instanceIds: string[] }, ctx: CallContext): Promise<void>;
  getConsoleOutput(input: { instanceId: string }, ctx: CallContext): Promise<{ output: string }>;
  /** Private addresses and MACs for new instances in their (first) security group's network. */
  allocateAddresses(input: { accountId: string; groupName: string; instanceIds: string[] }, ctx: CallContext): Promise<{ leases: Lease[] }>;
  releaseAddresses(input: { instanceIds: string[] }, ctx: CallContext): Promise<void>;
}

export const CLUSTER_METHODS = [
  "describeCluster", "describeResources", "runInstances", "describeInstances", "terminateInstances", "rebootInstances", "getConsoleOutput",
  "allocateAddresses", "releaseAddresses",
] as const satisfies readonly (keyof ClusterClient)[];
