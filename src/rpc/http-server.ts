/**
 * Serves a role's RPC methods over signed HTTP: POST /internal/<role>/<method> with a
 * JSON body. Unsigned, tampered, expired and replayed requests are refused with 401
 * from their headers, before their body is read or any method runs.
 */
import { Hono } from "hono";
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import { EucaError } from "../common/errors";
import { AuthError } from "../auth/errors";
import { MalformedQueryError, parseFormPairs } from "../server/form";
import { readBodyLimited, BodyTooLargeError } from "../server/body";
import { ReplayCache } from "./replay-cache";
import { bodyMatches, verifyInternalHeaders, HEADER_REQUEST_ID } from "./signing";
import { toWireError } from "./errors";
import type { CallContext, ComponentKeyLookup, RpcShape } from "./types";

const MAX_BODY = 16 * 1024 * 1024;

export interface RpcServerOptions<T extends RpcShape<T>> {
  role: string;
  service: T;
  methods: readonly (keyof T & string)[];
  lookupKey: ComponentKeyLookup;
  clock: Clock;
  log: Logger;
}

export function createRpcApp<T extends RpcShape<T>>(o: RpcServerOptions<T>): Hono {
  const app = new Hono();
  const replay = new ReplayCache();
  const allowed = new Set<string>(o.methods);

  app.post(`/internal/${o.role}/:method`, async (c) => {
    const started = performance.now();
    const method = c.req.param("method");
    const url = new URL(c.req.url);
    const requestId = c.req.header(HEADER_REQUEST_ID) ?? "";
    const finish = (status: number, extra: Record<string, unknown> = {}) =>
      o.log.info({ requestId, api: "internal", role: o.role, action: method, status, ms: Math.round(performance.now() - started), ...extra }, "request");
    // Authenticated from the headers first: an unsigned request is refused before its body is read.
    let caller: string;
    let payloadHash: string;
    try {
      ({ caller, payloadHash } = verifyInternalHeaders(
        { method: "POST", rawPath: url.pathname, query: url.search ? parseFormPairs(url.search.slice(1)) : [], header: (n) => c.req.header(n) },
        o.lookupKey,
        replay,
        o.clock.now(),
      ));
    } catch (e) {
      if (!(e instanceof AuthError || e instanceof MalformedQueryError)) throw e;
      const reason = e instanceof AuthError ? e.reason : "incomplete";
      finish(401, { reason });
      return c.json({ error: { kind: "AuthFailure", reason, message: e.message } }, 401);
    }
    let body: Buffer;
    try {
      body = await readBodyLimited(c.req.raw, MAX_BODY);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        finish(413, { caller });
        return c.json({ error: { kind: "TooLarge", message: e.message } }, 413);
      }
      throw e;
    }
    if (!bodyMatches(body, payloadHash)) {
      finish(401, { caller, reason: "bad-signature" });
      return c.json({ error: { kind: "AuthFailure", reason: "bad-signature", message: "Body does not match its signed hash" } }, 401);
    }
    if (!allowed.has(method)) {
      finish(404, { caller });
      return c.json({ error: { kind: "UnknownMethod", message: `No method '${method}' on ${o.role}` } }, 404);
    }
    let input: unknown;
    try {
      input = body.length ? JSON.parse(body.toString("utf8")) : {};
    } catch {
      finish(400, { caller });
      return c.json({ error: { kind: "BadRequest", message: "Body is not JSON" } }, 400);
    }
    try {
      const fn = o.service[method as keyof T] as (i: unknown, c: CallContext) => Promise<unknown>;
      const output = await fn(input, { requestId });
      finish(200, { caller });
      return c.json({ result: output ?? null });
    } catch (e) {
      if (e instanceof EucaError) {
        finish(e.fault === "client" ? 400 : 503, { caller, error: e.kind });
        return c.json({ error: toWireError(e) }, e.fault === "client" ? 400 : 503);
      }
      o.log.error({ requestId, err: e }, "internal method failed");
      finish(500, { caller });
      return c.json({ error: { kind: "Internal", message: "Internal error" } }, 500);
    }
  });
  return app;
}
