/**
 * The audit log: logins and admin actions, who did them, from where. Never holds a
 * secret. Bounded twice, because anyone can make it write (a failed login is an
 * entry): each field is cut to FIELD_LIMITS when recorded, and the log keeps at most
 * `maxRows` entries, the oldest dropped as new ones come.
 */
import { desc, lt, lte } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import type { ClcDatabase } from "../database";
import { auditLog } from "../schema";

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: string;
  address: string;
}

/** The most characters each field keeps (a user name is at most 30, an IPv6 address 45). */
export const FIELD_LIMITS = { actor: 64, action: 64, target: 128, detail: 500, address: 64 } as const;

const cut = (s: string | undefined, n: number) => {
  const v = s ?? "";
  return v.length > n ? `${v.slice(0, n - 1)}…` : v;
};

export function createAuditLog({ db }: ClcDatabase, clock: Clock, o: { maxRows: number } = { maxRows: 100_000 }) {
  return {
    record(e: { actor: string; action: string; target?: string; detail?: string; address?: string }): void {
      const { lastInsertRowid } = db
        .insert(auditLog)
        .values({
          at: clock.now(),
          actor: cut(e.actor, FIELD_LIMITS.actor),
          action: cut(e.action, FIELD_LIMITS.action),
          target: cut(e.target, FIELD_LIMITS.target),
          detail: cut(e.detail, FIELD_LIMITS.detail),
          address: cut(e.address, FIELD_LIMITS.address),
        })
        .run();
      // Ids only grow (AUTOINCREMENT), so "all but the newest maxRows" is a range of the primary key.
      db.delete(auditLog)
        .where(lte(auditLog.id, Number(lastInsertRowid) - o.maxRows))
        .run();
    },
    /** Newest first; `before` pages on to older entries. */
    recent(limit = 100, before?: number): AuditEntry[] {
      const q = db.select().from(auditLog);
      return (before !== undefined ? q.where(lt(auditLog.id, before)) : q)
        .orderBy(desc(auditLog.id))
        .limit(limit)
        .all();
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
