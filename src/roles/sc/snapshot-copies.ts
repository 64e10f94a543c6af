/**
 * Snapshots made from other snapshots' chunks or from a disk image, not from a volume:
 * CopySnapshot (a second manifest over the same chunks) and ImportSnapshot (a raw disk
 * image in Walrus, read into a sparse staging file and taken from there).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import type { Clock } from "../../common/clock";
import { IncorrectStateError, InvalidParameterError, NotFoundError } from "../../common/errors";
import { isResourceId } from "../../common/ids";
import type { StorageClient, StoredSnapshot } from "./client";
import { scSnapshots, type ScDatabase } from "./database";
import { IMPORTED_VOLUME, type SnapshotStore } from "./snapshots";
import { GIB } from "./backends/types";

export function snapshotCopies(o: {
  db: ScDatabase;
  clock: Clock;
  log: Logger;
  stagingDir: string;
  store: () => SnapshotStore;
  toSnapshot: (r: typeof scSnapshots.$inferSelect) => StoredSnapshot;
  inBackground: (work: () => Promise<void>) => void;
}): Pick<StorageClient, "importSnapshot" | "copySnapshot"> {
  const { db } = o.db;
  return {
    async importSnapshot({ snapshotId, bucket, key, sizeGiB }, ctx) {
      if (!isResourceId("snapshot", snapshotId))
        throw new InvalidParameterError("SnapshotId", `'${String(snapshotId)}' is not a snapshot id`);
      const prior = db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get();
      if (prior) return o.toSnapshot(prior);
      const s = o.store();
      db.insert(scSnapshots)
        .values({ id: snapshotId, volumeId: IMPORTED_VOLUME, sizeGiB, state: "pending", createdAt: o.clock.now() })
        .run();
      const path = join(o.stagingDir, `${snapshotId}.raw`);
      o.inBackground(async () => {
        try {
          await s.fromObject({ snapshotId, bucket, key, sizeBytes: sizeGiB * GIB, path }, ctx);
        } catch (e) {
          db.update(scSnapshots)
            .set({ state: "error", reason: (e as Error).message.slice(0, 500) })
            .where(eq(scSnapshots.id, snapshotId))
            .run();
          o.log.error({ requestId: ctx.requestId, snapshotId, err: (e as Error).message }, "sc: the import failed");
          await s.abandon(snapshotId, ctx).catch(() => undefined);
        } finally {
          rmSync(path, { force: true });
        }
      });
      return o.toSnapshot(db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get()!);
    },

    async copySnapshot({ snapshotId, sourceSnapshotId }, ctx) {
      for (const id of [snapshotId, sourceSnapshotId])
        if (!isResourceId("snapshot", id))
          throw new InvalidParameterError("SnapshotId", `'${String(id)}' is not a snapshot id`);
      const prior = db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get();
      if (prior) return o.toSnapshot(prior);
      const src = db.select().from(scSnapshots).where(eq(scSnapshots.id, sourceSnapshotId)).get();
      if (!src) throw new NotFoundError("snapshot", sourceSnapshotId);
      if (src.state !== "completed") throw new IncorrectStateError(`${sourceSnapshotId} is ${src.state}`);
      db.insert(scSnapshots)
        .values({
          id: snapshotId,
          volumeId: src.volumeId,
          sizeGiB: src.sizeGiB,
          state: "pending",
          createdAt: o.clock.now(),
        })
        .run();
      try {
        await o.store().copy(sourceSnapshotId, { snapshotId, sizeGiB: src.sizeGiB, volumeId: src.volumeId }, ctx);
      } catch (e) {
        db.delete(scSnapshots).where(eq(scSnapshots.id, snapshotId)).run(); // nothing was referenced: as if never asked
        throw e;
      }
      return o.toSnapshot(db.select().from(scSnapshots).where(eq(scSnapshots.id, snapshotId)).get()!);
    },
  };
}
