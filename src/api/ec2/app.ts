/**
 * The EC2 Query front door at /services/Eucalyptus and /services/compute (with and
 * without a trailing slash, GET and POST): read, authenticate, decode against the
 * action's declared spec, dispatch from the action table, render XML or the EC2
 * error envelope. One JSON log line per request.
 */
import { Hono, type Context } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { AuthError } from "../../auth/errors";
import { SIGV2_AUTH_PARAMS } from "../../auth/sigv2";
import type { KeyLookup, Principal } from "../../roles/clc/identity/identity-service";
import { MalformedQueryError, parseFormPairs } from "../../server/form";
import { BodyTooLargeError, readBodyLimited } from "../../server/body";
import { localPortOf } from "../../server/node-env";
import { authenticateEc2 } from "./auth";
import { actionTable } from "./actions";
import { Ec2Error, authErrorCode, toEc2Error } from "./errors";
import { decodeParams } from "./params";
import { FragmentCache, renderError, renderResponse } from "./xml";
import type { Ec2Services } from "./services";
import { logRequest } from "../../server/request-log";
import { scopeServiceOf, type QueryService } from "../sts-iam/app";

export const EC2_PATHS = ["/services/Eucalyptus", "/services/Eucalyptus/", "/services/compute", "/services/compute/"];
/** Query requests are small (UserData is at most 16 KiB base64); 1 MiB leaves room. */
export const EC2_MAX_BODY = 1024 * 1024;
const NOT_ACTION_PARAMS = new Set<string>(["Action", "Operation", "Version", "SecurityToken", ...SIGV2_AUTH_PARAMS]);

export interface Ec2AppDeps {
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  identity: KeyLookup;
  services: Ec2Services;
  /** STS and IAM requests sent to the EC2 endpoint (chosen by their SigV4 scope's service). */
  queryServices?: Partial<Record<QueryService, (c: Context) => Promise<Response>>>;
}

export function createEc2App(d: Ec2AppDeps): Hono {
  const app = new Hono();
  const actions = actionTable();
  const fragments = new FragmentCache();

  const handle = async (c: Context) => {
    // Tools with one endpoint_url send STS and IAM here too: the credential scope says which service is meant.
    const scope = scopeServiceOf(c.req.header("authorization"));
    const other = scope === "sts" || scope === "iam" ? d.queryServices?.[scope] : undefined;
    if (other) return other(c);
    const started = performance.now();
    const requestId = d.ids.requestId();
    let action: string | undefined;
    let principal: Principal | undefined;
    let signatureVersion: string | undefined;

    const reply = (status: number, xml: Buffer, error?: { code: string; fault: string; err?: unknown }) => {
      logRequest(
        d.log,
        {
          requestId,
          api: "ec2",
          action: action ?? null,
          status,
          started,
          user: principal?.userName ?? null,
          sigv: signatureVersion ?? null,
        },
        error,
      );
      return c.body(xml as Uint8Array<ArrayBuffer>, status as 200, {
        "content-type": "text/xml;charset=UTF-8",
        "x-amzn-RequestId": requestId,
      });
    };
    const fail = (e: unknown) => {
      const r = toEc2Error(e);
      return reply(r.status, renderError(r.code, r.message, requestId), { code: r.code, fault: r.fault, err: e });
    };

    try {
      let body: Buffer = Buffer.alloc(0);
      if (c.req.method === "POST") {
        try {
          body = await readBodyLimited(c.req.raw, EC2_MAX_BODY);
        } catch (e) {
          if (e instanceof BodyTooLargeError)
            throw new Ec2Error("RequestEntityTooLarge", `The request body must be at most ${EC2_MAX_BODY} bytes`, 413);
          throw e;
        }
        const type = c.req.header("content-type") ?? "";
        if (body.length > 0 && !type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
          throw new Ec2Error("InvalidParameterValue", "POST bodies must be application/x-www-form-urlencoded", 415);
        }
      }
      const url = new URL(c.req.url);
      let query: Array<[string, string]>, params: Array<[string, string]>;
      try {
        query = parseFormPairs(url.search.slice(1));
        params = [...query, ...parseFormPairs(body)];
      } catch (e) {
        if (e instanceof MalformedQueryError) throw new Ec2Error("MalformedQueryString", e.message);
        throw e;
      }
      const one = (n: string) => params.find(([k]) => k === n)?.[1];
      action = one("Action") ?? one("Operation");

      let accessKeyId: string;
      try {
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
          { now: d.clock.now(), lookupSecret: d.identity.lookupSecret },
        );
        accessKeyId = auth.accessKeyId;
        signatureVersion = auth.signatureVersion;
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        const { code, status } = authErrorCode(e.reason);
        throw new Ec2Error(code, e.message, status);
      }
      principal = d.identity.principal(accessKeyId, c.req.header("x-amz-security-token") ?? one("SecurityToken"));
      if (!principal) throw new Ec2Error("AuthFailure", "The access key is not on record", 401);

      if (!action) throw new Ec2Error("MissingAction", "The request must contain the parameter Action");
      const version = one("Version");
      if (!version) throw new Ec2Error("MissingParameter", "The request must contain the parameter Version");
      const def = actions.get(action);
      if (!def) throw new Ec2Error("InvalidAction", `The action ${action} is not valid for this web service.`);

      const input = def.anyParams
        ? {}
        : decodeParams(
            def.params,
            params.filter(([k]) => !NOT_ACTION_PARAMS.has(k)),
          );
      // DryRun: checked (signature, action, parameters) and answered as EC2 answers it, but never carried out.
      if ((input as { DryRun?: unknown }).DryRun === true)
        throw new Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
      const log = d.log.child({ requestId });
      const out = await def.handler(input, { requestId, principal, version, log, services: d.services, fragments });
      return reply(200, renderResponse(action, version, requestId, out));
    } catch (e) {
      return fail(e);
    }
  };

  for (const path of EC2_PATHS) app.on(["GET", "POST"], path, handle);
  return app;
}
