/**
 * The signed-HTTP transport of a role client: JSON methods (createHttpClient) and the
 * streaming ones (createStreamCaller: downloads answer with bytes, uploads send a
 * body signed chunk by chunk as it is read, so it is read once). One way to sign,
 * one way to turn a refusal into a typed error.
 */
import { request } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../common/clock";
import type { IdGenerator } from "../common/ids";
import { UnavailableError } from "../common/errors";
import { AwsChunkedEncoder } from "../auth/aws-chunked";
import { signInternalRequest, signInternalUpload } from "./signing";
import { fromWireError, type WireError } from "./errors";
import { HEADER_INPUT, HEADER_RESULT } from "./http-server";
import type { CallContext, ComponentKey, RpcShape } from "./types";

export interface HttpClientOptions {
  baseUrl: string; // e.g. http://cc-host:8774
  role: string;
  key: ComponentKey;
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
  if (err && status !== 401 && status !== 404 && status !== 500 && "fields" in err) return fromWireError(err);
  return new RpcTransportError(
    `${o.role}.${method} refused (${status} ${err?.kind ?? ""}${err?.reason ? `/${err.reason}` : ""}): ${err?.message ?? ""}`,
  );
}

const unreachable = (o: HttpClientOptions, e: Error) =>
  new RpcTransportError(`${o.role} at ${o.baseUrl} is unreachable: ${e.message}`);

export function createHttpClient<T extends RpcShape<T>>(
  methods: readonly (keyof T & string)[],
  o: HttpClientOptions,
): T {
  const client = {} as Record<string, (input: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const method of methods) {
    client[method] = async (input, ctx) => {
      const url = new URL(`/internal/${o.role}/${method}`, o.baseUrl);
      const body = JSON.stringify(input ?? {});
      const headers = signInternalRequest(
        { method: "POST", url, body, requestId: ctx.requestId },
        o.key,
        o.clock.now(),
        o.ids.nonce(),
      );
      delete headers.host; // fetch sets it from the URL
      let res: Response;
      try {
        res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
      } catch (e) {
        throw unreachable(o, e as Error);
      }
      const payload = (await res.json().catch(() => ({}))) as Payload;
      if (res.ok) return payload.result;
      throw refusal(o, method, res.status, payload);
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
  const send = (
    method: string,
    headers: Record<string, string>,
    write: (req: import("node:http").ClientRequest) => void,
  ) =>
    new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const url = new URL(`/internal/${o.role}/${method}`, o.baseUrl);
      const req = request(url, { method: "POST", headers }, resolve);
      req.on("error", (e) => reject(unreachable(o, e)));
      write(req);
    });
  const jsonOf = async (res: Readable): Promise<Payload> => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Payload;
    } catch {
      return {};
    }
  };
  return {
    async download(method, input, ctx) {
      const url = new URL(`/internal/${o.role}/${method}`, o.baseUrl);
      const body = JSON.stringify(input ?? {});
      const headers = signInternalRequest(
        { method: "POST", url, body, requestId: ctx.requestId },
        o.key,
        o.clock.now(),
        o.ids.nonce(),
      );
      const res = await send(method, { ...headers, "content-length": String(Buffer.byteLength(body)) }, (req) =>
        req.end(body),
      );
      if (res.statusCode !== 200) throw refusal(o, method, res.statusCode ?? 0, await jsonOf(res));
      return {
        info: JSON.parse(String(res.headers[HEADER_RESULT] ?? "null")),
        size: Number(res.headers["content-length"]),
        body: res,
      };
    },
    async upload(method, input, body, ctx) {
      const url = new URL(`/internal/${o.role}/${method}`, o.baseUrl);
      const { headers, signing } = signInternalUpload(
        {
          method: "POST",
          url,
          requestId: ctx.requestId,
          headers: {
            [HEADER_INPUT]: JSON.stringify(input ?? {}),
            "x-amz-decoded-content-length": String(body.size),
            "content-encoding": "aws-chunked",
          },
        },
        o.key,
        o.clock.now(),
        o.ids.nonce(),
      );
      const res = await send(method, { ...headers, "transfer-encoding": "chunked" }, (req) => {
        // Never leave the server waiting for bytes the source does not have, nor send more than declared.
        let seen = 0;
        const counted = body.stream.on("data", (c: Buffer) => {
          seen += c.length;
          if (seen > body.size)
            body.stream.destroy(new Error(`the body is longer than its declared ${body.size} bytes`));
        });
        pipeline(counted, new AwsChunkedEncoder(signing), req).catch((e: Error) => req.destroy(e));
      });
      const payload = await jsonOf(res);
      if (res.statusCode === 200) return payload.result;
      throw refusal(o, method, res.statusCode ?? 0, payload);
    },
  };
}
