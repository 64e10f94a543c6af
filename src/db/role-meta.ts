import { eq } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { roleFacts } from "./role-facts-table";

/** Records the first start and the euca version that last opened the database. */
export function recordStart(
  db: BetterSQLite3Database<{ roleFacts: typeof roleFacts }>,
  version: string,
  now: Date,
): { firstStart: boolean } {
  const first = db.select().from(roleFacts).where(eq(roleFacts.key, "created_at")).get();
  if (!first) db.insert(roleFacts).values({ key: "created_at", value: now.toISOString() }).run();
  db.insert(roleFacts)
    .values({ key: "last_version", value: version })
    .onConflictDoUpdate({ target: roleFacts.key, set: { value: version } })
    .run();
  return { firstStart: !first };
}
