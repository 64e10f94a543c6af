/** Bucket operations of the Walrus service. */
import { AccessDeniedError, StorageError } from "../../common/errors";
import { cannedGrants, type Grant, type Requester } from "./acl";
import type { BucketConfigName, BucketRecord, CorsRule, LifecycleRule, Tag } from "./records";
import type { WalrusContext } from "./service-context";
import { checkTags } from "./tags";
import { checkCorsRules, matchCors, type CorsGrant } from "./cors";
import { checkLifecycleRules } from "./lifecycle";
import { parsePolicy } from "./policy";

/** AWS's legacy region: re-creating an owned bucket succeeds there, and its buckets report no LocationConstraint. */
export const LEGACY_REGION = "us-east-1";

const NO_CONFIG: Record<BucketConfigName, () => StorageError> = {
  tags: () => new StorageError("NoSuchTagSet", "The TagSet does not exist"),
  cors: () => new StorageError("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
  policy: () => new StorageError("NoSuchBucketPolicy", "The bucket policy does not exist"),
  lifecycle: () => new StorageError("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
};

/** S3's bucket naming rules (DNS-compatible), which virtual-host addressing needs. */
export function checkBucketName(name: string): void {
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.includes(".-") &&
    !name.includes("-.");
  if (!ok) {
    throw new StorageError(
      "InvalidBucketName",
      `The specified bucket is not valid: 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit`,
      { BucketName: name },
    );
  }
}

export function bucketOps(c: WalrusContext) {
  /** Policies are the owner account's alone, and no Deny locks it out of them (as S3 keeps the root user in). */
  const policyOwner = (r: Requester, name: string): BucketRecord => {
    const b = c.bucket(name);
    if (r === null || r.accountId !== b.owner) throw new AccessDeniedError("Access Denied");
    return b;
  };
  const getConfig = <K extends BucketConfigName>(b: BucketRecord, field: K): NonNullable<BucketRecord[K]> => {
    const v = b[field];
    if (v === undefined) throw NO_CONFIG[field]();
    return v as NonNullable<BucketRecord[K]>;
  };
  return {
    listBuckets(r: Requester): BucketRecord[] {
      if (r === null) throw new AccessDeniedError("Anonymous users cannot list buckets");
      return c.repo.listBuckets(r.accountId);
    },

    createBucket(
      r: Requester,
      name: string,
      o: { canned?: string; grants?: Grant[]; location?: string },
    ): BucketRecord {
      if (r === null) throw new AccessDeniedError("Anonymous users cannot create buckets");
      checkBucketName(name);
      // A bucket lives in the cloud's region. Naming another is refused as a regional S3 endpoint refuses it;
      // naming none is accepted (Eucalyptus' clients, s3cmd and the SDKs do not name one).
      if (o.location !== undefined && o.location !== "") {
        if (o.location === LEGACY_REGION && c.region === LEGACY_REGION)
          throw new StorageError("InvalidLocationConstraint", "The specified location-constraint is not valid", {
            LocationConstraint: o.location,
          });
        if (o.location !== c.region) {
          throw new StorageError(
            "IllegalLocationConstraintException",
            `The ${o.location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
          );
        }
      }
      const acl =
        o.grants ?? cannedGrants(o.canned ?? "private", { owner: r.accountId, systemAccount: c.systemAccount });
      const existing = c.repo.getBucket(name);
      if (existing) {
        if (existing.owner !== r.accountId)
          throw new StorageError(
            "BucketAlreadyExists",
            "The requested bucket name is not available. Please select a different name and try again.",
            { BucketName: name },
          );
        // us-east-1's legacy answer: 200, and the ACL is reset to what this request asked for.
        if (c.region === LEGACY_REGION) {
          c.repo.setBucketAcl(name, acl);
          return { ...existing, acl };
        }
        throw new StorageError(
          "BucketAlreadyOwnedByYou",
          "Your previous request to create the named bucket succeeded and you already own it.",
          { BucketName: name },
        );
      }
      const max = c.quotas.maxBucketsPerUser;
      if (!r.isAdmin && max > 0 && c.repo.countBuckets(r.accountId) >= max) {
        throw new StorageError(
          "TooManyBuckets",
          `You have attempted to create more buckets than allowed (${max} per user).`,
        );
      }
      const b: BucketRecord = {
        name,
        owner: r.accountId,
        createdAt: c.clock.now(),
        acl,
        versioning: "",
        location: c.region,
      };
      try {
        c.repo.insertBucket(b);
      } catch (e) {
        if (/UNIQUE/.test((e as Error).message))
          throw new StorageError("BucketAlreadyExists", "The requested bucket name is not available.", {
            BucketName: name,
          });
        throw e;
      }
      return b;
    },

    deleteBucket(r: Requester, name: string): void {
      c.bucketOwnedBy(r, name, "s3:DeleteBucket");
      const freed = c.repo.deleteBucketIfEmpty(name);
      if (!freed)
        throw new StorageError("BucketNotEmpty", "The bucket you tried to delete is not empty", { BucketName: name });
      c.release(freed);
    },

    /** HeadBucket: exists and the requester may list it. */
    headBucket(r: Requester, name: string): BucketRecord {
      return c.bucketFor(r, name, "READ", "s3:ListBucket");
    },

    /** The bucket's region; undefined for us-east-1 (S3 reports its LocationConstraint as null). */
    location(r: Requester, name: string): string | undefined {
      const region = c.bucketOwnedBy(r, name, "s3:GetBucketLocation").location || c.region;
      return region === LEGACY_REGION ? undefined : region;
    },

    /** The region a bucket is in (x-amz-bucket-region), without an access check. */
    regionOf(name: string): string {
      return c.bucket(name).location || c.region;
    },

    getAcl(r: Requester, name: string): BucketRecord {
      return c.bucketFor(r, name, "READ_ACP", "s3:GetBucketAcl");
    },

    putAcl(r: Requester, name: string, acl: { canned?: string; grants?: Grant[] }): void {
      const b = c.bucketFor(r, name, "WRITE_ACP", "s3:PutBucketAcl");
      c.repo.setBucketAcl(
        name,
        acl.grants ?? cannedGrants(acl.canned ?? "private", { owner: b.owner, systemAccount: c.systemAccount }),
      );
    },

    getVersioning(r: Requester, name: string): BucketRecord["versioning"] {
      return c.bucketOwnedBy(r, name, "s3:GetBucketVersioning").versioning;
    },

    putVersioning(r: Requester, name: string, status: string): void {
      c.bucketOwnedBy(r, name, "s3:PutBucketVersioning");
      if (status !== "Enabled" && status !== "Suspended")
        throw new StorageError("MalformedXML", "Versioning Status must be Enabled or Suspended");
      c.repo.setVersioning(name, status);
    },

    getBucketTagging(r: Requester, name: string): Tag[] {
      return getConfig(c.bucketOwnedBy(r, name, "s3:GetBucketTagging"), "tags");
    },
    putBucketTagging(r: Requester, name: string, tags: Tag[]): void {
      c.bucketOwnedBy(r, name, "s3:PutBucketTagging");
      c.repo.setBucketConfig(name, "tags", checkTags(tags, "bucket"));
    },
    deleteBucketTagging(r: Requester, name: string): void {
      c.bucketOwnedBy(r, name, "s3:PutBucketTagging");
      c.repo.setBucketConfig(name, "tags", undefined);
    },

    getBucketCors(r: Requester, name: string): CorsRule[] {
      return getConfig(c.bucketOwnedBy(r, name, "s3:GetBucketCORS"), "cors");
    },
    putBucketCors(r: Requester, name: string, rules: CorsRule[]): void {
      c.bucketOwnedBy(r, name, "s3:PutBucketCORS");
      c.repo.setBucketConfig(name, "cors", checkCorsRules(rules));
    },
    deleteBucketCors(r: Requester, name: string): void {
      c.bucketOwnedBy(r, name, "s3:PutBucketCORS");
      c.repo.setBucketConfig(name, "cors", undefined);
    },
    /** The CORS rule that answers a browser (no access check: preflights are anonymous by design); undefined bucket = none. */
    corsFor(
      name: string,
      origin: string,
      method: string,
      requestHeaders?: readonly string[],
    ): { bucket: boolean; configured: boolean; grant?: CorsGrant } {
      const b = c.repo.getBucket(name);
      if (!b) return { bucket: false, configured: false };
      return {
        bucket: true,
        configured: b.cors !== undefined,
        grant: matchCors(b.cors, origin, method, requestHeaders),
      };
    },

    getBucketPolicy(r: Requester, name: string): string {
      return getConfig(policyOwner(r, name), "policy");
    },
    putBucketPolicy(r: Requester, name: string, text: string): void {
      policyOwner(r, name);
      parsePolicy(text, name, c.accountExists);
      c.repo.setBucketConfig(name, "policy", text);
    },
    deleteBucketPolicy(r: Requester, name: string): void {
      policyOwner(r, name);
      c.repo.setBucketConfig(name, "policy", undefined);
    },
    /** GetBucketPolicyStatus: whether the policy grants anyone at all. */
    bucketPolicyIsPublic(r: Requester, name: string): boolean {
      const b = c.bucketOwnedBy(r, name, "s3:GetBucketPolicyStatus");
      const p = c.compiled(b, c.accountExists);
      if (!p) throw NO_CONFIG.policy();
      return p.isPublic;
    },

    getBucketLifecycle(r: Requester, name: string): LifecycleRule[] {
      return getConfig(c.bucketOwnedBy(r, name, "s3:GetLifecycleConfiguration"), "lifecycle");
    },
    putBucketLifecycle(r: Requester, name: string, rules: LifecycleRule[]): void {
      c.bucketOwnedBy(r, name, "s3:PutLifecycleConfiguration");
      c.repo.setBucketConfig(name, "lifecycle", checkLifecycleRules(rules));
    },
    deleteBucketLifecycle(r: Requester, name: string): void {
      c.bucketOwnedBy(r, name, "s3:PutLifecycleConfiguration");
      c.repo.setBucketConfig(name, "lifecycle", undefined);
    },
  };
}
