/**
 * Guests a node runs that no placement of this cluster accounts for: a launch undone
 * while its node was away, a node returning after `evacuate --fenced`, a CC database
 * restored from an older copy. Each is reported to the admin (`euca admin node list`,
 * the log) when first seen and destroyed after UNKNOWN_INSTANCE_SECONDS (Eucalyptus 4's
 * terminate-done) — never silently left holding an address.
 */
import { eq, inArray } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { CallContext } from "../../rpc/types";
import type { CcDatabase } from "./database";
import { placements, unknownGuests } from "./database";
import type { ClusterNode, NodeSnapshot } from "./node-monitor";

export interface UnknownGuest {
  instanceId: string;
  node: string;
  firstSeen: Date;
}

export interface UnknownGuestsDeps {
  db: CcDatabase;
  clock: Clock;
  log: Logger;
  /** How long an unknown guest is left running (UNKNOWN_INSTANCE_SECONDS). */
  unknownMs: number;
  node: (name: string) => ClusterNode | undefined;
}

export function createUnknownGuests(o: UnknownGuestsDeps) {
  const { db } = o.db;

  return {
    list: (): UnknownGuest[] => db.select().from(unknownGuests).orderBy(unknownGuests.firstSeen).all(),

    /** A fenced node's guests are to go as soon as it is heard again (recorded as long overdue). */
    condemn(instanceIds: readonly string[], node: string): void {
      for (const instanceId of instanceIds) {
        db.insert(unknownGuests)
          .values({ instanceId, node, firstSeen: new Date(0) })
          .onConflictDoUpdate({ target: unknownGuests.instanceId, set: { node, firstSeen: new Date(0) } })
          .run();
      }
    },

    /** After a polling round: records new unknown guests of the nodes that answered, destroys those overdue. */
    async review(views: readonly NodeSnapshot[], ctx: CallContext): Promise<void> {
      const heard = views.filter((v) => v.unreportedSince === undefined && !v.asleep);
      if (!heard.length) return;
      const guests = heard.flatMap((v) =>
        v.instances.filter((i) => i.state !== "Teardown").map((i) => ({ id: i.instanceId, node: v.name })),
      );
      const ids = guests.map((g) => g.id);
      const placed = new Set(
        ids.length
          ? db
              .select({ id: placements.instanceId })
              .from(placements)
              .where(inArray(placements.instanceId, ids))
              .all()
              .map((r) => r.id)
          : [],
      );
      const recorded = new Map(
        db
          .select()
          .from(unknownGuests)
          .all()
          .map((r) => [r.instanceId, r]),
      );
      const now = o.clock.now();
      for (const g of guests) {
        const r = recorded.get(g.id);
        if (placed.has(g.id)) {
          // Placed after all (a launch seen mid-way); a fenced node's guest waits for its placement to go.
          if (r && r.firstSeen.getTime() !== 0)
            db.delete(unknownGuests).where(eq(unknownGuests.instanceId, g.id)).run();
          continue;
        }
        if (!r || r.node !== g.node) {
          if (!r) {
            db.insert(unknownGuests).values({ instanceId: g.id, node: g.node, firstSeen: now }).run();
            o.log.warn(
              { requestId: ctx.requestId, node: g.node, instanceId: g.id, destroyAfterSeconds: o.unknownMs / 1000 },
              "cc: node runs a guest this cluster has no record of",
            );
            continue;
          }
          db.update(unknownGuests).set({ node: g.node }).where(eq(unknownGuests.instanceId, g.id)).run();
        }
        if (now.getTime() - (r?.firstSeen.getTime() ?? now.getTime()) < o.unknownMs) continue;
        try {
          await o.node(g.node)?.client.terminateInstance({ instanceId: g.id }, ctx);
          db.delete(unknownGuests).where(eq(unknownGuests.instanceId, g.id)).run();
          o.log.warn({ requestId: ctx.requestId, node: g.node, instanceId: g.id }, "cc: unknown guest destroyed");
        } catch (e) {
          o.log.warn(
            { requestId: ctx.requestId, node: g.node, instanceId: g.id, err: (e as Error).message },
            "cc: could not destroy an unknown guest; retried on the next poll",
          );
        }
      }
      // Rows of heard nodes whose guest is gone are done with.
      const heardNodes = new Set(heard.map((v) => v.name));
      const reported = new Set(ids);
      for (const r of recorded.values()) {
        if (heardNodes.has(r.node) && !reported.has(r.instanceId))
          db.delete(unknownGuests).where(eq(unknownGuests.instanceId, r.instanceId)).run();
      }
    },
  };
}

export type UnknownGuests = ReturnType<typeof createUnknownGuests>;
