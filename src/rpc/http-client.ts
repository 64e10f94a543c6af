/**
 * The HTTP transport of a role client (mutual TLS, or signed HTTP for hosts registered with a key): JSON methods (createHttpClient) and the
 * streaming ones (createStreamCaller: downloads answer with bytes, uploads send a
 * body signed chunk by chunk as it is read, so it is read once). One way to sign,
 * one way to turn a refusal into a typed error.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import { UnavailableError } from "../common/errors";
import { AwsChunkedEncoder } from "../auth/aws-chunked";
import { HEADER_REQUEST_ID, signInternalRequest, signInternalUpload } from "./signing";
import { clientTlsOptions, type HostTls } from "./host-tls";
import type { ComponentRole } from "./identity";
import { fromWireError, type WireError } from "./errors";
import { HEADER_INPUT, HEADER_RESULT } from "./http-server";
import type { CallContext, ComponentKey, RpcShape } from "./types";

export interface HttpClientOptions {
  baseUrl: string; // e.g. https://cc-host:8774 (mutual TLS) or http://cc-host:8774 (signed)
  role: string;
  /** How this host proves who it is: its host certificate (an https URL), or a key issued at registration (http). */
  key?: ComponentKey;
  tls?: HostTls;
  /** The role the server's certificate must name (default: the one the role's calls are served by). */
  serverRole?: ComponentRole;
  clock: Clock;
  ids: IdGenerator;
  timeoutMs?: number;
}

/** A remote call failed in transport or authentication, not in the method itself. */
export class RpcTransportError extends UnavailableError {}

type Payload = { result?: unknown; error?: WireError & { reason?: string } };

/** A refused call: the method's own typed error when it sent one, else a transport error. */
function refusal(o: HttpClientOptions, method: string, status: number, payload: Payload): Error {
  const err = payload.error;
  if (err && ![401, 403, 404, 500].includes(status) && "fields" in err) return fromWireError(err);
  return new RpcTransportError(
    `${o.role}.${method} refused (${status} ${err?.kind ?? ""}${err?.reason ? `/${err.reason}` : ""}): ${err?.message ?? ""}`,
  );
}

const unreachable = (o: HttpClientOptions, e: Error) =>
  new RpcTransportError(`${o.role} at ${o.baseUrl} is unreachable: ${e.message}`);

/** The role whose certificate a server answering for `role` must hold. */
const SERVER_ROLE: Record<string, ComponentRole> = { metadata: "clc", join: "clc" };

/**
 * How requests go out: over mutual TLS with the host's certificate when the URL is https
 * (TLS protects and authenticates them: no signature), else signed with the issued key.
 */
function transport(o: HttpClientOptions) {
  const secure = new URL(o.baseUrl).protocol === "https:";
  if (secure && !o.tls) throw new Error(`${o.role} at ${o.baseUrl}: https needs this host's certificate (euca join)`);
  if (!secure && !o.key) throw new Error(`${o.role} at ${o.baseUrl}: no key issued to this host for it`);
  const agent = secure
    ? new HttpsAgent({
        keepAlive: true,
        ...clientTlsOptions(o.tls!, o.serverRole ?? SERVER_ROLE[o.role] ?? (o.role as ComponentRole)),
      })
    : undefined;
  const urlOf = (method: string) => new URL(`/internal/${o.role}/${method}`, o.baseUrl);
  return {
    secure,
    urlOf,
    /** The headers of a JSON request: signed over http, plain (with the request id) over TLS. */
    jsonHeaders(method: string, body: string, requestId: string): Record<string, string> {
      if (secure) return { "content-type": "application/json", [HEADER_REQUEST_ID]: requestId };
      const headers = signInternalRequest(
        { method: "POST", url: urlOf(method), body, requestId },
        o.key!,
        o.clock.now(),
        o.ids.nonce(),
      );
      delete headers.host; // set from the URL
      return headers;
    },
    send(method: string, headers: Record<string, string>, write: (req: ClientRequest) => void) {
      return new Promise<IncomingMessage>((resolve, reject) => {
        const url = urlOf(method);
        const req = (secure ? httpsRequest : httpRequest)(url, { method: "POST", headers, agent }, resolve);
        const timer = setTimeout(
          () => req.destroy(new Error(`no answer within ${(o.timeoutMs ?? 30_000) / 1000} s`)),
          o.timeoutMs ?? 30_000,
        );
        req.on("response", (res) => res.on("end", () => clearTimeout(timer)).on("error", () => clearTimeout(timer)));
        req.on("error", (e) => {
          clearTimeout(timer);
          reject(unreachable(o, e));
        });
        write(req);
      });
    },
  };
}

