/**
 * IAM basics (Eucalyptus' "Euare" subset that tools and the web interface need):
 * users of the caller's account and their access keys. A user manages its own keys;
 * the account's admin (its owner, recorded when the account was made for that user,
 * or a cloud admin) manages the account's users, but only a cloud admin manages a
 * cloud admin. Someone else's account does not exist for the caller. A user holds at
 * most two keys, as in AWS; an inactive key is refused everywhere.
 */
import type { Clock } from "../../../common/clock";
import type { IdGenerator } from "../../../common/ids";
import {
  AccessDeniedError,
  DependencyViolationError,
  InvalidParameterError,
  NotFoundError,
} from "../../../common/errors";
import type { IdentityRepo, UserRecord } from "./identity-repo";
import type { IdentityService, Principal } from "./identity-service";

export const MAX_KEYS_PER_USER = 2;

export interface IamUser {
  path: string;
  userName: string;
  userId: string;
  arn: string;
  createDate: Date;
}

export interface IamKey {
  userName: string;
  accessKeyId: string;
  status: "Active" | "Inactive";
  createDate: Date;
}

export function createIamService(o: { repo: IdentityRepo; identity: IdentityService; clock: Clock; ids: IdGenerator }) {
  const { repo } = o;
  const view = (u: UserRecord): IamUser => ({
    path: "/",
    userName: u.name,
    userId: u.id,
    arn: `arn:aws:iam::${u.accountId}:user/${u.name}`,
    createDate: u.createdAt,
  });
  const accountAdmin = (p: Principal) => p.isAdmin || repo.findUserById(p.userId)?.isAccountOwner === true;

  /** The user a call is about (the caller when unnamed); another account's users do not exist. */
  function target(p: Principal, userName: string | undefined, o2: { adminOnly?: boolean } = {}): UserRecord {
    const name = userName ?? p.userName;
    const u = repo.findUser(name);
    if (!u || u.accountId !== p.accountId) throw new NotFoundError("user", name);
    const other = o2.adminOnly || u.id !== p.userId;
    const allowed = accountAdmin(p) && (!u.isAdmin || p.isAdmin);
    if (other && !allowed) throw new AccessDeniedError(`User ${p.userName} is not authorized to manage user ${name}`);
    return u;
  }

  const keyView = (
    u: UserRecord,
    k: { accessKeyId: string; status: "Active" | "Inactive"; createdAt: Date },
  ): IamKey => ({ userName: u.name, accessKeyId: k.accessKeyId, status: k.status, createDate: k.createdAt });

  return {
    getUser: (p: Principal, userName?: string) => view(target(p, userName)),
    listUsers(p: Principal): IamUser[] {
      if (!accountAdmin(p)) return [view(target(p, undefined))];
      return repo.usersOfAccount(p.accountId).map(view);
    },
    async createUser(p: Principal, userName: string): Promise<IamUser> {
      if (!accountAdmin(p)) throw new AccessDeniedError(`User ${p.userName} is not authorized to create users`);
      const account = repo.findAccountById(p.accountId)!;
      const made = await o.identity.createUser(userName, { account: account.name });
      return view(made.user);
    },
    deleteUser(p: Principal, userName: string): void {
      const u = target(p, userName, { adminOnly: true });
      if (u.name === p.userName) throw new InvalidParameterError("UserName", "A user cannot delete itself");
      if (repo.allKeysOf(u.id).length)
        throw new DependencyViolationError("Cannot delete entity, must delete access keys first.");
      o.identity.deleteUser(u.name);
    },
    createAccessKey(p: Principal, userName?: string): IamKey & { secretAccessKey: string } {
      const u = target(p, userName);
      const key = { id: o.ids.accessKeyId(), secret: o.ids.secretKey(), userId: u.id, now: o.clock.now() };
      if (!repo.insertKey(key, MAX_KEYS_PER_USER))
        throw new InvalidParameterError(
          "AccessKey",
          `Cannot exceed quota for AccessKeysPerUser: ${MAX_KEYS_PER_USER}`,
          "limit-exceeded",
        );
      return {
        ...keyView(u, { accessKeyId: key.id, status: "Active", createdAt: key.now }),
        secretAccessKey: key.secret,
      };
    },
    listAccessKeys(p: Principal, userName?: string): IamKey[] {
      const u = target(p, userName);
      return repo.allKeysOf(u.id).map((k) => keyView(u, k));
    },
    updateAccessKey(p: Principal, accessKeyId: string, status: string, userName?: string): void {
      if (status !== "Active" && status !== "Inactive")
        throw new InvalidParameterError("Status", "Status must be Active or Inactive");
      const u = target(p, userName);
      if (!repo.setKeyStatus(u.id, accessKeyId, status)) throw new NotFoundError("access key of user", accessKeyId);
    },
    deleteAccessKey(p: Principal, accessKeyId: string, userName?: string): void {
      const u = target(p, userName);
      if (!repo.deleteKey(u.id, accessKeyId)) throw new NotFoundError("access key of user", accessKeyId);
    },
    accountSummary(p: Principal): Map<string, number> {
      const people = repo.usersOfAccount(p.accountId);
      return new Map([
        ["Users", people.length],
        ["UsersQuota", 5000],
        ["AccessKeysPerUserQuota", MAX_KEYS_PER_USER],
        ["Groups", 0],
        ["Policies", 0],
      ]);
    },
    accountAliases: (p: Principal): string[] => [repo.findAccountById(p.accountId)?.name ?? ""].filter(Boolean),
  };
}

export type IamService = ReturnType<typeof createIamService>;
