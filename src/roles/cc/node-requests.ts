/**
 * The admin's requests about one node, made with `euca admin node …` on the CC's host and
 * carried out by the running CC on its next poll: the command writes a row to cc.db and
 * waits for it to be done (or, with the CC stopped, leaves it for its next start).
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { NotFoundError } from "../../common/errors";
import type { CallContext } from "../../rpc/types";
import type { ClusterClient, MigrationResult } from "./client";
import type { CcDatabase } from "./database";
import { nodeHealth, nodeRequests, nodes } from "./database";

export type NodeAction = (typeof nodeRequests.$inferSelect)["action"];
export type NodeRequestResult =
  { instanceIds: string[] } | { migrated: MigrationResult[] } | { undrained: true } | { error: string };

/** Records a request (a pending one for the node is replaced). The node must be one this CC knows. */
export function requestNodeAction({ db }: CcDatabase, node: string, action: NodeAction, clock: Clock): void {
  const known =
    db.select({ n: nodes.name }).from(nodes).where(eq(nodes.name, node)).get() ??
    db.select({ n: nodeHealth.node }).from(nodeHealth).where(eq(nodeHealth.node, node)).get();
  if (!known) throw new NotFoundError("node", node);
  const row = { action, requestedAt: clock.now(), doneAt: null, result: null };
  db.insert(nodeRequests)
    .values({ node, ...row })
    .onConflictDoUpdate({ target: nodeRequests.node, set: row })
    .run();
}

/** The request's outcome once the CC carried it out. */
export function nodeRequestOutcome({ db }: CcDatabase, node: string): NodeRequestResult | undefined {
  const r = db.select().from(nodeRequests).where(eq(nodeRequests.node, node)).get();
  return r?.doneAt && r.result ? (JSON.parse(r.result) as NodeRequestResult) : undefined;
}

/**
 * The running CC's side: each pending request is started on the poll that finds it and
 * runs in the background (a drain takes minutes), one at a time per node; `stop` waits
 * for those under way.
 */
export function createNodeRequests(o: {
  db: CcDatabase;
  cluster: Pick<ClusterClient, "evacuateNode" | "drainNode" | "undrainNode">;
  clock: Clock;
  log: Logger;
}) {
  const { db } = o.db;
  const running = new Map<string, Promise<void>>();

  async function carryOut(r: typeof nodeRequests.$inferSelect, ctx: CallContext): Promise<void> {
    let result: NodeRequestResult;
    try {
      switch (r.action) {
        case "evacuate":
          result = await o.cluster.evacuateNode({ node: r.node }, ctx);
          break;
        case "drain":
          result = await o.cluster.drainNode({ node: r.node }, ctx);
          break;
        case "undrain":
          await o.cluster.undrainNode({ node: r.node }, ctx);
          result = { undrained: true };
          break;
      }
    } catch (e) {
      result = { error: (e as Error).message };
    }
    o.log.info(
      { requestId: ctx.requestId, node: r.node, action: r.action, result },
      "cc: the admin's node request is done",
    );
    db.update(nodeRequests)
      .set({ doneAt: o.clock.now(), result: JSON.stringify(result) })
      .where(and(eq(nodeRequests.node, r.node), eq(nodeRequests.requestedAt, r.requestedAt)))
      .run();
  }

  return {
    poll(ctx: CallContext): void {
      for (const r of db.select().from(nodeRequests).where(isNull(nodeRequests.doneAt)).all()) {
        if (running.has(r.node)) continue;
        const work = carryOut(r, ctx).finally(() => running.delete(r.node));
        running.set(r.node, work);
      }
    },
    stop: async () => void (await Promise.all(running.values())),
  };
}

export type NodeRequests = ReturnType<typeof createNodeRequests>;
