/**
 * Applications for an account (Eucalyptus 1.6's sign-up): apply → the admins are told and
 * approve or reject → the applicant confirms from a mailed link → the user exists with the
 * password they chose. Only digests of mailed codes are stored.
 */
import { randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { DuplicateError, IncorrectStateError, InvalidParameterError, NotFoundError } from "../../../common/errors";
import { hashPassword } from "../../../auth/passwords";
import type { SignupField } from "../../../config/settings";
import { accountApplications, userProfiles } from "../schema";
import type { SessionUser } from "./web-logins";
import {
  type Application,
  type ApplicationInput,
  code,
  EMAIL,
  sha256,
  type WebAccountOptions,
} from "./web-account-types";

export interface ApplicationHelpers {
  checkPassword(password: string, again: string, userName: string): void;
  adminAddresses(): string[];
}

export function webApplications(o: WebAccountOptions, h: ApplicationHelpers) {
  const { db, sqlite } = o.db;
  const now = () => o.clock.now();
  const { checkPassword, adminAddresses } = h;
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

  return {
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
  };
}
