/** Object and bucket tagging, and CORS (rules, preflight, headers on actual requests), with the AWS SDK and a browser's requests by fetch. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  AbortMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectTaggingCommand,
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3, type Creds } from "../../support/s3";

let t: TestCloud;
let bob: Creds;
beforeAll(async () => {
  t = await startTestCloud();
  bob = await t.createUser(unique("bob"));
});
afterAll(() => t.stop());

describe("object tagging", () => {
  it("x-amz-tagging on PUT, Get/Put/DeleteObjectTagging, x-amz-tagging-count, copy directives", async () => {
    const c = s3(t);
    const b = bucketName("tag");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x", Tagging: "project=blue%20sky&empty=" }));
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "k" }))).TagSet).toEqual([
      { Key: "project", Value: "blue sky" },
      { Key: "empty", Value: "" },
    ]);
    expect((await c.send(new GetObjectCommand({ Bucket: b, Key: "k" }))).TagCount).toBe(2);
    await c.send(
      new PutObjectTaggingCommand({
        Bucket: b,
        Key: "k",
        Tagging: { TagSet: [{ Key: "Project Name: é", Value: "ü/+=.:@_-" }] },
      }),
    );
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "k" }))).TagSet).toEqual([
      { Key: "Project Name: é", Value: "ü/+=.:@_-" },
    ]);
    // COPY keeps the tags; REPLACE takes x-amz-tagging.
    await c.send(new CopyObjectCommand({ Bucket: b, Key: "copy", CopySource: `${b}/k` }));
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "copy" }))).TagSet).toEqual([
      { Key: "Project Name: é", Value: "ü/+=.:@_-" },
    ]);
    await c.send(
      new CopyObjectCommand({
        Bucket: b,
        Key: "copy2",
        CopySource: `${b}/k`,
        TaggingDirective: "REPLACE",
        Tagging: "n=1",
      }),
    );
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "copy2" }))).TagSet).toEqual([
      { Key: "n", Value: "1" },
    ]);
    await c.send(new DeleteObjectTaggingCommand({ Bucket: b, Key: "k" }));
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "k" }))).TagSet).toEqual([]);
    expect((await c.send(new HeadObjectCommand({ Bucket: b, Key: "k" }))).$metadata.httpStatusCode).toBe(200);
    const up = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "mp", Tagging: "m=p" }));
    await c.send(new AbortMultipartUploadCommand({ Bucket: b, Key: "mp", UploadId: up.UploadId }));
  });

  it("limits: 10 tags, 128/256 characters, unique keys, no aws: prefix; missing objects", async () => {
    const c = s3(t);
    const b = bucketName("tagl");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
    const put = (TagSet: Array<{ Key: string; Value: string }>) =>
      c.send(new PutObjectTaggingCommand({ Bucket: b, Key: "k", Tagging: { TagSet } }));
    await expectS3Error(put(Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: "v" }))), "BadRequest", 400);
    await expectS3Error(put([{ Key: "x".repeat(129), Value: "v" }]), "InvalidTag", 400);
    await expectS3Error(put([{ Key: "k", Value: "v".repeat(257) }]), "InvalidTag", 400);
    await expectS3Error(
      put([
        { Key: "d", Value: "1" },
        { Key: "d", Value: "2" },
      ]),
      "InvalidTag",
      400,
    );
    await expectS3Error(put([{ Key: "aws:x", Value: "1" }]), "InvalidTag", 400);
    await expectS3Error(put([{ Key: "semi;colon", Value: "1" }]), "InvalidTag", 400);
    await put(Array.from({ length: 10 }, (_, i) => ({ Key: `${"é".repeat(120)}${i}`, Value: "v".repeat(256) })));
    await expectS3Error(
      c.send(
        new PutObjectCommand({
          Bucket: b,
          Key: "k2",
          Body: "x",
          Tagging: Array.from({ length: 11 }, (_, i) => `t${i}=v`).join("&"),
        }),
      ),
      "BadRequest",
      400,
    );
    await expectS3Error(c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "missing" })), "NoSuchKey", 404);
  });

  it("versions keep their own tags; by versionId", async () => {
    const c = s3(t);
    const b = bucketName("tagv");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
    const v1 = (await c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "1", Tagging: "v=1" }))).VersionId!;
    await c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "2", Tagging: "v=2" }));
    const got = await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "k", VersionId: v1 }));
    expect([got.VersionId, got.TagSet]).toEqual([v1, [{ Key: "v", Value: "1" }]]);
    await c.send(
      new PutObjectTaggingCommand({
        Bucket: b,
        Key: "k",
        VersionId: v1,
        Tagging: { TagSet: [{ Key: "v", Value: "one" }] },
      }),
    );
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "k" }))).TagSet).toEqual([
      { Key: "v", Value: "2" },
    ]);
    expect((await c.send(new GetObjectTaggingCommand({ Bucket: b, Key: "k", VersionId: v1 }))).TagSet).toEqual([
      { Key: "v", Value: "one" },
    ]);
  });

  it("another account may read a public object but not its tags", async () => {
    const c = s3(t);
    const b = bucketName("tago");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x", Tagging: "secret=1" }));
    await c.send(new PutObjectAclCommand({ Bucket: b, Key: "k", ACL: "public-read" }));
    expect((await s3(t, bob).send(new GetObjectCommand({ Bucket: b, Key: "k" }))).TagCount).toBe(1);
    await expectS3Error(s3(t, bob).send(new GetObjectTaggingCommand({ Bucket: b, Key: "k" })), "AccessDenied", 403);
    await expectS3Error(
      s3(t, bob).send(new PutObjectTaggingCommand({ Bucket: b, Key: "k", Tagging: { TagSet: [] } })),
      "AccessDenied",
      403,
    );
  });
});

describe("bucket tagging", () => {
  it("Put/Get/Delete, NoSuchTagSet, 50 tags, owner only", async () => {
    const c = s3(t);
    const b = bucketName("btag");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await expectS3Error(c.send(new GetBucketTaggingCommand({ Bucket: b })), "NoSuchTagSet", 404);
    const TagSet = Array.from({ length: 50 }, (_, i) => ({ Key: `cost-centre-${i}`, Value: String(i) }));
    await c.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet } }));
    expect((await c.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet).toEqual(TagSet);
    await expectS3Error(
      c.send(
        new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [...TagSet, { Key: "one-more", Value: "" }] } }),
      ),
      "BadRequest",
      400,
    );
    await expectS3Error(s3(t, bob).send(new GetBucketTaggingCommand({ Bucket: b })), "AccessDenied", 403);
    await c.send(new DeleteBucketTaggingCommand({ Bucket: b }));
    await expectS3Error(c.send(new GetBucketTaggingCommand({ Bucket: b })), "NoSuchTagSet", 404);
  });
});

describe("CORS", () => {
  let b: string;
  const url = (key = "") => `${t.cloud.endpoints.s3Url}/${b}${key ? `/${key}` : ""}`;
  beforeAll(async () => {
    b = bucketName("cors");
    await s3(t).send(new CreateBucketCommand({ Bucket: b, ACL: "public-read" }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "pub", Body: "hello", ACL: "public-read" }));
  });

  it("rules round-trip; bad rules refused; delete", async () => {
    const c = s3(t);
    await expectS3Error(c.send(new GetBucketCorsCommand({ Bucket: b })), "NoSuchCORSConfiguration", 404);
    const CORSRules = [
      {
        ID: "web",
        AllowedOrigins: ["https://app.example"],
        AllowedMethods: ["GET", "PUT", "POST"],
        AllowedHeaders: ["content-type", "x-amz-*"],
        ExposeHeaders: ["ETag"],
        MaxAgeSeconds: 600,
      },
      { AllowedOrigins: ["*"], AllowedMethods: ["GET", "HEAD"] },
    ];
    await c.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules } }));
    const got = (await c.send(new GetBucketCorsCommand({ Bucket: b }))).CORSRules!;
    expect(got[0]).toMatchObject(CORSRules[0]!);
    expect(got[1]).toMatchObject({ AllowedOrigins: ["*"], AllowedMethods: ["GET", "HEAD"] });
    await expectS3Error(
      c.send(
        new PutBucketCorsCommand({
          Bucket: b,
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["PATCH"] }] },
        }),
      ),
      "InvalidRequest",
      400,
    );
    await expectS3Error(
      c.send(
        new PutBucketCorsCommand({
          Bucket: b,
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*.*.example"], AllowedMethods: ["GET"] }] },
        }),
      ),
      "InvalidRequest",
      400,
    );
    await expectS3Error(
      s3(t, bob).send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules } })),
      "AccessDenied",
      403,
    );
  });

  it("preflight: the matching rule's headers; 403 when nothing matches; 400 without Origin", async () => {
    const pre = (origin: string | undefined, method: string, headers?: string) =>
      fetch(url("up/load.bin"), {
        method: "OPTIONS",
        headers: {
          ...(origin ? { origin } : {}),
          "access-control-request-method": method,
          ...(headers ? { "access-control-request-headers": headers } : {}),
        },
      });
    const ok = await pre("https://app.example", "PUT", "Content-Type, X-Amz-Date");
    expect(ok.status).toBe(200);
    expect(Object.fromEntries([...ok.headers].filter(([k]) => k.startsWith("access-control-")))).toEqual({
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, PUT, POST",
      "access-control-allow-headers": "content-type, x-amz-date",
      "access-control-expose-headers": "ETag",
      "access-control-max-age": "600",
    });
    const star = await pre("https://other.example", "GET");
    expect([
      star.status,
      star.headers.get("access-control-allow-origin"),
      star.headers.get("access-control-allow-credentials"),
    ]).toEqual([200, "*", null]);
    expect((await pre("https://other.example", "PUT")).status).toBe(403);
    expect((await pre("https://app.example", "PUT", "x-forbidden")).status).toBe(403);
    expect((await pre(undefined, "GET")).status).toBe(400);
  });

  it("actual requests carry Access-Control-Allow-Origin when a rule allows them, errors too", async () => {
    const get = await fetch(url("pub"), { headers: { origin: "https://app.example" } });
    expect([
      get.status,
      await get.text(),
      get.headers.get("access-control-allow-origin"),
      get.headers.get("access-control-expose-headers"),
    ]).toEqual([200, "hello", "https://app.example", "ETag"]);
    const missing = await fetch(url("missing"), { headers: { origin: "https://app.example" } });
    expect([missing.status, missing.headers.get("access-control-allow-origin")]).toEqual([404, "https://app.example"]);
    const none = await fetch(url("pub"), { headers: { origin: "https://evil.example" }, method: "DELETE" });
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("without a configuration a preflight is refused; DeleteBucketCors removes it", async () => {
    await s3(t).send(new DeleteBucketCorsCommand({ Bucket: b }));
    await expectS3Error(s3(t).send(new GetBucketCorsCommand({ Bucket: b })), "NoSuchCORSConfiguration", 404);
    const r = await fetch(url("pub"), {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET" },
    });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain("<Code>AccessForbidden</Code>");
  });
});
