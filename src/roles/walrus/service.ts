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
import { serviceContext, type WalrusDeps } from "./service-context";
import { bucketOps } from "./buckets";
import { objectOps } from "./objects";
import { listingOps } from "./listing";
import { multipartOps } from "./multipart";

export function createWalrusService(d: WalrusDeps) {
  const c = serviceContext(d);
  const objects = objectOps(c);
  return {
    ...bucketOps(c),
    ...objects,
    ...listingOps(c),
    ...multipartOps(c, objects),
    /** A bucket's record, without an access check (the protocol layer's own decisions, e.g. version headers). */
    bucket: (name: string) => c.bucket(name),
    /** Removes temporary files and unreferenced blobs (at start: what a crash left behind). */
    sweep(): { tmp: number; orphans: number } {
      for (const id of d.repo.dropUnreferencedBlobs()) d.store.remove(id);
      return d.store.sweep((id) => d.repo.isBlobReferenced(id));
    },
  };
}

export type WalrusService = ReturnType<typeof createWalrusService>;

/** Opens walrus.db and the blob store under the data directory, and sweeps. */
export function openWalrus(layout: DataDirLayout, deps: Omit<WalrusDeps, "repo" | "store">): { db: WalrusDatabase; service: WalrusService; swept: { tmp: number; orphans: number }; close(): Promise<void> } {
  const db = openWalrusDatabase(layout.database("walrus"));
  try {
    const repo = createWalrusRepo(db, () => randomBytes(18).toString("base64url"));
    const store = new BlobStore(layout.walrusDir);
    const service = createWalrusService({ ...deps, repo, store });
    const swept = service.sweep();
    return { db, service, swept, close: async () => db.close() };
  } catch (e) {
    db.close();
    throw e;
  }
}
