/**
 * People in the web interface: applications for an account (Eucalyptus 1.6's sign-up:
 * apply → the admin approves or rejects → the applicant confirms from a mailed link →
 * the user exists), passwords (scrypt), password recovery, the admin's initial
 * password; logins and sessions are ./web-logins.ts'. A new password ends the user's
 * sessions and reset links. Only digests of mailed codes are stored. Users themselves
 * (keys, certificates) stay the identity service's.
 */
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import {
  AccessDeniedError,
  DuplicateError,
  IncorrectStateError,
  InvalidParameterError,
  NotFoundError,
} from "../../common/errors";
import { hashPassword, passwordProblem, randomPassword, verifyPassword } from "../../auth/passwords";
import type { SignupField } from "../../config/settings";
import type { ClcDatabase } from "./database";
import { ADMIN_USER, type IdentityService } from "./identity-service";
import type { UserRecord } from "./identity-repo";
import type { AuditLog } from "./audit";
import type { Mailer } from "./mail";
import { accountApplications, passwordResets, userProfiles } from "./schema";
import { createWebLogins, type SessionUser } from "./web-logins";

export type { SessionUser } from "./web-logins";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const code = () => randomBytes(24).toString("base64url");
const EMAIL = /^[^\s@<>()",;:]{1,64}@[^\s@<>()",;:]{1,255}$/;
const RESET_MS = 3600 * 1000;

export interface Application {
  id: string;
  userName: string;
  fullName: string;
  email: string;
  extras: Partial<Record<SignupField, string>>;
  state: "pending" | "approved" | "rejected" | "confirmed";
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
}

export interface ApplicationInput {
  userName: string;
  password: string;
  password2: string;
  fullName: string;
  email: string;
  extras: Partial<Record<SignupField, string>>;
}

export interface UserWithProfile extends UserRecord {
  fullName: string;
  email: string;
  hasPassword: boolean;
  lockedUntil: Date | null;
}

export interface WebAccountOptions {
  db: ClcDatabase;
  identity: IdentityService;
  audit: AuditLog;
  mail: Mailer;
  clock: Clock;
  ids: IdGenerator;
  /** The web interface's address for links in mail. */
  webUrl: () => string;
  signupFields: readonly SignupField[];
  /** Wrong passwords in a row before logins pause; the longest pause. Read on every login. */
  loginAttempts: number;
  lockoutMs: number;
  sessionIdleMs: number;
  /** Where the admin's first password is kept: removed once the admin has chosen another. */
  adminPasswordFile?: string;
}

