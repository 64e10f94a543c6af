/** The audit log: logins and admin actions, who did them, from where. Never holds a secret. */
import { desc, lt } from "drizzle-orm";
import type { Clock } from "../../common/clock";
import type { ClcDatabase } from "./database";
import { auditLog } from "./schema";

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  detail: string;
  address: string;
}

export function createAuditLog({ db }: ClcDatabase, clock: Clock) {
  return {
    record(e: { actor: string; action: string; target?: string; detail?: string; address?: string }): void {
      db.insert(auditLog).values({ at: clock.now(), actor: e.actor, action: e.action, target: e.target ?? "", detail: e.detail ?? "", address: e.address ?? "" }).run();
    },
    /** Newest first; `before` pages on to older entries. */
    recent(limit = 100, before?: number): AuditEntry[] {
      const q = db.select().from(auditLog);
      return (before !== undefined ? q.where(lt(auditLog.id, before)) : q).orderBy(desc(auditLog.id)).limit(limit).all();
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
