/**
 * Bucket listings with prefix, delimiter and markers. Keys are compared as UTF-8
 * bytes (SQLite's BINARY order), which is S3's order. After a common prefix the
 * scan jumps past every key under it instead of reading them.
 */
import type { Requester } from "./acl";
import type { VersionRecord } from "./records";
import type { WalrusContext } from "./service-context";

const AFTER_ALL = "\u{10FFFF}";
const BATCH = 1000;

export interface ListOptions {
  prefix: string;
  delimiter?: string;
  /** Exclusive: keys (and common prefixes) after this one. */
  startAfter?: string;
  maxKeys: number;
}

export interface ListResult {
  contents: VersionRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Last key or common prefix returned: the marker for the next page. */
  lastReturned?: string;
}

export interface VersionListOptions {
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number;
}

export interface VersionListResult {
  versions: VersionRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

export function listingOps(c: WalrusContext) {
  /** The common prefix `key` rolls up into, if any. */
  const rollUp = (key: string, prefix: string, delimiter?: string) => {
    if (!delimiter) return undefined;
    const i = key.indexOf(delimiter, prefix.length);
    return i < 0 ? undefined : key.slice(0, i + delimiter.length);
  };

  return {
    listObjects(r: Requester, bucket: string, o: ListOptions): ListResult {
      c.bucketFor(r, bucket, "READ", "s3:ListBucket");
      const out: ListResult = { contents: [], commonPrefixes: [], isTruncated: false };
      if (o.maxKeys === 0) return out; // S3: an empty page that is not truncated
      let after = o.startAfter;
      let count = 0;
      for (;;) {
        const rows = c.repo.listLatest(bucket, { prefix: o.prefix, after, limit: BATCH });
        if (rows.length === 0) return out;
        let jumped = false;
        for (const row of rows) {
          const cp = rollUp(row.key, o.prefix, o.delimiter);
          const item = cp ?? row.key;
          if (cp !== undefined && o.startAfter !== undefined && cp <= o.startAfter) {
            after = cp + AFTER_ALL; // already returned on an earlier page
            jumped = true;
            break;
          }
          if (count >= o.maxKeys) {
            out.isTruncated = true;
            return out;
          }
          count++;
          out.lastReturned = item;
          if (cp !== undefined) {
            out.commonPrefixes.push(cp);
            after = cp + AFTER_ALL;
            jumped = true;
            break;
          }
          out.contents.push(row);
          after = row.key;
        }
        if (!jumped && rows.length < BATCH) return out;
      }
    },

    listVersions(r: Requester, bucket: string, o: VersionListOptions): VersionListResult {
      c.bucketFor(r, bucket, "READ", "s3:ListBucketVersions");
      const out: VersionListResult = { versions: [], commonPrefixes: [], isTruncated: false };
      if (o.maxKeys === 0) return out;
      let afterKey = o.keyMarker;
      let afterId: number | undefined;
      if (o.keyMarker !== undefined && o.versionIdMarker) {
        afterId = c.repo.version(bucket, o.keyMarker, o.versionIdMarker)?.id;
      } else if (o.keyMarker !== undefined) {
        afterId = -1; // exclusive of every version of the marker key
      }
      let count = 0;
      for (;;) {
        const rows = c.repo.listVersions(bucket, { prefix: o.prefix, afterKey, afterId, limit: BATCH });
        if (rows.length === 0) return out;
        let jumped = false;
        for (const row of rows) {
          const cp = rollUp(row.key, o.prefix, o.delimiter);
          if (count >= o.maxKeys) {
            out.isTruncated = true;
            return out;
          }
          if (cp !== undefined) {
            if (!(o.keyMarker !== undefined && cp <= o.keyMarker)) {
              out.commonPrefixes.push(cp);
              count++;
              out.nextKeyMarker = cp;
              out.nextVersionIdMarker = undefined;
            }
            afterKey = cp + AFTER_ALL;
            afterId = -1;
            jumped = true;
            break;
          }
          out.versions.push(row);
          count++;
          out.nextKeyMarker = row.key;
          out.nextVersionIdMarker = row.versionId;
          afterKey = row.key;
          afterId = row.id;
        }
        if (!jumped && rows.length < BATCH) return out;
      }
    },
  };
}
