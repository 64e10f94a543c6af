/** STS (Version 2011-06-15): GetCallerIdentity and GetSessionToken. */
import { SESSION_SECONDS, type SessionCredentials, type Principal } from "../../roles/clc/identity/identity-service";
import { QueryError, type QueryServiceDef } from "./app";

export const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

export function stsService(o: {
  createSession(p: Principal, durationSeconds?: number): SessionCredentials;
}): QueryServiceDef {
  return {
    service: "sts",
    namespace: STS_NAMESPACE,
    actions: {
      GetCallerIdentity: ({ principal: p }) => ({
        Arn: `arn:aws:iam::${p.accountId}:user/${p.userName}`,
        UserId: p.userId,
        Account: p.accountId,
      }),
      GetSessionToken: ({ principal, param }) => {
        const raw = param("DurationSeconds");
        if (raw !== undefined && !/^\d{1,9}$/.test(raw))
          throw new QueryError("ValidationError", "DurationSeconds must be an integer");
        const seconds = raw === undefined ? SESSION_SECONDS.default : Number(raw);
        const c = o.createSession(principal, seconds);
        return {
          Credentials: {
            AccessKeyId: c.accessKeyId,
            SecretAccessKey: c.secretAccessKey,
            SessionToken: c.sessionToken,
            Expiration: c.expiration,
          },
        };
      },
    },
  };
}
