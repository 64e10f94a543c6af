/**
 * Regression (issue 25, item 12), with S3's and Ceph RGW's behaviour as the reference:
 * - DeleteBucket of a bucket whose only content is an unfinished multipart upload
 *   answered BucketNotEmpty, though no listing shows anything to remove (S3 deletes it,
 *   aborting the uploads).
 * - A PUT with `Content-Encoding: aws-chunked` whose body was not chunk-framed failed
 *   with IncompleteBody: the framing is now decided by x-amz-content-sha256
 *   (STREAMING-…), and the stored Content-Encoding keeps only the other codings.
 * - Listings under encoding-type=url echoed what they were asked for so that boto3 read
 *   `%0A` back for a prefix of `\n`: each echoed value is encoded exactly when its
 *   client decodes it (S3's documented set for V2 and versions; V1's Prefix verbatim,
 *   as RGW answers and botocore reads it), verbatim without encoding-type.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bucketName, expectS3Error, s3 } from "../support/s3";
import { sigV4S3Headers } from "../support/s3-signing";
import { rawRequest } from "../support/raw-http";
import { run } from "../support/exec";

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.stop());

describe("S3 edges", () => {
  it("DeleteBucket removes a bucket whose only content is unfinished multipart uploads, aborting them", async () => {
    const b = bucketName("mpu-only");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    const u = await s3(t).send(new CreateMultipartUploadCommand({ Bucket: b, Key: "big" }));
    await s3(t).send(
      new UploadPartCommand({ Bucket: b, Key: "big", UploadId: u.UploadId, PartNumber: 1, Body: "part one" }),
    );
    await s3(t).send(new CreateMultipartUploadCommand({ Bucket: b, Key: "other" }));
    await s3(t).send(new DeleteBucketCommand({ Bucket: b }));
    await expectS3Error(s3(t).send(new HeadBucketCommand({ Bucket: b })), "NotFound", 404);
    // Its name is free again, with nothing of the old uploads in it.
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    expect((await s3(t).send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).toEqual([]);
  });

  it("a bucket with an object is still not empty", async () => {
    const b = bucketName("not-empty");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "v" }));
    await s3(t).send(new CreateMultipartUploadCommand({ Bucket: b, Key: "big" }));
    await expectS3Error(s3(t).send(new DeleteBucketCommand({ Bucket: b })), "BucketNotEmpty", 409);
    expect((await s3(t).send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads).toHaveLength(1);
  });

  it("a PUT saying aws-chunked whose body is not chunk-framed is stored as sent, without aws-chunked", async () => {
    const b = bucketName("chunked-word");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    const url = t.cloud.endpoints.s3Url;
    for (const [key, encoding, kept] of [
      ["alone", "aws-chunked", undefined],
      ["twice", "aws-chunked, aws-chunked", undefined],
      ["gzip", "aws-chunked,gzip", "gzip"],
      ["gzip-first", "gzip, aws-chunked", "gzip"],
    ] as const) {
      const body = Buffer.from(`plain body of ${key}`);
      const target = `${url}/${b}/${key}`;
      const r = await rawRequest(target, {
        method: "PUT",
        headers: sigV4S3Headers("PUT", target, t.admin, body, { "content-encoding": encoding }),
        body,
      });
      expect([key, r.status]).toEqual([key, 200]);
      const got = await s3(t).send(new GetObjectCommand({ Bucket: b, Key: key }));
      expect([key, got.ContentEncoding]).toEqual([key, kept]);
      expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe(body.toString());
    }
  });

  it.runIf(existsSync("/usr/bin/python3") || process.env.CI === "true")(
    "listings echo a prefix, delimiter and marker so that boto3 reads them back as sent",
    async () => {
      const b = bucketName("echo");
      await s3(t).send(new CreateBucketCommand({ Bucket: b }));
      const values = ["\n", "a b", "100%", "a+b", "é/", "%0A"];
      const script = new URL("../support/clients/boto3_listing_echo.py", import.meta.url).pathname;
      const r = await run("/usr/bin/python3", [script, b, ...values.map((v) => Buffer.from(v).toString("hex"))], {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: "/tmp",
          S3_URL: t.cloud.endpoints.s3Url,
          AWS_ACCESS_KEY_ID: t.admin.accessKeyId,
          AWS_SECRET_ACCESS_KEY: t.admin.secretAccessKey,
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
        timeoutMs: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Array<Record<string, [string, string, string, string[]]>>;
      values.forEach((v, i) => {
        const hex = (s: string) => Buffer.from(s).toString("hex");
        const common = [hex(`${v}x${v}`)];
        for (const listing of ["v1", "v2", "versions"])
          expect([JSON.stringify(v), listing, out[i]![listing]]).toEqual([
            JSON.stringify(v),
            listing,
            [hex(v), hex(v), hex(v), common],
          ]);
      });
    },
  );

  it("without encoding-type, values are echoed verbatim; with it, each encoded once", async () => {
    const b = bucketName("echo-raw");
    await s3(t).send(new CreateBucketCommand({ Bucket: b, ACL: "public-read" }));
    const get = async (query: string) => (await fetch(`${t.cloud.endpoints.s3Url}/${b}?${query}`)).text();
    const plain = await get("list-type=2&prefix=a%20b&start-after=a%2Bb&delimiter=%2F");
    expect(plain).toContain("<Prefix>a b</Prefix>");
    expect(plain).toContain("<StartAfter>a+b</StartAfter>");
    const encoded = await get("list-type=2&prefix=a%20b&start-after=a%2Bb&delimiter=%25&encoding-type=url");
    expect(encoded).toContain("<Prefix>a%20b</Prefix>");
    expect(encoded).toContain("<StartAfter>a%2Bb</StartAfter>");
    expect(encoded).toContain("<Delimiter>%25</Delimiter>");
    const v1 = await get("prefix=a%20b&marker=a%2Bb&encoding-type=url");
    expect(v1).toContain("<Prefix>a b</Prefix>");
    expect(v1).toContain("<Marker>a%2Bb</Marker>");
  });
});
