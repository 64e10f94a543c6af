/**
 * Each placed instance's network, rendered from what the CLC sends (its security groups'
 * rules, its public address) and the cluster's lease (its private address), and handed
 * to its node. In the rootless mode the network is the set of forwarded ports
 * (net/port-forwards.ts); in the MANAGED modes what is recorded here is read into the
 * cluster's view (cluster-view.ts) and nothing is pushed per instance. A change raises
 * the generation of the instances it touches, and they are pushed until their node has
 * taken that generation — at once, and again on every poll for a node that did not
 * answer, so a crash between the record and the push loses nothing.
 */
import { and, eq, inArray, lt, ne, notInArray, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { NotFoundError } from "../../common/errors";
import { loopbackForwards, type ForwardPlan, type IngressRule } from "../../net/port-forwards";
import type { CallContext } from "../../rpc/types";
import type { NetworkUpdate } from "./client";
import type { CcDatabase } from "./database";
import { groupRules, leases, placements } from "./database";
import type { NodeMonitor } from "./node-monitor";

type Placement = typeof placements.$inferSelect;

/** How long an update waits for its nodes (they answer in milliseconds; a silent one is retried by the poll). */
export const UPDATE_WAIT_MS = 5000;

const groupsOf = (p: Placement) => JSON.parse(p.groupIds) as string[];

export function createInstanceNetwork(o: {
  db: CcDatabase;
  clock: Clock;
  log: Logger;
  monitor: NodeMonitor;
  /** ROOTLESS: each instance's forwards are pushed to its node. The MANAGED modes only record here (the cluster view is read from it). */
  pushForwards: boolean;
}) {
  const { db, sqlite } = o.db;

  function rulesOf(groupIds: readonly string[]): IngressRule[] {
    if (!groupIds.length) return [];
    return db
      .select()
      .from(groupRules)
      .where(inArray(groupRules.groupId, [...groupIds]))
      .all()
      .flatMap((g) => JSON.parse(g.rules) as IngressRule[]);
  }

  /** The forwards of one placed instance, from its lease, public address and groups. */
  function plan(p: Placement): ForwardPlan {
    const lease = db.select().from(leases).where(eq(leases.instanceId, p.instanceId)).get();
    return loopbackForwards([lease?.privateIp ?? "", p.publicIp ?? ""], rulesOf(groupsOf(p)));
  }

  const bump = { networkGen: sql`${placements.networkGen} + 1` };
  const synced = (p: Placement) =>
    db
      .update(placements)
      .set({ syncedGen: p.networkGen })
      .where(and(eq(placements.instanceId, p.instanceId), lt(placements.syncedGen, p.networkGen)))
      .run();

  /** Records an update, raising the generation of the instances whose network it changes (one transaction); returns them. */
  function record(u: NetworkUpdate): string[] {
    return sqlite.transaction(() => {
      const changedGroups = new Set<string>();
      const touched = new Set<string>();
      for (const g of u.groups ?? []) {
        const rules = JSON.stringify(g.rules);
        const prior = db.select().from(groupRules).where(eq(groupRules.groupId, g.groupId)).get();
        if (prior?.rules === rules) continue;
        changedGroups.add(g.groupId);
        db.insert(groupRules)
          .values({ groupId: g.groupId, rules, updatedAt: o.clock.now() })
          .onConflictDoUpdate({ target: groupRules.groupId, set: { rules, updatedAt: o.clock.now() } })
          .run();
      }
      if (u.complete) {
        const keep = (u.groups ?? []).map((g) => g.groupId);
        const dropped = db
          .select({ id: groupRules.groupId })
          .from(groupRules)
          .where(keep.length ? notInArray(groupRules.groupId, keep) : undefined)
          .all();
        for (const d of dropped) changedGroups.add(d.id);
        if (dropped.length)
          db.delete(groupRules)
            .where(
              inArray(
                groupRules.groupId,
                dropped.map((d) => d.id),
              ),
            )
            .run();
      }
      for (const i of u.instances ?? []) {
        const p = db.select().from(placements).where(eq(placements.instanceId, i.instanceId)).get();
        const groupIds = i.groupIds ? JSON.stringify(i.groupIds) : p?.groupIds;
        const publicIp = i.publicIp !== undefined ? i.publicIp : p?.publicIp;
        if (!p || (groupIds === p.groupIds && publicIp === p.publicIp)) continue; // a resync of what is known changes nothing
        db.update(placements)
          .set({ ...bump, groupIds, publicIp })
          .where(eq(placements.instanceId, i.instanceId))
          .run();
        touched.add(i.instanceId);
      }
      if (changedGroups.size) {
        for (const p of db.select().from(placements).all()) {
          if (!groupsOf(p).some((g) => changedGroups.has(g))) continue;
          db.update(placements).set(bump).where(eq(placements.instanceId, p.instanceId)).run();
          touched.add(p.instanceId);
        }
      }
      return [...touched];
    })();
  }

  /** Pushes every instance whose node lacks its latest generation; those whose node does not answer stay behind. */
  async function push(ctx: CallContext): Promise<void> {
    if (!o.pushForwards) return;
    const pending = db
      .select({ id: placements.instanceId })
      .from(placements)
      .where(ne(placements.syncedGen, placements.networkGen))
      .all();
    await Promise.all(pending.map((p) => pushOne(p.id, ctx)));
  }

  // One push at a time per instance, each planned from the state when it starts, so an
  // older plan never reaches a node after a newer one.
  const chains = new Map<string, Promise<void>>();
  function pushOne(instanceId: string, ctx: CallContext): Promise<void> {
    const next = (chains.get(instanceId) ?? Promise.resolve())
      .then(() => pushNow(instanceId, ctx))
      .catch((e: Error) =>
        o.log.error(
          { requestId: ctx.requestId, instanceId, err: e.message },
          "cc: rendering the instance's network failed",
        ),
      );
    chains.set(instanceId, next);
    void next.finally(() => chains.get(instanceId) === next && chains.delete(instanceId));
    return next;
  }

  async function pushNow(instanceId: string, ctx: CallContext): Promise<void> {
    const p = db.select().from(placements).where(eq(placements.instanceId, instanceId)).get();
    const node = p && p.syncedGen !== p.networkGen ? o.monitor.node(p.node) : undefined;
    if (!p || !node) return;
    const f = plan(p);
    const log = { requestId: ctx.requestId, instanceId };
    try {
      const r = await node.client.setForwards({ instanceId, forwards: f.forwards }, ctx);
      synced(p); // the generation pushed; a newer one is pushed by its own update
      if (f.forwarded < f.allowed)
        o.log.warn(
          { ...log, allowed: f.allowed, forwarded: f.forwarded },
          "cc: the instance's groups allow more ports than are forwarded in this mode; the lowest are",
        );
      if (f.skipped.length)
        o.log.warn({ ...log, addresses: f.skipped }, "cc: nothing is forwarded from addresses that are not loopback");
      for (const x of r.failed)
        o.log.warn({ ...log, forward: x.forward, err: x.reason }, "cc: a forward could not be set up");
    } catch (e) {
      // An instance its node no longer knows has nothing to sync.
      if (e instanceof NotFoundError) synced(p);
      else
        o.log.warn(
          { ...log, node: p.node, err: (e as Error).message },
          "cc: the node did not take the instance's network; retried on the next poll",
        );
    }
  }

  return {
    /** The forwards a new instance starts with. */
    forwardsFor: (instanceId: string) => {
      const p = db.select().from(placements).where(eq(placements.instanceId, instanceId)).get();
      return p ? plan(p).forwards : [];
    },
    /**
     * Records the update and brings the nodes of the instances it changes in line before
     * returning — waiting at most UPDATE_WAIT_MS, so a node that does not answer cannot
     * hold up the API call; the push goes on, and the poll retries what failed.
     */
    async update(u: NetworkUpdate, ctx: CallContext): Promise<void> {
      const touched = record(u);
      if (!o.pushForwards) return;
      const pushed = Promise.all(touched.map((id) => pushOne(id, ctx)));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pushed, new Promise<void>((resolve) => (timer = setTimeout(resolve, UPDATE_WAIT_MS)))]);
      clearTimeout(timer);
    },
    push,
    /** At start: every instance is pushed again (a crash may have come between a record and its push). */
    markAll(): void {
      db.update(placements).set(bump).run();
    },
  };
}

export type InstanceNetwork = ReturnType<typeof createInstanceNetwork>;
