/** The cluster controller: its nodes and their capacity. */
import type { Logger } from "pino";
import type { NodeClient, NodeResource } from "../nc/client";
import type { ClusterClient } from "./client";
import { clusterAvailability } from "./capacity";

export interface ClusterNode {
  name: string;
  client: NodeClient;
}

export function createClusterService(o: { name: string; host: string; nodes: () => readonly ClusterNode[]; log: Logger }): ClusterClient {
  return {
    async describeCluster() {
      return { name: o.name, host: o.host, nodes: o.nodes().length };
    },
    async describeResources({ vmTypes }, ctx) {
      const reports = await Promise.all(
        o.nodes().map(async (n): Promise<NodeResource | undefined> => {
          try {
            return await n.client.describeResource({}, ctx);
          } catch (e) {
            // An unreachable node contributes nothing, as in Eucalyptus; say so in the log.
            o.log.warn({ requestId: ctx.requestId, node: n.name, err: (e as Error).message }, "node did not report resources");
            return undefined;
          }
        }),
      );
      return { resources: clusterAvailability(vmTypes, reports.filter((r): r is NodeResource => r !== undefined)) };
    },
  };
}
