/**
 * walrus.db queries. Every change is one transaction; blob reference counts move in
 * the same transaction, and the ids of blobs that reach zero are returned so the
 * caller deletes their files after the commit.
 */
import { and, asc, desc, eq, gt, gte, isNotNull, lt, sql } from "drizzle-orm";
import type { WalrusDatabase } from "./database";
import { blobs, buckets, lifecycleCursors, objects, parts, uploads } from "./schema";
import type { Grant } from "./acl";
import type {
  BucketConfigName,
  BucketRecord,
  ChecksumAlgorithm,
  NewVersion,
  PartRecord,
  Segment,
  Tag,
  UploadRecord,
  VersionRecord,
  Versioning,
} from "./records";
import { StorageError } from "../../common/errors";

/** Raised inside a transaction, so a write that would take the bucket past its quota is rolled back whole. */
function quotaExceeded(bucket: string, limit: number): StorageError {
  return new StorageError("QuotaExceeded", `Bucket ${bucket} would exceed its Walrus size quota of ${limit} bytes`);
}

type ObjectRow = typeof objects.$inferSelect;
function toVersion(r: ObjectRow): VersionRecord {
  return {
    ...r,
    meta: JSON.parse(r.meta),
    acl: JSON.parse(r.acl),
    segments: JSON.parse(r.segments),
    tags: JSON.parse(r.tags),
    checksum: r.checksum === null ? undefined : JSON.parse(r.checksum),
  };
}

type BucketRow = typeof buckets.$inferSelect;
const json = <T>(v: string | null): T | undefined => (v === null ? undefined : (JSON.parse(v) as T));
function toBucket(r: BucketRow): BucketRecord {
  return {
    name: r.name,
    owner: r.owner,
    createdAt: r.createdAt,
    acl: JSON.parse(r.acl) as Grant[],
    versioning: r.versioning as Versioning,
    location: r.location,
    tags: json(r.tags),
    cors: json(r.cors),
    policy: r.policy ?? undefined,
    lifecycle: json(r.lifecycle),
  };
}

type UploadRow = typeof uploads.$inferSelect;
function toUpload(r: UploadRow): UploadRecord {
  return {
    ...r,
    meta: JSON.parse(r.meta),
    acl: JSON.parse(r.acl),
    tags: JSON.parse(r.tags),
    checksumAlgorithm: (r.checksumAlgorithm ?? undefined) as ChecksumAlgorithm | undefined,
  };
}

/** Upper bound for "keys starting with prefix" in SQLite's binary (UTF-8) order. */
export function prefixEnd(prefix: string): string | undefined {
  return prefix === "" ? undefined : `${prefix}\u{10FFFF}`;
}

