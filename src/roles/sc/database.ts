import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { openRoleDatabase, type OpenDatabase } from "../../db/open";
import { roleFacts, ROLE_FACTS_SQL } from "../../db/role-facts-table";
import { STORED_VOLUME_STATES } from "../../lifecycle/volume";

/** The volumes this storage controller holds. */
export const scVolumes = sqliteTable("volumes", {
  id: text("id").primaryKey(),
  sizeGiB: integer("size_gib").notNull(),
  state: text("state", { enum: STORED_VOLUME_STATES }).notNull(),
  reason: text("reason").notNull().default(""),
  /** The snapshot it is made from (a restart restores it again). */
  snapshotId: text("snapshot_id"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** The attachment each volume is exported for (one at a time, as EC2's standard volumes). */
export const scExports = sqliteTable("exports", {
  volumeId: text("volume_id").primaryKey(),
  instanceId: text("instance_id").notNull(),
  /** "file" (the node shares this host), "nbd" (and its port) or "iscsi". */
  kind: text("kind", { enum: ["file", "nbd", "iscsi"] }).notNull(),
  port: integer("port"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Snapshots this SC took; their chunks and manifest are in Walrus. */
export const scSnapshots = sqliteTable("snapshots", {
  id: text("id").primaryKey(),
  volumeId: text("volume_id").notNull(),
  sizeGiB: integer("size_gib").notNull(),
  state: text("state", { enum: ["pending", "completed", "error", "deleting"] }).notNull(),
  /** Percent of the chunks read so far. */
  progress: integer("progress").notNull().default(0),
  /** Chunks in it, and how many of those (and bytes) this snapshot had to upload. */
  chunks: integer("chunks").notNull().default(0),
  uploaded: integer("uploaded").notNull().default(0),
  uploadedBytes: integer("uploaded_bytes").notNull().default(0),
  reason: text("reason").notNull().default(""),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * The chunks this SC put in Walrus and how many of its completed snapshots use each. A row
 * is written before its upload (`stored` false) and marked after, so a crash in between
 * leaves a row to clean up, never an object nobody knows of. A chunk is uploaded once (by
 * the first snapshot that has it) and deleted when no snapshot uses it (refs 0, and no
 * snapshot being taken that might).
 */
export const scChunks = sqliteTable("chunks", {
  sha256: text("sha256").primaryKey(),
  refs: integer("refs").notNull(),
  bytes: integer("bytes").notNull(),
  stored: integer("stored", { mode: "boolean" }).notNull(),
});

export const scSchema = { roleFacts, volumes: scVolumes, exports: scExports, snapshots: scSnapshots, chunks: scChunks };
export type ScDatabase = OpenDatabase<typeof scSchema>;

export const scMigrations = [
  { name: "settings", sql: ROLE_FACTS_SQL },
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
  port INTEGER,
  created_at INTEGER NOT NULL
);`,
  },
  {
    name: "snapshots and their chunks",
    sql: `ALTER TABLE volumes ADD COLUMN snapshot_id TEXT;
CREATE TABLE snapshots (
  id TEXT PRIMARY KEY NOT NULL,
  volume_id TEXT NOT NULL,
  size_gib INTEGER NOT NULL,
  state TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0,
  chunks INTEGER NOT NULL DEFAULT 0,
  uploaded INTEGER NOT NULL DEFAULT 0,
  uploaded_bytes INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE chunks (
  sha256 TEXT PRIMARY KEY NOT NULL,
  refs INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  stored INTEGER NOT NULL
);`,
  },
] as const;

export function openScDatabase(file: string): ScDatabase {
  return openRoleDatabase(file, { role: "sc", applicationId: 0x45554335, migrations: scMigrations, schema: scSchema });
}
