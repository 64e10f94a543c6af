/** Object operations of the Walrus service: put, get, delete, copy, ACLs. */
import { Readable } from "node:stream";
import type { ChunkSource } from "../../server/chunk-source";
import { AccessDeniedError, NotFoundError, StorageError } from "../../common/errors";
import { cannedGrants, type Grant, type Requester } from "./acl";
import type { BucketRecord, Checksum, ObjectMeta, Tag, VersionRecord } from "./records";
import { checkTags } from "./tags";
import type { WalrusContext } from "./service-context";

export {
  MAX_KEY_BYTES,
  MAX_SINGLE_PUT,
  checksumName,
  verifiedChecksum,
  integrityAlgorithms,
  checkKey,
  blobCheck,
  readSegments,
} from "./object-checks";
export type { PutOptions, Integrity, PutResult } from "./object-checks";
import {
  MAX_SINGLE_PUT,
  verifiedChecksum,
  integrityAlgorithms,
  checkKey,
  blobCheck,
  readSegments,
  piecesOf,
  type PutOptions,
  type PutResult,
} from "./object-checks";

export function objectOps(c: WalrusContext) {
  /** Who owns what the requester writes: anonymous writes (a public-read-write bucket) belong to the bucket's owner. */
  const ownerOf = (r: Requester, b: BucketRecord) => r?.accountId ?? b.owner;

  function aclFor(r: Requester, b: BucketRecord, acl: PutOptions["acl"]): Grant[] {
    return (
      acl?.grants ??
      cannedGrants(acl?.canned ?? "private", {
        owner: ownerOf(r, b),
        bucketOwner: b.owner,
        systemAccount: c.systemAccount,
      })
    );
  }

  /** A version the requester may read (READ on the object), following delete markers as S3 does. */
  function readable(r: Requester, bucket: string, key: string, versionId?: string): VersionRecord {
    c.bucket(bucket);
    const v = versionId !== undefined ? c.repo.version(bucket, key, versionId) : c.repo.latest(bucket, key);
    if (!v) {
      if (versionId !== undefined) throw new NotFoundError("version", versionId);
      throw new NotFoundError("object", key);
    }
    if (v.deleteMarker) {
      if (versionId !== undefined)
        throw new StorageError(
          "MethodNotAllowed",
          "The specified method is not allowed against a delete marker",
          {},
          v.versionId,
        );
      throw new NotFoundError("object", key);
    }
    c.objectAccess(r, c.bucket(bucket), v, "READ", versionId !== undefined ? "s3:GetObjectVersion" : "s3:GetObject");
    return v;
  }

  /** The version an ACL or tagging operation addresses (no delete markers), with its bucket. */
  function current(bucket: string, key: string, versionId?: string): { b: BucketRecord; v: VersionRecord } {
    const b = c.bucket(bucket);
    const v = versionId !== undefined ? c.repo.version(bucket, key, versionId) : c.repo.latest(bucket, key);
    if (!v) throw versionId !== undefined ? new NotFoundError("version", versionId) : new NotFoundError("object", key);
    if (v.deleteMarker) {
      if (versionId !== undefined)
        throw new StorageError(
          "MethodNotAllowed",
          "The specified method is not allowed against a delete marker",
          {},
          v.versionId,
        );
      throw new NotFoundError("object", key);
    }
    return { b, v };
  }

  /** Tagging is the object owner's (or the policy's): ACL grants say nothing about it. */
  function taggable(
    r: Requester,
    bucket: string,
    key: string,
    versionId: string | undefined,
    verb: "Get" | "Put" | "Delete",
  ) {
    const { b, v } = current(bucket, key, versionId);
    c.authorize(
      r,
      b,
      `s3:${verb}Object${versionId !== undefined ? "Version" : ""}Tagging`,
      key,
      r !== null && r.accountId === v.owner,
    );
    return v;
  }

  return {
    readable,

    async putObject(r: Requester, bucket: string, key: string, body: Readable, o: PutOptions): Promise<PutResult> {
      checkKey(key);
      const b = c.bucketFor(r, bucket, "WRITE", "s3:PutObject", key);
      const tags = checkTags(o.tags ?? [], "object");
      if (o.contentLength !== undefined && o.contentLength > MAX_SINGLE_PUT) {
        throw new StorageError(
          "EntityTooLarge",
          "Your proposed upload exceeds the maximum allowed object size (5 GiB); use a multipart upload",
        );
      }
      const acl = aclFor(r, b, o.acl);
      // An overwrite replaces the current null version: the quota counts the new bytes, not both.
      c.precheckQuota(r, bucket, o.contentLength ?? 0, c.repo.replacedBytes(bucket, key, b.versioning));
      const blob = await c.store.write(body, blobCheck(o), integrityAlgorithms(o.integrity));
      const etag = `"${blob.md5.toString("hex")}"`;
      const checksum = verifiedChecksum(o.integrity);
      const { versionId, freed } = c.commitOrRemove(blob.id, () => {
        const current = c.repo.getBucket(bucket);
        if (!current) throw new NotFoundError("bucket", bucket);
        return c.repo.putVersion(
          {
            bucket,
            key,
            size: blob.size,
            etag,
            lastModified: c.clock.now(),
            owner: ownerOf(r, b),
            meta: o.meta,
            acl,
            segments: [{ b: blob.id, n: blob.size }],
            tags,
            checksum,
          },
          current.versioning,
          c.quotaFor(r),
        );
      });
      c.release(freed);
      return { etag, versionId, size: blob.size, checksum };
    },

    deleteObject(
      r: Requester,
      bucket: string,
      key: string,
      versionId?: string,
    ): { deleteMarker: boolean; versionId?: string } {
      const b = c.bucketFor(
        r,
        bucket,
        "WRITE",
        versionId !== undefined ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
        key,
      );
      if (versionId !== undefined) {
        const v = c.repo.version(bucket, key, versionId);
        if (!v) {
          if (versionId !== "null" && !/^[A-Za-z0-9._-]{1,64}$/.test(versionId))
            throw new StorageError("InvalidArgument", "Invalid version id specified", { ArgumentName: "versionId" });
          return { deleteMarker: false, versionId };
        }
        c.release(c.repo.deleteVersion(v));
        return { deleteMarker: v.deleteMarker, versionId };
      }
      const { markerVersionId, freed } = c.repo.deleteCurrent(
        bucket,
        key,
        b.versioning,
        r?.accountId ?? b.owner,
        c.clock.now(),
      );
      c.release(freed);
      return markerVersionId !== undefined
        ? { deleteMarker: true, versionId: markerVersionId }
        : { deleteMarker: false };
    },

    /** CopyObject: the new version shares the source's blobs (no bytes are copied). */
    copyObject(
      r: Requester,
      src: { bucket: string; key: string; versionId?: string },
      dst: { bucket: string; key: string },
      o: { replaceMeta?: ObjectMeta; acl?: PutOptions["acl"]; check?: (v: VersionRecord) => void; replaceTags?: Tag[] },
    ): { etag: string; lastModified: Date; versionId: string; sourceVersionId: string; checksum?: Checksum } {
      checkKey(dst.key);
      const source = readable(r, src.bucket, src.key, src.versionId);
      o.check?.(source);
      const b = c.bucketFor(r, dst.bucket, "WRITE", "s3:PutObject", dst.key);
      const tags = o.replaceTags ? checkTags(o.replaceTags, "object") : source.tags;
      if (r === null) throw new AccessDeniedError("Anonymous writes are not accepted");
      if (
        src.bucket === dst.bucket &&
        src.key === dst.key &&
        !o.replaceMeta &&
        !o.replaceTags &&
        src.versionId === undefined &&
        b.versioning !== "Enabled"
      ) {
        throw new StorageError(
          "InvalidRequest",
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      const lastModified = c.clock.now();
      const { versionId, freed } = c.repo.putVersion(
        {
          bucket: dst.bucket,
          key: dst.key,
          size: source.size,
          etag: source.etag,
          lastModified,
          owner: r.accountId,
          meta: o.replaceMeta ?? source.meta,
          acl: aclFor(r, b, o.acl),
          segments: source.segments,
          tags,
          checksum: source.checksum,
        },
        b.versioning,
        c.quotaFor(r),
      );
      c.release(freed);
      return {
        etag: source.etag,
        lastModified,
        versionId,
        sourceVersionId: source.versionId,
        checksum: source.checksum,
      };
    },

    /** The owner of an object's version, without an access check (the protocol layer validates ACL bodies with it). */
    objectOwner(bucket: string, key: string, versionId?: string): string {
      return current(bucket, key, versionId).v.owner;
    },

    getObjectAcl(r: Requester, bucket: string, key: string, versionId?: string): VersionRecord {
      const { b, v } = current(bucket, key, versionId);
      c.objectAccess(r, b, v, "READ_ACP", versionId !== undefined ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl");
      return v;
    },

    putObjectAcl(
      r: Requester,
      bucket: string,
      key: string,
      acl: NonNullable<PutOptions["acl"]>,
      versionId?: string,
    ): void {
      const { b, v } = current(bucket, key, versionId);
      c.objectAccess(r, b, v, "WRITE_ACP", versionId !== undefined ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl");
      c.repo.setObjectAcl(
        v.id,
        acl.grants ??
          cannedGrants(acl.canned ?? "private", {
            owner: v.owner,
            bucketOwner: b.owner,
            systemAccount: c.systemAccount,
          }),
      );
    },

    getObjectTagging(r: Requester, bucket: string, key: string, versionId?: string): VersionRecord {
      return taggable(r, bucket, key, versionId, "Get");
    },
    putObjectTagging(r: Requester, bucket: string, key: string, tags: Tag[], versionId?: string): VersionRecord {
      const v = taggable(r, bucket, key, versionId, "Put");
      c.repo.setObjectTags(v.id, checkTags(tags, "object"));
      return v;
    },
    deleteObjectTagging(r: Requester, bucket: string, key: string, versionId?: string): VersionRecord {
      const v = taggable(r, bucket, key, versionId, "Delete");
      c.repo.setObjectTags(v.id, []);
      return v;
    },

    /** Where part `n` of an object lies (a multipart object's parts are its segments), and how many parts it has. */
    partRange(v: VersionRecord, n: number): { start: number; end: number; count: number } {
      if (!Number.isInteger(n) || n < 1 || n > v.segments.length)
        throw new StorageError("InvalidRange", "The requested partnumber is not satisfiable", {
          ActualObjectSize: String(v.size),
        });
      const start = v.segments.slice(0, n - 1).reduce((s, x) => s + x.n, 0);
      return { start, end: start + v.segments[n - 1]!.n - 1, count: v.segments.length };
    },

    open(v: VersionRecord, range?: { start: number; end: number }): Readable {
      return readSegments(c, v.segments, range?.start ?? 0, range?.end);
    },

    /** The same bytes as open(), read into the caller's buffers (server/chunk-source.ts). */
    source(v: VersionRecord, range?: { start: number; end: number }): ChunkSource {
      return c.store.source(piecesOf(v.segments, range?.start ?? 0, range?.end));
    },

    /** A small single-blob object's bytes, without a stream (most GETs of small objects); undefined otherwise. */
    async readSmall(v: VersionRecord): Promise<Buffer | undefined> {
      return v.segments.length === 1 ? c.store.readSmall(v.segments[0]!.b, v.size) : undefined;
    },
  };
}
