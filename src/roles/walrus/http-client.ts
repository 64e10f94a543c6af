/** The signed-HTTP transport of WalrusClient (components in other processes). */
import { createHash } from "node:crypto";
import { request } from "node:http";
import type { Readable } from "node:stream";
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { signInternalRequest } from "../../rpc/signing";
import { fromWireError, type WireError } from "../../rpc/errors";
import { RpcTransportError } from "../../rpc/http-client";
import type { ComponentKey } from "../../rpc/types";
import type { ObjectInfo, WalrusClient } from "./client";
import { WALRUS_INTERNAL } from "./internal-routes";

export function createHttpWalrusClient(o: { baseUrl: string; key: ComponentKey; clock: Clock; ids: IdGenerator }): WalrusClient {
  async function call(op: string, params: Record<string, string | undefined>, requestId: string, body?: { stream: Readable; sha256: string; size: number }) {
    const url = new URL(`${WALRUS_INTERNAL}/${op}`, o.baseUrl);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    const headers = signInternalRequest({ method: "POST", url, body: "", requestId, payloadHash: body?.sha256 }, o.key, o.clock.now(), o.ids.nonce());
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; stream: Readable }>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: { ...headers, "content-length": String(body?.size ?? 0) } }, (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res }));
      req.on("error", (e) => reject(new RpcTransportError(`walrus at ${o.baseUrl} is unreachable: ${e.message}`)));
      if (!body) return req.end();
      // Never leave the server waiting for bytes the source does not have.
      let sent = 0;
      body.stream.on("data", (c: Buffer) => {
        sent += c.length;
        if (sent > body.size) req.destroy(new Error(`the body is longer than its declared ${body.size} bytes`));
        else req.write(c);
      });
      body.stream.on("end", () => (sent === body.size ? req.end() : req.destroy(new Error(`the body ended after ${sent} of ${body.size} bytes`))));
      body.stream.on("error", (e) => req.destroy(e));
    });
  }

  async function json(res: { status: number; stream: Readable }): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of res.stream) chunks.push(c as Buffer);
    const payload = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { result?: unknown; error?: WireError & { reason?: string } };
    if (res.status === 200) return payload.result;
    if (payload.error && "fields" in payload.error && res.status !== 401) throw fromWireError(payload.error);
    throw new RpcTransportError(`walrus refused (${res.status} ${payload.error?.kind ?? ""}${payload.error?.reason ? `/${payload.error.reason}` : ""}): ${payload.error?.message ?? ""}`);
  }

  const refParams = (r: { bucket: string; key?: string; versionId?: string }) => ({ bucket: r.bucket, key: r.key, versionId: r.versionId });
  return {
    async headObject(ref, ctx) {
      return (await json(await call("headObject", refParams(ref), ctx.requestId))) as ObjectInfo;
    },
    async getObject(ref, ctx) {
      const res = await call("getObject", refParams(ref), ctx.requestId);
      if (res.status !== 200) return (await json(res)) as never;
      const info = JSON.parse(String(res.headers["x-euca-object"])) as ObjectInfo;
      return { ...info, body: res.stream };
    },
    async putObject(ref, source, ctx) {
      const h = createHash("sha256");
      for await (const c of source.open()) h.update(c as Buffer);
      const res = await call("putObject", { ...refParams(ref), size: String(source.size), contentType: source.contentType }, ctx.requestId, {
        stream: source.open(), sha256: h.digest("hex"), size: source.size,
      });
      return (await json(res)) as { etag: string; versionId: string };
    },
    async deleteObject(ref, ctx) {
      await json(await call("deleteObject", refParams(ref), ctx.requestId));
    },
    async getDecryptedImage(ref, ctx) {
      const res = await call("getDecryptedImage", refParams(ref), ctx.requestId);
      if (res.status !== 200) return (await json(res)) as never;
      return { size: Number(res.headers["content-length"]), body: res.stream };
    },
    async bucketOwner(bucket, ctx) {
      return (await json(await call("bucketOwner", { bucket }, ctx.requestId))) as string;
    },
    async ensureBucket(bucket, ctx) {
      await json(await call("ensureBucket", { bucket }, ctx.requestId));
    },
  };
}

