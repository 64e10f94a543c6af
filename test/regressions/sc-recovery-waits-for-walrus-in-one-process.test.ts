/**
 * Regression: in one process the SC was assembled (and recovered) before Walrus, so a
 * snapshot cut short by a crash kept its chunks forever and a restore cut short ended in
 * error ("no Walrus to keep snapshots in"). Recovery now runs once Walrus is there.
 */
import { Readable } from "node:stream";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { startTestCloud, tempDir } from "../support/cloud";
import { SNAPSHOT_BUCKET } from "../../src/roles/sc/snapshots";

describe("the SC recovers snapshots once Walrus is up", () => {
  it("a snapshot left pending ends in error and the chunk only it had is removed from Walrus", async () => {
    const dataDir = tempDir();
    const ctx = { requestId: "r" };
    const key = `chunks/cluster1/${"ab".repeat(32)}`;
    let t = await startTestCloud({ dataDir });
    await t.cloud.walrusClient!.ensureBucket(SNAPSHOT_BUCKET, ctx);
    await t.cloud.walrusClient!.putObject(
      { bucket: SNAPSHOT_BUCKET, key },
      { open: () => Readable.from([Buffer.alloc(16, 1)]), size: 16 },
      ctx,
    );
    await t.stop();
    // As a crash left it: a snapshot being taken, and the chunk it had uploaded.
    const db = new Database(join(dataDir, "sc.db"));
    db.prepare(
      "INSERT INTO snapshots (id, volume_id, size_gib, state, created_at) VALUES ('snap-0000000a', 'vol-0000000a', 1, 'pending', 0)",
    ).run();
    db.prepare(`INSERT INTO chunks (sha256, refs, bytes, stored) VALUES ('${"ab".repeat(32)}', 0, 16, 1)`).run();
    db.close();

    t = await startTestCloud({ dataDir });
    try {
      await expect(t.cloud.walrusClient!.headObject({ bucket: SNAPSHOT_BUCKET, key }, ctx)).rejects.toMatchObject({
        kind: "NotFound",
      });
      const after = new Database(join(dataDir, "sc.db"), { readonly: true });
      expect(after.prepare("SELECT state FROM snapshots").get()).toEqual({ state: "error" });
      expect(after.prepare("SELECT count(*) AS n FROM chunks").get()).toEqual({ n: 0 });
      after.close();
    } finally {
      await t.stop();
    }
  });
});
