/**
 * The SC's copies of the snapshots it restored last (as a node keeps the images it ran
 * last): a launch of an EBS-backed image makes its root from the same snapshot each time,
 * so the chunks are fetched from Walrus once and later volumes are copied from the local
 * copy, holes kept (`dd conv=sparse`: only the data is written). A copy is complete or
 * absent (written under `.part`, renamed); snapshots never change, so a copy never goes
 * stale — it goes when its snapshot is deleted or when newer ones push it out.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { ProgramRunner } from "../../common/run-program";
import type { CallContext } from "../../rpc/types";
import type { SnapshotStore } from "./snapshots";

/** How many snapshots' copies are kept (each as large as its snapshot, sparse). */
export const RESTORE_CACHE_SNAPSHOTS = 4;

export function createRestoreCache(o: { dir: string; run: ProgramRunner; keep?: number }) {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const fileOf = (snapshotId: string) => join(o.dir, `${snapshotId}.raw`);

  /** Oldest-used copies beyond the bound go (their use time is their mtime). */
  function evict(): void {
    const copies = readdirSync(o.dir)
      .filter((f) => f.endsWith(".raw"))
      .map((f) => ({ f, t: statSync(join(o.dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const c of copies.slice(o.keep ?? RESTORE_CACHE_SNAPSHOTS)) rmSync(join(o.dir, c.f), { force: true });
  }

  return {
    /** Writes the snapshot's data into `path` (a file of at least its size), from the local copy, made first if need be. */
    async restore(
      store: SnapshotStore,
      snapshotId: string,
      sizeBytes: number,
      path: string,
      ctx: CallContext,
    ): Promise<{ cached: boolean; chunks?: number; bytes?: number }> {
      const copy = fileOf(snapshotId);
      let fetched: { chunks: number; bytes: number } | undefined;
      if (!existsSync(copy)) {
        const part = `${copy}.part`;
        const fh = await open(part, "w", 0o600);
        await fh.truncate(sizeBytes);
        await fh.close();
        try {
          fetched = await store.restore(snapshotId, part, ctx);
          renameSync(part, copy);
        } finally {
          rmSync(part, { force: true });
        }
        evict();
      }
      const now = new Date();
      utimesSync(copy, now, now);
      const r = await o.run("dd", [`if=${copy}`, `of=${path}`, "bs=1M", "conv=notrunc,sparse,fsync", "status=none"], {
        timeoutMs: 3_600_000,
      });
      if (r.code !== 0) throw new Error(`copying the snapshot's data: ${r.stderr.trim()}`);
      return fetched ? { cached: false, ...fetched } : { cached: true };
    },

    /** The snapshot was deleted: its copy goes. */
    forget(snapshotId: string): void {
      rmSync(fileOf(snapshotId), { force: true });
    },

    /** At start: copies a crash cut short go. */
    recover(): void {
      for (const f of readdirSync(o.dir)) if (f.endsWith(".part")) rmSync(join(o.dir, f), { force: true });
    },
  };
}

export type RestoreCache = ReturnType<typeof createRestoreCache>;
