import { sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Key/value facts every role database keeps about itself (first start, last version run). */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const SETTINGS_SQL = `CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);`;
