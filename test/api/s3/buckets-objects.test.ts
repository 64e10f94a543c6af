import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3, type Creds } from "../../support/s3";

let t: TestCloud;
let bob: Creds;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 3 } });
  bob = await t.createUser(unique("bob"));
});
afterAll(() => t.stop());

describe("buckets", () => {
  it("create, list, head, location, delete", async () => {
    const c = s3(t);
    const name = bucketName();
    await c.send(new CreateBucketCommand({ Bucket: name }));
    const list = await c.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain(name);
    expect(list.Owner?.DisplayName).toBe("eucalyptus");
    expect((await c.send(new HeadBucketCommand({ Bucket: name }))).$metadata.httpStatusCode).toBe(200);
    expect((await c.send(new GetBucketLocationCommand({ Bucket: name }))).LocationConstraint).toBe("eucalyptus"); // the cloud's region (us-east-1 would be null)
    await c.send(new DeleteBucketCommand({ Bucket: name }));
    await expectS3Error(c.send(new HeadBucketCommand({ Bucket: name })), "NotFound", 404);
    await expectS3Error(c.send(new DeleteBucketCommand({ Bucket: name })), "NoSuchBucket", 404);
  });

  it("BucketAlreadyOwnedByYou, BucketAlreadyExists across users, BucketNotEmpty", async () => {
    const name = bucketName();
    await s3(t).send(new CreateBucketCommand({ Bucket: name }));
    await expectS3Error(s3(t).send(new CreateBucketCommand({ Bucket: name })), "BucketAlreadyOwnedByYou", 409);
    await expectS3Error(s3(t, bob).send(new CreateBucketCommand({ Bucket: name })), "BucketAlreadyExists", 409);
    await s3(t).send(new PutObjectCommand({ Bucket: name, Key: "k", Body: "x" }));
    await expectS3Error(s3(t).send(new DeleteBucketCommand({ Bucket: name })), "BucketNotEmpty", 409);
    await expectS3Error(s3(t, bob).send(new DeleteBucketCommand({ Bucket: name })), "AccessDenied", 403);
  });

  it("invalid bucket names → InvalidBucketName", async () => {
    for (const bad of ["ab", "UPPER-case", "a..b", "-lead", "trail-", "192.168.1.1", "x".repeat(64), "under_score"]) {
      await expectS3Error(s3(t).send(new CreateBucketCommand({ Bucket: bad })), "InvalidBucketName", 400);
    }
  });

  it("the per-user bucket quota applies to users, not to the admin", async () => {
    const carol = await t.createUser(unique("carol"));
    for (let i = 0; i < 3; i++) await s3(t, carol).send(new CreateBucketCommand({ Bucket: bucketName("q") }));
    await expectS3Error(s3(t, carol).send(new CreateBucketCommand({ Bucket: bucketName("q") })), "TooManyBuckets", 400);
    for (let i = 0; i < 4; i++) await s3(t).send(new CreateBucketCommand({ Bucket: bucketName("adm") }));
  });
});

