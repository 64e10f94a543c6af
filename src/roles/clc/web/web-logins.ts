/**
 * Web logins and sessions. A login counts as a wrong password before its password is
 * checked (and is cleared when it was right), one check per user name at a time, so
 * a burst of concurrent guesses is counted in full; see ./login-throttle.ts for how
 * wrong passwords slow a name down. Every refusal gives the same answer, whether the
 * name is unknown, paused or its password wrong. A user keeps at most
 * MAX_SESSIONS_PER_USER sessions (the oldest end first); only digests of session ids
 * are stored.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, lt, notInArray, or, sql } from "drizzle-orm";
import type { Clock } from "../../../common/clock";
import { AccessDeniedError } from "../../../common/errors";
import { UNKNOWN_USER_HASH, verifyPassword } from "../../../auth/passwords";
import type { ClcDatabase } from "../database";
import { isUserName, type IdentityService } from "../identity/identity-service";
import type { AuditLog } from "./audit";
import {
  afterFailure,
  createInFlight,
  createUnknownNameCounts,
  type ThrottlePolicy,
  type ThrottleState,
} from "./login-throttle";
import { loginAddresses, userProfiles, webSessions } from "../schema";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
export const MAX_SESSION_MS = 12 * 3600 * 1000;
/** A session's last-seen time is written at most this often (every request would be a write). */
const TOUCH_MS = 30_000;
export const MAX_SESSIONS_PER_USER = 20;
/** Addresses remembered per user (the most recent logins). */
const MAX_ADDRESSES_PER_USER = 16;
/** The one answer to every refused login. */
export const LOGIN_REFUSED =
  "The user name or password is wrong, or this login is paused after wrong passwords: wait a little and try again";

/** Who a session belongs to, read afresh on every request (a disabled user's sessions stop at once). */
export interface SessionUser {
  userId: string;
  userName: string;
  accountId: string;
  accountName: string;
  isAdmin: boolean;
  mustChangePassword: boolean;
  fullName: string;
  email: string;
}

export interface WebLoginOptions {
  db: ClcDatabase;
  identity: IdentityService;
  audit: AuditLog;
  clock: Clock;
  /** Read on every login (the settings page changes them live). */
  policy: () => ThrottlePolicy;
  sessionIdleMs: number;
}

