/**
 * x-amz-checksum-*: CRC32, CRC32C, CRC64NVME, SHA-1 and SHA-256 verified on PUT (a
 * wrong one is BadDigest and stores nothing), returned on GET/HEAD with
 * x-amz-checksum-mode: ENABLED (the SDK then checks the body against it), composite
 * checksums for multipart uploads; with the AWS SDK and Debian's awscli.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "@node-rs/crc32";
import {
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, tempDir, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3 } from "../../support/s3";
import { run } from "../../support/exec";

let t: TestCloud;
let b: string;
beforeAll(async () => {
  t = await startTestCloud();
  b = bucketName("sum");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
});
afterAll(() => t.stop());

const crc32cOf = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32c(data) >>> 0);
  return out.toString("base64");
};

describe("checksums", () => {
  const body = Buffer.from("The quick brown fox jumps over the lazy dog\n".repeat(1000));

  it.each(["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const)(
    "%s: verified on PUT, returned with checksum mode",
    async (algorithm) => {
      const c = s3(t);
      const put = await c.send(
        new PutObjectCommand({
          Bucket: b,
          Key: `k-${algorithm}`,
          Body: body,
          ChecksumAlgorithm: ChecksumAlgorithm[algorithm],
        }),
      );
      const field = `Checksum${algorithm}` as const;
      expect(put[field]).toBeTruthy();
      const head = await c.send(new HeadObjectCommand({ Bucket: b, Key: `k-${algorithm}`, ChecksumMode: "ENABLED" }));
      expect([head[field], head.ChecksumType]).toEqual([put[field], "FULL_OBJECT"]);
      const get = await c.send(new GetObjectCommand({ Bucket: b, Key: `k-${algorithm}`, ChecksumMode: "ENABLED" }));
      expect(get[field]).toBe(put[field]);
      expect(await bodyText(get.Body)).toBe(body.toString());
      // Without the mode no checksum is sent.
      expect((await c.send(new HeadObjectCommand({ Bucket: b, Key: `k-${algorithm}` })))[field]).toBeUndefined();
    },
  );

  it("a CRC32C that matches is our own computation's; a wrong one is BadDigest and stores nothing", async () => {
    const c = s3(t);
    const put = await c.send(
      new PutObjectCommand({ Bucket: b, Key: "given", Body: body, ChecksumCRC32C: crc32cOf(body) }),
    );
    expect(put.ChecksumCRC32C).toBe(crc32cOf(body));
    for (const [field, value] of [
      ["ChecksumCRC32C", "AAAAAA=="],
      ["ChecksumCRC64NVME", "AAAAAAAAAAA="],
      ["ChecksumSHA1", Buffer.alloc(20).toString("base64")],
    ] as const) {
      await expectS3Error(
        c.send(new PutObjectCommand({ Bucket: b, Key: `bad-${field}`, Body: body, [field]: value })),
        "BadDigest",
        400,
      );
      await expectS3Error(c.send(new HeadObjectCommand({ Bucket: b, Key: `bad-${field}` })), "NotFound", 404);
    }
  });

  it("multipart with a checksum algorithm: part checksums, ListParts, a composite checksum on the object", async () => {
    const c = s3(t);
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from("tail")];
    const up = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "mp", ChecksumAlgorithm: "SHA256" }));
    const done = [];
    for (const [i, p] of parts.entries()) {
      const r = await c.send(
        new UploadPartCommand({
          Bucket: b,
          Key: "mp",
          UploadId: up.UploadId,
          PartNumber: i + 1,
          Body: p,
          ChecksumAlgorithm: "SHA256",
        }),
      );
      expect(r.ChecksumSHA256).toBe(createHash("sha256").update(p).digest("base64"));
      done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumSHA256: r.ChecksumSHA256 });
    }
    expect(
      (await c.send(new ListPartsCommand({ Bucket: b, Key: "mp", UploadId: up.UploadId }))).Parts?.map(
        (p) => p.ChecksumSHA256,
      ),
    ).toEqual(done.map((p) => p.ChecksumSHA256));
    const complete = await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: "mp",
        UploadId: up.UploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    const composite = createHash("sha256")
      .update(Buffer.concat(done.map((p) => Buffer.from(p.ChecksumSHA256!, "base64"))))
      .digest("base64");
    expect(complete.ChecksumSHA256).toBe(`${composite}-2`);
    const head = await c.send(new HeadObjectCommand({ Bucket: b, Key: "mp", ChecksumMode: "ENABLED" }));
    expect([head.ChecksumSHA256, head.ChecksumType]).toEqual([`${composite}-2`, "COMPOSITE"]);
  });

  it("awscli v2: put-object --checksum-algorithm CRC32C and SHA256, head-object --checksum-mode ENABLED", async () => {
    const dir = tempDir();
    const file = join(dir, "f.bin");
    writeFileSync(file, body);
    const env = {
      PATH: "/usr/bin:/bin",
      HOME: dir,
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_PAGER: "",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: t.admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: t.admin.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_MAX_ATTEMPTS: "1",
    };
    const aws = async (...args: string[]) => {
      const r = await run(
        "/usr/bin/aws",
        ["--endpoint-url", t.cloud.endpoints.s3Url, "--output", "json", "s3api", ...args],
        { env, timeoutMs: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout || "{}");
    };
    for (const a of ["CRC32C", "SHA256"]) {
      await aws("put-object", "--bucket", b, "--key", `cli-${a}`, "--body", file, "--checksum-algorithm", a);
      const head = await aws("head-object", "--bucket", b, "--key", `cli-${a}`, "--checksum-mode", "ENABLED");
      expect(head[`Checksum${a}`]).toBe(
        a === "CRC32C" ? crc32cOf(body) : createHash("sha256").update(body).digest("base64"),
      );
    }
  });
});
