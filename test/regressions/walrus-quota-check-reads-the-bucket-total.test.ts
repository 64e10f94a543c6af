/**
 * A non-admin's PUT checked its bucket's quota by summing the size of every version and
 * open part in the bucket, twice per write: O(objects). It now reads the bucket's total,
 * kept by triggers. Proof that the check reads the total and scans nothing: with the total
 * set near the limit behind the cloud's back, a 1 KiB PUT into an almost empty bucket is
 * refused (the old sum would have let it through); set back, it is accepted.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bucketName, expectS3Error, s3 } from "../support/s3";

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBucketMb: 1 } });
});
afterAll(() => t.stop());

function setTotal(bucket: string, bytes: number): void {
  const db = new Database(join(t.dataDir, "walrus.db"));
  try {
    db.prepare("UPDATE buckets SET bytes = ? WHERE name = ?").run(bytes, bucket);
  } finally {
    db.close();
  }
}

describe("regression: the quota check reads the bucket's total", () => {
  it("refuses by the total, not by a sum over the bucket's objects", async () => {
    const c = s3(t, await t.createUser("quotatotal"));
    const b = bucketName("total");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    setTotal(b, 1024 * 1024 - 100);
    await expectS3Error(
      c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: Buffer.alloc(1024) })),
      "QuotaExceeded",
      403,
    );
    setTotal(b, 0);
    await c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: Buffer.alloc(1024) }));
  });
});
