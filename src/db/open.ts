/**
 * Opens a role's SQLite database (better-sqlite3, WAL) and brings its schema up to
 * date. Each role has its own file and its own ordered list of migrations that ship
 * inside the bundle (plain SQL strings next to the role's drizzle schema).
 *
 * Safety: the file's `application_id` says which role it belongs to and
 * `user_version` how many migrations it has seen. A file of another role or of
 * another program, or one from a newer euca, is refused before anything is written.
 */
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { ensurePrivateFile, restrictDatabaseFiles } from "../common/private-files";

export interface Migration {
  /** Short description, kept for operators reading `euca init` output. */
  name: string;
  sql: string;
}

export interface RoleDatabaseSpec<S extends Record<string, unknown>> {
  role: string;
  /** A 32-bit tag stored in PRAGMA application_id. */
  applicationId: number;
  migrations: readonly Migration[];
  schema: S;
}

export class SchemaVersionError extends Error {}

export interface OpenDatabase<S extends Record<string, unknown>> {
  sqlite: Database.Database;
  db: BetterSQLite3Database<S>;
  close(): void;
}

export function openRoleDatabase<S extends Record<string, unknown>>(
  file: string,
  spec: RoleDatabaseSpec<S>,
): OpenDatabase<S> {
  // Created 0600 before SQLite opens it (its -wal and -shm files copy that mode): clc.db holds every secret key.
  if (file !== ":memory:") ensurePrivateFile(file);
  const sqlite = new Database(file);
  try {
    sqlite.pragma("busy_timeout = 5000");
    checkOwnership(sqlite, file, spec);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    migrate(sqlite, spec);
    if (file !== ":memory:") restrictDatabaseFiles(file);
  } catch (e) {
    sqlite.close();
    throw e;
  }
  const db = drizzle(sqlite, { schema: spec.schema });
  return { sqlite, db, close: () => sqlite.close() };
}

function checkOwnership(
  sqlite: Database.Database,
  file: string,
  spec: RoleDatabaseSpec<Record<string, unknown>>,
): void {
  const appId = sqlite.pragma("application_id", { simple: true }) as number;
  const version = sqlite.pragma("user_version", { simple: true }) as number;
  const tables = (sqlite.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n;
  if (appId === 0 && version === 0 && tables === 0) return; // a new, empty file
  if (appId !== spec.applicationId) {
    throw new SchemaVersionError(
      `${file} is not a euca ${spec.role} database (application_id ${appId}); refusing to touch it. ` +
        `Point --data-dir at a euca data directory or move the file away.`,
    );
  }
  if (version > spec.migrations.length) {
    throw new SchemaVersionError(
      `${file} has schema version ${version}, newer than this euca knows (${spec.migrations.length}). ` +
        `It was written by a newer euca; run that version, or restore a backup made before the upgrade.`,
    );
  }
}

function migrate(sqlite: Database.Database, spec: RoleDatabaseSpec<Record<string, unknown>>): void {
  const current = sqlite.pragma("user_version", { simple: true }) as number;
  for (let v = current; v < spec.migrations.length; v++) {
    const m = spec.migrations[v]!;
    sqlite
      .transaction(() => {
        sqlite.exec(m.sql);
        sqlite.pragma(`application_id = ${spec.applicationId | 0}`);
        sqlite.pragma(`user_version = ${v + 1}`);
      })
      .immediate();
  }
}
