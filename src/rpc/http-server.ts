/**
 * Serves a role's RPC methods over signed HTTP: POST /internal/<role>/<method>. One
 * envelope for every role: the request is verified from its headers (unsigned,
 * tampered, expired and replayed requests are refused 401 before a byte of the body
 * is read or any method runs), errors cross as typed wire errors, and one log line
 * is written per call. Three kinds of method:
 * - JSON: a JSON body in (checked against its signed SHA-256), JSON out;
 * - downloads: JSON in, a byte stream out (the result's JSON in `x-euca-result`);
 * - uploads: JSON in the signed `x-euca-input` header, the body streamed in signed
 *   aws-chunked form (each chunk checked as it arrives, so it is read once).
 */
import { Hono, type Context } from "hono";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { TLSSocket } from "node:tls";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import type { Clock } from "../common/clock";
import { EucaError } from "../common/errors";
import { AuthError } from "../auth/errors";
import { AwsChunkedDecoder, ChunkedDecodeError } from "../auth/aws-chunked";
import { MalformedQueryError, parseFormPairs } from "../server/form";
import { readBodyLimited, BodyTooLargeError } from "../server/body";
import { discardUnreadBody, guardStream } from "../server/unread-body";
import { ReplayCache } from "./replay-cache";
import { bodyMatches, verifyInternalHeaders, HEADER_REQUEST_ID, STREAMING_PAYLOAD } from "./signing";
import { toWireError } from "./errors";
import type { CallContext, ComponentKeyLookup, RpcShape } from "./types";
import type { ChunkSigning } from "../auth/aws-chunked";
import { checkPeer, type PeerCheck } from "./host-tls";
import { identityName, type PeerRule } from "./identity";
import { logRequest } from "../server/request-log";

const MAX_BODY = 16 * 1024 * 1024;
export const HEADER_INPUT = "x-euca-input";
export const HEADER_RESULT = "x-euca-result";

/** A method answering with bytes: what it says of them, their size, and the stream. */
export type DownloadMethod = (
  input: never,
  ctx: CallContext,
) => Promise<{ info: unknown; size: number; body: Readable }>;
/** A method taking bytes: the decoded, verified stream and its declared size. */
export type UploadMethod = (
  input: never,
  body: { stream: Readable; size: number },
  ctx: CallContext,
) => Promise<unknown>;

export interface RpcServerOptions<T extends RpcShape<T>> {
  role: string;
  service: T;
  methods: readonly (keyof T & string)[];
  downloads?: Readonly<Record<string, DownloadMethod>>;
  uploads?: Readonly<Record<string, UploadMethod>>;
  /** Keys of hosts registered with a key (signed HTTP); absent on a server that takes mutual TLS only. */
  lookupKey?: ComponentKeyLookup;
  /** Over TLS: which verified components may call which method (rpc/identity.ts). */
  accepts?: PeerRule;
  /** Over TLS: a revoked certificate's serial (the CA's revocation list). */
  revoked?: (serial: string) => boolean;
  clock: Clock;
  log: Logger;
}

type Reply = { status: number; body: unknown; extra?: Record<string, unknown> };

/** A TLS peer refused: no certificate, not the CA's, revoked, no component named, or not one that may call. */
class PeerRefused extends Error {
  constructor(
    readonly reason: Exclude<PeerCheck, { ok: true }>["reason"] | "not-permitted",
    message: string,
  ) {
    super(message);
  }
}

function failure(e: unknown, log: Logger, requestId: string): Reply {
  if (e instanceof AuthError || e instanceof PeerRefused)
    return {
      status: e instanceof PeerRefused && e.reason === "not-permitted" ? 403 : 401,
      body: { error: { kind: "AuthFailure", reason: e.reason, message: e.message } },
      extra: { reason: e.reason },
    };
  if (e instanceof MalformedQueryError)
    return { status: 400, body: { error: { kind: "BadRequest", message: e.message } } };
  if (e instanceof BodyTooLargeError) return { status: 413, body: { error: { kind: "TooLarge", message: e.message } } };
  if (e instanceof ChunkedDecodeError) {
    return e.kind === "signature"
      ? {
          status: 401,
          body: { error: { kind: "AuthFailure", reason: "bad-signature", message: e.message } },
          extra: { reason: "bad-signature" },
        }
      : { status: 400, body: { error: { kind: "BadRequest", message: e.message } } };
  }
  if (e instanceof EucaError) {
    const status = e.fault === "client" ? 400 : 503;
    return { status, body: { error: toWireError(e) }, extra: { error: e.kind } };
  }
  log.error({ requestId, err: e }, "internal method failed");
  return { status: 500, body: { error: { kind: "Internal", message: "Internal error" } } };
}