describe("objects", () => {
  let bucket: string;
  beforeAll(async () => {
    bucket = bucketName("obj");
    await s3(t).send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it("put/get/head keep metadata and standard headers; ETag is the MD5", async () => {
    const body = "hello walrus";
    const put = await s3(t).send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "greeting.txt",
        Body: body,
        ContentType: "text/plain",
        ContentEncoding: "identity",
        ContentDisposition: 'attachment; filename="g.txt"',
        CacheControl: "max-age=60",
        ContentLanguage: "en",
        Expires: new Date("2030-01-01T00:00:00Z"),
        Metadata: { colour: "blue", "two-words": "a b" },
      }),
    );
    const md5 = createHash("md5").update(body).digest("hex");
    expect(put.ETag).toBe(`"${md5}"`);
    const got = await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "greeting.txt" }));
    expect(await bodyText(got.Body)).toBe(body);
    expect(got).toMatchObject({
      ETag: `"${md5}"`,
      ContentType: "text/plain",
      ContentEncoding: "identity",
      ContentDisposition: 'attachment; filename="g.txt"',
      CacheControl: "max-age=60",
      ContentLanguage: "en",
      ContentLength: body.length,
      Metadata: { colour: "blue", "two-words": "a b" },
    });
    const head = await s3(t).send(new HeadObjectCommand({ Bucket: bucket, Key: "greeting.txt" }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.Expires?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
    expect(head.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("overwrites, deletes, and answers NoSuchKey / NoSuchBucket", async () => {
    await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "k1", Body: "one" }));
    await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "k1", Body: "two" }));
    expect(await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "k1" }))).Body)).toBe("two");
    await s3(t).send(new DeleteObjectCommand({ Bucket: bucket, Key: "k1" }));
    await expectS3Error(s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "k1" })), "NoSuchKey", 404);
    await s3(t).send(new DeleteObjectCommand({ Bucket: bucket, Key: "k1" })); // deleting a missing key is fine
    await expectS3Error(
      s3(t).send(new GetObjectCommand({ Bucket: "no-such-bucket-here", Key: "k" })),
      "NoSuchBucket",
      404,
    );
    await expectS3Error(s3(t).send(new HeadObjectCommand({ Bucket: bucket, Key: "nothing" })), "NotFound", 404);
  });

  it("keys are opaque data: ../, unicode, control characters, 1024 bytes", async () => {
    const keys = [
      "../../etc/passwd",
      "a/../../b",
      "ünïcødé/☁/日本語",
      "tab\there\u0001ctl",
      "%2F%2e%2e",
      " lead and trail ",
      "k".repeat(1024),
    ];
    for (const key of keys) {
      await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key.length}` }));
      expect(await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toBe(
        `body of ${key.length}`,
      );
    }
    await expectS3Error(
      s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "k".repeat(1025), Body: "x" })),
      "KeyTooLongError",
      400,
    );
  });

  it("ranges: a-b, a-, -n, beyond the end, and 416 InvalidRange", async () => {
    await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "digits", Body: "0123456789" }));
    const get = (Range: string) => s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "digits", Range }));
    const r1 = await get("bytes=2-5");
    expect([await bodyText(r1.Body), r1.ContentRange, r1.$metadata.httpStatusCode]).toEqual([
      "2345",
      "bytes 2-5/10",
      206,
    ]);
    expect(await bodyText((await get("bytes=7-")).Body)).toBe("789");
    expect(await bodyText((await get("bytes=-3")).Body)).toBe("789");
    expect(await bodyText((await get("bytes=8-100")).Body)).toBe("89");
    await expectS3Error(get("bytes=10-20"), "InvalidRange", 416);
    expect(await bodyText((await get("bytes=5-2")).Body)).toBe("0123456789"); // invalid: whole object
  });

  it("conditionals: 304 with ETag, 412 PreconditionFailed", async () => {
    const put = await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "cond", Body: "c" }));
    const c = s3(t);
    await expectS3Error(
      c.send(new GetObjectCommand({ Bucket: bucket, Key: "cond", IfNoneMatch: put.ETag })),
      "Unknown",
      304,
    ); // the SDK names a bodiless 304 "Unknown"
    await expectS3Error(
      c.send(new GetObjectCommand({ Bucket: bucket, Key: "cond", IfMatch: '"nope"' })),
      "PreconditionFailed",
      412,
    );
    await expectS3Error(
      c.send(new GetObjectCommand({ Bucket: bucket, Key: "cond", IfModifiedSince: new Date(Date.now() + 60_000) })),
      "Unknown",
      304,
    );
    await expectS3Error(
      c.send(new GetObjectCommand({ Bucket: bucket, Key: "cond", IfUnmodifiedSince: new Date(Date.now() - 3600_000) })),
      "PreconditionFailed",
      412,
    );
    const ok = await c.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: "cond",
        IfMatch: put.ETag,
        IfModifiedSince: new Date(Date.now() - 3600_000),
      }),
    );
    expect(await bodyText(ok.Body)).toBe("c");
  });

  it("response-* overrides", async () => {
    await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "ov", Body: "o", ContentType: "text/plain" }));
    const got = await s3(t).send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: "ov",
        ResponseContentType: "application/x-custom",
        ResponseContentDisposition: "inline",
        ResponseCacheControl: "no-cache",
      }),
    );
    expect(got).toMatchObject({
      ContentType: "application/x-custom",
      ContentDisposition: "inline",
      CacheControl: "no-cache",
    });
  });

  it("a wrong Content-MD5 is BadDigest and stores nothing", async () => {
    await expectS3Error(
      s3(t).send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: "md5",
          Body: "payload",
          ContentMD5: createHash("md5").update("other").digest("base64"),
        }),
      ),
      "BadDigest",
      400,
    );
    await expectS3Error(s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "md5" })), "NoSuchKey", 404);
    await expectS3Error(
      s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "md5", Body: "payload", ContentMD5: "not-base64-md5" })),
      "InvalidDigest",
      400,
    );
  });

  it("another user's private object is AccessDenied", async () => {
    await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "private", Body: "secret" }));
    await expectS3Error(s3(t, bob).send(new GetObjectCommand({ Bucket: bucket, Key: "private" })), "AccessDenied", 403);
    await expectS3Error(
      s3(t, bob).send(new PutObjectCommand({ Bucket: bucket, Key: "intrude", Body: "x" })),
      "AccessDenied",
      403,
    );
    await expectS3Error(
      s3(t, bob).send(new DeleteObjectCommand({ Bucket: bucket, Key: "private" })),
      "AccessDenied",
      403,
    );
  });
});
