/** Multipart uploads of the Walrus service. Completing one is a metadata transaction over the parts' blobs. */
import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { AccessDeniedError, InvalidParameterError, NotFoundError, StorageError } from "../../common/errors";
import { cannedGrants, type Requester } from "./acl";
import type { Checksum, ChecksumAlgorithm, ObjectMeta, PartRecord, Tag, UploadRecord, VersionRecord } from "./records";
import type { WalrusContext } from "./service-context";
import { blobCheck, checkKey, integrityAlgorithms, readSegments, type PutOptions } from "./objects";
import { digester, type HashAlgorithm } from "../../common/digests";
import { checkTags } from "./tags";

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;
export const MAX_PART_SIZE = 5 * 1024 ** 3;

export function parsePartNumber(raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PART_NUMBER) {
    throw new StorageError(
      "InvalidArgument",
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
      { ArgumentName: "partNumber", ArgumentValue: raw },
    );
  }
  return Number(raw);
}

/** A stored part, with the checksum algorithm its digest is in (the upload's), for the part's reply. */
export type StoredPart = PartRecord & { checksumAlgorithm?: ChecksumAlgorithm };

const unquote = (etag: string) => etag.trim().replace(/^"|"$/g, "");

/** S3's checksum of a multipart object: the digest of its parts' digests, then "-N". */
async function compositeChecksum(
  algorithm: ChecksumAlgorithm | undefined,
  parts: readonly PartRecord[],
): Promise<Checksum | undefined> {
  if (!algorithm || parts.some((p) => p.checksum === undefined)) return undefined;
  const h = digester(algorithm.toLowerCase() as HashAlgorithm);
  for (const p of parts) h.update(Buffer.from(p.checksum!, "base64"));
  return { algorithm, value: `${(await h.digest()).toString("base64")}-${parts.length}`, type: "COMPOSITE" };
}

