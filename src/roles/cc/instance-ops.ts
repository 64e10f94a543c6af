/**
 * What the cluster does to placed instances on their nodes: start them (all or none),
 * stop EBS-backed ones (their leases kept), terminate (placements and leases let go). A
 * node that does not answer leaves the instance as it was, named in `unfinished`.
 */
import { eq, inArray } from "drizzle-orm";
import type { CallContext } from "../../rpc/types";
import { NotFoundError } from "../../common/errors";
import type { NodeInstance } from "../nc/client";
import type { ClusterRunRequest } from "./client";
import { placements } from "./database";
import { nicOf } from "./networks";
import type { ClusterNode } from "./node-monitor";
import type { NodeMonitor } from "./node-monitor";
import type { Lease, NetworkService } from "./networks";
import type { InstanceNetwork } from "./instance-network";
import type { ManagedNetwork } from "./managed-network";
import type { CcDatabase } from "./database";
import type { Logger } from "pino";

/** What of the cluster service's parts these need (its deps, as roles/cc/service.ts has them). */
interface InstanceOpsDeps {
  db: CcDatabase;
  log: Logger;
  monitor: NodeMonitor;
  networks: NetworkService;
  network: InstanceNetwork;
  managed?: { network: ManagedNetwork; bridgeOf: (lease: Lease) => string };
}

export function createInstanceOps(
  o: InstanceOpsDeps,
  at: { nodeOf: (id: string) => ClusterNode; placementOf: (id: string) => { node: string } | undefined },
) {
  const { db } = o.db;
  const { nodeOf, placementOf } = at;

  /**
   * The nodes start the placed instances in parallel, each with the network rendered for
   * it; one refusal stops those started and `undo`es the placements.
   */
  async function startOnNodes(instances: readonly ClusterRunRequest[], ctx: CallContext, undo: () => void) {
    const nodes = new Set(instances.map((r) => placementOf(r.instanceId)?.node));
    try {
      const results = await Promise.allSettled(
        instances.map(({ groupIds: _g, publicIp: _p, ...r }) => {
          const lease = o.networks.leaseOf(r.instanceId);
          if (!lease) throw new NotFoundError("instance", r.instanceId);
          return nodeOf(r.instanceId).client.runInstance(
            { ...r, nic: nicOf(lease, o.network.forwardsFor(r.instanceId), o.managed?.bridgeOf(lease)) },
            ctx,
          );
        }),
      );
      const failed = results.find((x): x is PromiseRejectedResult => x.status === "rejected");
      if (failed) {
        const started = instances.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.instanceId);
        // A guest whose node went silent meanwhile is left to the unknown-guest review once its placement goes.
        await Promise.all(
          started.map((id) =>
            Promise.resolve()
              .then(() => nodeOf(id).client.terminateInstance({ instanceId: id }, ctx))
              .catch(() => undefined),
          ),
        );
        undo();
        await o.managed?.network.sync(ctx).catch(() => undefined);
        throw failed.reason;
      }
    } finally {
      for (const name of nodes) if (name) o.monitor.invalidate(name);
    }
  }

  async function startPlaced({ instances }: { instances: ClusterRunRequest[] }, ctx: CallContext): Promise<void> {
    const ids = instances.map((r) => r.instanceId);
    for (const id of ids) if (!placementOf(id)) throw new NotFoundError("instance", id);
    // Undone, the instances are as stopped ones: no placement, their leases kept for the caller to decide.
    await startOnNodes(instances, ctx, () => {
      db.delete(placements).where(inArray(placements.instanceId, ids)).run();
      o.networks.keep(ids, true);
    });
  }

  async function stopInstances(
    { instanceIds, force }: { instanceIds: string[]; force?: boolean },
    ctx: CallContext,
  ): Promise<{ unfinished: Array<{ instanceId: string; reason: string }> }> {
    const unfinished: Array<{ instanceId: string; reason: string }> = [];
    const done: string[] = [];
    for (const id of instanceIds) {
      const row = placementOf(id);
      if (row && o.monitor.node(row.node) && o.monitor.health(row.node)?.state !== "fenced") {
        try {
          const node = nodeOf(id);
          await node.client.stopInstance({ instanceId: id, force }, ctx);
          o.monitor.invalidate(node.name);
        } catch (e) {
          unfinished.push({ instanceId: id, reason: (e as Error).message });
          o.log.warn(
            { requestId: ctx.requestId, instanceId: id, node: row.node, err: (e as Error).message },
            "cc: stop not carried out yet; kept",
          );
          continue;
        }
      }
      if (row) db.delete(placements).where(eq(placements.instanceId, id)).run();
      done.push(id);
    }
    o.networks.keep(done, true);
    if (done.length) await o.managed?.network.sync(ctx);
    return { unfinished };
  }

  async function terminateInstances(
    { instanceIds }: { instanceIds: string[] },
    ctx: CallContext,
  ): Promise<{ instances: NodeInstance[]; unfinished: Array<{ instanceId: string; reason: string }> }> {
    const out: NodeInstance[] = [];
    const done: string[] = [];
    const unfinished: Array<{ instanceId: string; reason: string }> = [];
    for (const id of instanceIds) {
      const row = placementOf(id);
      // Never placed here, already forgotten, or on a node that is gone (deregistered, fenced): nothing runs it.
      if (!row || !o.monitor.node(row.node) || o.monitor.health(row.node)?.state === "fenced") {
        if (row) db.delete(placements).where(eq(placements.instanceId, id)).run();
        done.push(id);
        continue;
      }
      try {
        const node = nodeOf(id);
        const r = await node.client.terminateInstance({ instanceId: id }, ctx);
        o.monitor.invalidate(node.name);
        if (r) out.push(r);
        db.delete(placements).where(eq(placements.instanceId, id)).run();
        done.push(id);
      } catch (e) {
        // Its node is silent: the placement and its addresses stay until the node is heard and the guest is gone.
        unfinished.push({ instanceId: id, reason: (e as Error).message });
        o.log.warn(
          { requestId: ctx.requestId, instanceId: id, node: row.node, err: (e as Error).message },
          "cc: terminate not carried out yet; kept",
        );
      }
    }
    o.networks.release(done);
    if (done.length) await o.managed?.network.sync(ctx);
    return { instances: out, unfinished };
  }

  return { startOnNodes, startPlaced, stopInstances, terminateInstances };
}
