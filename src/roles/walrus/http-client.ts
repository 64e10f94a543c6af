/** The HTTP transport of WalrusClient (components in other processes), over the one role-to-role envelope. */
import type { Clock } from "../../common/clock";
import type { IdGenerator } from "../../common/ids";
import { createHttpClient, createStreamCaller } from "../../rpc/http-client";
import type { ComponentKey } from "../../rpc/types";
import type { HostTls } from "../../rpc/host-tls";
import type { ObjectInfo, WalrusClient } from "./client";
import { WALRUS_JSON_METHODS, WALRUS_ROLE, type WalrusJsonRpc } from "./rpc";

export function createHttpWalrusClient(o: {
  baseUrl: string;
  /** Signed with a key issued to this host (http), or mutual TLS with its certificate (https). */
  key?: ComponentKey;
  tls?: HostTls;
  clock: Clock;
  ids: IdGenerator;
}): WalrusClient {
  const options = { ...o, role: WALRUS_ROLE };
  const rpc = createHttpClient<WalrusJsonRpc>(WALRUS_JSON_METHODS, options);
  const streams = createStreamCaller(options);
  return {
    headObject: async (ref, ctx) => (await rpc.headObject({ ref }, ctx)) as ObjectInfo,
    async getObject(ref, ctx) {
      const r = await streams.download("getObject", { ref }, ctx);
      return { ...(r.info as ObjectInfo), body: r.body };
    },
    async putObject(ref, source, ctx) {
      return (await streams.upload(
        "putObject",
        { ref, contentType: source.contentType },
        { stream: source.open(), size: source.size },
        ctx,
      )) as { etag: string; versionId: string };
    },
    async deleteObject(ref, ctx) {
      await rpc.deleteObject({ ref }, ctx);
    },
    async getDecryptedImage(ref, ctx) {
      const r = await streams.download("getDecryptedImage", { ref }, ctx);
      return { size: r.size, body: r.body };
    },
    bucketOwner: async (bucket, ctx) => (await rpc.bucketOwner({ bucket }, ctx)) as string,
    async ensureBucket(bucket, ctx) {
      await rpc.ensureBucket({ bucket }, ctx);
    },
  };
}
