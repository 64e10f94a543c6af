import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { join } from "node:path";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { openClcDatabase, CLC_APPLICATION_ID } from "../../src/roles/clc/database";
import { clcSchema } from "../../src/roles/clc/schema";
import { clcMigrations } from "../../src/roles/clc/migrations";
import { openCcDatabase, ccSchema } from "../../src/roles/cc/database";
import { openScDatabase, scSchema } from "../../src/roles/sc/database";
import { openWalrusDatabase } from "../../src/roles/walrus/database";
import { walrusSchema } from "../../src/roles/walrus/schema";
import { openNcDatabase, ncSchema } from "../../src/roles/nc/database";
import { SchemaVersionError } from "../../src/db/open";
import { tempDir } from "../support/cloud";

function columnsOf(file: string, table: string) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`PRAGMA table_info(${JSON.stringify(table)})`).all() as Array<{
      name: string;
      notnull: number;
      pk: number;
    }>;
  } finally {
    db.close();
  }
}

/** Every drizzle column exists in the migrated database with the same NOT NULL-ness. */
function expectSchemaMatches(file: string, schema: Record<string, unknown>) {
  for (const table of Object.values(schema) as SQLiteTable[]) {
    const cfg = getTableConfig(table);
    const cols = columnsOf(file, cfg.name);
    expect(cols.length, `table ${cfg.name}`).toBe(cfg.columns.length);
    for (const c of cfg.columns) {
      const found = cols.find((x) => x.name === c.name);
      expect(found, `${cfg.name}.${c.name}`).toBeDefined();
      expect(found!.notnull === 1 || found!.pk === 1, `${cfg.name}.${c.name} not null`).toBe(c.notNull);
    }
  }
}

describe("role databases", () => {
  it("migrations create exactly the drizzle schemas (clc, cc, nc, sc, walrus)", () => {
    const dir = tempDir();
    openWalrusDatabase(join(dir, "walrus.db")).close();
    expectSchemaMatches(join(dir, "walrus.db"), walrusSchema);
    openClcDatabase(join(dir, "clc.db")).close();
    openCcDatabase(join(dir, "cc.db")).close();
    openNcDatabase(join(dir, "nc.db")).close();
    openScDatabase(join(dir, "sc.db")).close();
    expectSchemaMatches(join(dir, "clc.db"), clcSchema);
    expectSchemaMatches(join(dir, "cc.db"), ccSchema);
    expectSchemaMatches(join(dir, "nc.db"), ncSchema);
    expectSchemaMatches(join(dir, "sc.db"), scSchema);
  });

  it("uses WAL and records the schema version; reopening keeps the data", () => {
    const file = join(tempDir(), "clc.db");
    const a = openClcDatabase(file);
    a.sqlite.prepare("INSERT INTO vm_types VALUES ('t1.test', 1, 1, 1, 0)").run();
    expect(a.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    a.close();
    const b = openClcDatabase(file);
    expect(b.sqlite.pragma("user_version", { simple: true })).toBe(clcMigrations.length);
    expect(b.sqlite.prepare("SELECT name FROM vm_types").all()).toEqual([{ name: "t1.test" }]);
    b.close();
  });

  it("refuses a database from a newer euca without touching it", () => {
    const file = join(tempDir(), "clc.db");
    openClcDatabase(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${clcMigrations.length + 1}`);
    raw.close();
    expect(() => openClcDatabase(file)).toThrow(SchemaVersionError);
    expect(() => openClcDatabase(file)).toThrow(/newer than this euca/);
    const after = new Database(file, { readonly: true });
    expect(after.pragma("user_version", { simple: true })).toBe(clcMigrations.length + 1);
    after.close();
  });

  it("refuses another role's database and a foreign SQLite file", () => {
    const dir = tempDir();
    openCcDatabase(join(dir, "cc.db")).close();
    expect(() => openClcDatabase(join(dir, "cc.db"))).toThrow(/not a euca clc database/);
    const foreign = new Database(join(dir, "other.db"));
    foreign.exec("CREATE TABLE t (x)");
    foreign.close();
    expect(() => openClcDatabase(join(dir, "other.db"))).toThrow(/not a euca clc database/);
    const f = new Database(join(dir, "other.db"), { readonly: true });
    expect(f.pragma("application_id", { simple: true })).toBe(0);
    expect(CLC_APPLICATION_ID).not.toBe(0);
    f.close();
  });
});
