import { sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Key/value facts every role database keeps about itself (first start, last version run).
 * The SQL table keeps its first name, `settings`, so databases made by earlier versions
 * need no migration; in code it is `roleFacts`, apart from the cloud's settings (config/).
 */
export const roleFacts = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const ROLE_FACTS_SQL = `CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);`;
