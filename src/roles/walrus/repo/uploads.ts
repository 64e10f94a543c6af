/** Multipart uploads and their parts, through to the version a completed upload becomes. */
import type { VersionsQueries } from "./versions";
import { and, asc, eq, gte, lt } from "drizzle-orm";
import { parts, uploads } from "../schema";
import type { NewVersion, PartRecord, UploadRecord, Versioning } from "../records";
import { toUpload, prefixEnd, type RepoCore } from "./core";

export function uploadsQueries(c: RepoCore, versions: Pick<VersionsQueries, "putVersion">) {
  const { db, tx, ref, unref, enforceQuota } = c;
  const queries = {
    /** Bytes a new part `partNumber` would replace. */
    partBytes(uploadId: string, partNumber: number): number {
      return (
        db
          .select({ size: parts.size })
          .from(parts)
          .where(and(eq(parts.uploadId, uploadId), eq(parts.partNumber, partNumber)))
          .get()?.size ?? 0
      );
    },

    uploadsInitiatedBefore(bucket: string, before: Date, limit: number): UploadRecord[] {
      return db
        .select()
        .from(uploads)
        .where(and(eq(uploads.bucket, bucket), lt(uploads.initiated, before)))
        .orderBy(asc(uploads.initiated))
        .limit(limit)
        .all()
        .map(toUpload);
    },
    // Multipart uploads
    insertUpload(u: UploadRecord): void {
      db.insert(uploads)
        .values({
          ...u,
          meta: JSON.stringify(u.meta),
          acl: JSON.stringify(u.acl),
          tags: JSON.stringify(u.tags),
          checksumAlgorithm: u.checksumAlgorithm ?? null,
        })
        .run();
    },
    getUpload(id: string): UploadRecord | undefined {
      const r = db.select().from(uploads).where(eq(uploads.id, id)).get();
      return r && toUpload(r);
    },
    listUploads(bucket: string, o: { prefix: string; limit: number }): UploadRecord[] {
      const conds = [eq(uploads.bucket, bucket)];
      if (o.prefix) conds.push(gte(uploads.key, o.prefix));
      const end = prefixEnd(o.prefix);
      if (end) conds.push(lt(uploads.key, end));
      return db
        .select()
        .from(uploads)
        .where(and(...conds))
        .orderBy(asc(uploads.key), asc(uploads.initiated))
        .limit(o.limit)
        .all()
        .map(toUpload);
    },
    /** Stores a part (replacing one with the same number); false when the upload is gone. */
    putPart(uploadId: string, p: PartRecord, quota?: number): { ok: boolean; freed: string[] } {
      return tx(() => {
        const freed: string[] = [];
        const upload = db.select({ bucket: uploads.bucket }).from(uploads).where(eq(uploads.id, uploadId)).get();
        if (!upload) return { ok: false, freed };
        const old = db
          .select()
          .from(parts)
          .where(and(eq(parts.uploadId, uploadId), eq(parts.partNumber, p.partNumber)))
          .get();
        if (old) {
          db.delete(parts)
            .where(and(eq(parts.uploadId, uploadId), eq(parts.partNumber, p.partNumber)))
            .run();
          unref([{ b: old.blobId, n: old.size }], freed);
        }
        db.insert(parts)
          .values({ uploadId, ...p, checksum: p.checksum ?? null })
          .run();
        ref([{ b: p.blobId, n: p.size }]);
        enforceQuota(upload.bucket, quota);
        return { ok: true, freed };
      });
    },
    listParts(uploadId: string): PartRecord[] {
      return db
        .select({
          partNumber: parts.partNumber,
          blobId: parts.blobId,
          size: parts.size,
          etag: parts.etag,
          lastModified: parts.lastModified,
          checksum: parts.checksum,
        })
        .from(parts)
        .where(eq(parts.uploadId, uploadId))
        .orderBy(asc(parts.partNumber))
        .all()
        .map((p) => ({ ...p, checksum: p.checksum ?? undefined }));
    },
    /** Drops the upload and its parts. */
    deleteUpload(uploadId: string): string[] {
      return tx(() => {
        const freed: string[] = [];
        const ps = db.select().from(parts).where(eq(parts.uploadId, uploadId)).all();
        db.delete(uploads).where(eq(uploads.id, uploadId)).run();
        unref(
          ps.map((p) => ({ b: p.blobId, n: p.size })),
          freed,
        );
        return freed;
      });
    },
    /** Completes an upload: the new version references the chosen parts' blobs; the upload goes. */
    completeUpload(
      uploadId: string,
      v: NewVersion,
      versioning: Versioning,
      quota?: number,
    ): { versionId: string; freed: string[] } | undefined {
      return tx(() => {
        if (!db.select({ id: uploads.id }).from(uploads).where(eq(uploads.id, uploadId)).get()) return undefined;
        const put = versions.putVersion(v, versioning);
        const freed = [...put.freed, ...queries.deleteUpload(uploadId)];
        enforceQuota(v.bucket, quota);
        return { versionId: put.versionId, freed };
      });
    },
  };
  return queries;
}

export type UploadsQueries = ReturnType<typeof uploadsQueries>;
