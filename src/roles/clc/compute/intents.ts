/**
 * Intents: a terminate or a detach the CLC asked of a cluster that its cluster (or the node
 * behind it) did not carry out — it was silent, or down. Recorded in clc.db in the same
 * step as the state that shows it (shutting-down, detaching), retried with a growing pause
 * until the cluster confirms, and only then dropped: a failed call is never forgotten, and
 * nothing it holds (addresses, volumes) is let go before it is done.
 */
import { and, asc, eq, lte } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { ClcDatabase } from "../database";
import { intents } from "../schema";

export type IntentKind = (typeof intents.$inferSelect)["kind"];
export type Intent = typeof intents.$inferSelect;

/** The first retry comes after this long, doubling per attempt up to MAX_RETRY_MS. */
export const FIRST_RETRY_MS = 1_000;
export const MAX_RETRY_MS = 30_000;

export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

export function createIntents(o: { db: ClcDatabase; clock: Clock }) {
  const { db } = o.db;
  const key = (kind: IntentKind, target: string) => and(eq(intents.kind, kind), eq(intents.target, target));

  return {
    /** Records an intent (an existing one is kept as it is: the first request stands). */
    record(kind: IntentKind, target: string, zone: string, payload: Record<string, string> = {}): void {
      const now = o.clock.now();
      db.insert(intents)
        .values({ kind, target, zone, payload: JSON.stringify(payload), createdAt: now, nextAt: now })
        .onConflictDoNothing()
        .run();
    },

    done(kind: IntentKind, target: string): void {
      db.delete(intents).where(key(kind, target)).run();
    },

    /** Not done this time: why, and when to try again. */
    failed(kind: IntentKind, target: string, reason: string): void {
      const row = db.select().from(intents).where(key(kind, target)).get();
      if (!row) return;
      const attempts = row.attempts + 1;
      db.update(intents)
        .set({
          attempts,
          lastError: reason.slice(0, 500),
          nextAt: new Date(o.clock.now().getTime() + retryDelay(attempts)),
        })
        .where(key(kind, target))
        .run();
    },

    /** Its cluster reports something that may let it go through now: try on the next round. */
    hurry(kind: IntentKind, target: string): void {
      db.update(intents).set({ nextAt: o.clock.now() }).where(key(kind, target)).run();
    },

    has: (kind: IntentKind, target: string) =>
      db.select({ t: intents.target }).from(intents).where(key(kind, target)).get() !== undefined,

    /** Those due now, oldest first. */
    due: (kind: IntentKind): Intent[] =>
      db
        .select()
        .from(intents)
        .where(and(eq(intents.kind, kind), lte(intents.nextAt, o.clock.now())))
        .orderBy(asc(intents.createdAt))
        .all(),

    list: (): Intent[] => db.select().from(intents).orderBy(asc(intents.createdAt)).all(),
  };
}

export type Intents = ReturnType<typeof createIntents>;
