import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3, type Creds } from "../../support/s3";

let t: TestCloud;
let bucket: string;
let other: Creds;
const MiB = 1024 * 1024;

beforeAll(async () => {
  t = await startTestCloud();
  bucket = bucketName("mp");
  await s3(t).send(new CreateBucketCommand({ Bucket: bucket }));
  other = await t.createUser(unique("other"));
});
afterAll(() => t.stop());

async function bytes(key: string, b = bucket, range?: string): Promise<Buffer> {
  const r = await s3(t).send(new GetObjectCommand({ Bucket: b, Key: key, Range: range }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe("multipart upload", () => {
  it("lib-storage Upload of 13 MiB: parts, md5-of-md5s ETag, bytes intact, part reads", async () => {
    const data = randomBytes(13 * MiB);
    const up = new Upload({
      client: s3(t),
      params: { Bucket: bucket, Key: "big.bin", Body: data, ContentType: "application/x-big" },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const done = await up.done();
    const md5s = [0, 1, 2].map((i) =>
      createHash("md5")
        .update(data.subarray(i * 5 * MiB, Math.min((i + 1) * 5 * MiB, data.length)))
        .digest(),
    );
    expect(done.ETag).toBe(`"${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-3"`);
    expect((await bytes("big.bin")).equals(data)).toBe(true);
    expect(
      (await bytes("big.bin", bucket, `bytes=${5 * MiB - 2}-${5 * MiB + 1}`)).equals(
        data.subarray(5 * MiB - 2, 5 * MiB + 2),
      ),
    ).toBe(true);
    const head = await s3(t).send(new HeadObjectCommand({ Bucket: bucket, Key: "big.bin", PartNumber: 2 }));
    expect([head.ContentLength, head.PartsCount, head.ContentType]).toEqual([5 * MiB, 3, "application/x-big"]);
  });

  it("Create, UploadPart, ListParts, ListMultipartUploads, Complete errors, Abort", async () => {
    const c = s3(t);
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "manual" }));
    const p1 = await c.send(
      new UploadPartCommand({ Bucket: bucket, Key: "manual", UploadId, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 1) }),
    );
    const p2 = await c.send(
      new UploadPartCommand({ Bucket: bucket, Key: "manual", UploadId, PartNumber: 2, Body: Buffer.from("tail") }),
    );
    const p3 = await c.send(
      new UploadPartCommand({ Bucket: bucket, Key: "manual", UploadId, PartNumber: 3, Body: Buffer.from("small") }),
    );
    const parts = await c.send(new ListPartsCommand({ Bucket: bucket, Key: "manual", UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * MiB],
      [2, 4],
      [3, 5],
    ]);
    const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(UploadId);

    const complete = (Parts: Array<{ PartNumber: number; ETag?: string }>) =>
      c.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "manual", UploadId, MultipartUpload: { Parts } }),
      );
    await expectS3Error(
      complete([
        { PartNumber: 2, ETag: p2.ETag },
        { PartNumber: 1, ETag: p1.ETag },
      ]),
      "InvalidPartOrder",
      400,
    );
    await expectS3Error(complete([{ PartNumber: 1, ETag: '"0000"' }]), "InvalidPart", 400);
    await expectS3Error(complete([{ PartNumber: 9, ETag: p1.ETag }]), "InvalidPart", 400);
    await expectS3Error(
      complete([
        { PartNumber: 2, ETag: p2.ETag },
        { PartNumber: 3, ETag: p3.ETag },
      ]),
      "EntityTooSmall",
      400,
    );
    const done = await complete([
      { PartNumber: 1, ETag: p1.ETag },
      { PartNumber: 3, ETag: p3.ETag },
    ]);
    expect(done.ETag).toMatch(/-2"$/);
    expect((await bytes("manual")).length).toBe(5 * MiB + 5);
    await expectS3Error(c.send(new ListPartsCommand({ Bucket: bucket, Key: "manual", UploadId })), "NoSuchUpload", 404);

    const { UploadId: second } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "aborted" }));
    await c.send(new UploadPartCommand({ Bucket: bucket, Key: "aborted", UploadId: second, PartNumber: 1, Body: "x" }));
    await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "aborted", UploadId: second }));
    await expectS3Error(
      c.send(new UploadPartCommand({ Bucket: bucket, Key: "aborted", UploadId: second, PartNumber: 2, Body: "y" })),
      "NoSuchUpload",
      404,
    );
    await expectS3Error(
      c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "aborted", UploadId: "nonexistent" })),
      "NoSuchUpload",
      404,
    );
    await expectS3Error(
      c.send(new UploadPartCommand({ Bucket: bucket, Key: "x", UploadId: second, PartNumber: 10001, Body: "y" })),
      "InvalidArgument",
      400,
    );
  });

  it("UploadPartCopy with a range", async () => {
    const c = s3(t);
    const src = randomBytes(6 * MiB);
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: "src6", Body: src }));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "assembled" }));
    const a = await c.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: "assembled",
        UploadId,
        PartNumber: 1,
        CopySource: `${bucket}/src6`,
        CopySourceRange: `bytes=0-${5 * MiB - 1}`,
      }),
    );
    const b = await c.send(
      new UploadPartCopyCommand({
        Bucket: bucket,
        Key: "assembled",
        UploadId,
        PartNumber: 2,
        CopySource: `${bucket}/src6`,
        CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
      }),
    );
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: "assembled",
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: a.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: b.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    expect((await bytes("assembled")).equals(src)).toBe(true);
  });
});

