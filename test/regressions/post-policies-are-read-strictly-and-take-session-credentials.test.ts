/**
 * Regression (issue 25, items 8 and 9): in a POST policy an unknown condition operator
 * was taken as covering its field and checked nothing; a non-numeric
 * content-length-range meant no limit; a success_action_redirect that is not a URL
 * was a 500 after the object was stored; and a policy signed with session credentials
 * was a 500. Now the policy is read strictly (InvalidPolicyDocument, 400, nothing
 * stored), a redirect S3 cannot read is ignored (decided before storing), and session
 * credentials need their x-amz-security-token, covered by the policy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bodyText, bucketName, expectS3Error, s3 } from "../support/s3";
import { postForm, s3ErrorCode, signedPostForm } from "../support/post-form";

let t: TestCloud;
let bucket: string;
beforeAll(async () => {
  t = await startTestCloud();
  bucket = bucketName("policy");
  await s3(t).send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => t.stop());

const post = (fields: Record<string, string>, content?: string) =>
  postForm(`${t.cloud.endpoints.s3Url}/${bucket}`, fields, content);
const stored = async (key: string) =>
  s3(t)
    .send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
    .then(
      () => true,
      () => false,
    );

describe("POST policies", () => {
  it("refuse a condition they cannot read, with InvalidPolicyDocument, storing nothing", async () => {
    const bad: Array<[string, unknown[], Record<string, string>]> = [
      [
        "unknown operator",
        [
          ["eq", "$key", "k1"],
          ["matches", "$x-amz-meta-evil", ".*"],
        ],
        { key: "k1", "x-amz-meta-evil": "anything" },
      ],
      [
        "non-numeric range",
        [
          ["eq", "$key", "k2"],
          ["content-length-range", "0", "ten"],
        ],
        { key: "k2" },
      ],
      [
        "reversed range",
        [
          ["eq", "$key", "k3"],
          ["content-length-range", 10, 1],
        ],
        { key: "k3" },
      ],
      [
        "negative range",
        [
          ["eq", "$key", "k4"],
          ["content-length-range", -1, 10],
        ],
        { key: "k4" },
      ],
      ["field without $", [["starts-with", "key", "k"]], { key: "k5" }],
      ["short condition", [["eq", "$key"]], { key: "k6" }],
      ["number as a condition", [["eq", "$key", "k7"], 42], { key: "k7" }],
      ["two fields in one", [{ key: "k8", acl: "private" }], { key: "k8", acl: "private" }],
    ];
    for (const [what, conditions, fields] of bad) {
      const r = await post(signedPostForm(bucket, t.admin, conditions, fields), "x".repeat(100));
      expect([what, r.status, s3ErrorCode(r.text)]).toEqual([what, 400, "InvalidPolicyDocument"]);
      expect(await stored(fields.key!), what).toBe(false);
    }
  });

  it("ignore a success_action_redirect that is not a URL, as S3 does, and never answer 500", async () => {
    for (const [i, redirect] of ["not a url", "::", "javascript:alert(1)", "http://"].entries()) {
      const key = `r${i}`;
      const r = await post(
        signedPostForm(
          bucket,
          t.admin,
          [
            ["eq", "$key", key],
            ["starts-with", "$success_action_redirect", ""],
          ],
          { key, success_action_redirect: redirect },
        ),
      );
      expect([redirect, r.status]).toEqual([redirect, 204]);
      expect(await stored(key)).toBe(true);
    }
  });

  it("take session credentials with their token, and refuse them without it", async () => {
    const c = (
      await new STSClient({ endpoint: t.ec2Url, region: "eucalyptus", credentials: t.admin, maxAttempts: 1 }).send(
        new GetSessionTokenCommand({ DurationSeconds: 900 }),
      )
    ).Credentials!;
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const ok = await post(signedPostForm(bucket, session, [["eq", "$key", "s1"]], { key: "s1" }), "from a session");
    expect(ok.status).toBe(204);
    expect(await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "s1" }))).Body)).toBe(
      "from a session",
    );
    const { sessionToken: _, ...noToken } = session;
    const missing = await post(signedPostForm(bucket, noToken, [["eq", "$key", "s2"]], { key: "s2" }));
    expect([missing.status, s3ErrorCode(missing.text)]).toEqual([403, "InvalidAccessKeyId"]);
    const wrong = await post(
      signedPostForm(bucket, { ...session, sessionToken: "forged" }, [["eq", "$key", "s3"]], { key: "s3" }),
    );
    expect([wrong.status, s3ErrorCode(wrong.text)]).toEqual([403, "InvalidAccessKeyId"]);
    const uncovered = await post(
      signedPostForm(bucket, session, [["eq", "$key", "s4"]], { key: "s4" }, { tokenCovered: false }),
    );
    expect([uncovered.status, s3ErrorCode(uncovered.text)]).toEqual([403, "AccessDenied"]);
    for (const key of ["s2", "s3", "s4"])
      await expectS3Error(s3(t).send(new HeadObjectCommand({ Bucket: bucket, Key: key })), "NotFound", 404);
  });
});
