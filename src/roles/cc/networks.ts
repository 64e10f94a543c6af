/**
 * Private addressing per security group, as Eucalyptus' MANAGED mode planned it: the
 * cluster's subnet (VNET_SUBNET) is cut into networks of VNET_ADDRSPERNET addresses,
 * one per (account, group), each with its VLAN tag; in a network, .0 is the network,
 * .1 the gateway (the CC), the last the broadcast, and instances take the rest. MACs
 * are d0:0d + the instance id (instId2mac). This is the plan as data; the networking
 * work turns it into bridges, VLANs and rules.
 */
import { and, eq, inArray, isNull, lt, notInArray } from "drizzle-orm";
import type { NicSpec, PortForward } from "../../hypervisor/types";
import type { NetworkPlan } from "../../net/view";
import { VNET_MODES } from "../../net/modes";
import type { Clock } from "../../common/clock";
import { InsufficientCapacityError, InvalidParameterError } from "../../common/errors";
import type { CcDatabase } from "./database";
import { leases, networks, placements } from "./database";

export type { NetworkPlan } from "../../net/view";

export interface Lease {
  instanceId: string;
  /** "" while unknown (SYSTEM, until the node has seen the guest's address). */
  privateIp: string;
  mac: string;
  network: { index: number; vlan: number; cidr: string; gateway: string };
}

/**
 * The network card a leased instance gets: with a host network a tap on `bridge` (its
 * segment's, or the site's LAN bridge); otherwise user-mode (QEMU's rootless networking,
 * with the ports its groups open forwarded from its addresses, or xl's default bridge for
 * Xen guests).
 */
export function nicOf(lease: Lease, forwards: PortForward[], bridge?: string): NicSpec {
  if (bridge) return { mode: "bridge", mac: lease.mac, ip: lease.privateIp, bridge };
  return { mode: "user", mac: lease.mac, ip: lease.privateIp, forwards };
}

/** d0:0d + the instance id's hex digits (Eucalyptus' instId2mac). */
/** The placed instance a guest's private address belongs to (the CC answers its metadata by it). */
export function instanceAtAddress({ db }: CcDatabase, ip: string): string | undefined {
  return db
    .select({ id: leases.instanceId })
    .from(leases)
    .innerJoin(placements, eq(placements.instanceId, leases.instanceId))
    .where(eq(leases.privateIp, ip))
    .get()?.id;
}

export function macOf(instanceId: string): string {
  const hex = instanceId.slice(2).padStart(8, "0").slice(-8).toLowerCase();
  return `d0:0d:${hex.match(/../g)!.join(":")}`;
}

const ip = (plan: NetworkPlan, offset: number) => `${plan.subnet[0]}.${plan.subnet[1]}.${offset >> 8}.${offset & 255}`;

export function networkOf(plan: NetworkPlan, index: number): Lease["network"] {
  const base = index * plan.addrsPerNet;
  const prefix = 32 - Math.log2(plan.addrsPerNet);
  return { index, vlan: index + 10, cidr: `${ip(plan, base)}/${prefix}`, gateway: ip(plan, base + 1) };
}

