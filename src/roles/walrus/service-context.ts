import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { AccessDeniedError, NotFoundError, StorageError } from "../../common/errors";
import type { BlobStore } from "./blob-store";
import type { WalrusRepo } from "./repo";
import type { BucketRecord } from "./records";
import { allows, type Grant, type Permission, type Requester } from "./acl";
import { evaluatePolicy, parsePolicy, resourceArn, type BucketPolicy, type RequestFacts } from "./policy";

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
  /** The cloud's region: where buckets are (GetBucketLocation, LocationConstraint). */
  region: string;
  /** Whether an account id names an account of this cloud (policy principals). */
  accountExists(accountId: string): boolean;
}

/** A request's facts when none are known (calls from other roles): no address, not TLS. */
const NO_FACTS = (d: WalrusDeps): RequestFacts => ({ secureTransport: false, now: d.clock.now() });

/** Compiled policies by bucket and text: parsed once, not on every request. */
const POLICY_CACHE_MAX = 512;

export function policyCache() {
  const cache = new Map<string, BucketPolicy>();
  return (b: BucketRecord, accountExists: (id: string) => boolean): BucketPolicy | undefined => {
    if (b.policy === undefined) return undefined;
    const k = `${b.name}\n${b.policy}`;
    let p = cache.get(k);
    if (!p) {
      if (cache.size >= POLICY_CACHE_MAX) cache.clear();
      p = parsePolicy(b.policy, b.name, accountExists);
      cache.set(k, p);
    }
    return p;
  };
}

/**
 * Helpers every Walrus service module shares. `facts` describe the request being
 * served (for policy conditions); the S3 front door scopes a context per request.
 */
export function serviceContext(d: WalrusDeps, compiled = policyCache(), facts?: RequestFacts) {
  return {
    ...d,
    compiled,
    facts: () => facts ?? NO_FACTS(d),
    bucket(name: string): BucketRecord {
      const b = d.repo.getBucket(name);
      if (!b) throw new NotFoundError("bucket", name);
      return b;
    },
    /**
     * The access decision S3 makes: the bucket policy's explicit Deny wins; its Allow
     * grants; otherwise `aclAllows` (the ACL's answer, or "is the owner" where no ACL
     * permission applies) decides.
     */
    authorize(r: Requester, b: BucketRecord, action: string, key: string | undefined, aclAllows: boolean): void {
      const policy = compiled(b, d.accountExists);
      const verdict =
        policy &&
        evaluatePolicy(policy, { principal: r, action, resource: resourceArn(b.name, key), facts: this.facts() });
      if (verdict === "Deny" || (verdict !== "Allow" && !aclAllows)) throw new AccessDeniedError("Access Denied");
    },
    /** The bucket, if the requester may do `action` (ACL permission `p` on the bucket, or the policy). */
    bucketFor(r: Requester, name: string, p: Permission, action: string, key?: string): BucketRecord {
      const b = this.bucket(name);
      this.authorize(r, b, action, key, allows(b.owner, b.acl, r, p));
      return b;
    },
    /** The bucket, if the requester is its owner's account or the policy allows `action` (configurations without an ACL permission). */
    bucketOwnedBy(r: Requester, name: string, action: string): BucketRecord {
      const b = this.bucket(name);
      this.authorize(r, b, action, undefined, r !== null && r.accountId === b.owner);
      return b;
    },
    /** An object's ACL permission `p`, or the policy's word on `action`. */
    objectAccess(
      r: Requester,
      b: BucketRecord,
      v: { key: string; owner: string; acl: Grant[] },
      p: Permission,
      action: string,
    ): void {
      this.authorize(r, b, action, v.key, allows(v.owner, v.acl, r, p));
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
        throw new StorageError(
          "QuotaExceeded",
          `Bucket ${bucket} would exceed its Walrus size quota of ${limit} bytes`,
        );
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
