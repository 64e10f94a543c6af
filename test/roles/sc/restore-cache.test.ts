/**
 * The SC's restore cache: a snapshot's chunks are fetched once, later volumes are copied
 * from the local copy (the same bytes, the volume's own size kept, holes kept); copies are
 * bounded, go with their snapshot, and a copy cut short never counts.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createRestoreCache } from "../../../src/roles/sc/restore-cache";
import type { SnapshotStore } from "../../../src/roles/sc/snapshots";
import { runProgram } from "../../../src/common/run-program";
import { tempDir } from "../../support/cloud";

const MiB = 1024 * 1024;
/** A store whose snapshots hold their id at 1 MiB and nothing else; it counts its restores. */
function fakeStore() {
  const fetched: string[] = [];
  const store = {
    async restore(snapshotId: string, path: string) {
      fetched.push(snapshotId);
      const fd = openSync(path, "r+");
      writeSync(fd, Buffer.from(snapshotId), 0, snapshotId.length, MiB);
      closeSync(fd);
      return { chunks: 1, bytes: snapshotId.length };
    },
  } as unknown as SnapshotStore;
  return { store, fetched };
}
const volume = (dir: string, name: string, bytes: number) => {
  const p = join(dir, name);
  writeFileSync(p, "");
  const fd = openSync(p, "r+");
  writeSync(fd, Buffer.alloc(1), 0, 1, bytes - 1);
  closeSync(fd);
  return p;
};
const at = (p: string, off: number, n: number) => {
  const b = Buffer.alloc(n);
  const fd = openSync(p, "r");
  readSync(fd, b, 0, n, off);
  closeSync(fd);
  return b.toString();
};

describe("restore cache", () => {
  it("fetches a snapshot once and copies later volumes from its local copy", async () => {
    const dir = tempDir("euca-restore-cache-");
    const cache = createRestoreCache({ dir: join(dir, "cache"), run: runProgram, keep: 2 });
    const { store, fetched } = fakeStore();
    const ctx = { requestId: "t" };
    const v1 = volume(dir, "v1", 8 * MiB);
    expect(await cache.restore(store, "snap-00000001", 4 * MiB, v1, ctx)).toMatchObject({ cached: false });
    const v2 = volume(dir, "v2", 8 * MiB);
    expect(await cache.restore(store, "snap-00000001", 4 * MiB, v2, ctx)).toEqual({ cached: true });
    expect(fetched).toEqual(["snap-00000001"]);
    for (const v of [v1, v2]) {
      expect(at(v, MiB, 13)).toBe("snap-00000001");
      expect(statSync(v).size).toBe(8 * MiB); // the volume's size, not the snapshot's
    }
    // Sparse: the copy wrote its data, not its zeros.
    expect(statSync(v2).blocks * 512).toBeLessThan(2 * MiB);

    // Bounded: a third snapshot pushes the least recently used out.
    await cache.restore(store, "snap-00000002", 4 * MiB, volume(dir, "v3", 4 * MiB), ctx);
    await cache.restore(store, "snap-00000001", 4 * MiB, volume(dir, "v4", 4 * MiB), ctx);
    await cache.restore(store, "snap-00000003", 4 * MiB, volume(dir, "v5", 4 * MiB), ctx);
    expect(readdirSync(join(dir, "cache")).sort()).toEqual(["snap-00000001.raw", "snap-00000003.raw"]);

    cache.forget("snap-00000001");
    expect(existsSync(join(dir, "cache", "snap-00000001.raw"))).toBe(false);
    writeFileSync(join(dir, "cache", "snap-00000009.raw.part"), "cut short");
    cache.recover();
    expect(readdirSync(join(dir, "cache"))).toEqual(["snap-00000003.raw"]);
  });
});