export function createNetworkService(o: { db: CcDatabase; clock: Clock; plan: NetworkPlan }) {
  const { db, sqlite } = o.db;
  const { plan } = o;
  if (!Number.isInteger(Math.log2(plan.addrsPerNet)) || plan.addrsPerNet < 8 || plan.addrsPerNet > 65536) {
    throw new InvalidParameterError("VNET_ADDRSPERNET", "VNET_ADDRSPERNET must be a power of two from 8 to 65536");
  }
  const networkCount = 65536 / plan.addrsPerNet;

  function netIndexFor(accountId: string, groupName: string): number {
    const existing = db
      .select()
      .from(networks)
      .where(and(eq(networks.accountId, accountId), eq(networks.groupName, groupName)))
      .get();
    if (existing) return existing.netIndex;
    const used = new Set(
      db
        .select({ i: networks.netIndex })
        .from(networks)
        .all()
        .map((r) => r.i),
    );
    // Network 0 holds the CC's own addresses; groups start at 1.
    for (let i = 1; i < networkCount; i++) {
      if (!used.has(i)) {
        db.insert(networks).values({ accountId, groupName, netIndex: i, createdAt: o.clock.now() }).run();
        return i;
      }
    }
    throw new InsufficientCapacityError("Not enough resources available: vlan tags");
  }

  const toLease = (r: typeof leases.$inferSelect): Lease => ({
    instanceId: r.instanceId,
    privateIp: r.privateIp ?? "",
    mac: r.mac,
    network: networkOf(plan, r.netIndex),
  });

  /** SYSTEM: a MAC each; STATIC: a free VNET_MACMAP pair each. */
  function allocateOnLan(lan: NonNullable<NetworkPlan["lan"]>, instanceIds: readonly string[]): Lease[] {
    const held = db.select({ ip: leases.privateIp, mac: leases.mac }).from(leases).all();
    const taken = new Set(held.flatMap((r) => [r.ip, r.mac]));
    return instanceIds.map((instanceId) => {
      const prior = db.select().from(leases).where(eq(leases.instanceId, instanceId)).get();
      if (prior) return toLease(prior);
      let row = {
        instanceId,
        netIndex: 0,
        privateIp: null as string | null,
        mac: macOf(instanceId),
        createdAt: o.clock.now(),
        keptSince: null as Date | null,
      };
      if (VNET_MODES[lan.mode].addressing === "macmap") {
        const pair = lan.macMap.find((p) => !taken.has(p.ip) && !taken.has(p.mac));
        if (!pair)
          throw new InsufficientCapacityError(
            `Not enough resources available: all ${lan.macMap.length} addresses of VNET_MACMAP are in use`,
          );
        taken.add(pair.ip).add(pair.mac);
        row = { ...row, privateIp: pair.ip, mac: pair.mac };
      }
      db.insert(leases).values(row).run();
      return toLease(row);
    });
  }

  return {
    /** Addresses for new instances of one group; idempotent per instance id. */
    allocate(accountId: string, groupName: string, instanceIds: readonly string[]): Lease[] {
      return sqlite
        .transaction(() => {
          if (plan.lan) return allocateOnLan(plan.lan, instanceIds);
          const index = netIndexFor(accountId, groupName);
          const base = index * plan.addrsPerNet;
          const taken = new Set(
            db
              .select({ ip: leases.privateIp })
              .from(leases)
              .where(eq(leases.netIndex, index))
              .all()
              .map((r) => r.ip),
          );
          return instanceIds.map((instanceId) => {
            const prior = db.select().from(leases).where(eq(leases.instanceId, instanceId)).get();
            if (prior) return toLease(prior);
            for (let k = 2; k < plan.addrsPerNet - 1; k++) {
              const addr = ip(plan, base + k);
              if (taken.has(addr)) continue;
              taken.add(addr);
              const row = {
                instanceId,
                netIndex: index,
                privateIp: addr,
                mac: macOf(instanceId),
                createdAt: o.clock.now(),
                keptSince: null,
              };
              db.insert(leases).values(row).run();
              return toLease(row);
            }
            throw new InsufficientCapacityError(
              `Not enough resources available: addresses in the network of group ${groupName}`,
            );
          });
        })
        .immediate();
    },

    /**
     * Addressed by the site's DHCP (SYSTEM): the address a node saw its guest use, once (the first is kept: an address
     * another instance holds is refused). Returns whether it was recorded.
     */
    learn(instanceId: string, ip: string): boolean {
      if (!plan.lan || VNET_MODES[plan.lan.mode].addressing !== "site") return false;
      return sqlite
        .transaction(() => {
          const r = db.select().from(leases).where(eq(leases.instanceId, instanceId)).get();
          if (!r || r.privateIp || db.select().from(leases).where(eq(leases.privateIp, ip)).get()) return false;
          db.update(leases).set({ privateIp: ip }).where(eq(leases.instanceId, instanceId)).run();
          return true;
        })
        .immediate();
    },

    /** An instance's lease, if it holds one. */
    leaseOf(instanceId: string): Lease | undefined {
      const row = db.select().from(leases).where(eq(leases.instanceId, instanceId)).get();
      return row && toLease(row);
    },

    /** The instances stopped: their leases stay theirs with no placement (or are in use again: null). */
    keep(instanceIds: readonly string[], kept: boolean): void {
      if (instanceIds.length)
        db.update(leases)
          .set({ keptSince: kept ? o.clock.now() : null })
          .where(inArray(leases.instanceId, [...instanceIds]))
          .run();
    },

    release(instanceIds: readonly string[]): void {
      if (instanceIds.length)
        db.delete(leases)
          .where(inArray(leases.instanceId, [...instanceIds]))
          .run();
    },

    /**
     * Leases whose instance was never placed (a launch cut short before the CC placed
     * it) and that are older than `graceMs` go back to the network.
     */
    sweep(graceMs: number): number {
      const placed = db
        .select({ id: placements.instanceId })
        .from(placements)
        .all()
        .map((r) => r.id);
      const cutoff = new Date(o.clock.now().getTime() - graceMs);
      // A stopped instance's lease is kept (its private address is its own until it is terminated).
      const cond = placed.length
        ? and(notInArray(leases.instanceId, placed), lt(leases.createdAt, cutoff), isNull(leases.keptSince))
        : and(lt(leases.createdAt, cutoff), isNull(leases.keptSince));
      return db.delete(leases).where(cond).run().changes;
    },

    describe(): Array<{ accountId: string; groupName: string; network: Lease["network"]; leases: Lease[] }> {
      const all = db.select().from(leases).all();
      return db
        .select()
        .from(networks)
        .orderBy(networks.netIndex)
        .all()
        .map((n) => ({
          accountId: n.accountId,
          groupName: n.groupName,
          network: networkOf(plan, n.netIndex),
          leases: all.filter((l) => l.netIndex === n.netIndex).map(toLease),
        }));
    },
  };
}

export type NetworkService = ReturnType<typeof createNetworkService>;
