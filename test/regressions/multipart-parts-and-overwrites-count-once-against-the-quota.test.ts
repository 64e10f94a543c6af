/**
 * Regression (issue 9, finding 4): multipart parts were not counted against the
 * bucket quota and CompleteMultipartUpload did not check it (13.5 MB completed in a
 * 5 MiB bucket), while an overwrite counted both the old and the new version.
 * Both are now checked in the transaction that commits the bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { bucketName, expectS3Error, s3, type Creds } from "../support/s3";

const MiB = 1024 * 1024;
let t: TestCloud;
let user: Creds;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBucketMb: 12 } });
  user = await t.createUser(unique("q"));
});
afterAll(() => t.stop());

describe("the bucket quota (12 MiB)", () => {
  it("counts every uploaded part, and Complete cannot exceed it", async () => {
    const b = bucketName("mpq");
    const c = s3(t, user);
    await c.send(new CreateBucketCommand({ Bucket: b }));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "big" }));
    const part = (n: number, size: number) =>
      c.send(new UploadPartCommand({ Bucket: b, Key: "big", UploadId, PartNumber: n, Body: Buffer.alloc(size, n) }));
    const p1 = await part(1, 5 * MiB);
    const p2 = await part(2, 5 * MiB);
    await expectS3Error(part(3, 5 * MiB), "QuotaExceeded", 403);
    // Replacing part 2 counts the new part instead of the old one, not both.
    expect((await part(2, 5 * MiB)).ETag).toBe(p2.ETag);
    const p3 = await part(3, 1 * MiB);
    const done = await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: "big",
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
            { PartNumber: 3, ETag: p3.ETag },
          ],
        },
      }),
    );
    expect(done.ETag).toMatch(/-3"$/);
    await expectS3Error(
      c.send(new PutObjectCommand({ Bucket: b, Key: "more", Body: Buffer.alloc(2 * MiB) })),
      "QuotaExceeded",
      403,
    );
  });

  it("counts an overwrite once in an unversioned bucket, and every version in a versioned one", async () => {
    const c = s3(t, user);
    const plain = bucketName("ow");
    await c.send(new CreateBucketCommand({ Bucket: plain }));
    for (let i = 0; i < 3; i++)
      await c.send(new PutObjectCommand({ Bucket: plain, Key: "k", Body: Buffer.alloc(7 * MiB, i) }));
    const versioned = bucketName("owv");
    await c.send(new CreateBucketCommand({ Bucket: versioned }));
    await c.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: "Enabled" } }));
    await c.send(new PutObjectCommand({ Bucket: versioned, Key: "k", Body: Buffer.alloc(7 * MiB) }));
    await expectS3Error(
      c.send(new PutObjectCommand({ Bucket: versioned, Key: "k", Body: Buffer.alloc(7 * MiB) })),
      "QuotaExceeded",
      403,
    );
  });
});
