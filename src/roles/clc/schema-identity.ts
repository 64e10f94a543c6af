/** clc.db's identity tables: accounts, users, their access keys, session credentials and certificates. */
import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { sql } from "drizzle-orm";

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(), // 12-digit account number (EC2 ownerId)
  name: text("name").notNull().unique(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull().unique(),
    isAdmin: integer("is_admin", { mode: "boolean" }).notNull().default(false),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /**
     * The user the account was made for: its admin in IAM. Recorded when the account is
     * created, never inferred from a name; at most one per account.
     */
    isAccountOwner: integer("is_account_owner", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    uniqueIndex("users_account_owner")
      .on(t.accountId)
      .where(sql`is_account_owner = 1`),
  ],
);

export const accessKeys = sqliteTable("access_keys", {
  id: text("id").primaryKey(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  secret: text("secret").notNull(),
  status: text("status", { enum: ["Active", "Inactive"] })
    .notNull()
    .default("Active"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Temporary credentials from STS GetSessionToken: they go with the key that made them (and its user). */
export const sessionCredentials = sqliteTable("session_credentials", {
  accessKeyId: text("access_key_id").primaryKey(),
  parentKeyId: text("parent_key_id")
    .notNull()
    .references(() => accessKeys.id, { onDelete: "cascade" }),
  secret: text("secret").notNull(),
  /** Only a digest of the token is kept: a copy of the database does not hold usable tokens. */
  tokenSha256: text("token_sha256").notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});

export const certificates = sqliteTable("certificates", {
  fingerprint: text("fingerprint").primaryKey(), // SHA-1 of the DER certificate, hex
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  pem: text("pem").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  revoked: integer("revoked", { mode: "boolean" }).notNull().default(false),
});
