/** Bucket operations of the Walrus service. */
import { AccessDeniedError, StorageError } from "../../common/errors";
import { cannedGrants, type Grant, type Requester } from "./acl";
import type { BucketRecord } from "./records";
import type { WalrusContext } from "./service-context";

/** S3's bucket naming rules (DNS-compatible), which virtual-host addressing needs. */
export function checkBucketName(name: string): void {
  const ok = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.includes(".-") && !name.includes("-.");
  if (!ok) {
    throw new StorageError("InvalidBucketName", `The specified bucket is not valid: 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit`, { BucketName: name });
  }
}

export function bucketOps(c: WalrusContext) {
  const requireOwner = (r: Requester, b: BucketRecord) => {
    if (r === null || r.accountId !== b.owner) throw new AccessDeniedError("Access Denied");
  };
  return {
    listBuckets(r: Requester): BucketRecord[] {
      if (r === null) throw new AccessDeniedError("Anonymous users cannot list buckets");
      return c.repo.listBuckets(r.accountId);
    },

    createBucket(r: Requester, name: string, o: { canned?: string; grants?: Grant[]; location?: string }): BucketRecord {
      if (r === null) throw new AccessDeniedError("Anonymous users cannot create buckets");
      checkBucketName(name);
      const existing = c.repo.getBucket(name);
      if (existing) {
        if (existing.owner === r.accountId) throw new StorageError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", { BucketName: name });
        throw new StorageError("BucketAlreadyExists", "The requested bucket name is not available. Please select a different name and try again.", { BucketName: name });
      }
      const max = c.quotas.maxBucketsPerUser;
      if (!r.isAdmin && max > 0 && c.repo.countBuckets(r.accountId) >= max) {
        throw new StorageError("TooManyBuckets", `You have attempted to create more buckets than allowed (${max} per user).`);
      }
      const acl = o.grants ?? cannedGrants(o.canned ?? "private", { owner: r.accountId, systemAccount: c.systemAccount() });
      const b: BucketRecord = { name, owner: r.accountId, createdAt: c.clock.now(), acl, versioning: "", location: o.location ?? "" };
      try {
        c.repo.insertBucket(b);
      } catch (e) {
        if (/UNIQUE/.test((e as Error).message)) throw new StorageError("BucketAlreadyExists", "The requested bucket name is not available.", { BucketName: name });
        throw e;
      }
      return b;
    },

    deleteBucket(r: Requester, name: string): void {
      const b = c.bucket(name);
      requireOwner(r, b);
      if (!c.repo.deleteBucketIfEmpty(name)) {
        throw new StorageError("BucketNotEmpty", "The bucket you tried to delete is not empty", { BucketName: name });
      }
    },

    /** HeadBucket: exists and the requester may list it. */
    headBucket(r: Requester, name: string): BucketRecord {
      return c.bucketFor(r, name, "READ");
    },

    location(r: Requester, name: string): string {
      const b = c.bucket(name);
      requireOwner(r, b);
      return b.location;
    },

    getAcl(r: Requester, name: string): BucketRecord {
      return c.bucketFor(r, name, "READ_ACP");
    },

    putAcl(r: Requester, name: string, acl: { canned?: string; grants?: Grant[] }): void {
      const b = c.bucketFor(r, name, "WRITE_ACP");
      c.repo.setBucketAcl(name, acl.grants ?? cannedGrants(acl.canned ?? "private", { owner: b.owner, systemAccount: c.systemAccount() }));
    },

    getVersioning(r: Requester, name: string): BucketRecord["versioning"] {
      const b = c.bucket(name);
      requireOwner(r, b);
      return b.versioning;
    },

    putVersioning(r: Requester, name: string, status: string): void {
      const b = c.bucket(name);
      requireOwner(r, b);
      if (status !== "Enabled" && status !== "Suspended") throw new StorageError("MalformedXML", "Versioning Status must be Enabled or Suspended");
      c.repo.setVersioning(name, status);
    },
  };
}
