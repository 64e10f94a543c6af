/**
 * The Walrus service: buckets, objects, listings, multipart uploads. Typed methods
 * taking the requester; typed errors; no HTTP. The S3 protocol layer (src/api/s3)
 * and other roles (image bundles, snapshots) call it.
 */
import { randomBytes } from "node:crypto";
import type { DataDirLayout } from "../../common/data-dir";
import { openWalrusDatabase, type WalrusDatabase } from "./database";
import { BlobStore } from "./blob-store";
import { createWalrusRepo } from "./repo";
import { policyCache, serviceContext, type WalrusContext, type WalrusDeps } from "./service-context";
import type { RequestFacts } from "./policy";
import { lifecycleSweeper, type SweeperOptions } from "./lifecycle";
import { bucketOps } from "./buckets";
import { objectOps } from "./objects";
import { listingOps } from "./listing";
import { multipartOps } from "./multipart";

/** The operations, over one context (the service's, or one request's). */
function operations(c: WalrusContext) {
  const objects = objectOps(c);
  return {
    ...bucketOps(c),
    ...objects,
    ...listingOps(c),
    ...multipartOps(c, objects),
    /** A bucket's record, without an access check (the protocol layer's own decisions, e.g. version headers). */
    bucket: (name: string) => c.bucket(name),
  };
}

export type WalrusOperations = ReturnType<typeof operations>;

export function createWalrusService(d: WalrusDeps, lifecycle: SweeperOptions = { dayMs: 86_400_000, budget: 1000 }) {
  const compiled = policyCache();
  const c = serviceContext(d, compiled);
  const base = operations(c);
  return {
    ...base,
    /**
     * The operations as one request sees them: its facts (address, TLS, time, query)
     * feed bucket-policy conditions. Only policies read facts, so while no bucket has
     * one the shared operations serve (building a scoped set costs ~50 µs a request).
     */
    forRequest: (facts: RequestFacts): WalrusOperations =>
      d.repo.anyPolicy() ? operations(serviceContext(d, compiled, facts)) : base,
    lifecycle: lifecycleSweeper(c, lifecycle),
    /** Removes temporary files and unreferenced blobs (at start: what a crash left behind). */
    sweep(): { tmp: number; orphans: number } {
      for (const id of d.repo.dropUnreferencedBlobs()) d.store.remove(id);
      return d.store.sweep((id) => d.repo.isBlobReferenced(id));
    },
  };
}

export type WalrusService = ReturnType<typeof createWalrusService>;

/** Opens walrus.db and the blob store under the data directory, and sweeps. */
export function openWalrus(
  layout: DataDirLayout,
  deps: Omit<WalrusDeps, "repo" | "store">,
  lifecycle?: SweeperOptions,
): { db: WalrusDatabase; service: WalrusService; swept: { tmp: number; orphans: number }; close(): Promise<void> } {
  const db = openWalrusDatabase(layout.database("walrus"));
  try {
    const repo = createWalrusRepo(db, () => randomBytes(18).toString("base64url"));
    const store = new BlobStore(layout.walrusDir, repo);
    const service = createWalrusService({ ...deps, repo, store }, lifecycle);
    const swept = service.sweep();
    return { db, service, swept, close: async () => db.close() };
  } catch (e) {
    db.close();
    throw e;
  }
}
