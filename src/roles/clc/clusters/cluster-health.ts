/**
 * A registered cluster as `euca admin cluster list` shows it, asked now: available or not
 * (and why not), its nodes by health, and what its up nodes offer. A cluster that does not
 * answer is only that — unavailable — its instances are not touched (instance-reports.ts).
 */
import type { CallContext } from "../../../rpc/types";
import type { NodeStatus } from "../../cc/client";
import type { RegisteredCluster } from "../compute/zones";

export interface ClusterHealth {
  state: "available" | "unavailable";
  /** Why it is unavailable: the call's error. */
  reason?: string;
  /** Its nodes counted by state, e.g. "2 up, 1 down (1 drained)". */
  nodes?: string;
  /** Free/max cores and memory of its up nodes (the capacity new instances can use). */
  cores?: string;
  memoryMb?: string;
}

const ORDER = ["up", "suspect", "down", "fenced", "asleep"] as const;

export function summarizeNodes(
  nodes: readonly NodeStatus[],
): Required<Pick<ClusterHealth, "nodes" | "cores" | "memoryMb">> {
  const counts = ORDER.map((s) => [s, nodes.filter((n) => n.state === s).length] as const).filter(([, k]) => k > 0);
  const drained = nodes.filter((n) => n.drained).length;
  const offered = nodes.flatMap((n) => (n.state === "up" && n.resource ? [n.resource] : []));
  const sum = (f: (r: (typeof offered)[number]) => number) => offered.reduce((t, r) => t + f(r), 0);
  return {
    nodes: `${counts.map(([s, k]) => `${k} ${s}`).join(", ") || "no nodes"}${drained ? ` (${drained} drained)` : ""}`,
    cores: `${sum((r) => r.numberOfCoresAvailable)}/${sum((r) => r.numberOfCoresMax)}`,
    memoryMb: `${sum((r) => r.memorySizeAvailable)}/${sum((r) => r.memorySizeMax)}`,
  };
}

export async function clusterHealth(c: RegisteredCluster, ctx: CallContext): Promise<ClusterHealth> {
  try {
    const { nodes } = await c.client.describeNodes({}, ctx);
    return { state: "available", ...summarizeNodes(nodes) };
  } catch (e) {
    return { state: "unavailable", reason: (e as Error).message };
  }
}