async function jsonOf(res: Readable): Promise<Payload> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Payload;
  } catch {
    return {};
  }
}

export function createHttpClient<T extends RpcShape<T>>(
  methods: readonly (keyof T & string)[],
  o: HttpClientOptions,
): T {
  const t = transport(o);
  const client = {} as Record<string, (input: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const method of methods) {
    client[method] = async (input, ctx) => {
      const body = JSON.stringify(input ?? {});
      const headers = {
        ...t.jsonHeaders(method, body, ctx.requestId),
        "content-length": String(Buffer.byteLength(body)),
      };
      const res = await t.send(method, headers, (req) => req.end(body));
      let payload: Payload;
      try {
        payload = await jsonOf(res);
      } catch (e) {
        throw unreachable(o, e as Error);
      }
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return payload.result;
      throw refusal(o, method, status, payload);
    };
  }
  return client as unknown as T;
}

export interface StreamCaller {
  /** Calls a download method: its result's JSON and the byte stream. */
  download(method: string, input: unknown, ctx: CallContext): Promise<{ info: unknown; size: number; body: Readable }>;
  /** Calls an upload method with `size` bytes from `body`, read once as they are sent. */
  upload(method: string, input: unknown, body: { stream: Readable; size: number }, ctx: CallContext): Promise<unknown>;
}

export function createStreamCaller(o: HttpClientOptions): StreamCaller {
  const t = transport(o);
  return {
    async download(method, input, ctx) {
      const body = JSON.stringify(input ?? {});
      const headers = {
        ...t.jsonHeaders(method, body, ctx.requestId),
        "content-length": String(Buffer.byteLength(body)),
      };
      const res = await t.send(method, headers, (req) => req.end(body));
      if (res.statusCode !== 200) throw refusal(o, method, res.statusCode ?? 0, await jsonOf(res));
      return {
        info: JSON.parse(String(res.headers[HEADER_RESULT] ?? "null")),
        size: Number(res.headers["content-length"]),
        body: res,
      };
    },
    async upload(method, input, body, ctx) {
      const inputHeader = JSON.stringify(input ?? {});
      // Over TLS the bytes go as they are; signed, each chunk carries its signature (read once, as it is sent).
      const signed = t.secure
        ? undefined
        : signInternalUpload(
            {
              method: "POST",
              url: t.urlOf(method),
              requestId: ctx.requestId,
              headers: {
                [HEADER_INPUT]: inputHeader,
                "x-amz-decoded-content-length": String(body.size),
                "content-encoding": "aws-chunked",
              },
            },
            o.key!,
            o.clock.now(),
            o.ids.nonce(),
          );
      const headers: Record<string, string> = signed
        ? { ...signed.headers, "transfer-encoding": "chunked" }
        : {
            [HEADER_INPUT]: inputHeader,
            [HEADER_REQUEST_ID]: ctx.requestId,
            "content-type": "application/octet-stream",
            // Chunked, so a source that ends early ends the request and the server says so (IncompleteBody).
            "transfer-encoding": "chunked",
            "x-amz-decoded-content-length": String(body.size),
          };
      const res = await t.send(method, headers, (req) => {
        // Never leave the server waiting for bytes the source does not have, nor send more than declared.
        let seen = 0;
        const counted = body.stream.on("data", (c: Buffer) => {
          seen += c.length;
          if (seen > body.size)
            body.stream.destroy(new Error(`the body is longer than its declared ${body.size} bytes`));
        });
        const steps = signed ? [counted, new AwsChunkedEncoder(signed.signing), req] : [counted, req];
        pipeline(steps as [Readable, NodeJS.WritableStream]).catch((e: Error) => req.destroy(e));
      });
      const payload = await jsonOf(res);
      if (res.statusCode === 200) return payload.result;
      throw refusal(o, method, res.statusCode ?? 0, payload);
    },
  };
}
