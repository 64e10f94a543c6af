/**
 * Draining a node (beyond Eucalyptus 1.6): nothing new is placed on it, and each of its
 * running guests is live-migrated to another node of the cluster with room — instance id,
 * addresses, groups and volumes unchanged, the guest paused only for the migration's final
 * pass. One guest at a time, each in these steps:
 *   1. the source says what the target needs (launch request, attached volumes, console);
 *   2. the placement records the target as `migratingTo`: the target node gets the guest's
 *      segment and port on the network (its tap has a bridge and a filter to join);
 *   3. the target stages the instance and waits, paused; the source mirrors its disks and
 *      sends the guest (TLS with a key made here for this migration);
 *   4. the target lets the guest continue, the placement moves to the target, the network
 *      is brought in line (the gateway sends to its new node).
 * A failure before the target waits leaves the guest running where it was. Once it waits,
 * a failure (or a CC restart) is settled by the source's word — whether it still runs the
 * guest or let it go — never by guessing (`settleOne`).
 */
import { randomBytes } from "node:crypto";
import { eq, isNotNull } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { InsufficientCapacityError, NotFoundError } from "../../common/errors";
import { placeable } from "../../lifecycle/node-health";
import type { CallContext } from "../../rpc/types";
import type { MigrationFigures } from "../nc/client";
import type { CcDatabase } from "./database";
import { drainedNodes, placements } from "./database";
import type { ManagedNetwork } from "./managed-network";
import type { ClusterNode, NodeMonitor } from "./node-monitor";
import { place, type Policy } from "./placement";

export type MigrationResult =
  | ({ instanceId: string; from: string; to: string; handoverMs: number } & MigrationFigures)
  | { instanceId: string; from: string; error: string };

export interface DrainDeps {
  db: CcDatabase;
  monitor: NodeMonitor;
  clock: Clock;
  log: Logger;
  policy: Policy;
  managed?: ManagedNetwork;
}