export function multipartOps(
  c: WalrusContext,
  objects: { readable(r: Requester, b: string, k: string, v?: string): VersionRecord },
) {
  function upload(r: Requester, bucket: string, key: string, uploadId: string, action = "s3:PutObject"): UploadRecord {
    c.bucketFor(r, bucket, "WRITE", action, key);
    const u = c.repo.getUpload(uploadId);
    if (!u || u.bucket !== bucket || u.key !== key) throw new NotFoundError("upload", uploadId);
    return u;
  }

  /** Parts count against the bucket's quota as they arrive (a part replacing one of the same number counts once). */
  async function storePart(
    r: Requester,
    u: UploadRecord,
    partNumber: number,
    body: Readable,
    check: Pick<PutOptions, "md5" | "contentLength" | "integrity">,
  ): Promise<StoredPart> {
    if (check.contentLength !== undefined && check.contentLength > MAX_PART_SIZE)
      throw new StorageError("EntityTooLarge", "A part may be at most 5 GiB");
    c.precheckQuota(r, u.bucket, check.contentLength ?? 0, c.repo.partBytes(u.id, partNumber));
    // An upload created with a checksum algorithm keeps each part's digest in it (computed here when the client sent none).
    const partHash = u.checksumAlgorithm?.toLowerCase() as HashAlgorithm | undefined;
    const algorithms = integrityAlgorithms(check.integrity);
    if (partHash && !algorithms.includes(partHash)) algorithms.push(partHash);
    const blob = await c.store.write(body, blobCheck(check), algorithms);
    const part: PartRecord = {
      partNumber,
      blobId: blob.id,
      size: blob.size,
      etag: `"${blob.md5.toString("hex")}"`,
      lastModified: c.clock.now(),
      checksum: partHash ? blob.digests[partHash]!.toString("base64") : undefined,
    };
    const stored = c.commitOrRemove(blob.id, () => {
      if (blob.size > MAX_PART_SIZE) throw new StorageError("EntityTooLarge", "A part may be at most 5 GiB");
      const s = c.repo.putPart(u.id, part, c.quotaFor(r));
      if (!s.ok) throw new NotFoundError("upload", u.id); // aborted while the part was uploading
      return s;
    });
    c.release(stored.freed);
    return { ...part, checksumAlgorithm: partHash && u.checksumAlgorithm };
  }

  return {
    createUpload(
      r: Requester,
      bucket: string,
      key: string,
      o: { meta: ObjectMeta; acl?: PutOptions["acl"]; tags?: Tag[]; checksumAlgorithm?: ChecksumAlgorithm },
    ): UploadRecord {
      checkKey(key);
      const b = c.bucketFor(r, bucket, "WRITE", "s3:PutObject", key);
      if (r === null) throw new AccessDeniedError("Anonymous writes are not accepted");
      const acl =
        o.acl?.grants ??
        cannedGrants(o.acl?.canned ?? "private", {
          owner: r.accountId,
          bucketOwner: b.owner,
          systemAccount: c.systemAccount,
        });
      const u: UploadRecord = {
        id: randomBytes(24).toString("base64url"),
        bucket,
        key,
        owner: r.accountId,
        initiated: c.clock.now(),
        meta: o.meta,
        acl,
        tags: checkTags(o.tags ?? [], "object"),
        checksumAlgorithm: o.checksumAlgorithm,
      };
      c.repo.insertUpload(u);
      return u;
    },

    async uploadPart(
      r: Requester,
      bucket: string,
      key: string,
      uploadId: string,
      partNumberRaw: string,
      body: Readable,
      check: Pick<PutOptions, "md5" | "contentLength" | "integrity">,
    ): Promise<StoredPart> {
      const partNumber = parsePartNumber(partNumberRaw);
      return storePart(r, upload(r, bucket, key, uploadId), partNumber, body, check);
    },

    async uploadPartCopy(
      r: Requester,
      bucket: string,
      key: string,
      uploadId: string,
      partNumberRaw: string,
      src: { bucket: string; key: string; versionId?: string },
      range: { start: number; end: number } | undefined,
      check?: (v: VersionRecord) => void,
    ): Promise<StoredPart> {
      const partNumber = parsePartNumber(partNumberRaw);
      const u = upload(r, bucket, key, uploadId);
      const source = objects.readable(r, src.bucket, src.key, src.versionId);
      check?.(source);
      if (range && (range.start > range.end || range.end >= source.size)) {
        throw new InvalidParameterError(
          "copySourceRange",
          `Range specified is not valid for source object of size: ${source.size}`,
        );
      }
      const length = range ? range.end - range.start + 1 : source.size;
      return storePart(r, u, partNumber, readSegments(c, source.segments, range?.start ?? 0, range?.end), {
        contentLength: length,
      });
    },

    async complete(
      r: Requester,
      bucket: string,
      key: string,
      uploadId: string,
      requested: Array<{ partNumber: number; etag: string; checksum?: string }>,
    ): Promise<{ etag: string; versionId: string; size: number; checksum?: Checksum }> {
      const u = upload(r, bucket, key, uploadId);
      if (requested.length === 0) throw new StorageError("MalformedXML", "You must specify at least one part");
      const stored = new Map(c.repo.listParts(uploadId).map((p) => [p.partNumber, p]));
      const chosen: PartRecord[] = [];
      let previous = 0;
      for (const q of requested) {
        if (q.partNumber <= previous)
          throw new StorageError(
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
          );
        previous = q.partNumber;
        const p = stored.get(q.partNumber);
        if (
          !p ||
          unquote(p.etag) !== unquote(q.etag) ||
          (q.checksum !== undefined && p.checksum !== undefined && q.checksum !== p.checksum)
        ) {
          throw new StorageError(
            "InvalidPart",
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            { PartNumber: String(q.partNumber), ETag: q.etag },
          );
        }
        chosen.push(p);
      }
      chosen.slice(0, -1).forEach((p) => {
        if (p.size < MIN_PART_SIZE) {
          throw new StorageError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed object size: every part but the last must be at least 5 MiB",
            { PartNumber: String(p.partNumber), ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART_SIZE) },
          );
        }
      });
      const md5 = createHash("md5");
      for (const p of chosen) md5.update(Buffer.from(unquote(p.etag), "hex"));
      const etag = `"${md5.digest("hex")}-${chosen.length}"`;
      const size = chosen.reduce((n, p) => n + p.size, 0);
      const checksum = await compositeChecksum(u.checksumAlgorithm, chosen);
      const b = c.bucket(bucket);
      const done = c.repo.completeUpload(
        uploadId,
        {
          bucket,
          key,
          size,
          etag,
          lastModified: c.clock.now(),
          owner: u.owner,
          meta: u.meta,
          acl: u.acl,
          segments: chosen.map((p) => ({ b: p.blobId, n: p.size })),
          tags: u.tags,
          checksum,
        },
        b.versioning,
        c.quotaFor(r),
      );
      if (!done) throw new NotFoundError("upload", uploadId);
      c.release(done.freed);
      return { etag, versionId: done.versionId, size, checksum };
    },

    abort(r: Requester, bucket: string, key: string, uploadId: string): void {
      upload(r, bucket, key, uploadId, "s3:AbortMultipartUpload");
      c.release(c.repo.deleteUpload(uploadId));
    },

    listParts(
      r: Requester,
      bucket: string,
      key: string,
      uploadId: string,
    ): { upload: UploadRecord; parts: PartRecord[] } {
      const u = upload(r, bucket, key, uploadId, "s3:ListMultipartUploadParts");
      return { upload: u, parts: c.repo.listParts(uploadId) };
    },

    listUploads(
      r: Requester,
      bucket: string,
      o: { prefix: string; maxUploads: number },
    ): { uploads: UploadRecord[]; isTruncated: boolean } {
      c.bucketFor(r, bucket, "READ", "s3:ListBucketMultipartUploads");
      const rows = c.repo.listUploads(bucket, { prefix: o.prefix, limit: o.maxUploads + 1 });
      return { uploads: rows.slice(0, o.maxUploads), isTruncated: rows.length > o.maxUploads };
    },
  };
}
