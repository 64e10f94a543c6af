/**
 * IAM (Version 2010-05-08), the Euare subset: users and access keys of the caller's
 * account, the account summary and its alias (the Eucalyptus account name). Any other
 * IAM action is IAM's InvalidAction.
 */
import type { IamKey, IamService, IamUser } from "../../roles/clc/identity/iam";
import { QueryError, type QueryAction, type QueryActionContext, type QueryServiceDef } from "./app";

export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

const user = (u: IamUser) => ({
  Path: u.path,
  UserName: u.userName,
  UserId: u.userId,
  Arn: u.arn,
  CreateDate: u.createDate,
});
const key = (k: IamKey) => ({
  UserName: k.userName,
  AccessKeyId: k.accessKeyId,
  Status: k.status,
  CreateDate: k.createDate,
});

function required(ctx: QueryActionContext, name: string): string {
  const v = ctx.param(name);
  if (v === undefined || v === "")
    throw new QueryError(
      "ValidationError",
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  return v;
}

/** As in AWS, credentials from GetSessionToken (without MFA) cannot call IAM. */
function notWithSession(actions: Record<string, QueryAction>): Record<string, QueryAction> {
  return Object.fromEntries(
    Object.entries(actions).map(([name, run]) => [
      name,
      (c: QueryActionContext) => {
        if (c.principal.sessionExpires)
          throw new QueryError("AccessDenied", `Cannot call ${name} with session credentials`, 403);
        return run(c);
      },
    ]),
  );
}

export function iamService(iam: IamService): QueryServiceDef {
  return {
    service: "iam",
    namespace: IAM_NAMESPACE,
    actions: notWithSession({
      GetUser: (c) => ({ User: user(iam.getUser(c.principal, c.param("UserName"))) }),
      ListUsers: (c) => ({ Users: iam.listUsers(c.principal).map(user), IsTruncated: false }),
      CreateUser: async (c) => ({ User: user(await iam.createUser(c.principal, required(c, "UserName"))) }),
      DeleteUser: (c) => {
        iam.deleteUser(c.principal, required(c, "UserName"));
        return undefined;
      },
      CreateAccessKey: (c) => {
        const k = iam.createAccessKey(c.principal, c.param("UserName"));
        return { AccessKey: { ...key(k), SecretAccessKey: k.secretAccessKey } };
      },
      ListAccessKeys: (c) => ({
        UserName: c.param("UserName") ?? c.principal.userName,
        AccessKeyMetadata: iam.listAccessKeys(c.principal, c.param("UserName")).map(key),
        IsTruncated: false,
      }),
      UpdateAccessKey: (c) => {
        iam.updateAccessKey(c.principal, required(c, "AccessKeyId"), required(c, "Status"), c.param("UserName"));
        return undefined;
      },
      DeleteAccessKey: (c) => {
        iam.deleteAccessKey(c.principal, required(c, "AccessKeyId"), c.param("UserName"));
        return undefined;
      },
      GetAccountSummary: (c) => ({ SummaryMap: iam.accountSummary(c.principal) }),
      ListAccountAliases: (c) => ({ AccountAliases: iam.accountAliases(c.principal), IsTruncated: false }),
    }),
  };
}