export function createWebAccounts(o: WebAccountOptions) {
  const { db, sqlite } = o.db;
  const now = () => o.clock.now();
  const logins = createWebLogins({
    db: o.db,
    identity: o.identity,
    audit: o.audit,
    clock: o.clock,
    get sessionIdleMs() {
      return o.sessionIdleMs;
    },
    policy: () => ({ freeAttempts: o.loginAttempts, maxPauseMs: o.lockoutMs }),
  });

  function profileOf(userId: string) {
    return db.select().from(userProfiles).where(eq(userProfiles.userId, userId)).get();
  }

  function checkPassword(password: string, again: string, userName: string): void {
    if (password !== again) throw new InvalidParameterError("password2", "The two passwords differ");
    const problem = passwordProblem(password, userName);
    if (problem) throw new InvalidParameterError("password", problem);
  }

  function toApplication(r: typeof accountApplications.$inferSelect): Application {
    return {
      id: r.id,
      userName: r.userName,
      fullName: r.fullName,
      email: r.email,
      extras: JSON.parse(r.extras),
      state: r.state,
      createdAt: r.createdAt,
      decidedAt: r.decidedAt,
      decidedBy: r.decidedBy,
    };
  }

  function application(id: string) {
    const r = db.select().from(accountApplications).where(eq(accountApplications.id, id)).get();
    if (!r) throw new NotFoundError("account application", id);
    return r;
  }

  /** Where mail for the admins goes: every admin's address, or the outbox alone. */
  function adminAddresses(): string[] {
    const admins = o.identity.listUsers().filter((u) => u.isAdmin && u.enabled);
    const addresses = admins.map((u) => profileOf(u.id)?.email ?? "").filter(Boolean);
    return addresses.length ? addresses : ["admin@localhost"];
  }

  /** A new password: the user's sessions and reset links end with the old one. */
  async function setPassword(userId: string, password: string, mustChange: boolean): Promise<void> {
    const passwordHash = await hashPassword(password);
    sqlite.transaction(() => {
      db.insert(userProfiles)
        .values({ userId, passwordHash, mustChange, failedLogins: 0 })
        .onConflictDoUpdate({
          target: userProfiles.userId,
          set: { passwordHash, mustChange, failedLogins: 0, lockedUntil: null },
        })
        .run();
      db.delete(passwordResets).where(eq(passwordResets.userId, userId)).run();
      logins.endSessionsOf(userId);
    })();
    if (!mustChange && o.adminPasswordFile && o.identity.getUser(ADMIN_USER).id === userId)
      rmSync(o.adminPasswordFile, { force: true });
  }

  return {
    get signupFields() {
      return o.signupFields;
    },
    login: logins.login,
    session: logins.session,
    logout: logins.logout,
    dropStaleSessions: logins.dropStaleSessions,

    /** The anonymous sign-up form. The admins are told by mail. */
    async apply(input: ApplicationInput, address: string): Promise<Application> {
      const userName = input.userName.trim();
      o.identity.validateName(userName);
      o.identity.checkNewAccountName(userName);
      checkPassword(input.password, input.password2, userName);
      const fullName = input.fullName.trim();
      if (!fullName || fullName.length > 100)
        throw new InvalidParameterError("fullName", "The full name is required (at most 100 characters)");
      const email = input.email.trim();
      if (!EMAIL.test(email)) throw new InvalidParameterError("email", `'${email}' is not an e-mail address`);
      const extras: Partial<Record<SignupField, string>> = {};
      for (const f of o.signupFields) {
        const v = (input.extras[f] ?? "").trim();
        if (v.length > 1000) throw new InvalidParameterError(f, `The ${f} field is at most 1000 characters`);
        if (v) extras[f] = v;
      }
      const passwordHash = await hashPassword(input.password);
      const id = `app-${randomBytes(8).toString("hex")}`;
      sqlite
        .transaction(() => {
          // The name is a new account's too: no user or account of that name (checked again at confirm).
          o.identity.checkNewAccountName(userName);
          const taken = db
            .select({ id: accountApplications.id })
            .from(accountApplications)
            .where(
              and(
                eq(accountApplications.userName, userName),
                inArray(accountApplications.state, ["pending", "approved", "confirmed"]),
              ),
            )
            .get();
          if (taken) throw new DuplicateError("user", userName);
          // A rejected application's name may be asked for again.
          db.delete(accountApplications)
            .where(and(eq(accountApplications.userName, userName), eq(accountApplications.state, "rejected")))
            .run();
          db.insert(accountApplications)
            .values({
              id,
              userName,
              fullName,
              email,
              extras: JSON.stringify(extras),
              passwordHash,
              state: "pending",
              createdAt: now(),
            })
            .run();
        })
        .immediate();
      o.audit.record({ actor: userName, action: "apply", target: id, address });
      for (const to of adminAddresses()) {
        await o.mail.send({
          to,
          subject: `[euca] account application from ${userName}`,
          body: `${fullName} <${email}> applied for the account '${userName}'.\n\nApprove or reject it in the web interface: ${o.webUrl()}/admin/applications\n`,
        });
      }
      return toApplication(application(id));
    },

    applications(states: Application["state"][] = ["pending", "approved"]): Application[] {
      return db
        .select()
        .from(accountApplications)
        .where(inArray(accountApplications.state, states))
        .orderBy(accountApplications.createdAt)
        .all()
        .map(toApplication);
    },

    /** The admin approves: the applicant is mailed a link that makes the account. */
    async approve(admin: SessionUser, id: string, address: string): Promise<void> {
      const r = application(id);
      if (r.state !== "pending") throw new IncorrectStateError(`The application ${id} is ${r.state}, not pending`);
      const c = code();
      db.update(accountApplications)
        .set({ state: "approved", codeSha256: sha256(c), decidedAt: now(), decidedBy: admin.userName })
        .where(eq(accountApplications.id, id))
        .run();
      o.audit.record({ actor: admin.userName, action: "approve-application", target: r.userName, address });
      await o.mail.send({
        to: r.email,
        subject: "[euca] your account was approved",
        body: `Hello ${r.fullName},\n\nyour application for the account '${r.userName}' was approved. Confirm it to start using the cloud:\n\n${o.webUrl()}/confirm?code=${c}\n`,
      });
    },

    async reject(admin: SessionUser, id: string, reason: string, address: string): Promise<void> {
      const r = application(id);
      if (r.state !== "pending") throw new IncorrectStateError(`The application ${id} is ${r.state}, not pending`);
      db.update(accountApplications)
        .set({ state: "rejected", decidedAt: now(), decidedBy: admin.userName })
        .where(eq(accountApplications.id, id))
        .run();
      o.audit.record({
        actor: admin.userName,
        action: "reject-application",
        target: r.userName,
        detail: reason.slice(0, 500),
        address,
      });
      await o.mail.send({
        to: r.email,
        subject: "[euca] your account application",
        body: `Hello ${r.fullName},\n\nyour application for the account '${r.userName}' was not approved.${reason ? `\n\nReason: ${reason}` : ""}\n`,
      });
    },

    /** The mailed link: makes the user (own account, keys, certificate) with the password given at sign-up. */
    async confirm(c: string, address: string): Promise<string> {
      const r = db
        .select()
        .from(accountApplications)
        .where(eq(accountApplications.codeSha256, sha256(c)))
        .get();
      if (!r || r.state !== "approved")
        throw new InvalidParameterError("code", "This confirmation link is not valid (or was used already)");
      const made = await o.identity.createUser(r.userName);
      db.insert(userProfiles)
        .values({
          userId: made.user.id,
          fullName: r.fullName,
          email: r.email,
          extras: r.extras,
          passwordHash: r.passwordHash,
          mustChange: false,
        })
        .run();
      db.update(accountApplications)
        .set({ state: "confirmed", codeSha256: null })
        .where(eq(accountApplications.id, r.id))
        .run();
      o.audit.record({ actor: r.userName, action: "confirm-account", target: r.userName, address });
      return r.userName;
    },

    /** Returns the session that replaces the caller's (every session of the user ends). */
    async changePassword(
      user: SessionUser,
      current: string,
      password: string,
      again: string,
      address: string,
    ): Promise<string> {
      const p = profileOf(user.userId);
      if (!p?.passwordHash || !(await verifyPassword(current, p.passwordHash)))
        throw new AccessDeniedError("The current password is wrong");
      checkPassword(password, again, user.userName);
      if (current === password)
        throw new InvalidParameterError("password", "The new password must differ from the current one");
      await setPassword(user.userId, password, false);
      o.audit.record({ actor: user.userName, action: "change-password", address });
      return logins.startSession(user.userId);
    },

    /** Mails a reset link to the user with that name or address; the answer is the same either way. */
    async requestReset(nameOrEmail: string, address: string): Promise<void> {
      const wanted = nameOrEmail.trim();
      const byEmail = wanted.includes("@")
        ? db
            .select({ id: userProfiles.userId })
            .from(userProfiles)
            .where(sql`lower(${userProfiles.email}) = ${wanted.toLowerCase()}`)
            .get()
        : undefined;
      const found = o.identity.findUser({ name: wanted }) ?? (byEmail && o.identity.findUser({ id: byEmail.id }));
      const u = found && found.enabled ? found : undefined;
      const p = u && profileOf(u.id);
      o.audit.record({
        actor: wanted.slice(0, 100),
        action: "password-reset-requested",
        detail: p?.email ? "mailed" : "no such user or no address",
        address,
      });
      if (!u || !p?.email) return;
      const c = code();
      db.insert(passwordResets)
        .values({ codeSha256: sha256(c), userId: u.id, expiresAt: new Date(now().getTime() + RESET_MS) })
        .run();
      await o.mail.send({
        to: p.email,
        subject: "[euca] password reset",
        body: `Someone (you, we hope) asked to reset the password of '${u.name}'. Choose a new one within an hour:\n\n${o.webUrl()}/reset?code=${c}\n\nIf it was not you, ignore this message.\n`,
      });
    },

    async reset(c: string, password: string, again: string, address: string): Promise<string> {
      const r = db
        .select()
        .from(passwordResets)
        .where(eq(passwordResets.codeSha256, sha256(c)))
        .get();
      if (!r || r.expiresAt < now())
        throw new InvalidParameterError("code", "This reset link is not valid (or has expired)");
      const u = o.identity.findUser({ id: r.userId })!;
      checkPassword(password, again, u.name);
      await setPassword(u.id, password, false);
      o.audit.record({ actor: u.name, action: "password-reset", address });
      return u.name;
    },

    usersWithProfiles(): UserWithProfile[] {
      const profiles = new Map(
        db
          .select()
          .from(userProfiles)
          .all()
          .map((p) => [p.userId, p]),
      );
      return o.identity.listUsers().map((u) => {
        const p = profiles.get(u.id);
        return {
          ...u,
          fullName: p?.fullName ?? "",
          email: p?.email ?? "",
          hasPassword: Boolean(p?.passwordHash),
          lockedUntil: p?.lockedUntil ?? null,
        };
      });
    },

    /** The admin adds a user directly: a temporary password that its first login must change. */
    async addUser(
      admin: SessionUser,
      input: { userName: string; fullName: string; email: string; isAdmin: boolean },
      address: string,
    ): Promise<{ password: string }> {
      const email = input.email.trim();
      if (email && !EMAIL.test(email)) throw new InvalidParameterError("email", `'${email}' is not an e-mail address`);
      const made = await o.identity.createUser(input.userName.trim(), { admin: input.isAdmin });
      const password = randomPassword();
      await setPassword(made.user.id, password, true);
      db.update(userProfiles)
        .set({ fullName: input.fullName.trim().slice(0, 100), email })
        .where(eq(userProfiles.userId, made.user.id))
        .run();
      o.audit.record({
        actor: admin.userName,
        action: "add-user",
        target: made.user.name,
        detail: input.isAdmin ? "admin" : "",
        address,
      });
      return { password };
    },

    /** Enable, disable, make admin, unlock or delete a user, as the admin; audited. */
    adminAction(
      admin: SessionUser,
      userName: string,
      action: "enable" | "disable" | "make-admin" | "revoke-admin" | "unlock" | "delete",
      address: string,
    ): void {
      if (userName === admin.userName && action !== "unlock" && action !== "enable")
        throw new InvalidParameterError("user", "Admins do not disable, demote or delete themselves here");
      const u = o.identity.getUser(userName);
      switch (action) {
        case "enable":
        case "disable":
          o.identity.setUserEnabled(u.name, action === "enable");
          if (action === "disable") logins.endSessionsOf(u.id);
          break;
        case "make-admin":
        case "revoke-admin":
          o.identity.setUserAdmin(u.name, action === "make-admin");
          break;
        case "unlock":
          logins.unpause(u.id);
          break;
        case "delete":
          o.identity.deleteUser(u.name);
          db.delete(accountApplications).where(eq(accountApplications.userName, u.name)).run();
          break;
      }
      o.audit.record({ actor: admin.userName, action: `${action}-user`, target: u.name, address });
    },
  };
}

export type WebAccounts = ReturnType<typeof createWebAccounts>;