export function createDrain(o: DrainDeps) {
  const { db } = o.db;
  const drained = () =>
    new Set(
      db
        .select()
        .from(drainedNodes)
        .all()
        .map((r) => r.node),
    );
  /** Instances this process is moving now (a placement naming a target otherwise is one cut short). */
  const moving = new Set<string>();

  /** The node to move a guest of `from` to: up, not drained, with room, as the placement policy picks. */
  async function targetFor(
    from: string,
    vmType: { name: string; cpus: number; memoryMb: number; diskGb: number },
    ctx: CallContext,
  ): Promise<ClusterNode> {
    const out = drained();
    const candidates = (await o.monitor.snapshots(ctx)).flatMap((s) =>
      s.name !== from && s.resource && !s.asleep && placeable(s.health.state) && !out.has(s.name)
        ? [{ name: s.name, resource: s.resource }]
        : [],
    );
    const plan = place(o.policy, candidates, vmType, 1);
    const node = plan && o.monitor.node(plan.nodes[0]!);
    if (!node) throw new InsufficientCapacityError(`no other node of the cluster has room for a ${vmType.name}`);
    return node;
  }

  const sync = (ctx: CallContext) =>
    o.managed
      ?.sync(ctx)
      .catch((e: Error) =>
        o.log.warn(
          { requestId: ctx.requestId, err: e.message },
          "cc: network not in line after a migration step; retried on the next poll",
        ),
      );

  async function migrate(instanceId: string, source: ClusterNode, ctx: CallContext): Promise<MigrationResult> {
    const src = await source.client.migrationSource({ instanceId }, ctx);
    const target = await targetFor(source.name, src.request.vmType, ctx);
    const log = { requestId: ctx.requestId, instanceId, from: source.name, to: target.name };
    o.log.info(log, "cc: migrating an instance");
    db.update(placements).set({ migratingTo: target.name }).where(eq(placements.instanceId, instanceId)).run();
    moving.add(instanceId);
    let waiting = false;
    try {
      await o.managed?.sync(ctx);
      const key = randomBytes(32).toString("hex");
      const at = await target.client.receiveInstance({ ...src, key }, ctx);
      waiting = true;
      const figures = await source.client.sendInstance({ instanceId, to: at, node: target.name }, ctx);
      // The guest is paused there until told. It continues first (reports of an instance whose
      // placement names a target come from the target), then the placement moves: a restart
      // between the two leaves `migratingTo` for settle() to finish.
      const switched = Date.now();
      await target.client.completeIncoming({ instanceId, ok: true }, ctx);
      const handoverMs = Date.now() - switched;
      waiting = false;
      db.update(placements)
        .set({ node: target.name, migratingTo: null })
        .where(eq(placements.instanceId, instanceId))
        .run();
      await sync(ctx);
      o.log.info({ ...log, ...figures, handoverMs }, "cc: instance migrated");
      return { instanceId, from: source.name, to: target.name, handoverMs, ...figures };
    } catch (e) {
      moving.delete(instanceId);
      // Once the target waits, whether the guest moved is the source's to say: the answer to
      // a send can be lost after the guest went, and then the target's copy is the guest.
      if (waiting) await settleOne(instanceId, source, target, ctx);
      else {
        db.update(placements).set({ migratingTo: null }).where(eq(placements.instanceId, instanceId)).run();
        await sync(ctx);
      }
      throw e;
    } finally {
      moving.delete(instanceId);
      o.monitor.invalidate(source.name);
      o.monitor.invalidate(target.name);
    }
  }

  /**
   * A migration left unfinished (a failed step, or a CC restart: its placement still names
   * a target): the source decides. If it still runs the guest, the move did not happen and
   * the target's waiting copy goes; if it let the guest go, the target's copy is the guest:
   * it continues there and the placement moves. With either node silent, the next poll tries again.
   */
  async function settleOne(
    instanceId: string,
    source: ClusterNode,
    target: ClusterNode,
    ctx: CallContext,
  ): Promise<void> {
    try {
      const [there] = (await source.client.describeInstances({ instanceIds: [instanceId] }, ctx)).instances;
      const stayed = there !== undefined && there.state !== "Teardown";
      await target.client.completeIncoming({ instanceId, ok: !stayed }, ctx).catch((e: Error) => {
        if (!(e instanceof NotFoundError)) throw e; // nothing waits there (it never arrived, or it was settled already)
      });
      db.update(placements)
        .set({ migratingTo: null, ...(stayed ? {} : { node: target.name }) })
        .where(eq(placements.instanceId, instanceId))
        .run();
      o.log.info(
        { requestId: ctx.requestId, instanceId, node: stayed ? source.name : target.name },
        "cc: an unfinished migration is settled",
      );
      await sync(ctx);
    } catch (e) {
      o.log.warn(
        { requestId: ctx.requestId, instanceId, err: (e as Error).message },
        "cc: an unfinished migration is not settled yet; tried again on the next poll",
      );
    } finally {
      o.monitor.invalidate(source.name);
      o.monitor.invalidate(target.name);
    }
  }

  /** Each poll: the migrations no drain in this process is carrying out. */
  async function settle(ctx: CallContext): Promise<void> {
    for (const p of db.select().from(placements).where(isNotNull(placements.migratingTo)).all()) {
      const [source, target] = [o.monitor.node(p.node), o.monitor.node(p.migratingTo!)];
      if (!moving.has(p.instanceId) && source && target) await settleOne(p.instanceId, source, target, ctx);
    }
  }

  return {
    isDrained: (node: string) => drained().has(node),
    settle,

    /** Drains `node`: recorded first (so nothing more lands there), then its guests move one by one. */
    async drain(node: string, ctx: CallContext): Promise<MigrationResult[]> {
      const source = o.monitor.node(node);
      if (!source) throw new NotFoundError("node", node);
      db.insert(drainedNodes).values({ node, since: o.clock.now() }).onConflictDoNothing().run();
      const out: MigrationResult[] = [];
      for (const { instanceId } of db
        .select({ instanceId: placements.instanceId })
        .from(placements)
        .where(eq(placements.node, node))
        .all()) {
        try {
          out.push(await migrate(instanceId, source, ctx));
        } catch (e) {
          o.log.warn(
            { requestId: ctx.requestId, instanceId, node, err: (e as Error).message },
            "cc: instance not migrated; it runs on where it was",
          );
          out.push({ instanceId, from: node, error: (e as Error).message });
        }
      }
      return out;
    },

    undrain(node: string): void {
      if (!o.monitor.node(node)) throw new NotFoundError("node", node);
      db.delete(drainedNodes).where(eq(drainedNodes.node, node)).run();
    },
  };
}

export type Drain = ReturnType<typeof createDrain>;
