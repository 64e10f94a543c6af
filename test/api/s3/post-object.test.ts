import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3 } from "../../support/s3";
import { postForm, s3ErrorCode, signedPostForm } from "../../support/post-form";

let t: TestCloud;
let bucket: string;
beforeAll(async () => {
  t = await startTestCloud();
  bucket = bucketName("post");
  await s3(t).send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => t.stop());

const v4Form = (
  conditions: unknown[],
  fields: Record<string, string>,
  opts: { expires?: Date; secret?: string } = {},
) => signedPostForm(bucket, t.admin, conditions, fields, opts);
const post = (fields: Record<string, string>, content?: string, filename?: string) =>
  postForm(`${t.cloud.endpoints.s3Url}/${bucket}`, fields, content, filename);
const code = s3ErrorCode;

describe("POST Object (browser form upload)", () => {
  it("a SigV4 policy upload stores the file with its metadata ($filename, Content-Type, x-amz-meta-*)", async () => {
    const r = await post(
      v4Form(
        [["starts-with", "$key", "uploads/"], ["starts-with", "$Content-Type", "text/"], { "x-amz-meta-tag": "v" }],
        { key: "uploads/${filename}", "Content-Type": "text/plain", "x-amz-meta-tag": "v" },
      ),
    );
    expect(r.status).toBe(204);
    const got = await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "uploads/hello.txt" }));
    expect([await bodyText(got.Body), got.ContentType, got.Metadata]).toEqual([
      "form upload body",
      "text/plain",
      { tag: "v" },
    ]);
  });

  it("success_action_status 201 answers XML; success_action_redirect answers 303", async () => {
    const r201 = await post(
      v4Form([["eq", "$key", "a201"], { success_action_status: "201" }], { key: "a201", success_action_status: "201" }),
    );
    expect(r201.status).toBe(201);
    expect(r201.text).toContain("<Key>a201</Key>");
    const r303 = await post(
      v4Form(
        [
          ["eq", "$key", "a303"],
          ["starts-with", "$success_action_redirect", "http://app.example/"],
        ],
        { key: "a303", success_action_redirect: "http://app.example/done" },
      ),
    );
    expect(r303.status).toBe(303);
    expect(r303.headers.get("location")).toMatch(/^http:\/\/app\.example\/done\?bucket=.*&key=a303&etag=/);
  });

  it("SigV2 policies work too", async () => {
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [{ bucket }, ["eq", "$key", "v2"]],
      }),
    ).toString("base64");
    const signature = createHmac("sha1", t.admin.secretAccessKey).update(policy).digest("base64");
    expect((await post({ key: "v2", AWSAccessKeyId: t.admin.accessKeyId, policy, signature })).status).toBe(204);
    await s3(t).send(new HeadObjectCommand({ Bucket: bucket, Key: "v2" }));
  });

  it("refuses an expired policy, a bad signature, extra fields, a failed condition, a size outside the range, no file", async () => {
    const expired = await post(v4Form([["eq", "$key", "x"]], { key: "x" }, { expires: new Date(Date.now() - 1000) }));
    expect([expired.status, code(expired.text)]).toEqual([403, "AccessDenied"]);
    expect(expired.text).toContain("Policy expired");
    const badSig = await post(v4Form([["eq", "$key", "x"]], { key: "x" }, { secret: "wrong" }));
    expect([badSig.status, code(badSig.text)]).toEqual([403, "SignatureDoesNotMatch"]);
    const extra = await post(v4Form([["eq", "$key", "x"]], { key: "x", "x-amz-meta-sneaky": "1" }));
    expect([extra.status, code(extra.text)]).toEqual([403, "AccessDenied"]);
    expect(extra.text).toContain("Extra input fields: x-amz-meta-sneaky");
    const cond = await post(v4Form([["starts-with", "$key", "allowed/"]], { key: "elsewhere" }));
    expect([cond.status, code(cond.text)]).toEqual([403, "AccessDenied"]);
    const big = await post(
      v4Form(
        [
          ["eq", "$key", "big"],
          ["content-length-range", 1, 10],
        ],
        { key: "big" },
      ),
      "x".repeat(11),
    );
    expect([big.status, code(big.text)]).toEqual([400, "EntityTooLarge"]);
    await expectS3Error(s3(t).send(new HeadObjectCommand({ Bucket: bucket, Key: "big" })), "NotFound", 404);
    const form = new FormData();
    form.append("key", "nofile");
    const nofile = await fetch(`${t.cloud.endpoints.s3Url}/${bucket}`, { method: "POST", body: form });
    expect(nofile.status).toBe(400);
  });

  it("anonymous form posts need a bucket that allows anonymous writes", async () => {
    const r = await post({ key: "anon" });
    expect([r.status, code(r.text)]).toEqual([403, "AccessDenied"]);
    const { PutBucketAclCommand } = await import("@aws-sdk/client-s3");
    await s3(t).send(new PutBucketAclCommand({ Bucket: bucket, ACL: "public-read-write" }));
    expect((await post({ key: "anon" })).status).toBe(204);
    expect(await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "anon" }))).Body)).toBe(
      "form upload body",
    );
    await s3(t).send(new PutBucketAclCommand({ Bucket: bucket, ACL: "private" }));
  });
});
