/** Buckets: their records, ACLs, versioning and stored configurations, and the lifecycle scan's cursor. */
import type { UploadsQueries } from "./uploads";
import { asc, eq, isNotNull, sql } from "drizzle-orm";
import { buckets, lifecycleCursors, objects, uploads } from "../schema";
import type { Grant } from "../acl";
import type { BucketConfigName, BucketRecord } from "../records";
import { toBucket, type RepoCore } from "./core";

export function bucketsQueries(c: RepoCore, parts: Pick<UploadsQueries, "deleteUpload">) {
  const { db, tx, bucketQuery, bucketBytes } = c;
  let policies: boolean | undefined;
  return {
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
        const freed = open.flatMap((u) => parts.deleteUpload(u.id));
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
  };
}
