import type { Migration } from "../../db/open";
import { ROLE_FACTS_SQL } from "../../db/role-facts-table";

/** Append only. Kept in step with ./schema.ts (test/db/open.test.ts). */
export const walrusMigrations: readonly Migration[] = [
  { name: "settings", sql: ROLE_FACTS_SQL },
  {
    name: "buckets, objects, blobs, multipart uploads",
    sql: `
CREATE TABLE buckets (
  name TEXT PRIMARY KEY NOT NULL,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  acl TEXT NOT NULL,
  versioning TEXT NOT NULL DEFAULT '',
  location TEXT NOT NULL DEFAULT ''
);
CREATE TABLE blobs (
  id TEXT PRIMARY KEY NOT NULL,
  size INTEGER NOT NULL,
  refs INTEGER NOT NULL
);
CREATE TABLE objects (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  bucket TEXT NOT NULL REFERENCES buckets(name),
  key TEXT NOT NULL,
  version_id TEXT NOT NULL,
  is_latest INTEGER NOT NULL,
  delete_marker INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  owner TEXT NOT NULL,
  meta TEXT NOT NULL,
  acl TEXT NOT NULL,
  segments TEXT NOT NULL
);
CREATE UNIQUE INDEX objects_version ON objects(bucket, key, version_id);
CREATE INDEX objects_latest ON objects(bucket, is_latest, key);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY NOT NULL,
  bucket TEXT NOT NULL REFERENCES buckets(name),
  key TEXT NOT NULL,
  owner TEXT NOT NULL,
  initiated INTEGER NOT NULL,
  meta TEXT NOT NULL,
  acl TEXT NOT NULL
);
CREATE INDEX uploads_bucket_key ON uploads(bucket, key);
CREATE TABLE parts (
  upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
  part_number INTEGER NOT NULL,
  blob_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);
`,
  },
  {
    name: "tagging, CORS, policies, lifecycle, checksums",
    sql: `
ALTER TABLE buckets ADD COLUMN tags TEXT;
ALTER TABLE buckets ADD COLUMN cors TEXT;
ALTER TABLE buckets ADD COLUMN policy TEXT;
ALTER TABLE buckets ADD COLUMN lifecycle TEXT;
ALTER TABLE objects ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE objects ADD COLUMN checksum TEXT;
ALTER TABLE uploads ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE uploads ADD COLUMN checksum_algorithm TEXT;
ALTER TABLE parts ADD COLUMN checksum TEXT;
CREATE TABLE lifecycle_cursors (
  bucket TEXT PRIMARY KEY NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
  after_id INTEGER NOT NULL
);
`,
  },
  {
    name: "small blobs' bytes in walrus.db",
    sql: `
ALTER TABLE blobs ADD COLUMN bytes BLOB;
`,
  },
  {
    // A write's quota check read the sum of every object and part in its bucket, twice per PUT
    // (O(objects)); the total is now kept by triggers, in the transaction of each change.
    name: "buckets' byte totals",
    sql: `
ALTER TABLE buckets ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE buckets SET bytes =
  (SELECT coalesce(sum(size), 0) FROM objects WHERE objects.bucket = buckets.name) +
  (SELECT coalesce(sum(parts.size), 0) FROM parts JOIN uploads ON uploads.id = parts.upload_id WHERE uploads.bucket = buckets.name);
CREATE TRIGGER objects_bytes_insert AFTER INSERT ON objects BEGIN
  UPDATE buckets SET bytes = bytes + NEW.size WHERE name = NEW.bucket;
END;
CREATE TRIGGER objects_bytes_delete AFTER DELETE ON objects BEGIN
  UPDATE buckets SET bytes = bytes - OLD.size WHERE name = OLD.bucket;
END;
CREATE TRIGGER objects_bytes_update AFTER UPDATE OF size, bucket ON objects BEGIN
  UPDATE buckets SET bytes = bytes - OLD.size WHERE name = OLD.bucket;
  UPDATE buckets SET bytes = bytes + NEW.size WHERE name = NEW.bucket;
END;
CREATE TRIGGER parts_bytes_insert AFTER INSERT ON parts BEGIN
  UPDATE buckets SET bytes = bytes + NEW.size WHERE name = (SELECT bucket FROM uploads WHERE id = NEW.upload_id);
END;
CREATE TRIGGER parts_bytes_delete AFTER DELETE ON parts BEGIN
  UPDATE buckets SET bytes = bytes - OLD.size WHERE name = (SELECT bucket FROM uploads WHERE id = OLD.upload_id);
END;
-- The cascade from uploads removes parts after their upload is gone (their bucket unknown to the
-- trigger above): an upload's parts go first, while it still names its bucket.
CREATE TRIGGER uploads_parts_first BEFORE DELETE ON uploads BEGIN
  DELETE FROM parts WHERE upload_id = OLD.id;
END;
CREATE TRIGGER parts_bytes_update AFTER UPDATE OF size, upload_id ON parts BEGIN
  UPDATE buckets SET bytes = bytes - OLD.size WHERE name = (SELECT bucket FROM uploads WHERE id = OLD.upload_id);
  UPDATE buckets SET bytes = bytes + NEW.size WHERE name = (SELECT bucket FROM uploads WHERE id = NEW.upload_id);
END;
`,
  },
];
