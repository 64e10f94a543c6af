/**
 * People in the web interface: applications for an account (Eucalyptus 1.6's sign-up:
 * apply → the admin approves or rejects → the applicant confirms from a mailed link →
 * the user exists), passwords (scrypt), password recovery, the admin's initial
 * password; logins and sessions are ./web-logins.ts'. A new password ends the user's
 * sessions and reset links. Only digests of mailed codes are stored. Users themselves
 * (keys, certificates) stay the identity service's.
 */
import { rmSync } from "node:fs";
import { eq, sql } from "drizzle-orm";
import { AccessDeniedError, InvalidParameterError } from "../../../common/errors";
import { hashPassword, passwordProblem, randomPassword, verifyPassword } from "../../../auth/passwords";
import { ADMIN_USER } from "../identity/identity-service";
import { accountApplications, passwordResets, userProfiles } from "../schema";
import { createWebLogins, type SessionUser } from "./web-logins";
import { webApplications } from "./web-applications";
import { code, EMAIL, RESET_MS, sha256, type UserWithProfile, type WebAccountOptions } from "./web-account-types";

export type { SessionUser } from "./web-logins";

export type { Application, ApplicationInput, UserWithProfile, WebAccountOptions } from "./web-account-types";

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

  const applications = webApplications(o, { checkPassword, adminAddresses });
  return {
    get signupFields() {
      return o.signupFields;
    },
    login: logins.login,
    session: logins.session,
    logout: logins.logout,
    dropStaleSessions: logins.dropStaleSessions,

    ...applications,

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
