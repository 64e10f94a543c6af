/** clc.db's tables of the web interface: users' passwords and profiles, sign-ups, sessions, the audit log, mail. */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "./schema-identity";

/** What the web interface knows of a user besides its keys: its password (scrypt), profile and lockout. */
export const userProfiles = sqliteTable("user_profiles", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  fullName: text("full_name").notNull().default(""),
  email: text("email").notNull().default(""),
  /** JSON object of the configurable extra fields (telephone, affiliation, …). */
  extras: text("extras").notNull().default("{}"),
  passwordHash: text("password_hash"),
  mustChange: integer("must_change", { mode: "boolean" }).notNull().default(false),
  failedLogins: integer("failed_logins").notNull().default(0),
  lockedUntil: integer("locked_until", { mode: "timestamp_ms" }),
});

/** Sign-ups from the web interface: pending → approved (mailed a link) → confirmed (the user exists), or rejected. */
export const accountApplications = sqliteTable("account_applications", {
  id: text("id").primaryKey(),
  userName: text("user_name").notNull().unique(),
  fullName: text("full_name").notNull(),
  email: text("email").notNull(),
  extras: text("extras").notNull().default("{}"),
  passwordHash: text("password_hash").notNull(),
  state: text("state", { enum: ["pending", "approved", "rejected", "confirmed"] }).notNull(),
  /** Digest of the confirmation link's code (the code itself is only in the mail). */
  codeSha256: text("code_sha256"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
  decidedBy: text("decided_by"),
});

/** Signed-in browsers; only a digest of the cookie is kept. */
export const webSessions = sqliteTable(
  "web_sessions",
  {
    idSha256: text("id_sha256").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastSeen: integer("last_seen", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("web_sessions_user").on(t.userId)],
);

export const passwordResets = sqliteTable("password_resets", {
  codeSha256: text("code_sha256").primaryKey(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});

/** Where each user logged in from lately (a correct password from one of them goes through a login pause). */
export const loginAddresses = sqliteTable(
  "login_addresses",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    address: text("address").notNull(),
    lastLogin: integer("last_login", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.address] })],
);

/** Logins and admin actions, newest last. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull().default(""),
    detail: text("detail").notNull().default(""),
    address: text("address").notNull().default(""),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

/** Mail the cloud sent (or, without SMTP, would have): the admin reads it in the web interface. */
export const outbox = sqliteTable("outbox", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: integer("at", { mode: "timestamp_ms" }).notNull(),
  recipient: text("recipient").notNull(),
  subject: text("subject").notNull(),
  body: text("body").notNull(),
  sent: integer("sent", { mode: "boolean" }).notNull().default(false),
});
