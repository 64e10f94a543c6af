/**
 * walrus.db queries. Every change is one transaction; blob reference counts move in
 * the same transaction, and the ids of blobs that reach zero are returned so the
 * caller deletes their files after the commit.
 */
import type { WalrusDatabase } from "./database";
import { createRepoCore } from "./repo/core";
import { bucketsQueries } from "./repo/buckets";
import { versionsQueries } from "./repo/versions";
import { uploadsQueries } from "./repo/uploads";
import { blobsQueries } from "./repo/blobs";

export { prefixEnd } from "./repo/core";

export function createWalrusRepo(database: WalrusDatabase, newVersionId: () => string) {
  const c = createRepoCore(database, newVersionId);
  const versions = versionsQueries(c);
  const uploads = uploadsQueries(c, versions);
  return {
    transaction: c.tx,
    ...bucketsQueries(c, uploads),
    ...versions,
    ...uploads,
    ...blobsQueries(c),
  };
}

export type WalrusRepo = ReturnType<typeof createWalrusRepo>;