describe("CopyObject", () => {
  it("COPY keeps metadata, REPLACE replaces it, across buckets, with copy-source conditionals", async () => {
    const c = s3(t);
    const dst = bucketName("dst");
    await c.send(new CreateBucketCommand({ Bucket: dst }));
    const put = await c.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "orig ünï",
        Body: "copy me",
        ContentType: "text/x-orig",
        Metadata: { a: "1" },
      }),
    );
    const copied = await c.send(
      new CopyObjectCommand({ Bucket: dst, Key: "copy", CopySource: encodeURIComponent(`${bucket}/orig ünï`) }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(put.ETag);
    const h1 = await c.send(new HeadObjectCommand({ Bucket: dst, Key: "copy" }));
    expect([h1.ContentType, h1.Metadata]).toEqual(["text/x-orig", { a: "1" }]);
    await c.send(
      new CopyObjectCommand({
        Bucket: dst,
        Key: "replaced",
        CopySource: `${bucket}/${encodeURIComponent("orig ünï")}`,
        MetadataDirective: "REPLACE",
        ContentType: "text/new",
        Metadata: { b: "2" },
      }),
    );
    const h2 = await c.send(new HeadObjectCommand({ Bucket: dst, Key: "replaced" }));
    expect([h2.ContentType, h2.Metadata]).toEqual(["text/new", { b: "2" }]);
    expect((await bytes("replaced", dst)).toString()).toBe("copy me");
    await expectS3Error(
      c.send(
        new CopyObjectCommand({
          Bucket: dst,
          Key: "c2",
          CopySource: `${bucket}/${encodeURIComponent("orig ünï")}`,
          CopySourceIfMatch: '"nope"',
        }),
      ),
      "PreconditionFailed",
      412,
    );
    await expectS3Error(
      c.send(new CopyObjectCommand({ Bucket: dst, Key: "c3", CopySource: `${bucket}/missing` })),
      "NoSuchKey",
      404,
    );
    await expectS3Error(
      c.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: "orig ünï",
          CopySource: `${bucket}/${encodeURIComponent("orig ünï")}`,
        }),
      ),
      "InvalidRequest",
      400,
    );
    await expectS3Error(
      s3(t, other).send(
        new CopyObjectCommand({ Bucket: dst, Key: "steal", CopySource: `${bucket}/${encodeURIComponent("orig ünï")}` }),
      ),
      "AccessDenied",
      403,
    );
    // Deleting the source leaves the copy intact (shared bytes are reference-counted).
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: "orig ünï", Body: "overwritten" }));
    expect((await bytes("copy", dst)).toString()).toBe("copy me");
  });
});
