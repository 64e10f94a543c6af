import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { AccessDeniedError, NotFoundError, StorageError } from "../../common/errors";
import type { BlobStore } from "./blob-store";
import type { WalrusRepo } from "./repo";
import type { BucketRecord } from "./records";
import { allows, type Permission, type Requester } from "./acl";

export interface WalrusQuotas {
  /** Buckets one account may own (admins exempt); 0 = no limit. Eucalyptus default 5. */
  maxBucketsPerUser: number;
  /** Bytes one bucket may hold (admins exempt); 0 = no limit. Eucalyptus default 5 GiB. */
  maxBucketBytes: number;
}

export interface WalrusDeps {
  repo: WalrusRepo;
  store: BlobStore;
  clock: Clock;
  log: Logger;
  /** The cloud's own account: aws-exec-read grants it READ (image registration). */
  systemAccount(): string;
  quotas: WalrusQuotas;
}

/** Helpers every Walrus service module shares. */
export function serviceContext(d: WalrusDeps) {
  return {
    ...d,
    bucket(name: string): BucketRecord {
      const b = d.repo.getBucket(name);
      if (!b) throw new NotFoundError("bucket", name);
      return b;
    },
    /** The bucket, if the requester holds `p` on it. */
    bucketFor(r: Requester, name: string, p: Permission): BucketRecord {
      const b = this.bucket(name);
      if (!allows(b.owner, b.acl, r, p)) throw new AccessDeniedError("Access Denied");
      return b;
    },
    /** The byte limit that applies to the requester's writes to a bucket; undefined = none (admins, or no quota set). */
    quotaFor(r: Requester): number | undefined {
      return r?.isAdmin || d.quotas.maxBucketBytes <= 0 ? undefined : d.quotas.maxBucketBytes;
    },
    /**
     * Refuses early (before a body is streamed) a write of `adding` bytes that replaces
     * `replacing`; the repository checks again inside the transaction that commits it.
     */
    precheckQuota(r: Requester, bucket: string, adding: number, replacing: number): void {
      const limit = this.quotaFor(r);
      if (limit !== undefined && d.repo.bucketBytes(bucket) - replacing + adding > limit) {
        throw new StorageError("QuotaExceeded", `Bucket ${bucket} would exceed its Walrus size quota of ${limit} bytes`);
      }
    },
    /** Runs the commit that references a freshly written blob; if it fails, the blob's file goes too. */
    commitOrRemove<T>(blobId: string, commit: () => T): T {
      try {
        return commit();
      } catch (e) {
        d.store.remove(blobId);
        throw e;
      }
    },
    /** Deletes blob files whose last reference went away in a committed transaction. */
    release(freed: readonly string[]): void {
      for (const id of freed) d.store.remove(id);
    },
  };
}

export type WalrusContext = ReturnType<typeof serviceContext>;
