/**
 * Choosing a node for each instance (Eucalyptus' SCHEDPOLICY, reference §5.6). Pure:
 * given the nodes' free resources and the policy's state, returns the node names.
 * - GREEDY: the first node (in registration order) that fits.
 * - ROUNDROBIN: the first node that fits, scanning from the one after the last used.
 * - POWERSAVE: like GREEDY, but nodes already running instances are preferred, so idle
 *   nodes stay idle (and can be powered down).
 * Under every policy awake nodes come first; a sleeping node is used only when the awake
 * ones cannot take the instance (the caller then wakes it), as in Eucalyptus' handlers.c.
 */
import type { NodeResource } from "../nc/client";

import type { Policy } from "../../config/settings";

export { POLICIES, type Policy } from "../../config/settings";

export interface Candidate {
  name: string;
  /** For a sleeping node: what it has when woken (everything free). */
  resource: NodeResource;
  asleep?: boolean;
}

export interface Need {
  cpus: number;
  memoryMb: number;
  diskGb: number;
}

function fits(r: NodeResource, n: Need): boolean {
  return (
    r.nodeStatus === "enabled" &&
    r.memorySizeAvailable >= n.memoryMb &&
    r.numberOfCoresAvailable >= n.cpus &&
    r.diskSizeAvailable >= n.diskGb
  );
}

function claim(r: NodeResource, n: Need): NodeResource {
  return {
    ...r,
    memorySizeAvailable: r.memorySizeAvailable - n.memoryMb,
    numberOfCoresAvailable: r.numberOfCoresAvailable - n.cpus,
    diskSizeAvailable: r.diskSizeAvailable - n.diskGb,
  };
}

const busy = (r: NodeResource) =>
  r.memorySizeAvailable < r.memorySizeMax || r.numberOfCoresAvailable < r.numberOfCoresMax;

/**
 * Places `count` instances of one type. Returns the node per instance, or undefined
 * when they do not all fit (launches are all or nothing), and the next round-robin start.
 */
export function place(
  policy: Policy,
  nodes: readonly Candidate[],
  need: Need,
  count: number,
  rrStart = 0,
): { nodes: string[]; nextStart: number } | undefined {
  const free = nodes.map((c) => ({ ...c }));
  const chosen: string[] = [];
  let start = nodes.length ? rrStart % nodes.length : 0;
  for (let i = 0; i < count; i++) {
    let order: number[] = free.map((_, k) => k);
    if (policy === "ROUNDROBIN") order = order.map((k) => (k + start) % free.length);
    if (policy === "POWERSAVE")
      order = [...order.filter((k) => busy(free[k]!.resource)), ...order.filter((k) => !busy(free[k]!.resource))];
    order = [...order.filter((k) => !free[k]!.asleep), ...free.map((_, k) => k).filter((k) => free[k]!.asleep)];
    const k = order.find((j) => fits(free[j]!.resource, need));
    if (k === undefined) return undefined;
    free[k] = { ...free[k]!, resource: claim(free[k]!.resource, need), asleep: false }; // it will be woken
    chosen.push(free[k]!.name);
    start = k + 1;
  }
  return { nodes: chosen, nextStart: start };
}
