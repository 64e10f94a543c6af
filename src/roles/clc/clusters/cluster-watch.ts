/**
 * The head's view of its remote clusters for its heartbeat: each asked every few seconds
 * (its nodes by health), so `GET /services/Heartbeat` on the head says which remote
 * components do not answer or have nodes down — while the head itself stays ready.
 */
import type { RegisteredCluster } from "../compute/zones";
import { clusterHealth } from "./cluster-health";

export function createClusterWatch(clusters: () => RegisteredCluster[]) {
  let lines: string[] = [];
  return {
    /** `cc:zone=available (2 up)` / `cc:zone=unavailable` lines, as last asked. */
    lines: () => lines,
    async round(): Promise<void> {
      const rows = await Promise.all(
        clusters().map(async (c) => {
          const h = await clusterHealth(c, { requestId: `watch-${Date.now()}` });
          return `cc:${c.name}=${h.state}${h.nodes ? ` (${h.nodes})` : ""}`;
        }),
      );
      lines = rows.sort();
    },
  };
}