export function createRpcApp<T extends RpcShape<T>>(o: RpcServerOptions<T>): Hono {
  const app = new Hono();
  const replay = new ReplayCache();
  const json = new Set<string>(o.methods);
  const own = <V>(table: Readonly<Record<string, V>> | undefined, k: string) =>
    table && Object.hasOwn(table, k) ? table[k] : undefined;

  app.post(`/internal/${o.role}/:method`, async (c: Context) => {
    const started = performance.now();
    const method = c.req.param("method") ?? "";
    const url = new URL(c.req.url);
    const requestId = c.req.header(HEADER_REQUEST_ID) ?? "";
    const ctx: CallContext = { requestId };
    let caller: string | undefined;
    const log = (status: number, extra: Record<string, unknown> = {}) =>
      logRequest(o.log, {
        requestId,
        api: "internal",
        role: o.role,
        action: method,
        status,
        started,
        user: null,
        caller: caller ?? null,
        ...extra,
      });
    const answer = (r: Reply) => {
      log(r.status, r.extra);
      return c.json(r.body as object, r.status as 200);
    };
    try {
      // Authenticated first — by the client certificate over TLS, else from the signed
      // headers — so an unauthenticated request is refused before its body is read.
      const { incoming } = c.env as { incoming: IncomingMessage };
      let verified: { payloadHash?: string; signing?: ChunkSigning } = {};
      if (incoming.socket instanceof TLSSocket) {
        const peer = checkPeer(incoming.socket, o.revoked ?? (() => false));
        if (!peer.ok) throw new PeerRefused(peer.reason, peer.message);
        caller = peer.identities.map(identityName).join(",");
        ctx.caller = caller;
        ctx.peer = peer.identities;
        if (!o.accepts?.(peer.identities, method))
          throw new PeerRefused("not-permitted", `${caller} may not call ${o.role}.${method}`);
      } else {
        if (!o.lookupKey) throw new AuthError("missing", "This server takes internal calls over mutual TLS only");
        const signed = verifyInternalHeaders(
          {
            method: "POST",
            rawPath: url.pathname,
            query: url.search ? parseFormPairs(url.search.slice(1)) : [],
            header: (n) => c.req.header(n),
          },
          o.lookupKey,
          replay,
          o.clock.now(),
        );
        caller = signed.caller;
        ctx.caller = caller;
        verified = signed;
      }
      const tls = incoming.socket instanceof TLSSocket;
      const upload = own(o.uploads, method);
      if (upload) {
        if (!tls && (verified.payloadHash !== STREAMING_PAYLOAD || !verified.signing))
          throw new AuthError("incomplete", `${method} takes a streamed, chunk-signed body`);
        const size = Number(c.req.header("x-amz-decoded-content-length"));
        if (!Number.isSafeInteger(size) || size < 0)
          throw new MalformedQueryError("x-amz-decoded-content-length must be the body's size");
        let input: never;
        try {
          input = JSON.parse(c.req.header(HEADER_INPUT) ?? "{}") as never;
        } catch {
          throw new MalformedQueryError(`${HEADER_INPUT} is not JSON`);
        }
        // Over TLS the body is the bytes (TLS protects them); signed, it is decoded and checked chunk by chunk.
        const decoder = guardStream(tls ? new PassThrough() : new AwsChunkedDecoder(verified.signing!));
        incoming.on("error", (e) => decoder.destroy(e));
        try {
          const result = await upload(input, { stream: incoming.pipe(decoder), size }, ctx);
          return answer({ status: 200, body: { result: result ?? null } });
        } finally {
          discardUnreadBody(incoming, [decoder]); // a refused upload's rest is thrown away, never buffered
        }
      }
      if (verified.payloadHash === STREAMING_PAYLOAD) throw new AuthError("incomplete", `${method} takes a JSON body`);
      const body = await readBodyLimited(c.req.raw, MAX_BODY);
      if (!tls && !bodyMatches(body, verified.payloadHash!))
        throw new AuthError("bad-signature", "Body does not match its signed hash");
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString("utf8")) : {};
      } catch {
        return answer({ status: 400, body: { error: { kind: "BadRequest", message: "Body is not JSON" } } });
      }
      const download = own(o.downloads, method);
      if (download) {
        const r = await download(input as never, ctx);
        const { outgoing } = c.env as { outgoing: ServerResponse };
        outgoing.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": String(r.size),
          [HEADER_RESULT]: JSON.stringify(r.info ?? null),
        });
        log(200);
        pipeline(r.body, outgoing).catch(() => undefined); // a caller that goes away mid-stream
        return new Response(null, { headers: { "x-hono-already-sent": "true" } });
      }
      if (!json.has(method))
        return answer({
          status: 404,
          body: { error: { kind: "UnknownMethod", message: `No method '${method}' on ${o.role}` } },
        });
      const fn = o.service[method as keyof T] as (i: unknown, c: CallContext) => Promise<unknown>;
      const output = await fn(input, ctx);
      return answer({ status: 200, body: { result: output ?? null } });
    } catch (e) {
      return answer(failure(e, o.log, requestId));
    }
  });
  return app;
}
