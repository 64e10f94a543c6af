import { createReadStream } from "node:fs";
import { StorageError, UnavailableError } from "../../common/errors";
import type { ImageCache } from "./image-cache";
import type { Requester } from "./acl";
import type { WalrusService } from "./service";
import type { ObjectInfo, WalrusClient } from "./client";
import type { VersionRecord } from "./records";

export function infoOf(v: VersionRecord): ObjectInfo {
  return { size: v.size, etag: v.etag, lastModified: v.lastModified.toISOString(), contentType: v.meta.contentType };
}

/** The in-process transport: calls the service as the cloud's own account. */
export function createInProcessWalrusClient(
  walrus: WalrusService,
  system: () => Requester,
  images?: ImageCache,
): WalrusClient {
  return {
    async getDecryptedImage(ref) {
      if (!images) throw new UnavailableError("this Walrus has no image cache (the cloud's key is not on this host)");
      const img = await images.get(ref.bucket, ref.key);
      return { size: img.size, body: createReadStream(img.path, { highWaterMark: 1024 * 1024 }) };
    },
    async headObject(ref) {
      return infoOf(walrus.readable(system(), ref.bucket, ref.key, ref.versionId));
    },
    async getObject(ref) {
      const v = walrus.readable(system(), ref.bucket, ref.key, ref.versionId);
      return { ...infoOf(v), body: walrus.open(v) };
    },
    async putObject(ref, source) {
      const r = await walrus.putObject(system(), ref.bucket, ref.key, source.open(), {
        meta: { user: {}, ...(source.contentType ? { contentType: source.contentType } : {}) },
        contentLength: source.size,
      });
      return { etag: r.etag, versionId: r.versionId };
    },
    async deleteObject(ref) {
      walrus.deleteObject(system(), ref.bucket, ref.key, ref.versionId);
    },
    async bucketOwner(bucket) {
      return walrus.bucket(bucket).owner;
    },
    async ensureBucket(bucket) {
      try {
        walrus.createBucket(system(), bucket, {});
      } catch (e) {
        if (!(e instanceof StorageError && e.code === "BucketAlreadyOwnedByYou")) throw e;
      }
    },
  };
}
