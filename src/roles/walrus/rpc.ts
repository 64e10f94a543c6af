/**
 * Walrus for components in other processes, on the one role-to-role envelope
 * (rpc/http-server.ts): JSON methods, downloads (objects, decrypted images) and one
 * upload (putObject, its body signed chunk by chunk and read once).
 */
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { createRpcApp, type DownloadMethod, type UploadMethod } from "../../rpc/http-server";
import type { ComponentKeyLookup } from "../../rpc/types";
import { byMethod, peerOf, type PeerRule } from "../../rpc/identity";
import type { ObjectRef, WalrusClient } from "./client";

export const WALRUS_ROLE = "walrus";
export const WALRUS_JSON_METHODS = ["headObject", "deleteObject", "ensureBucket", "bucketOwner"] as const;

export type PutInput = { ref: Omit<ObjectRef, "versionId">; contentType?: string };

/** The JSON methods, each taking one object as the envelope carries it. */
export interface WalrusJsonRpc {
  headObject(i: { ref: ObjectRef }, ctx: { requestId: string }): Promise<unknown>;
  deleteObject(i: { ref: ObjectRef }, ctx: { requestId: string }): Promise<unknown>;
  ensureBucket(i: { bucket: string }, ctx: { requestId: string }): Promise<unknown>;
  bucketOwner(i: { bucket: string }, ctx: { requestId: string }): Promise<unknown>;
}

/**
 * Over mutual TLS: nodes (and every other component) may read — images, kernels, snapshot
 * chunks —; only the SC (snapshots) and the CLC may write, delete or create buckets.
 */
export const WALRUS_CALLERS: PeerRule = byMethod([
  { methods: ["getDecryptedImage", "getObject", "headObject"], rule: peerOf(["nc", "sc", "cc", "clc"]) },
  { methods: "*", rule: peerOf(["sc", "clc"]) },
]);

export function createWalrusRpcApp(o: {
  walrus: WalrusClient;
  /** Signed HTTP (hosts registered with a key); absent where Walrus takes mutual TLS only. */
  lookupKey?: ComponentKeyLookup;
  revoked?: (serial: string) => boolean;
  clock: Clock;
  log: Logger;
}) {
  const w = o.walrus;
  const service: WalrusJsonRpc = {
    headObject: ({ ref }, ctx) => w.headObject(ref, ctx),
    deleteObject: async ({ ref }, ctx) => w.deleteObject(ref, ctx),
    ensureBucket: async ({ bucket }, ctx) => w.ensureBucket(bucket, ctx),
    bucketOwner: ({ bucket }, ctx) => w.bucketOwner(bucket, ctx),
  };
  const getObject: DownloadMethod = async (i: { ref: ObjectRef }, ctx) => {
    const { body, ...info } = await w.getObject(i.ref, ctx);
    return { info, size: info.size, body };
  };
  const getDecryptedImage: DownloadMethod = async (i: { ref: ObjectRef }, ctx) => {
    const img = await w.getDecryptedImage(i.ref, ctx);
    return { info: { size: img.size }, size: img.size, body: img.body };
  };
  const putObject: UploadMethod = (i: PutInput, body, ctx) =>
    w.putObject(i.ref, { open: () => body.stream, size: body.size, contentType: i.contentType }, ctx);
  return createRpcApp({
    role: WALRUS_ROLE,
    service,
    methods: WALRUS_JSON_METHODS,
    downloads: { getObject, getDecryptedImage },
    uploads: { putObject },
    lookupKey: o.lookupKey,
    accepts: WALRUS_CALLERS,
    revoked: o.revoked,
    clock: o.clock,
    log: o.log,
  });
}
