/** What the web's account services share: their options, records and the codes they mail. */
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import type { SignupField } from "../../../config/settings";
import type { ClcDatabase } from "../database";
import type { IdentityService } from "../identity/identity-service";
import type { UserRecord } from "../identity/identity-repo";
import type { AuditLog } from "./audit";
import type { Mailer } from "./mail";

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
export const code = () => randomBytes(24).toString("base64url");
export const EMAIL = /^[^\s@<>()",;:]{1,64}@[^\s@<>()",;:]{1,255}$/;
export const RESET_MS = 3600 * 1000;

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
