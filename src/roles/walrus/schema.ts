/**
 * Drizzle schema of walrus.db. Object data lives in blobs (./blob-store.ts): small ones here, in `blobs.bytes`, larger ones as files;
 * an object version is a list of blob segments, so a multipart Complete or a copy
 * is a metadata transaction and never copies bytes. `blobs.refs` counts the
 * versions and parts that use a blob; a blob at zero references is deleted.
 */
import { blob, integer, primaryKey, sqliteTable, text, uniqueIndex, index } from "drizzle-orm/sqlite-core";
import { roleFacts } from "../../db/role-facts-table";

export const buckets = sqliteTable("buckets", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(), // account id
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  acl: text("acl").notNull(), // JSON Grant[]
  versioning: text("versioning", { enum: ["", "Enabled", "Suspended"] })
    .notNull()
    .default(""),
  location: text("location").notNull().default(""),
  tags: text("tags"), // JSON Tag[]; null = no tag set
  cors: text("cors"), // JSON CorsRule[]
  policy: text("policy"), // the policy document as sent
  lifecycle: text("lifecycle"), // JSON LifecycleRule[]
  bytes: integer("bytes").notNull().default(0), // every version's and open upload part's size, kept by triggers (migrations.ts)
});

export const blobs = sqliteTable("blobs", {
  id: text("id").primaryKey(),
  size: integer("size").notNull(),
  refs: integer("refs").notNull(),
  bytes: blob("bytes", { mode: "buffer" }), // a small blob's bytes (blob-store.ts); null for a file
});

export const objects = sqliteTable(
  "objects",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    bucket: text("bucket")
      .notNull()
      .references(() => buckets.name),
    key: text("key").notNull(),
    versionId: text("version_id").notNull(), // "null" when unversioned
    isLatest: integer("is_latest", { mode: "boolean" }).notNull(),
    deleteMarker: integer("delete_marker", { mode: "boolean" }).notNull(),
    size: integer("size").notNull(),
    etag: text("etag").notNull(),
    lastModified: integer("last_modified", { mode: "timestamp_ms" }).notNull(),
    owner: text("owner").notNull(),
    meta: text("meta").notNull(), // JSON ObjectMeta
    acl: text("acl").notNull(), // JSON Grant[]
    segments: text("segments").notNull(), // JSON Segment[]
    tags: text("tags").notNull().default("[]"), // JSON Tag[]
    checksum: text("checksum"), // JSON Checksum
  },
  (t) => [
    uniqueIndex("objects_version").on(t.bucket, t.key, t.versionId),
    index("objects_latest").on(t.bucket, t.isLatest, t.key),
  ],
);

export const uploads = sqliteTable(
  "uploads",
  {
    id: text("id").primaryKey(),
    bucket: text("bucket")
      .notNull()
      .references(() => buckets.name),
    key: text("key").notNull(),
    owner: text("owner").notNull(),
    initiated: integer("initiated", { mode: "timestamp_ms" }).notNull(),
    meta: text("meta").notNull(),
    acl: text("acl").notNull(),
    tags: text("tags").notNull().default("[]"),
    checksumAlgorithm: text("checksum_algorithm"),
  },
  (t) => [index("uploads_bucket_key").on(t.bucket, t.key)],
);

export const parts = sqliteTable(
  "parts",
  {
    uploadId: text("upload_id")
      .notNull()
      .references(() => uploads.id, { onDelete: "cascade" }),
    partNumber: integer("part_number").notNull(),
    blobId: text("blob_id").notNull(),
    size: integer("size").notNull(),
    etag: text("etag").notNull(),
    lastModified: integer("last_modified", { mode: "timestamp_ms" }).notNull(),
    checksum: text("checksum"),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
);

/** Where the lifecycle sweeper stopped in each bucket (so a restart resumes, and each round's work is bounded). */
export const lifecycleCursors = sqliteTable("lifecycle_cursors", {
  bucket: text("bucket")
    .primaryKey()
    .references(() => buckets.name, { onDelete: "cascade" }),
  afterId: integer("after_id").notNull(),
});

export const walrusSchema = { roleFacts, buckets, blobs, objects, uploads, parts, lifecycleCursors };
export type WalrusSchema = typeof walrusSchema;