export function createWalrusRepo({ db, sqlite }: WalrusDatabase, newVersionId: () => string) {
  const tx = <T>(fn: () => T): T => sqlite.transaction(fn).immediate();
  let policies: boolean | undefined;
  // The statements every GET and PUT runs, prepared once.
  const bucketQuery = db
    .select()
    .from(buckets)
    .where(eq(buckets.name, sql.placeholder("name")))
    .prepare();
  const latestQuery = db
    .select()
    .from(objects)
    .where(
      and(
        eq(objects.bucket, sql.placeholder("bucket")),
        eq(objects.key, sql.placeholder("key")),
        eq(objects.isLatest, true),
      ),
    )
    .prepare();
  const versionQuery = db
    .select()
    .from(objects)
    .where(
      and(
        eq(objects.bucket, sql.placeholder("bucket")),
        eq(objects.key, sql.placeholder("key")),
        eq(objects.versionId, sql.placeholder("versionId")),
      ),
    )
    .prepare();

  const putInline = sqlite.prepare("INSERT INTO blobs (id, size, refs, bytes) VALUES (?, ?, 0, ?)");
  const getInline = sqlite.prepare("SELECT bytes FROM blobs WHERE id = ? AND bytes IS NOT NULL").pluck();
  const dropInline = sqlite.prepare("DELETE FROM blobs WHERE id = ? AND refs <= 0");

  // The statements of every write, prepared once (drizzle built and prepared each anew: ~0.2 ms of a 4 KiB PUT).
  const refBlob = sqlite.prepare(
    "INSERT INTO blobs (id, size, refs) VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET refs = refs + 1",
  );
  const unrefBlob = sqlite.prepare("UPDATE blobs SET refs = refs - 1 WHERE id = ? RETURNING refs").pluck();
  const deleteBlob = sqlite.prepare("DELETE FROM blobs WHERE id = ?");
  const clearLatest = sqlite.prepare("UPDATE objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1");
  const insertObject = sqlite.prepare(`INSERT INTO objects
    (bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified, owner, meta, acl, segments, tags, checksum)
    VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const deleteObject = sqlite.prepare("DELETE FROM objects WHERE id = ?");
  const newestOfKey = sqlite
    .prepare("SELECT id FROM objects WHERE bucket = ? AND key = ? ORDER BY id DESC LIMIT 1")
    .pluck();
  const setLatest = sqlite.prepare("UPDATE objects SET is_latest = 1 WHERE id = ?");

  function ref(segments: readonly Segment[]): void {
    for (const s of segments) refBlob.run(s.b, s.n);
  }

  function unref(segments: readonly Segment[], freed: string[]): void {
    for (const s of segments) {
      const refs = unrefBlob.get(s.b) as number | undefined;
      if (refs !== undefined && refs <= 0) {
        deleteBlob.run(s.b);
        freed.push(s.b);
      }
    }
  }

  function latestRow(bucket: string, key: string): VersionRecord | undefined {
    const r = latestQuery.get({ bucket, key });
    return r && toVersion(r);
  }

  function removeRow(v: VersionRecord, freed: string[]): void {
    deleteObject.run(v.id);
    unref(v.segments, freed);
    if (v.isLatest) {
      const next = newestOfKey.get(v.bucket, v.key) as number | undefined;
      if (next !== undefined) setLatest.run(next);
    }
  }

  function insertRow(v: NewVersion & { versionId: string; deleteMarker: boolean }): void {
    clearLatest.run(v.bucket, v.key);
    insertObject.run(
      v.bucket,
      v.key,
      v.versionId,
      v.deleteMarker ? 1 : 0,
      v.size,
      v.etag,
      v.lastModified.getTime(),
      v.owner,
      JSON.stringify(v.meta),
      JSON.stringify(v.acl),
      JSON.stringify(v.segments),
      JSON.stringify(v.tags),
      v.checksum ? JSON.stringify(v.checksum) : null,
    );
    ref(v.segments);
  }

  /** Every version's and open upload part's size: kept by triggers (migrations.ts), so reading it costs one row. */
  const bytesOfBucket = sqlite.prepare("SELECT bytes FROM buckets WHERE name = ?").pluck();
  function bucketBytes(name: string): number {
    return (bytesOfBucket.get(name) as number | undefined) ?? 0;
  }

  /** Inside a transaction, after its change: over the limit throws, and the whole change rolls back. */
  function enforceQuota(bucket: string, limit: number | undefined): void {
    if (limit !== undefined && bucketBytes(bucket) > limit) throw quotaExceeded(bucket, limit);
  }

  function nullVersion(bucket: string, key: string): VersionRecord | undefined {
    const r = versionQuery.get({ bucket, key, versionId: "null" });
    return r && toVersion(r);
  }

  return {
    transaction: tx,

    getBucket(name: string): BucketRecord | undefined {
      const r = bucketQuery.get({ name });
      return r && toBucket(r);
    },
    listBuckets(owner: string): BucketRecord[] {
      return db.select().from(buckets).where(eq(buckets.owner, owner)).orderBy(asc(buckets.name)).all().map(toBucket);
    },
    /** Buckets that have a lifecycle configuration (the sweeper's work list). */
    bucketsWithLifecycle(): BucketRecord[] {
      return db
        .select()
        .from(buckets)
        .where(isNotNull(buckets.lifecycle))
        .orderBy(asc(buckets.name))
        .all()
        .map(toBucket);
    },
    /** Sets (or, with undefined, removes) one of a bucket's stored configurations. */
    setBucketConfig<K extends BucketConfigName>(name: string, field: K, value: BucketRecord[K] | undefined): void {
      const text = value === undefined ? null : typeof value === "string" ? value : JSON.stringify(value);
      db.update(buckets)
        .set({ [field]: text })
        .where(eq(buckets.name, name))
        .run();
      if (field === "policy") policies = undefined;
    },
    /** Whether any bucket has a policy (kept between changes: asked on every request). */
    anyPolicy(): boolean {
      policies ??=
        db.select({ name: buckets.name }).from(buckets).where(isNotNull(buckets.policy)).limit(1).get() !== undefined;
      return policies;
    },
    countBuckets(owner: string): number {
      return db
        .select({ n: sql<number>`count(*)` })
        .from(buckets)
        .where(eq(buckets.owner, owner))
        .get()!.n;
    },
    insertBucket(b: BucketRecord): void {
      db.insert(buckets)
        .values({
          name: b.name,
          owner: b.owner,
          createdAt: b.createdAt,
          acl: JSON.stringify(b.acl),
          versioning: b.versioning,
          location: b.location,
        })
        .run();
    },
    /**
     * Deletes a bucket that holds no object or version, aborting its unfinished multipart
     * uploads (as S3 does: no listing shows them, so nothing else could empty it), in one
     * transaction. Undefined when it holds objects; else the blobs the uploads' parts freed.
     */
    deleteBucketIfEmpty(name: string): string[] | undefined {
      return tx(() => {
        if (db.select({ id: objects.id }).from(objects).where(eq(objects.bucket, name)).limit(1).get())
          return undefined;
        const open = db.select({ id: uploads.id }).from(uploads).where(eq(uploads.bucket, name)).all();
        const freed = open.flatMap((u) => this.deleteUpload(u.id));
        db.delete(buckets).where(eq(buckets.name, name)).run();
        policies = undefined;
        return freed;
      });
    },
    setBucketAcl(name: string, acl: Grant[]): void {
      db.update(buckets)
        .set({ acl: JSON.stringify(acl) })
        .where(eq(buckets.name, name))
        .run();
    },
    setVersioning(name: string, status: "Enabled" | "Suspended"): void {
      db.update(buckets).set({ versioning: status }).where(eq(buckets.name, name)).run();
    },
    /** Bytes held by every version in the bucket and its unfinished uploads (quota). */
    /** What a bucket holds for its quota: every version (delete markers are 0) and every part of its open uploads. */
    bucketBytes,
    /** Bytes a new current version of `key` would replace (the null version, unless versioning is Enabled). */
    replacedBytes(bucket: string, key: string, versioning: Versioning): number {
      return versioning === "Enabled" ? 0 : (nullVersion(bucket, key)?.size ?? 0);
    },
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

    latest: latestRow,
    version(bucket: string, key: string, versionId: string): VersionRecord | undefined {
      const r = versionQuery.get({ bucket, key, versionId });
      return r && toVersion(r);
    },

    /** Stores a new current version as the bucket's versioning state says. Returns its id and freed blobs. */
    putVersion(v: NewVersion, versioning: Versioning, quota?: number): { versionId: string; freed: string[] } {
      return tx(() => {
        const freed: string[] = [];
        let versionId = "null";
        if (versioning === "Enabled") versionId = newVersionId();
        else {
          const old = nullVersion(v.bucket, v.key);
          if (old) removeRow({ ...old, isLatest: false }, freed);
        }
        insertRow({ ...v, versionId, deleteMarker: false });
        enforceQuota(v.bucket, quota);
        return { versionId, freed };
      });
    },

    /** DELETE without a version id. Returns the delete marker's version id, if one was made. */
    deleteCurrent(
      bucket: string,
      key: string,
      versioning: Versioning,
      owner: string,
      now: Date,
    ): { markerVersionId?: string; freed: string[] } {
      return tx(() => {
        const freed: string[] = [];
        if (versioning === "") {
          const old = nullVersion(bucket, key);
          if (old) removeRow(old, freed);
          return { freed };
        }
        let markerVersionId = newVersionId();
        if (versioning === "Suspended") {
          const old = nullVersion(bucket, key);
          if (old) removeRow({ ...old, isLatest: false }, freed);
          markerVersionId = "null";
        }
        insertRow({
          bucket,
          key,
          versionId: markerVersionId,
          deleteMarker: true,
          size: 0,
          etag: "",
          lastModified: now,
          owner,
          meta: { user: {} },
          acl: [],
          segments: [],
          tags: [],
        });
        return { markerVersionId, freed };
      });
    },

    /** Permanently removes one version. */
    deleteVersion(v: VersionRecord): string[] {
      return tx(() => {
        const freed: string[] = [];
        const current = db.select({ isLatest: objects.isLatest }).from(objects).where(eq(objects.id, v.id)).get();
        if (current) removeRow({ ...v, isLatest: current.isLatest }, freed);
        return freed;
      });
    },

    /** Current, non-deleted objects with key ≥ `from` (or > `after`), under `prefix`, in key order. */
    listLatest(bucket: string, o: { prefix: string; from?: string; after?: string; limit: number }): VersionRecord[] {
      const conds = [eq(objects.bucket, bucket), eq(objects.isLatest, true), eq(objects.deleteMarker, false)];
      if (o.prefix) conds.push(gte(objects.key, o.prefix));
      const end = prefixEnd(o.prefix);
      if (end) conds.push(lt(objects.key, end));
      if (o.from !== undefined) conds.push(gte(objects.key, o.from));
      if (o.after !== undefined) conds.push(gt(objects.key, o.after));
      return db
        .select()
        .from(objects)
        .where(and(...conds))
        .orderBy(asc(objects.key))
        .limit(o.limit)
        .all()
        .map(toVersion);
    },

    /** Every version and delete marker under `prefix`, by key then newest first, after (key, row id). */
    listVersions(
      bucket: string,
      o: { prefix: string; from?: string; afterKey?: string; afterId?: number; limit: number },
    ): VersionRecord[] {
      const conds = [eq(objects.bucket, bucket)];
      if (o.prefix) conds.push(gte(objects.key, o.prefix));
      const end = prefixEnd(o.prefix);
      if (end) conds.push(lt(objects.key, end));
      if (o.from !== undefined) conds.push(gte(objects.key, o.from));
      if (o.afterKey !== undefined) {
        conds.push(
          sql`(${objects.key} > ${o.afterKey} OR (${objects.key} = ${o.afterKey} AND ${objects.id} < ${o.afterId ?? Number.MAX_SAFE_INTEGER}))`,
        );
      }
      return db
        .select()
        .from(objects)
        .where(and(...conds))
        .orderBy(asc(objects.key), desc(objects.id))
        .limit(o.limit)
        .all()
        .map(toVersion);
    },

    setObjectAcl(id: number, acl: Grant[]): void {
      db.update(objects)
        .set({ acl: JSON.stringify(acl) })
        .where(eq(objects.id, id))
        .run();
    },
    setObjectTags(id: number, tags: Tag[]): void {
      db.update(objects)
        .set({ tags: JSON.stringify(tags) })
        .where(eq(objects.id, id))
        .run();
    },

    /** Versions of a bucket in row order after `afterId` (the lifecycle sweeper's scan). */
    versionsAfter(bucket: string, afterId: number, limit: number): VersionRecord[] {
      return db
        .select()
        .from(objects)
        .where(and(eq(objects.bucket, bucket), gt(objects.id, afterId)))
        .orderBy(asc(objects.id))
        .limit(limit)
        .all()
        .map(toVersion);
    },
    /** When `v` stopped being current: the row that replaced it (the next version of its key), if any. */
    supersededAt(v: VersionRecord): Date | undefined {
      return db
        .select({ at: objects.lastModified })
        .from(objects)
        .where(and(eq(objects.bucket, v.bucket), eq(objects.key, v.key), gt(objects.id, v.id)))
        .orderBy(asc(objects.id))
        .limit(1)
        .get()?.at;
    },
    /** Whether `key` has any version besides the row `id` (an expired delete marker's test). */
    hasOtherVersions(bucket: string, key: string, id: number): boolean {
      return (
        db
          .select({ id: objects.id })
          .from(objects)
          .where(and(eq(objects.bucket, bucket), eq(objects.key, key), sql`${objects.id} <> ${id}`))
          .limit(1)
          .get() !== undefined
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
    lifecycleCursor(bucket: string): number {
      return (
        db
          .select({ afterId: lifecycleCursors.afterId })
          .from(lifecycleCursors)
          .where(eq(lifecycleCursors.bucket, bucket))
          .get()?.afterId ?? 0
      );
    },
    setLifecycleCursor(bucket: string, afterId: number): void {
      db.insert(lifecycleCursors)
        .values({ bucket, afterId })
        .onConflictDoUpdate({ target: lifecycleCursors.bucket, set: { afterId } })
        .run();
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
        const put = this.putVersion(v, versioning);
        const freed = [...put.freed, ...this.deleteUpload(uploadId)];
        enforceQuota(v.bucket, quota);
        return { versionId: put.versionId, freed };
      });
    },

    // Small blobs' bytes (blob-store.ts: InlineBlobs). Written unreferenced; the commit that uses one counts it.
    putInlineBlob(id: string, bytes: Buffer): void {
      putInline.run(id, bytes.length, bytes);
    },
    inlineBlob(id: string): Buffer | undefined {
      return getInline.get(id) as Buffer | undefined;
    },
    dropInlineBlob(id: string): void {
      dropInline.run(id);
    },

    isBlobReferenced(id: string): boolean {
      return (
        db
          .select({ id: blobs.id })
          .from(blobs)
          .where(and(eq(blobs.id, id), gt(blobs.refs, 0)))
          .get() !== undefined
      );
    },
    /** Blob rows left at zero references (never expected; swept defensively). */
    dropUnreferencedBlobs(): string[] {
      return db
        .delete(blobs)
        .where(sql`${blobs.refs} <= 0`)
        .returning({ id: blobs.id })
        .all()
        .map((r) => r.id);
    },
  };
}

export type WalrusRepo = ReturnType<typeof createWalrusRepo>;
