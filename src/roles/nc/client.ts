import type { CallContext } from "../../rpc/types";

/** What a node reports about its capacity (Eucalyptus ncDescribeResource, reference §5.1). */
export interface NodeResource {
  nodeStatus: "enabled" | "disabled";
  memorySizeMax: number;       // MB
  memorySizeAvailable: number; // MB
  diskSizeMax: number;         // GB
  diskSizeAvailable: number;   // GB
  numberOfCoresMax: number;
  numberOfCoresAvailable: number;
}

/** The CC's view of one node controller (in-process or signed HTTP). */
export interface NodeClient {
  describeResource(input: Record<string, never>, ctx: CallContext): Promise<NodeResource>;
}

export const NODE_METHODS = ["describeResource"] as const satisfies readonly (keyof NodeClient)[];
