/** The cluster controller: its nodes, their capacity, and placing and routing instances. */
import { eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { CallContext } from "../../rpc/types";
import type { Clock } from "../../common/clock";
import {
  IncorrectStateError,
  InsufficientCapacityError,
  NotFoundError,
  UnavailableError,
  UnsupportedError,
} from "../../common/errors";
import type { ClusterClient, ClusterInstance } from "./client";
import { createInstanceOps } from "./instance-ops";
import { clusterAvailability } from "./capacity";
import type { CcDatabase } from "./database";
import { placements } from "./database";
import { place, type Policy } from "./placement";
import type { Lease, NetworkService } from "./networks";
import type { ClusterNode, NodeMonitor } from "./node-monitor";
import type { InstanceNetwork } from "./instance-network";
import type { ManagedNetwork } from "./managed-network";
import type { NetworkMode } from "../../net/view";
import { VNET_MODES } from "../../net/modes";
import { leases } from "./database";
import type { UnknownGuests } from "./unknown-guests";
import type { Drain } from "./drain";
import { placeable } from "../../lifecycle/node-health";

/** Why the instances of a fenced node ended (their StateReason at the CLC). */
export const FENCED_REASON = "its node was fenced by the administrator (euca admin node evacuate --fenced)";
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

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
  unknown: UnknownGuests;
  drain: Drain;
  /** Whether a node shares this host (in this process, or registered at this host's address). */
  isLocalNode: (node: string) => boolean;
  /** The euca version this CC runs (`euca admin status`). */
  version?: string;
  /** The site settings this CC's host runs with other values than the head's (a restart takes them). */
  settingsPending?: () => string[];
  /** The nodes registered from other hosts (roles/cc/node-registry.ts). */
  registry: { add(node: string, url: string): void; remove(node: string): void };
  /** Every mode but ROOTLESS: the cluster's host network, and the bridge an instance's tap joins. */
  managed?: { mode: NetworkMode; network: ManagedNetwork; bridgeOf: (lease: Lease) => string };
}

