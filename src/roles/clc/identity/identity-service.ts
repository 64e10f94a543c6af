/**
 * Accounts, users and their credentials. The EC2 and S3 front doors ask it for an
 * access key's secret and for the principal behind a key; the CLI manages users
 * through it.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../../../common/clock";
import { safeEqual } from "../../../auth/crypto";
import type { IdGenerator } from "../../../common/ids";
import type { DataDirLayout } from "../../../common/data-dir";
import { AccessDeniedError, DuplicateError, InvalidParameterError, NotFoundError } from "../../../common/errors";
import type { IdentityRepo, UserRecord } from "./identity-repo";
import type { CloudCa } from "./cloud-ca";
import { issueUserCertificate, publicKeyTag } from "./pki";
import {
  existingBaseName,
  removeCredentialFiles,
  renderAwsConfig,
  renderAwsProfile,
  renderEucarc,
  writeCredentialFiles,
  type CloudEndpoints,
  type CredentialFiles,
  type CredentialSet,
} from "./credentials";

export const ADMIN_USER = "admin";
export const ADMIN_ACCOUNT = "eucalyptus";
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,29}$/;
/** Whether `name` can be a user's name (the login form checks it before any other work). */
export const isUserName = (name: string) => USER_NAME.test(name);
/**
 * Names nobody gets as a new user or account (compared without case): the cloud's own
 * account and user, and names people take for the operators'.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  ADMIN_ACCOUNT,
  ADMIN_USER,
  "administrator",
  "root",
  "system",
  "euca",
  "eucalyptus-admin",
  "aws",
  "amazon",
  "walrus",
  "storage",
  "cloud",
  "support",
  "security",
  "abuse",
  "postmaster",
  "hostmaster",
  "webmaster",
  "noreply",
  "no-reply",
]);

function refuseReserved(name: string, what: "name" | "account name"): void {
  if (RESERVED_NAMES.has(name.toLowerCase()))
    throw new InvalidParameterError("UserName", `The ${what} '${name}' is reserved`, "reserved-name");
}

export interface Principal {
  userId: string;
  userName: string;
  accountId: string;
  isAdmin: boolean;
  accessKeyId: string;
  /** Set when the caller signed with session credentials (STS GetSessionToken): when they expire. */
  sessionExpires?: Date;
}

/** What a protocol's front door asks of identity: a key's secret, and who is behind a key. */
export interface KeyLookup {
  lookupSecret(accessKeyId: string): string | undefined;
  /** With session credentials, their session token must come along (X-Amz-Security-Token, or SecurityToken in SigV2). */
  principal(accessKeyId: string, sessionToken?: string): Principal | undefined;
}

/** STS GetSessionToken's bounds for a user's credentials, in seconds (AWS: 15 minutes to 36 hours, 12 by default). */
export const SESSION_SECONDS = { min: 900, max: 129_600, default: 43_200 } as const;

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export interface IdentityServiceDeps {
  repo: IdentityRepo;
  layout: DataDirLayout;
  ca: CloudCa;
  /** The user-facing endpoints written into eucarc (known once the listeners are bound). */
  endpoints: () => CloudEndpoints;
  clock: Clock;
  ids: IdGenerator;
}

export interface CreatedUser {
  user: UserRecord;
  accessKeyId: string;
  credentials: CredentialFiles;
}

