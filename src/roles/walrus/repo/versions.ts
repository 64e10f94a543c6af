/** Object versions: reading, writing (with the bucket's quota), deleting and listing them. */
import { and, asc, desc, eq, gt, gte, lt, sql } from "drizzle-orm";
import { objects } from "../schema";
import type { Grant } from "../acl";
import type { NewVersion, Tag, VersionRecord, Versioning } from "../records";
import { toVersion, prefixEnd, type RepoCore } from "./core";

export function versionsQueries(c: RepoCore) {
  const { db, newVersionId, tx, versionQuery, latestRow, removeRow, insertRow, enforceQuota, nullVersion } = c;
  return {
    /** Bytes a new current version of `key` would replace (the null version, unless versioning is Enabled). */
    replacedBytes(bucket: string, key: string, versioning: Versioning): number {
      return versioning === "Enabled" ? 0 : (nullVersion(bucket, key)?.size ?? 0);
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
  };
}

export type VersionsQueries = ReturnType<typeof versionsQueries>;