export function createClusterService(
  o: ClusterServiceDeps,
): ClusterClient & { learnAddresses(ctx: CallContext): Promise<void> } {
  const { db } = o.db;
  let rrStart = 0;

  const placementOf = (instanceId: string) =>
    db.select().from(placements).where(eq(placements.instanceId, instanceId)).get();

  /** The node that runs an instance; a node known down or fenced fails the call at once instead of after a timeout. */
  function nodeOf(instanceId: string): ClusterNode {
    const row = placementOf(instanceId);
    const node = row && o.monitor.node(row.node);
    if (!node) throw new NotFoundError("instance", instanceId);
    const health = o.monitor.health(node.name);
    if (health && health.state !== "up" && health.state !== "suspect") {
      throw new UnavailableError(
        `node ${node.name} is ${health.state} (last heard ${iso(health.lastContact) ?? "never"}); the instance is kept until it answers`,
      );
    }
    return node;
  }

  /** An address given to this launch that an instance placed here still holds: refused before anything starts. */
  function refuseHeldAddresses(requests: ReadonlyArray<{ instanceId: string; publicIp?: string }>): void {
    const wanted = requests.flatMap((r) => (r.publicIp ? [r.publicIp] : []));
    if (!wanted.length) return;
    const held = db.select().from(placements).where(inArray(placements.publicIp, wanted)).all();
    const mine = new Set(requests.map((r) => r.instanceId));
    const clash = held.find((h) => !mine.has(h.instanceId));
    if (clash)
      throw new IncorrectStateError(
        `The address ${clash.publicIp} is still held by ${clash.instanceId} on node ${clash.node}`,
        "address-in-use",
      );
  }

  const ops = createInstanceOps(o, { nodeOf, placementOf });
  const { startOnNodes } = ops;

  return {
    async describeCluster(_input, ctx) {
      const pending = o.settingsPending?.() ?? [];
      return {
        name: o.name,
        host: o.host,
        nodes: (await o.monitor.snapshots(ctx)).length,
        version: o.version,
        ...(pending.length ? { settingsPending: pending } : {}),
      };
    },

    async describeNetwork() {
      if (!o.managed)
        throw new UnsupportedError(
          "This cluster's guests use QEMU's user networking (VNET_MODE ROOTLESS): it has no network to show",
        );
      return { report: o.managed.network.report() };
    },

    async describeResources({ vmTypes }, ctx) {
      // Sleeping nodes count with what they offer once woken.
      const reported = (await o.monitor.snapshots(ctx)).flatMap((n) => (n.resource ? [n.resource] : []));
      return { resources: clusterAvailability(vmTypes, reported) };
    },

    async describeNodes(_input, ctx) {
      const unknown = o.unknown.list();
      const nodes = (await o.monitor.snapshots(ctx)).map((n) => ({
        name: n.name,
        state: n.asleep ? ("asleep" as const) : n.health.state,
        since: iso(n.health.since),
        lastContact: iso(n.health.lastContact),
        resource: n.resource,
        instances: n.instances.filter((i) => i.state !== "Teardown").length,
        unknown: unknown
          .filter((u) => u.node === n.name)
          .map((u) => ({ instanceId: u.instanceId, firstSeen: u.firstSeen.toISOString() })),
        drained: o.drain.isDrained(n.name),
      }));
      return { nodes };
    },

    async runInstances({ accountId, groupName, instances, groups, hold }, ctx) {
      if (instances.length === 0) return { placed: [] };
      const t = instances[0]!.vmType;
      refuseHeldAddresses(instances);
      // Only nodes that answered offer room: nothing goes to a suspect, down, fenced or drained node.
      const candidates = (await o.monitor.snapshots(ctx)).flatMap((n) =>
        n.resource && (n.asleep || placeable(n.health.state)) && !o.drain.isDrained(n.name)
          ? [{ name: n.name, resource: n.resource, asleep: n.asleep }]
          : [],
      );
      const plan = place(
        o.policy,
        candidates,
        { cpus: t.cpus, memoryMb: t.memoryMb, diskGb: t.diskGb },
        instances.length,
        rrStart,
      );
      if (!plan)
        throw new InsufficientCapacityError(
          `Not enough resources available: ${instances.length} x ${t.name} do not fit in cluster ${o.name}`,
        );
      rrStart = plan.nextStart;
      const chosen = new Set(plan.nodes);
      for (const c of candidates) if (c.asleep && chosen.has(c.name)) await o.monitor.wake(c.name, ctx);
      const ids = instances.map((r) => r.instanceId);
      o.networks.sweep(LEASE_GRACE_MS);
      const leases = new Map(o.networks.allocate(accountId, groupName, ids).map((l) => [l.instanceId, l]));
      const placed = instances.map((r, i) => {
        const lease = leases.get(r.instanceId)!;
        const node = plan.nodes[i]!;
        return {
          instanceId: r.instanceId,
          node,
          privateIp: lease.privateIp,
          mac: lease.mac,
          hypervisor: candidates.find((c) => c.name === node)?.resource.hypervisor,
          local: o.isLocalNode(node),
        };
      });
      // The groups' rules as the CLC has them now (instances already here that share a group are brought in line too).
      await o.network.update({ groups }, ctx);
      db.insert(placements)
        .values(
          instances.map((r, i) => ({
            instanceId: r.instanceId,
            node: plan.nodes[i]!,
            createdAt: o.clock.now(),
            groupIds: JSON.stringify(r.groupIds),
            publicIp: r.publicIp ?? null,
          })),
        )
        .onConflictDoNothing()
        .run();
      // Held: the caller decides what becomes of the leases (a stopped instance keeps its address).
      const undo = () => {
        db.delete(placements).where(inArray(placements.instanceId, ids)).run();
        if (hold) o.networks.keep(ids, true);
        else o.networks.release(ids);
      };
      try {
        // Their segments exist on the gateway and the nodes before their taps are put on them.
        await o.managed?.network.sync(ctx);
      } catch (e) {
        undo();
        throw e;
      }
      if (hold) {
        o.networks.keep(ids, false); // a stopped instance starting again: its lease is in use
        for (const name of chosen) o.monitor.invalidate(name);
        return { placed };
      }
      await startOnNodes(instances, ctx, undo);
      return { placed };
    },

    async describeInstances({ instanceIds }, ctx) {
      // Answered from the polled reports; only instances placed here (a node keeps its torn-down records).
      const rows = instanceIds?.length
        ? db.select().from(placements).where(inArray(placements.instanceId, instanceIds)).all()
        : db.select().from(placements).all();
      // The address is the CC's record (in SYSTEM learned from a node's report, after the launch).
      const addressOf = new Map(
        db
          .select({ id: leases.instanceId, ip: leases.privateIp })
          .from(leases)
          .all()
          .map((l) => [l.id, l.ip ?? undefined]),
      );
      const snaps = new Map(
        (await o.monitor.snapshots(ctx)).map((s) => [
          s.name,
          { snap: s, byId: new Map(s.instances.map((i) => [i.instanceId, i])) },
        ]),
      );
      const out: ClusterInstance[] = [];
      for (const row of rows) {
        const at = snaps.get(row.node);
        if (!at) continue; // its node was deregistered: nothing runs it here
        const { snap, byId } = at;
        const ip = addressOf.get(row.instanceId);
        // Mid-migration, whichever node runs it speaks for it (the source reports Teardown the moment it is sent).
        const arriving = row.migratingTo ? snaps.get(row.migratingTo)?.byId.get(row.instanceId) : undefined;
        const reported =
          byId.get(row.instanceId)?.state === "Teardown" && arriving && arriving.state !== "Teardown"
            ? arriving
            : byId.get(row.instanceId);
        const { privateIp: _seen, ...inst } = reported ?? {
          instanceId: row.instanceId,
          state: "Pending" as const,
          launchTime: row.createdAt.toISOString(),
        };
        if (snap.health.state === "fenced")
          out.push({ ...inst, state: "Teardown", reason: FENCED_REASON, node: row.node });
        else if (snap.unreportedSince !== undefined)
          out.push({
            ...inst,
            node: row.node,
            unreportedSince: snap.unreportedSince,
            ...(ip ? { privateIp: ip } : {}),
          });
        else if (reported) out.push({ ...inst, node: row.node, ...(ip ? { privateIp: ip } : {}) });
      }
      return { instances: out };
    },

    startPlaced: ops.startPlaced,
    stopInstances: ops.stopInstances,
    terminateInstances: ops.terminateInstances,

    drainNode: async ({ node }, ctx) => ({ migrated: await o.drain.drain(node, ctx) }),
    undrainNode: async ({ node }) => o.drain.undrain(node),
    addNode: async ({ node, url }, ctx) => {
      o.registry.add(node, url);
      o.log.info({ requestId: ctx.requestId, node, url }, "cc: node joined");
    },
    removeNode: async ({ node }, ctx) => {
      o.registry.remove(node);
      o.log.warn({ requestId: ctx.requestId, node }, "cc: node removed by the administrator");
    },

    async evacuateNode({ node }, ctx) {
      if (!o.monitor.node(node)) throw new NotFoundError("node", node);
      const ids = db
        .select({ id: placements.instanceId })
        .from(placements)
        .where(eq(placements.node, node))
        .all()
        .map((r) => r.id);
      o.monitor.fence(node);
      o.unknown.condemn(ids, node);
      o.log.warn(
        { requestId: ctx.requestId, node, instances: ids },
        "cc: node fenced by the administrator; its instances are given up",
      );
      return { instanceIds: ids };
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
      if (!placementOf(input.instanceId)) return; // no longer placed here: its disks went with it
      const node = nodeOf(input.instanceId);
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
     * Addressed by the site's DHCP (SYSTEM): the addresses nodes saw their guests use are recorded (each instance's first),
     * and the network is brought in line (the address pinned, group member sets filled).
     */
    async learnAddresses(ctx) {
      if (!o.managed || VNET_MODES[o.managed.mode].addressing !== "site") return;
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
