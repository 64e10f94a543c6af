/**
 * A bucket's byte total (what its quota is checked against) is kept by triggers instead
 * of summed on every write: after puts, overwrites, versions, delete markers, deleted
 * versions, multipart parts (one replaced), an aborted and a completed upload, copies and
 * DeleteObjects, it equals the sum of its versions and open parts; the migration's
 * backfill computes the same; and a user's quota still refuses what would not fit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3 } from "../../support/s3";
import { walrusMigrations } from "../../../src/roles/walrus/migrations";

const MiB = 1024 * 1024;
let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBucketMb: 12 } });
});
afterAll(() => t.stop());

const SUMS = `SELECT name, bytes,
  (SELECT coalesce(sum(size), 0) FROM objects WHERE objects.bucket = buckets.name) +
  (SELECT coalesce(sum(parts.size), 0) FROM parts JOIN uploads ON uploads.id = parts.upload_id WHERE uploads.bucket = buckets.name) AS summed
  FROM buckets WHERE name = ?`;

function totals(bucket: string): { bytes: number; summed: number } {
  const db = new Database(join(t.dataDir, "walrus.db"), { readonly: true });
  try {
    const r = db.prepare(SUMS).get(bucket) as { bytes: number; summed: number };
    return { bytes: r.bytes, summed: r.summed };
  } finally {
    db.close();
  }
}

describe("a bucket's byte total", () => {
  it("follows every kind of change, and the migration's backfill agrees", async () => {
    const c = s3(t);
    const b = bucketName("bytes");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "a", Body: "x".repeat(1000) }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "a", Body: "y".repeat(300) })); // overwrite
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "v", Body: "1".repeat(10) }));
    const second = await c.send(new PutObjectCommand({ Bucket: b, Key: "v", Body: "2".repeat(20) }));
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: "v" })); // a delete marker
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: "v", VersionId: second.VersionId }));
    expect(totals(b).bytes).toBe(300 + 10);

    const aborted = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "m1" }));
    await c.send(
      new UploadPartCommand({
        Bucket: b,
        Key: "m1",
        UploadId: aborted.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * MiB),
      }),
    );
    expect(totals(b).bytes).toBe(310 + 5 * MiB);
    await c.send(new AbortMultipartUploadCommand({ Bucket: b, Key: "m1", UploadId: aborted.UploadId }));
    expect(totals(b).bytes).toBe(310);

    const mp = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "m2" }));
    await c.send(
      new UploadPartCommand({ Bucket: b, Key: "m2", UploadId: mp.UploadId, PartNumber: 1, Body: Buffer.alloc(1000) }),
    );
    const p1 = await c.send(
      new UploadPartCommand({
        Bucket: b,
        Key: "m2",
        UploadId: mp.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * MiB, 1),
      }),
    ); // replaced
    const p2 = await c.send(
      new UploadPartCommand({ Bucket: b, Key: "m2", UploadId: mp.UploadId, PartNumber: 2, Body: Buffer.alloc(7) }),
    );
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: "m2",
        UploadId: mp.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    await c.send(new CopyObjectCommand({ Bucket: b, Key: "a-copy", CopySource: `${b}/a` }));
    await c.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: "a" }, { Key: "nothing" }] } }));
    const now = totals(b);
    expect(now.bytes).toBe(now.summed);
    expect(now.bytes).toBe(300 + 300 + 10 + 5 * MiB + 7);

    // The backfill a database from before the totals gets, on this bucket's rows.
    const backfill = walrusMigrations
      .find((m) => m.name === "buckets' byte totals")!
      .sql.split(";")
      .find((st) => st.includes("UPDATE buckets SET bytes ="))!;
    const db = new Database(join(t.dataDir, "walrus.db"));
    try {
      db.transaction(() => {
        db.prepare("UPDATE buckets SET bytes = 0 WHERE name = ?").run(b);
        db.exec(backfill);
        expect(db.prepare("SELECT bytes FROM buckets WHERE name = ?").pluck().get(b)).toBe(now.summed);
      })();
    } finally {
      db.close();
    }
  });

  it("a user's quota is checked against it: what would pass the bucket's limit is refused, a delete makes room", async () => {
    const user = await t.createUser("quotabytes");
    const c = s3(t, user);
    const b = bucketName("quota");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "ten", Body: Buffer.alloc(10 * MiB) }));
    await expectS3Error(
      c.send(new PutObjectCommand({ Bucket: b, Key: "three", Body: Buffer.alloc(3 * MiB) })),
      "QuotaExceeded",
      403,
    );
    await c.send(new PutObjectCommand({ Bucket: b, Key: "ten", Body: Buffer.alloc(11 * MiB) })); // an overwrite counts once
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: "ten" }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "three", Body: Buffer.alloc(3 * MiB) }));
    expect(totals(b)).toEqual({ bytes: 3 * MiB, summed: 3 * MiB });
  });
});
