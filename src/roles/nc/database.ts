import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { openRoleDatabase, type OpenDatabase } from "../../db/open";
import { roleFacts, ROLE_FACTS_SQL } from "../../db/role-facts-table";
import { NODE_RECORD_STATES } from "../../lifecycle/instance";

/** What this node was asked to run, so a restarted NC knows its instances. */
export const ncInstances = sqliteTable("instances", {
  id: text("id").primaryKey(),
  request: text("request").notNull(), // JSON RunInstanceRequest
  state: text("state", { enum: NODE_RECORD_STATES }).notNull(),
  reason: text("reason").notNull().default(""),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  /** When it was torn down: kept an hour so its cluster learns why, then forgotten. */
  endedAt: integer("ended_at", { mode: "timestamp_ms" }),
});

export const ncSchema = { roleFacts, instances: ncInstances };
export type NcDatabase = OpenDatabase<typeof ncSchema>;

export const ncMigrations = [
  { name: "settings", sql: ROLE_FACTS_SQL },
  {
    name: "instances",
    sql: `CREATE TABLE instances (
  id TEXT PRIMARY KEY NOT NULL,
  request TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);`,
  },
  { name: "when instances were torn down", sql: "ALTER TABLE instances ADD COLUMN ended_at INTEGER;" },
] as const;

/** Same application id as before the NC had tables: its first migration is the settings table. */
export function openNcDatabase(file: string): NcDatabase {
  return openRoleDatabase(file, { role: "nc", applicationId: 0x45554333, migrations: ncMigrations, schema: ncSchema });
}
