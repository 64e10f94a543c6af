/** Blobs: small objects kept in the database (inline), and which blobs nothing refers to any more. */
import { and, eq, gt, sql } from "drizzle-orm";
import { blobs } from "../schema";
import { type RepoCore } from "./core";

export function blobsQueries(c: RepoCore) {
  const { db, putInline, getInline, dropInline } = c;
  return {
    // Small blobs' bytes (blob-store.ts: InlineBlobs). Written unreferenced; the commit that uses one counts it.
    putInlineBlob(id: string, bytes: Buffer): void {
      putInline.run(id, bytes.length, bytes);
    },
    inlineBlob(id: string): Buffer | undefined {
      return getInline.get(id) as Buffer | undefined;
    },
    dropInlineBlob(id: string): void {
      dropInline.run(id);
    },

    isBlobReferenced(id: string): boolean {
      return (
        db
          .select({ id: blobs.id })
          .from(blobs)
          .where(and(eq(blobs.id, id), gt(blobs.refs, 0)))
          .get() !== undefined
      );
    },
    /** Blob rows left at zero references (never expected; swept defensively). */
    dropUnreferencedBlobs(): string[] {
      return db
        .delete(blobs)
        .where(sql`${blobs.refs} <= 0`)
        .returning({ id: blobs.id })
        .all()
        .map((r) => r.id);
    },
  };
}
