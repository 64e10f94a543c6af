import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { openRoleDatabase, type OpenDatabase } from "../../db/open";
import { settings, SETTINGS_SQL } from "../../db/settings-table";
import { STORED_VOLUME_STATES } from "../../lifecycle/volume";

/** The volumes this storage controller holds. */
export const scVolumes = sqliteTable("volumes", {
  id: text("id").primaryKey(),
  sizeGiB: integer("size_gib").notNull(),
  state: text("state", { enum: STORED_VOLUME_STATES }).notNull(),
  reason: text("reason").notNull().default(""),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** The attachment each volume is exported for (one at a time, as EC2's standard volumes). */
export const scExports = sqliteTable("exports", {
  volumeId: text("volume_id").primaryKey(),
  instanceId: text("instance_id").notNull(),
  kind: text("kind").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

export const scSchema = { settings, volumes: scVolumes, exports: scExports };
export type ScDatabase = OpenDatabase<typeof scSchema>;

export const scMigrations = [
  { name: "settings", sql: SETTINGS_SQL },
  {
    name: "volumes and their exports",
    sql: `CREATE TABLE volumes (
  id TEXT PRIMARY KEY NOT NULL,
  size_gib INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE exports (
  volume_id TEXT PRIMARY KEY NOT NULL,
  instance_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL
);`,
  },
] as const;

export function openScDatabase(file: string): ScDatabase {
  return openRoleDatabase(file, { role: "sc", applicationId: 0x45554335, migrations: scMigrations, schema: scSchema });
}
