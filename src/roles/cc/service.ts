/** The cluster controller: its nodes, their capacity, and placing and routing instances. */
import { eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { CallContext } from "../../rpc/types";
import type { Clock } from "../../common/clock";
import { InsufficientCapacityError, NotFoundError } from "../../common/errors";
import type { NodeInstance } from "../nc/client";
import type { ClusterClient } from "./client";
import { clusterAvailability } from "./capacity";
import type { CcDatabase } from "./database";
import { placements } from "./database";
import { place, type Policy } from "./placement";
import { nicOf, type Lease, type NetworkService } from "./networks";
import type { ClusterNode, NodeMonitor } from "./node-monitor";
import type { InstanceNetwork } from "./instance-network";
import type { ManagedNetwork } from "./managed-network";
import type { NetworkMode } from "../../net/view";
import { leases } from "./database";

/** A lease whose instance was never placed is returned after this long (a launch cut short). */
export const LEASE_GRACE_MS = 10 * 60 * 1000;

export interface ClusterServiceDeps {
  name: string;
  host: string;
  monitor: NodeMonitor;
  log: Logger;
  db: CcDatabase;
  clock: Clock;
  policy: Policy;
  networks: NetworkService;
  network: InstanceNetwork;
  /** Whether a node shares this host (in this process, or registered at this host's address). */
  isLocalNode: (node: string) => boolean;
  /** Every mode but ROOTLESS: the cluster's host network, and the bridge an instance's tap joins. */
  managed?: { mode: NetworkMode; network: ManagedNetwork; bridgeOf: (lease: Lease) => string };
}

export function createClusterService(o: ClusterServiceDeps): ClusterClient & { learnAddresses(ctx: CallContext): Promise<void> } {
  const { db } = o.db;
  let rrStart = 0;

  function nodeOf(instanceId: string): ClusterNode {
    const row = db.select().from(placements).where(eq(placements.instanceId, instanceId)).get();
    const node = row && o.monitor.node(row.node);
    if (!node) throw new NotFoundError("instance", instanceId);
    return node;
  }

  return {
    async describeCluster(_input, ctx) {
      return { name: o.name, host: o.host, nodes: (await o.monitor.snapshots(ctx)).length };
    },

    async describeResources({ vmTypes }, ctx) {
      // Sleeping nodes count with what they offer once woken.
      const reported = (await o.monitor.snapshots(ctx)).flatMap((n) => (n.resource ? [n.resource] : []));
      return { resources: clusterAvailability(vmTypes, reported) };
    },

    async describeNodes(_input, ctx) {
      const nodes = (await o.monitor.snapshots(ctx)).map((n) => ({
        name: n.name, state: n.asleep ? "asleep" as const : n.resource ? "up" as const : "down" as const, resource: n.resource,
        instances: n.instances.filter((i) => i.state !== "Teardown").length,
      }));
      return { nodes };
    },

    async runInstances({ accountId, groupName, instances, groups }, ctx) {
      if (instances.length === 0) return { placed: [] };
      const t = instances[0]!.vmType;
      const candidates = (await o.monitor.snapshots(ctx)).flatMap((n) => (n.resource ? [{ name: n.name, resource: n.resource, asleep: n.asleep }] : []));
      const plan = place(o.policy, candidates, { cpus: t.cpus, memoryMb: t.memoryMb, diskGb: t.diskGb }, instances.length, rrStart);
      if (!plan) throw new InsufficientCapacityError(`Not enough resources available: ${instances.length} x ${t.name} do not fit in cluster ${o.name}`);
      rrStart = plan.nextStart;
      const chosen = new Set(plan.nodes);
      for (const c of candidates) if (c.asleep && chosen.has(c.name)) await o.monitor.wake(c.name, ctx);
      const ids = instances.map((r) => r.instanceId);
      o.networks.sweep(LEASE_GRACE_MS);
      const leases = new Map(o.networks.allocate(accountId, groupName, ids).map((l) => [l.instanceId, l]));
      const placed = instances.map((r, i) => {
        const lease = leases.get(r.instanceId)!;
        const node = plan.nodes[i]!;
        return { instanceId: r.instanceId, node, privateIp: lease.privateIp, mac: lease.mac, hypervisor: candidates.find((c) => c.name === node)?.resource.hypervisor };
      });
      // The groups' rules as the CLC has them now (instances already here that share a group are brought in line too).
      await o.network.update({ groups }, ctx);
      db.insert(placements).values(instances.map((r, i) => ({
        instanceId: r.instanceId, node: plan.nodes[i]!, createdAt: o.clock.now(), groupIds: JSON.stringify(r.groupIds), publicIp: r.publicIp ?? null,
      }))).onConflictDoNothing().run();
      const undo = () => {
        db.delete(placements).where(inArray(placements.instanceId, ids)).run();
        o.networks.release(ids);
      };
      try {
        // Their segments exist on the gateway and the nodes before their taps are put on them.
        await o.managed?.network.sync(ctx);
      } catch (e) {
        undo();
        throw e;
      }
      try {
        // The nodes start theirs in parallel, each with the network rendered for it; one refusal undoes them all.
        const results = await Promise.allSettled(instances.map(({ groupIds: _g, publicIp: _p, ...r }) => nodeOf(r.instanceId).client.runInstance({
          ...r, nic: nicOf(leases.get(r.instanceId)!, o.network.forwardsFor(r.instanceId), o.managed?.bridgeOf(leases.get(r.instanceId)!)),
        }, ctx)));
        const failed = results.find((x): x is PromiseRejectedResult => x.status === "rejected");
        if (failed) {
          const started = instances.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.instanceId);
          await Promise.all(started.map((id) => nodeOf(id).client.terminateInstance({ instanceId: id }, ctx).catch(() => undefined)));
          undo();
          await o.managed?.network.sync(ctx).catch(() => undefined);
          throw failed.reason;
        }
      } finally {
        for (const name of chosen) o.monitor.invalidate(name);
      }
      return { placed };
    },

    async describeInstances({ instanceIds }, ctx) {
      // Answered from the polled reports; only instances placed here (a node keeps its torn-down records).
      const rows = instanceIds?.length
        ? db.select().from(placements).where(inArray(placements.instanceId, instanceIds)).all()
        : db.select().from(placements).all();
      const wanted = new Set(rows.map((r) => r.instanceId));
      // The address is the CC's record (in SYSTEM learned from a node's report, after the launch).
      const addressOf = new Map(db.select({ id: leases.instanceId, ip: leases.privateIp }).from(leases).all().map((l) => [l.id, l.ip ?? undefined]));
      const out: Array<NodeInstance & { node: string }> = [];
      for (const snap of await o.monitor.snapshots(ctx)) {
        for (const { privateIp: _seen, ...inst } of snap.instances) {
          if (!wanted.has(inst.instanceId)) continue;
          const ip = addressOf.get(inst.instanceId);
          out.push({ ...inst, node: snap.name, ...(ip ? { privateIp: ip } : {}) });
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
        o.monitor.invalidate(node.name);
        if (r) out.push(r);
        db.delete(placements).where(eq(placements.instanceId, id)).run();
      }
      o.networks.release(instanceIds);
      await o.managed?.network.sync(ctx);
      return { instances: out };
    },

    async rebootInstances({ instanceIds }, ctx) {
      for (const id of instanceIds) {
        const node = nodeOf(id);
        await node.client.rebootInstance({ instanceId: id }, ctx);
        o.monitor.invalidate(node.name);
      }
    },

    async attachVolume(input, ctx) {
      const node = nodeOf(input.instanceId);
      await node.client.attachVolume(input, ctx);
      o.monitor.invalidate(node.name); // the next report shows it
    },

    async detachVolume(input, ctx) {
      let node: ClusterNode;
      try {
        node = nodeOf(input.instanceId);
      } catch {
        return; // no longer placed here: its disks went with it
      }
      await node.client.detachVolume(input, ctx);
      o.monitor.invalidate(node.name);
    },

    volumeHostOf: async ({ instanceId }) => ({ local: o.isLocalNode(nodeOf(instanceId).name) }),
    freezeVolume: (input, ctx) => nodeOf(input.instanceId).client.freezeVolume(input, ctx),
    thawVolume: (input, ctx) => nodeOf(input.instanceId).client.thawVolume(input, ctx),

    async getConsoleOutput({ instanceId }, ctx) {
      return nodeOf(instanceId).client.getConsoleOutput({ instanceId }, ctx);
    },

    /**
     * SYSTEM: the addresses nodes saw their guests use are recorded (each instance's first),
     * and the network is brought in line (the address pinned, group member sets filled).
     */
    async learnAddresses(ctx) {
      if (o.managed?.mode !== "SYSTEM") return;
      let learned = false;
      for (const snap of await o.monitor.snapshots(ctx)) {
        for (const i of snap.instances) if (i.privateIp && o.networks.learn(i.instanceId, i.privateIp)) learned = true;
      }
      if (learned) await o.managed.network.sync(ctx);
    },

    async updateNetwork(input, ctx) {
      await o.network.update(input, ctx);
      await o.managed?.network.sync(ctx);
    },
  };
}