export function createIdentityService(d: IdentityServiceDeps) {
  const { repo } = d;

  function validateName(name: string): void {
    if (!USER_NAME.test(name)) {
      throw new InvalidParameterError(
        "UserName",
        `User name '${name}' is invalid: 1-30 characters of letters, digits, '_', '.', '@' and '-', not starting with '.', '@' or '-'`,
      );
    }
  }

  function credentialSet(user: UserRecord, baseName: string): CredentialSet {
    const key = repo.keysOf(user.id)[0];
    if (!key) throw new NotFoundError("access key of user", user.name);
    return {
      user: user.name,
      accountNumber: user.accountId,
      accessKeyId: key.accessKeyId,
      secretKey: key.secret,
      baseName,
    };
  }

  /** A new key pair and certificate for the user, recorded (manifests signed with it verify), and its file base name. */
  async function newKeyPair(user: UserRecord) {
    const pair = await issueUserCertificate(d.ca, { user: user.name, account: user.accountName }, d.clock.now());
    repo.insertCertificate({ fingerprint: pair.fingerprint, userId: user.id, pem: pair.certPem, now: d.clock.now() });
    return { pair, baseName: `euca2-${user.name}-${publicKeyTag(pair.certPem)}` };
  }

  /**
   * Writes the user's credential set, creating a key pair and certificate the first
   * time; later calls keep the pair and refresh eucarc (endpoints may have changed).
   */
  async function ensureCredentials(user: UserRecord): Promise<CredentialFiles> {
    const dir = d.layout.credentialsDir(user.name);
    const existing = existingBaseName(dir, user.name);
    if (existing) {
      return writeCredentialFiles(dir, credentialSet(user, existing), d.endpoints(), { cloudCertPem: d.ca.certPem });
    }
    const { pair, baseName } = await newKeyPair(user);
    return writeCredentialFiles(dir, credentialSet(user, baseName), d.endpoints(), {
      cloudCertPem: d.ca.certPem,
      keyPem: pair.keyPem,
      certPem: pair.certPem,
    });
  }

  async function insertUser(name: string, o: { admin: boolean; account: string; join: boolean }): Promise<CreatedUser> {
    if (repo.findUser(name)) throw new DuplicateError("user", name);
    const id = `AID${d.ids.accessKeyId().slice(3)}`;
    const key = { id: d.ids.accessKeyId(), secret: d.ids.secretKey() };
    const account = { id: d.ids.accountNumber(), name: o.account, join: o.join };
    if (!repo.insertUser({ id, name, isAdmin: o.admin, account, key, now: d.clock.now() }))
      throw new DuplicateError("account", o.account);
    const user = repo.findUser(name)!;
    return { user, accessKeyId: key.id, credentials: await ensureCredentials(user) };
  }

  return {
    ensureCredentials,

    /**
     * A fresh credential set for a download (Eucalyptus' web interface made a new key
     * pair and certificate each time): eucarc, the pair, cloud-cert.pem and AWS
     * profile files, with the user's oldest active access key.
     */
    async issueCredentials(name: string): Promise<Array<{ name: string; content: string }>> {
      const user = this.getUser(name);
      if (!repo.keysOf(user.id).length)
        throw new InvalidParameterError("AccessKey", "You have no active access key: create or activate one first");
      const { pair, baseName } = await newKeyPair(user);
      const set = credentialSet(user, baseName);
      const e = d.endpoints();
      return [
        { name: "eucarc", content: renderEucarc(set, e) },
        { name: "cloud-cert.pem", content: d.ca.certPem },
        { name: `${set.baseName}-pk.pem`, content: pair.keyPem },
        { name: `${set.baseName}-cert.pem`, content: pair.certPem },
        { name: "aws-credentials", content: renderAwsProfile(set, e) },
        { name: "aws-config", content: renderAwsConfig(set, e) },
      ];
    },

    /**
     * A user with an access key and credentials. Without `account`, in a new account of
     * its own name, which it owns; refused when an account of that name exists (a user
     * never joins someone else's account by its name). With `account` (IAM, or the admin
     * on the command line), in that account, as a plain member when it exists.
     */
    async createUser(name: string, opts: { admin?: boolean; account?: string } = {}): Promise<CreatedUser> {
      validateName(name);
      const accountName = opts.account ?? name;
      validateName(accountName);
      refuseReserved(name, "name");
      if (opts.account === undefined) refuseReserved(accountName, "account name");
      return insertUser(name, { admin: opts.admin ?? false, account: accountName, join: opts.account !== undefined });
    },

    /** Creates `admin`, the owner of account `eucalyptus`, unless it exists. Returns whether it made it. */
    async ensureAdmin(): Promise<{ created: boolean; credentials: CredentialFiles }> {
      const admin = repo.findUser(ADMIN_USER);
      if (admin) return { created: false, credentials: await ensureCredentials(admin) };
      const made = await insertUser(ADMIN_USER, { admin: true, account: ADMIN_ACCOUNT, join: false });
      return { created: true, credentials: made.credentials };
    },

    /** Throws Duplicate when a user or an account of that name exists (the sign-up checks before the admin sees it). */
    checkNewAccountName(name: string): void {
      refuseReserved(name, "name");
      if (repo.findUser(name)) throw new DuplicateError("user", name);
      if (repo.findAccountByName(name)) throw new DuplicateError("account", name);
    },

    listUsers(): UserRecord[] {
      return repo.listUsers();
    },

    /** The user of that name or id, if there is one. */
    findUser(by: { name: string } | { id: string }): UserRecord | undefined {
      return "name" in by ? repo.findUser(by.name) : repo.findUserById(by.id);
    },

    getUser(name: string): UserRecord {
      const u = repo.findUser(name);
      if (!u) throw new NotFoundError("user", name);
      return u;
    },

    /** A disabled user's keys, sessions and web login stop working; the admin user stays enabled. */
    setUserEnabled(name: string, enabled: boolean): UserRecord {
      const u = this.getUser(name);
      if (u.name === ADMIN_USER && !enabled) throw new AccessDeniedError("The admin user cannot be disabled");
      repo.setEnabled(u.id, enabled);
      return { ...u, enabled };
    },

    /** Gives or takes the cloud admin's powers (the admin user keeps them). */
    setUserAdmin(name: string, isAdmin: boolean): UserRecord {
      const u = this.getUser(name);
      if (u.name === ADMIN_USER && !isAdmin) throw new AccessDeniedError("The admin user cannot lose its admin powers");
      repo.setAdmin(u.id, isAdmin);
      return { ...u, isAdmin };
    },

    /** The oldest active access key of a user (the web interface signs its presigned requests with it). */
    signingKeyOf(name: string): { accessKeyId: string; secret: string } | undefined {
      const k = repo.keysOf(this.getUser(name).id)[0];
      return k && { accessKeyId: k.accessKeyId, secret: k.secret };
    },

    /** Throws InvalidParameter unless `name` can name a user. */
    validateName,

    deleteUser(name: string): void {
      const u = repo.findUser(name);
      if (!u) throw new NotFoundError("user", name);
      if (u.name === ADMIN_USER) throw new AccessDeniedError("The admin user cannot be deleted");
      repo.deleteUser(u.id, u.accountId);
      removeCredentialFiles(d.layout.credentialsDir(u.name));
    },

    /** The secret of an active key of an enabled user (or of unexpired session credentials made with one), for signature checks. */
    lookupSecret(accessKeyId: string): string | undefined {
      const key = repo.activeKey(accessKeyId);
      if (key) return key.secret;
      const s = repo.activeSession(accessKeyId);
      return s && s.expiresAt > d.clock.now() ? s.secret : undefined;
    },

    /**
     * Who signed with `accessKeyId`. Session credentials count only with their session
     * token (X-Amz-Security-Token) and until they expire; they end with the key that
     * made them, or its user.
     */
    principal(accessKeyId: string, sessionToken?: string): Principal | undefined {
      const key = repo.activeKey(accessKeyId);
      if (key)
        return {
          userId: key.userId,
          userName: key.userName,
          accountId: key.accountId,
          isAdmin: key.isAdmin,
          accessKeyId,
        };
      const s = repo.activeSession(accessKeyId);
      if (
        !s ||
        sessionToken === undefined ||
        s.expiresAt <= d.clock.now() ||
        !safeEqual(sha256(sessionToken), s.tokenSha256)
      )
        return undefined;
      return {
        userId: s.userId,
        userName: s.userName,
        accountId: s.accountId,
        isAdmin: s.isAdmin,
        accessKeyId,
        sessionExpires: s.expiresAt,
      };
    },

    /** STS GetSessionToken: temporary credentials for the caller's key (not from session credentials themselves, as in AWS). */
    createSession(p: Principal, durationSeconds: number = SESSION_SECONDS.default): SessionCredentials {
      if (p.sessionExpires) throw new AccessDeniedError("Cannot call GetSessionToken with session credentials");
      if (
        !Number.isInteger(durationSeconds) ||
        durationSeconds < SESSION_SECONDS.min ||
        durationSeconds > SESSION_SECONDS.max
      ) {
        throw new InvalidParameterError(
          "DurationSeconds",
          `DurationSeconds must be between ${SESSION_SECONDS.min} and ${SESSION_SECONDS.max}`,
        );
      }
      const now = d.clock.now();
      repo.dropExpiredSessions(now);
      const creds: SessionCredentials = {
        accessKeyId: `ASIA${d.ids.accessKeyId().slice(4)}`,
        secretAccessKey: d.ids.secretKey(),
        sessionToken: randomBytes(96).toString("base64"),
        expiration: new Date(now.getTime() + durationSeconds * 1000),
      };
      repo.insertSession({
        accessKeyId: creds.accessKeyId,
        parentKeyId: p.accessKeyId,
        secret: creds.secretAccessKey,
        tokenSha256: sha256(creds.sessionToken),
        expiresAt: creds.expiration,
      });
      return creds;
    },

    /** The credential set of a user as files in the data directory (for `euca admin credentials`). */
    credentialSetOf(name: string): { set: CredentialSet; dir: string } {
      const u = this.getUser(name);
      const dir = d.layout.credentialsDir(u.name);
      const base = existingBaseName(dir, u.name);
      if (!base) throw new NotFoundError("credentials of user", name);
      return { set: credentialSet(u, base), dir };
    },

    certificatesOfAccount(accountId: string): string[] {
      return repo.certificatesOfAccount(accountId);
    },

    accountName(accountId: string): string | undefined {
      return repo.findAccountById(accountId)?.name;
    },

    /** The cloud's own account (admin's), which aws-exec-read grants READ to. */
    systemAccountId(): string | undefined {
      return repo.findAccountByName(ADMIN_ACCOUNT)?.id;
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
