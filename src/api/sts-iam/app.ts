/**
 * STS and IAM, the Query services tools ask before EC2 ("who am I?"): served at
 * Eucalyptus' paths (/services/Tokens, /services/Euare) and on the EC2 endpoint, which
 * hands a request here when its SigV4 credential scope names `sts` or `iam` — so a
 * tool with one endpoint_url works. Same reading, signatures and bounds as EC2;
 * answers in each service's namespace and error envelope.
 */
import type { Context } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { EucaError, type DomainError } from "../../common/errors";
import { AuthError, type AuthFailureReason } from "../../auth/errors";
import { MalformedQueryError, parseFormPairs } from "../../server/form";
import { BodyTooLargeError, readBodyLimited } from "../../server/body";
import { localPortOf } from "../../server/node-env";
import { logRequest } from "../../server/request-log";
import type { KeyLookup, Principal } from "../../roles/clc/identity/identity-service";
import { authenticateEc2 } from "../ec2/auth";
import { renderQueryError, renderQueryResponse } from "./xml";

export type QueryService = "sts" | "iam";

/** A Query error of these services: its code, HTTP status, and whose fault. */
export class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface QueryActionContext {
  principal: Principal;
  requestId: string;
  param(name: string): string | undefined;
}

export type QueryAction = (ctx: QueryActionContext) => object | undefined | Promise<object | undefined>;

export interface QueryServiceDef {
  service: QueryService;
  namespace: string;
  actions: Readonly<Record<string, QueryAction>>;
}

export interface QueryAppDeps {
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  identity: KeyLookup;
}

const MAX_BODY = 64 * 1024;

function authReply(reason: AuthFailureReason): [string, number] {
  switch (reason) {
    case "missing":
      return ["MissingAuthenticationToken", 403];
    case "incomplete":
      return ["IncompleteSignature", 400];
    case "expired":
      return ["RequestExpired", 400];
    case "unknown-key":
      return ["InvalidClientTokenId", 403];
    case "bad-signature":
    case "replayed":
    case "unsupported":
      return ["SignatureDoesNotMatch", 403];
  }
}

function domainReply(e: DomainError): [string, number] {
  switch (e.kind) {
    case "AccessDenied":
      return ["AccessDenied", 403];
    case "NotFound":
      return ["NoSuchEntity", 404];
    case "Duplicate":
      return ["EntityAlreadyExists", 409];
    case "InvalidParameter":
      return e.reason === "limit-exceeded" ? ["LimitExceeded", 409] : ["ValidationError", 400];
    case "MissingParameter":
      return ["ValidationError", 400];
    case "IncorrectState":
    case "DependencyViolation":
      return ["DeleteConflict", 409];
    case "Unsupported":
      return ["NotImplemented", 501];
    case "InsufficientCapacity":
    case "Storage":
    case "Unavailable":
      return ["ServiceFailure", 500];
    default: {
      const unmapped: never = e;
      return unmapped;
    }
  }
}

/** The handler of one Query service, for its own paths and for the EC2 endpoint's hand-over. */
export function createQueryHandler(def: QueryServiceDef, d: QueryAppDeps) {
  return async (c: Context): Promise<Response> => {
    const started = performance.now();
    const requestId = d.ids.requestId();
    let action: string | null = null;
    let principal: Principal | undefined;
    const reply = (status: number, xml: string, fault?: { code: string; fault: string; err?: unknown }) => {
      logRequest(
        d.log,
        { requestId, api: def.service, action, status, started, user: principal?.userName ?? null },
        fault,
      );
      return c.body(xml, status as 200, { "content-type": "text/xml", "x-amzn-RequestId": requestId });
    };
    try {
      let body: Buffer = Buffer.alloc(0);
      if (c.req.method === "POST") body = await readBodyLimited(c.req.raw, MAX_BODY);
      const url = new URL(c.req.url);
      const query = parseFormPairs(url.search.slice(1));
      const params = [...query, ...parseFormPairs(body)];
      const param = (n: string) => params.find(([k]) => k === n)?.[1];
      action = param("Action") ?? null;
      const auth = authenticateEc2(
        {
          method: c.req.method,
          rawPath: url.pathname,
          query,
          params,
          header: (n) => c.req.header(n),
          body,
          localPort: localPortOf(c),
        },
        { now: d.clock.now(), lookupSecret: d.identity.lookupSecret, service: def.service },
      );
      principal = d.identity.principal(
        auth.accessKeyId,
        c.req.header("x-amz-security-token") ?? param("SecurityToken"),
      );
      if (!principal)
        throw new QueryError("InvalidClientTokenId", "The security token included in the request is invalid.", 403);
      if (!action) throw new QueryError("MissingAction", "The request must contain the parameter Action");
      const run = Object.hasOwn(def.actions, action) ? def.actions[action] : undefined;
      if (!run)
        throw new QueryError(
          "InvalidAction",
          `Could not find operation ${action.slice(0, 64)} for version ${param("Version") ?? ""}`,
        );
      const result = await run({ principal, requestId, param });
      return reply(200, renderQueryResponse(def.namespace, action, requestId, result));
    } catch (e) {
      let code: string;
      let status: number;
      if (e instanceof QueryError) [code, status] = [e.code, e.status];
      else if (e instanceof AuthError) [code, status] = authReply(e.reason);
      else if (e instanceof MalformedQueryError) [code, status] = ["MalformedQueryString", 400];
      else if (e instanceof BodyTooLargeError) [code, status] = ["RequestEntityTooLarge", 413];
      else if (e instanceof EucaError) [code, status] = domainReply(e as DomainError);
      else [code, status] = ["InternalFailure", 500];
      const message =
        status >= 500 && !(e instanceof EucaError) ? "An internal error has occurred" : (e as Error).message;
      return reply(status, renderQueryError(def.namespace, code, message, requestId, status < 500), {
        code,
        fault: status >= 500 ? "server" : "client",
        err: e,
      });
    }
  };
}

/** The SigV4 scope service of a request, when it is signed in the Authorization header. */
export function scopeServiceOf(authorization: string | undefined): string | undefined {
  return authorization
    ? /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\/aws4_request/.exec(authorization)?.[1]
    : undefined;
}
