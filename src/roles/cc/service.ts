/** The cluster controller: its nodes, their capacity, and placing and routing instances. */
import { eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { InsufficientCapacityError, NotFoundError } from "../../common/errors";
import type { CallContext } from "../../rpc/types";
import type { NodeClient, NodeInstance, NodeResource } from "../nc/client";
import type { ClusterClient } from "./client";
import { clusterAvailability } from "./capacity";
import type { CcDatabase } from "./database";
import { placements } from "./database";
import { place, type Policy } from "./placement";
import type { NetworkService } from "./networks";

/** A lease whose instance was never placed is returned after this long (a launch cut short). */
export const LEASE_GRACE_MS = 10 * 60 * 1000;

export interface ClusterNode {
  name: string;
  client: NodeClient;
}

export interface ClusterServiceDeps {
  name: string;
  host: string;
  nodes: () => readonly ClusterNode[];
  log: Logger;
  db: CcDatabase;
  clock: Clock;
  policy: Policy;
  networks: NetworkService;
}

export function createClusterService(o: ClusterServiceDeps): ClusterClient {
  const { db } = o.db;
  let rrStart = 0;

  async function resources(ctx: CallContext): Promise<Array<{ node: ClusterNode; resource: NodeResource }>> {
    const reports = await Promise.all(o.nodes().map(async (node) => {
      try {
        return { node, resource: await node.client.describeResource({}, ctx) };
      } catch (e) {
        // An unreachable node contributes nothing, as in Eucalyptus; say so in the log.
        o.log.warn({ requestId: ctx.requestId, node: node.name, err: (e as Error).message }, "node did not report resources");
        return undefined;
      }
    }));
    return reports.filter((r): r is { node: ClusterNode; resource: NodeResource } => r !== undefined);
  }

  function nodeOf(instanceId: string): ClusterNode {
    const row = db.select().from(placements).where(eq(placements.instanceId, instanceId)).get();
    const node = row && o.nodes().find((n) => n.name === row.node);
    if (!node) throw new NotFoundError("instance", instanceId);
    return node;
  }

  return {
    async describeCluster() {
      return { name: o.name, host: o.host, nodes: o.nodes().length };
    },

    async describeResources({ vmTypes }, ctx) {
      return { resources: clusterAvailability(vmTypes, (await resources(ctx)).map((r) => r.resource)) };
    },

    async runInstances({ instances }, ctx) {
      if (instances.length === 0) return { placed: [] };
      const t = instances[0]!.vmType;
      const nodes = await resources(ctx);
      const plan = place(o.policy, nodes.map((n) => ({ name: n.node.name, resource: n.resource })), { cpus: t.cpus, memoryMb: t.memoryMb, diskGb: t.diskGb }, instances.length, rrStart);
      if (!plan) throw new InsufficientCapacityError(`Not enough resources available: ${instances.length} x ${t.name} do not fit in cluster ${o.name}`);
      rrStart = plan.nextStart;
      const placed = instances.map((r, i) => ({ instanceId: r.instanceId, node: plan.nodes[i]! }));
      db.insert(placements).values(placed.map((p) => ({ instanceId: p.instanceId, node: p.node, createdAt: o.clock.now() }))).onConflictDoNothing().run();
      const started: string[] = [];
      try {
        for (const [i, r] of instances.entries()) {
          await nodes.find((n) => n.node.name === placed[i]!.node)!.node.client.runInstance(r, ctx);
          started.push(r.instanceId);
        }
      } catch (e) {
        // All or nothing: stop what did start and forget the placements.
        for (const id of started) await nodeOf(id).client.terminateInstance({ instanceId: id }, ctx).catch(() => undefined);
        db.delete(placements).where(inArray(placements.instanceId, instances.map((r) => r.instanceId))).run();
        throw e;
      }
      return { placed };
    },

    async describeInstances({ instanceIds }, ctx) {
      const rows = instanceIds?.length
        ? db.select().from(placements).where(inArray(placements.instanceId, instanceIds)).all()
        : db.select().from(placements).all();
      const byNode = new Map<string, string[]>();
      for (const r of rows) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r.instanceId]);
      const out: Array<NodeInstance & { node: string }> = [];
      for (const [name, ids] of byNode) {
        const node = o.nodes().find((n) => n.name === name);
        if (!node) continue;
        try {
          for (const inst of (await node.client.describeInstances({ instanceIds: ids }, ctx)).instances) out.push({ ...inst, node: name });
        } catch (e) {
          o.log.warn({ requestId: ctx.requestId, node: name, err: (e as Error).message }, "node did not report instances");
        }
      }
      return { instances: out };
    },

    async terminateInstances({ instanceIds }, ctx) {
      const out: NodeInstance[] = [];
      for (const id of instanceIds) {
        let node: ClusterNode;
        try {
          node = nodeOf(id);
        } catch {
          continue; // never placed here, or already forgotten: nothing to do
        }
        const r = await node.client.terminateInstance({ instanceId: id }, ctx);
        if (r) out.push(r);
        db.delete(placements).where(eq(placements.instanceId, id)).run();
      }
      o.networks.release(instanceIds);
      return { instances: out };
    },

    async rebootInstances({ instanceIds }, ctx) {
      for (const id of instanceIds) await nodeOf(id).client.rebootInstance({ instanceId: id }, ctx);
    },

    async getConsoleOutput({ instanceId }, ctx) {
      return nodeOf(instanceId).client.getConsoleOutput({ instanceId }, ctx);
    },

    async allocateAddresses({ accountId, groupName, instanceIds }) {
      o.networks.sweep(LEASE_GRACE_MS);
      return { leases: o.networks.allocate(accountId, groupName, instanceIds) };
    },

    async releaseAddresses({ instanceIds }) {
      o.networks.release(instanceIds);
    },
  };
}