export function createWebLogins(o: WebLoginOptions) {
  const { db, sqlite } = o.db;
  const now = () => o.clock.now();
  const unknownNames = createUnknownNameCounts();
  const inFlight = createInFlight();
  const profileOf = (userId: string) => db.select().from(userProfiles).where(eq(userProfiles.userId, userId)).get();

  const loggedInFrom = (userId: string, address: string) =>
    address !== "" &&
    db
      .select({ a: loginAddresses.address })
      .from(loginAddresses)
      .where(and(eq(loginAddresses.userId, userId), eq(loginAddresses.address, address)))
      .get() !== undefined;

  function rememberAddress(userId: string, address: string): void {
    if (!address) return;
    sqlite.transaction(() => {
      db.insert(loginAddresses)
        .values({ userId, address, lastLogin: now() })
        .onConflictDoUpdate({ target: [loginAddresses.userId, loginAddresses.address], set: { lastLogin: now() } })
        .run();
      const keep = db
        .select({ a: loginAddresses.address })
        .from(loginAddresses)
        .where(eq(loginAddresses.userId, userId))
        .orderBy(desc(loginAddresses.lastLogin))
        .limit(MAX_ADDRESSES_PER_USER - 1)
        .all()
        .map((r) => r.a);
      db.delete(loginAddresses)
        .where(and(eq(loginAddresses.userId, userId), notInArray(loginAddresses.address, [address, ...keep])))
        .run();
    })();
  }

  /** A name's wrong passwords in a row and its pause: a user's in the database, others' here. */
  function stateOf(name: string, userId: string | undefined): ThrottleState {
    if (!userId) return unknownNames.get(name);
    const p = profileOf(userId)!;
    return { failures: p.failedLogins, pausedUntil: p.lockedUntil };
  }

  function setState(name: string, userId: string | undefined, s: ThrottleState): void {
    if (!userId) unknownNames.set(name, s);
    else
      db.update(userProfiles)
        .set({ failedLogins: s.failures, lockedUntil: s.pausedUntil })
        .where(eq(userProfiles.userId, userId))
        .run();
  }

  /** The user of that name with a web password, and its profile; a name without one counts as unknown. */
  function passwordUser(name: string) {
    const u = o.identity.findUser({ name });
    const p = u && profileOf(u.id);
    return p ? { u: u!, p } : { u: undefined, p: undefined };
  }

  /** One more wrong password for a name whose check is running (not one refused by a pause: that is no guess). */
  function countBusy(name: string): void {
    const id = passwordUser(name).u?.id;
    const s = stateOf(name, id);
    if (!(s.pausedUntil && s.pausedUntil > now())) setState(name, id, afterFailure(s, now(), o.policy()));
  }

  function startSession(userId: string): string {
    const id = randomBytes(32).toString("base64url");
    const t = now();
    sqlite.transaction(() => {
      db.insert(webSessions)
        .values({ idSha256: sha256(id), userId, createdAt: t, lastSeen: t })
        .run();
      const keep = db
        .select({ id: webSessions.idSha256 })
        .from(webSessions)
        .where(eq(webSessions.userId, userId))
        .orderBy(desc(webSessions.createdAt), desc(sql`rowid`))
        .limit(MAX_SESSIONS_PER_USER)
        .all()
        .map((r) => r.id);
      db.delete(webSessions)
        .where(and(eq(webSessions.userId, userId), notInArray(webSessions.idSha256, keep)))
        .run();
    })();
    return id;
  }

  function session(sessionId: string): SessionUser | undefined {
    const s = db
      .select()
      .from(webSessions)
      .where(eq(webSessions.idSha256, sha256(sessionId)))
      .get();
    const t = now().getTime();
    if (!s) return undefined;
    if (t - s.lastSeen.getTime() > o.sessionIdleMs || t - s.createdAt.getTime() > MAX_SESSION_MS) {
      db.delete(webSessions).where(eq(webSessions.idSha256, s.idSha256)).run();
      return undefined;
    }
    const u = o.identity.findUser({ id: s.userId });
    if (!u || !u.enabled) return undefined;
    if (t - s.lastSeen.getTime() > TOUCH_MS)
      db.update(webSessions)
        .set({ lastSeen: new Date(t) })
        .where(eq(webSessions.idSha256, s.idSha256))
        .run();
    const p = profileOf(u.id);
    return {
      userId: u.id,
      userName: u.name,
      accountId: u.accountId,
      accountName: u.accountName,
      isAdmin: u.isAdmin,
      mustChangePassword: p?.mustChange ?? false,
      fullName: p?.fullName ?? "",
      email: p?.email ?? "",
    };
  }

  function refuse(actor: string, action: string, detail: string, address: string): never {
    o.audit.record({ actor, action, detail, address });
    throw new AccessDeniedError(LOGIN_REFUSED);
  }

  return {
    startSession,
    session,

    /** A login: a new session for a right password of an enabled user, else LOGIN_REFUSED. */
    async login(
      userName: string,
      password: string,
      address: string,
    ): Promise<{ sessionId: string; user: SessionUser }> {
      // A name no user can have is refused before any work (and recorded by its length only).
      if (!isUserName(userName)) refuse("", "login-failed", `not a user name (${userName.length} characters)`, address);
      if (!inFlight.enter(userName)) {
        // Not checked, but counted: a burst of guesses at once costs what it would one by one.
        countBusy(userName);
        refuse(userName, "login-refused-busy", "another login of this name is being checked", address);
      }
      try {
        const { u, p } = passwordUser(userName);
        const t = now();
        const before = stateOf(userName, u?.id);
        // A paused name's password is not checked (no guessing during a pause), unless the
        // attempt comes from where this user logged in before.
        if (before.pausedUntil && before.pausedUntil > t && !(u && loggedInFrom(u.id, address))) {
          refuse(userName, "login-refused-paused", `${before.failures} wrong in a row`, address);
        }
        // Counted as wrong before the check (and cleared when right): nothing between the
        // read above and this write yields, so no concurrent attempt sees a stale count.
        setState(userName, u?.id, afterFailure(before, t, o.policy()));
        const ok = await verifyPassword(password, p?.passwordHash ?? UNKNOWN_USER_HASH);
        if (!u || !ok || !u.enabled) {
          const why = !u
            ? "unknown user or no password"
            : !u.enabled
              ? "user disabled"
              : `${before.failures + 1} wrong in a row`;
          refuse(userName, "login-failed", why, address);
        }
        setState(userName, u.id, { failures: 0, pausedUntil: null });
        rememberAddress(u.id, address);
        o.audit.record({ actor: userName, action: "login", address });
        const sessionId = startSession(u.id);
        return { sessionId, user: session(sessionId)! };
      } finally {
        inFlight.leave(userName);
      }
    },

    logout(sessionId: string, user: SessionUser | undefined, address: string): void {
      db.delete(webSessions)
        .where(eq(webSessions.idSha256, sha256(sessionId)))
        .run();
      if (user) o.audit.record({ actor: user.userName, action: "logout", address });
    },

    /** Ends every session of a user (its password changed, it was disabled). */
    endSessionsOf(userId: string): void {
      db.delete(webSessions).where(eq(webSessions.userId, userId)).run();
    },

    /** Sessions that timed out go (each request also checks its own). */
    dropStaleSessions(): number {
      const t = now().getTime();
      return db
        .delete(webSessions)
        .where(
          or(
            lt(webSessions.lastSeen, new Date(t - o.sessionIdleMs)),
            lt(webSessions.createdAt, new Date(t - MAX_SESSION_MS)),
          ),
        )
        .run().changes;
    },

    /** Clears a user's wrong-password count and pause (the admin's unlock). */
    unpause(userId: string): void {
      db.update(userProfiles).set({ failedLogins: 0, lockedUntil: null }).where(eq(userProfiles.userId, userId)).run();
    },
  };
}

export type WebLogins = ReturnType<typeof createWebLogins>;
