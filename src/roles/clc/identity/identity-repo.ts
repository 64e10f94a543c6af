/** Queries on accounts, users, access keys and certificates. Multi-row changes run in one transaction. */
import { and, eq, lt, sql } from "drizzle-orm";
import type { ClcDatabase } from "../database";
import { accessKeys, accounts, certificates, sessionCredentials, users } from "../schema";

export interface UserRecord {
  id: string;
  name: string;
  accountId: string;
  accountName: string;
  isAdmin: boolean;
  /** The user its account was made for (the account's admin in IAM); recorded, never inferred. */
  isAccountOwner: boolean;
  enabled: boolean;
  createdAt: Date;
}

export interface KeyRecord {
  accessKeyId: string;
  secret: string;
  userId: string;
}

export interface ActiveKeyRecord extends KeyRecord {
  userName: string;
  accountId: string;
  isAdmin: boolean;
}

export function createIdentityRepo({ db, sqlite }: ClcDatabase) {
  const userColumns = {
    id: users.id,
    name: users.name,
    accountId: users.accountId,
    accountName: accounts.name,
    isAdmin: users.isAdmin,
    isAccountOwner: users.isAccountOwner,
    enabled: users.enabled,
    createdAt: users.createdAt,
  };
  // Every signed request looks its key up: prepared once, not per call.
  const activeKeyQuery = db
    .select({
      accessKeyId: accessKeys.id,
      secret: accessKeys.secret,
      userId: accessKeys.userId,
      userName: users.name,
      accountId: users.accountId,
      isAdmin: users.isAdmin,
    })
    .from(accessKeys)
    .innerJoin(users, eq(users.id, accessKeys.userId))
    .where(and(eq(accessKeys.id, sql.placeholder("id")), eq(accessKeys.status, "Active"), eq(users.enabled, true)))
    .prepare();
  const sessionQuery = db
    .select({
      secret: sessionCredentials.secret,
      tokenSha256: sessionCredentials.tokenSha256,
      expiresAt: sessionCredentials.expiresAt,
      userId: accessKeys.userId,
      userName: users.name,
      accountId: users.accountId,
      isAdmin: users.isAdmin,
    })
    .from(sessionCredentials)
    .innerJoin(accessKeys, eq(accessKeys.id, sessionCredentials.parentKeyId))
    .innerJoin(users, eq(users.id, accessKeys.userId))
    .where(
      and(
        eq(sessionCredentials.accessKeyId, sql.placeholder("id")),
        eq(accessKeys.status, "Active"),
        eq(users.enabled, true),
      ),
    )
    .prepare();
  return {
    /** Session credentials whose parent key is active and whose user is enabled (expiry is the caller's to check). */
    activeSession(accessKeyId: string) {
      return sessionQuery.get({ id: accessKeyId });
    },
    insertSession(s: typeof sessionCredentials.$inferInsert): void {
      db.insert(sessionCredentials).values(s).run();
    },
    dropExpiredSessions(now: Date): void {
      db.delete(sessionCredentials).where(lt(sessionCredentials.expiresAt, now)).run();
    },
    findUser(name: string): UserRecord | undefined {
      return db
        .select(userColumns)
        .from(users)
        .innerJoin(accounts, eq(users.accountId, accounts.id))
        .where(eq(users.name, name))
        .get();
    },
    findUserById(id: string): UserRecord | undefined {
      return db
        .select(userColumns)
        .from(users)
        .innerJoin(accounts, eq(users.accountId, accounts.id))
        .where(eq(users.id, id))
        .get();
    },
    listUsers(): UserRecord[] {
      return db
        .select(userColumns)
        .from(users)
        .innerJoin(accounts, eq(users.accountId, accounts.id))
        .orderBy(users.name)
        .all();
    },
    findAccountById(id: string) {
      return db.select().from(accounts).where(eq(accounts.id, id)).get();
    },
    findAccountByName(name: string) {
      return db.select().from(accounts).where(eq(accounts.name, name)).get();
    },
    /**
     * The user and one access key, atomically, in its account: a new one (the user is its
     * owner; false when an account of that name exists) or, with `join`, the existing one
     * (created, with the user as owner, when there is none). False when nothing was written.
     */
    insertUser(u: {
      id: string;
      name: string;
      isAdmin: boolean;
      account: { id: string; name: string; join: boolean };
      key: { id: string; secret: string };
      now: Date;
    }): boolean {
      return sqlite
        .transaction(() => {
          const existing = db.select().from(accounts).where(eq(accounts.name, u.account.name)).get();
          if (existing && !u.account.join) return false;
          const accountId = existing?.id ?? u.account.id;
          if (!existing) db.insert(accounts).values({ id: accountId, name: u.account.name, createdAt: u.now }).run();
          const isAccountOwner = !existing;
          db.insert(users)
            .values({
              id: u.id,
              accountId,
              name: u.name,
              isAdmin: u.isAdmin,
              isAccountOwner,
              enabled: true,
              createdAt: u.now,
            })
            .run();
          db.insert(accessKeys)
            .values({ id: u.key.id, userId: u.id, secret: u.key.secret, status: "Active", createdAt: u.now })
            .run();
          return true;
        })
        .immediate();
    },
    /** Deletes the user (keys and certificates cascade) and its account when it is left empty. */
    deleteUser(userId: string, accountId: string): void {
      sqlite.transaction(() => {
        db.delete(users).where(eq(users.id, userId)).run();
        const left = db.select({ id: users.id }).from(users).where(eq(users.accountId, accountId)).get();
        if (!left) db.delete(accounts).where(eq(accounts.id, accountId)).run();
      })();
    },
    /** An active key of an enabled user, with who the user is. */
    activeKey(accessKeyId: string): ActiveKeyRecord | undefined {
      return activeKeyQuery.get({ id: accessKeyId });
    },
    keysOf(userId: string): KeyRecord[] {
      return db
        .select({ accessKeyId: accessKeys.id, secret: accessKeys.secret, userId: accessKeys.userId })
        .from(accessKeys)
        .where(and(eq(accessKeys.userId, userId), eq(accessKeys.status, "Active")))
        .orderBy(accessKeys.createdAt)
        .all();
    },
    /** Every key of a user, active or not, oldest first (IAM ListAccessKeys). */
    allKeysOf(userId: string) {
      return db
        .select({ accessKeyId: accessKeys.id, status: accessKeys.status, createdAt: accessKeys.createdAt })
        .from(accessKeys)
        .where(eq(accessKeys.userId, userId))
        .orderBy(accessKeys.createdAt)
        .all();
    },
    /** Adds a key unless the user already has `max` (checked in the same transaction). */
    insertKey(k: { id: string; userId: string; secret: string; now: Date }, max: number): boolean {
      return sqlite
        .transaction(() => {
          if (
            db.select({ id: accessKeys.id }).from(accessKeys).where(eq(accessKeys.userId, k.userId)).all().length >= max
          )
            return false;
          db.insert(accessKeys)
            .values({ id: k.id, userId: k.userId, secret: k.secret, status: "Active", createdAt: k.now })
            .run();
          return true;
        })
        .immediate();
    },
    setKeyStatus(userId: string, accessKeyId: string, status: "Active" | "Inactive"): boolean {
      return (
        db
          .update(accessKeys)
          .set({ status })
          .where(and(eq(accessKeys.id, accessKeyId), eq(accessKeys.userId, userId)))
          .run().changes > 0
      );
    },
    deleteKey(userId: string, accessKeyId: string): boolean {
      return (
        db
          .delete(accessKeys)
          .where(and(eq(accessKeys.id, accessKeyId), eq(accessKeys.userId, userId)))
          .run().changes > 0
      );
    },
    setEnabled(userId: string, enabled: boolean): void {
      db.update(users).set({ enabled }).where(eq(users.id, userId)).run();
    },
    setAdmin(userId: string, isAdmin: boolean): void {
      db.update(users).set({ isAdmin }).where(eq(users.id, userId)).run();
    },
    usersOfAccount(accountId: string): UserRecord[] {
      return db
        .select(userColumns)
        .from(users)
        .innerJoin(accounts, eq(users.accountId, accounts.id))
        .where(eq(users.accountId, accountId))
        .orderBy(users.name)
        .all();
    },
    insertCertificate(c: { fingerprint: string; userId: string; pem: string; now: Date }): void {
      db.insert(certificates)
        .values({ fingerprint: c.fingerprint, userId: c.userId, pem: c.pem, createdAt: c.now, revoked: false })
        .run();
    },
    /** Valid certificates of every user of an account (manifest signatures). */
    certificatesOfAccount(accountId: string): string[] {
      return db
        .select({ pem: certificates.pem })
        .from(certificates)
        .innerJoin(users, eq(users.id, certificates.userId))
        .where(and(eq(users.accountId, accountId), eq(certificates.revoked, false)))
        .all()
        .map((r) => r.pem);
    },
  };
}

export type IdentityRepo = ReturnType<typeof createIdentityRepo>;
