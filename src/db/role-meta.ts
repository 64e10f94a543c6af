import { eq } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { settings } from "./settings-table";

/** Records the first start and the euca version that last opened the database. */
export function recordStart(
  db: BetterSQLite3Database<{ settings: typeof settings }>,
  version: string,
  now: Date,
): { firstStart: boolean } {
  const first = db.select().from(settings).where(eq(settings.key, "created_at")).get();
  if (!first) db.insert(settings).values({ key: "created_at", value: now.toISOString() }).run();
  db.insert(settings)
    .values({ key: "last_version", value: version })
    .onConflictDoUpdate({ target: settings.key, set: { value: version } })
    .run();
  return { firstStart: !first };
}
