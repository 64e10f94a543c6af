/**
 * How other roles use Walrus (NC: image bundles; SC: snapshot blobs). Bodies are
 * streams: in-process (./in-process-client.ts), and signed HTTP (./http-client.ts,
 * ./rpc.ts) on the role-to-role envelope's streaming calls.
 * Components act as the cloud's own account, which aws-exec-read lets read bundles.
 */
import type { Readable } from "node:stream";
import type { CallContext } from "../../rpc/types";

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface ObjectInfo {
  size: number;
  etag: string;
  lastModified: string; // ISO 8601
  contentType?: string;
}

export interface PutSource {
  /** Opens the body; the HTTP transport opens it twice (hash, then send), so it must be re-openable (a file). */
  open(): Readable;
  size: number;
  contentType?: string;
}

export interface WalrusClient {
  headObject(ref: ObjectRef, ctx: CallContext): Promise<ObjectInfo>;
  getObject(ref: ObjectRef, ctx: CallContext): Promise<ObjectInfo & { body: Readable }>;
  putObject(
    ref: Omit<ObjectRef, "versionId">,
    source: PutSource,
    ctx: CallContext,
  ): Promise<{ etag: string; versionId: string }>;
  deleteObject(ref: ObjectRef, ctx: CallContext): Promise<void>;
  /** Creates the bucket for the cloud's account unless it exists. */
  ensureBucket(bucket: string, ctx: CallContext): Promise<void>;
  /** The decrypted image of a registered bundle (bucket/key of its manifest), from Walrus' image cache. */
  getDecryptedImage(ref: { bucket: string; key: string }, ctx: CallContext): Promise<{ size: number; body: Readable }>;
  /** The account that owns a bucket (image registration checks it). */
  bucketOwner(bucket: string, ctx: CallContext): Promise<string>;
}
