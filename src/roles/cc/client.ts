import type { CallContext } from "../../rpc/types";

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
}

export const CLUSTER_METHODS = ["describeCluster", "describeResources"] as const satisfies readonly (keyof ClusterClient)[];
