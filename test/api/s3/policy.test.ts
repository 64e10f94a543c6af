/**
 * Bucket policies with the AWS SDK, and anonymous requests by fetch: validation,
 * Allow/Deny matrices for the owner's account, another tenant and anonymous, with
 * conditions; evaluated with ACLs (an explicit Deny wins, an Allow grants).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectAclCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3, type Creds } from "../../support/s3";

let t: TestCloud;
let bob: Creds;
let bobAccount: string;
let adminAccount: string;
const accountOf = (c: Creds) => t.cloud.identity!.principal(c.accessKeyId)!.accountId;

beforeAll(async () => {
  t = await startTestCloud();
  bob = await t.createUser(unique("bob"));
  bobAccount = accountOf(bob);
  adminAccount = accountOf(t.admin);
});
afterAll(() => t.stop());

const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
async function bucketWith(policy?: string, objects: string[] = ["pub/a.txt", "private/b.txt"]): Promise<string> {
  const b = bucketName("pol");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
  for (const k of objects) await s3(t).send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
  if (policy) await s3(t).send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy.replaceAll("BUCKET", b) }));
  return b;
}
const anonGet = async (b: string, key: string) => (await fetch(`${t.cloud.endpoints.s3Url}/${b}/${key}`)).status;
const may = async (p: Promise<unknown>) =>
  p.then(
    () => true,
    (e: { Code?: string; name?: string }) => {
      if ((e.Code ?? e.name) !== "AccessDenied") throw e;
      return false;
    },
  );

describe("bucket policies", () => {
  it("Put/Get/Delete; GetBucketPolicyStatus; NoSuchBucketPolicy; only the owner's account", async () => {
    const b = await bucketWith();
    const c = s3(t);
    await expectS3Error(c.send(new GetBucketPolicyCommand({ Bucket: b })), "NoSuchBucketPolicy", 404);
    const p = doc({
      Sid: "public",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${b}/pub/*`,
    });
    await c.send(new PutBucketPolicyCommand({ Bucket: b, Policy: p }));
    expect((await c.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy).toBe(p);
    expect((await c.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic).toBe(true);
    await expectS3Error(s3(t, bob).send(new GetBucketPolicyCommand({ Bucket: b })), "AccessDenied", 403);
    await expectS3Error(s3(t, bob).send(new PutBucketPolicyCommand({ Bucket: b, Policy: p })), "AccessDenied", 403);
    await c.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: doc({
          Effect: "Allow",
          Principal: { AWS: bobAccount },
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${b}/*`,
        }),
      }),
    );
    expect((await c.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic).toBe(false);
    await c.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    await expectS3Error(c.send(new GetBucketPolicyCommand({ Bucket: b })), "NoSuchBucketPolicy", 404);
  });

  it("malformed policies are refused with MalformedPolicy", async () => {
    const b = await bucketWith();
    const put = (Policy: string) => s3(t).send(new PutBucketPolicyCommand({ Bucket: b, Policy }));
    const stmt = { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${b}/*` };
    for (const bad of [
      "not json",
      "[]",
      JSON.stringify({ Version: "2001-01-01", Statement: [stmt] }),
      JSON.stringify({ Version: "2012-10-17" }),
      doc({ ...stmt, Effect: "Maybe" }),
      doc({ ...stmt, Resource: "arn:aws:s3:::some-other-bucket/*" }),
      doc({ ...stmt, Resource: "*" }),
      doc({ ...stmt, Principal: { AWS: "arn:aws:iam::999999999999:root" } }),
      doc({ ...stmt, Action: "ec2:RunInstances" }),
      doc({ ...stmt, Condition: { StringEquals: { "aws:NoSuchKey": "x" } } }),
      doc({ ...stmt, Condition: { StringSometimes: { "s3:prefix": "x" } } }),
      doc({ ...stmt, Condition: { IpAddress: { "aws:SourceIp": "300.1.1.1/8" } } }),
      doc({ ...stmt, Resource: `arn:aws:s3:::${b}` }),
      doc({ ...stmt, Principal: undefined }),
      JSON.stringify({ Version: "2012-10-17", Statement: [stmt], Padding: "x".repeat(21 * 1024) }),
    ]) {
      await expectS3Error(put(bad), "MalformedPolicy", 400);
    }
  });

  it('Allow to "*" makes objects public anonymously; only what its Resource names', async () => {
    const b = await bucketWith(
      doc({ Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::BUCKET/pub/*" }),
    );
    expect(await anonGet(b, "pub/a.txt")).toBe(200);
    expect(await anonGet(b, "private/b.txt")).toBe(403);
    expect(await may(s3(t, bob).send(new GetObjectCommand({ Bucket: b, Key: "pub/a.txt" })))).toBe(true);
    expect(await may(s3(t, bob).send(new PutObjectCommand({ Bucket: b, Key: "pub/new", Body: "x" })))).toBe(false);
    expect((await fetch(`${t.cloud.endpoints.s3Url}/${b}/pub/a.txt`, { method: "PUT", body: "x" })).status).toBe(403);
  });

  it("another tenant: an account grant with s3:prefix on ListBucket; a user ARN; wildcard actions", async () => {
    const b = await bucketWith(
      doc(
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${bobAccount}:root` },
          Action: "s3:ListBucket",
          Resource: "arn:aws:s3:::BUCKET",
          Condition: { StringLike: { "s3:prefix": "pub/*" } },
        },
        {
          Effect: "Allow",
          Principal: {
            AWS: [`arn:aws:iam::${bobAccount}:user/${t.cloud.identity!.principal(bob.accessKeyId)!.userName}`],
          },
          Action: "s3:*Object",
          Resource: "arn:aws:s3:::BUCKET/pub/*",
        },
      ),
    );
    const bc = s3(t, bob);
    expect(await may(bc.send(new ListObjectsV2Command({ Bucket: b, Prefix: "pub/" })))).toBe(true);
    expect(await may(bc.send(new ListObjectsV2Command({ Bucket: b })))).toBe(false);
    expect(await may(bc.send(new ListObjectsV2Command({ Bucket: b, Prefix: "private/" })))).toBe(false);
    expect(await may(bc.send(new PutObjectCommand({ Bucket: b, Key: "pub/from-bob", Body: "x" })))).toBe(true);
    expect(await may(bc.send(new GetObjectCommand({ Bucket: b, Key: "pub/from-bob" })))).toBe(true);
    expect(await may(bc.send(new DeleteObjectCommand({ Bucket: b, Key: "private/b.txt" })))).toBe(false);
    expect(await anonGet(b, "pub/a.txt")).toBe(403);
  });

  it("an explicit Deny wins over ACL grants and over the owner's own account; the owner can still remove the policy", async () => {
    const b = await bucketWith(
      doc(
        {
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:DeleteObject", "s3:GetObject"],
          Resource: "arn:aws:s3:::BUCKET/private/*",
        },
        { Effect: "Deny", Principal: { AWS: bobAccount }, Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKET/*" },
      ),
    );
    await s3(t).send(new PutObjectAclCommand({ Bucket: b, Key: "pub/a.txt", ACL: "public-read" }));
    expect(await anonGet(b, "pub/a.txt")).toBe(200); // the ACL grants it; no Deny applies to anonymous here
    expect(await may(s3(t, bob).send(new GetObjectCommand({ Bucket: b, Key: "pub/a.txt" })))).toBe(false); // ACL says yes, the Deny says no
    expect(await may(s3(t).send(new GetObjectCommand({ Bucket: b, Key: "pub/a.txt" })))).toBe(true);
    expect(await may(s3(t).send(new GetObjectCommand({ Bucket: b, Key: "private/b.txt" })))).toBe(false);
    expect(await may(s3(t).send(new DeleteObjectCommand({ Bucket: b, Key: "private/b.txt" })))).toBe(false);
    await s3(t).send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: doc({
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`],
        }),
      }),
    );
    await s3(t).send(new DeleteBucketPolicyCommand({ Bucket: b }));
    expect(await may(s3(t).send(new DeleteObjectCommand({ Bucket: b, Key: "private/b.txt" })))).toBe(true);
  });

  it("conditions: aws:SourceIp, aws:SecureTransport, aws:CurrentTime, NotPrincipal, IfExists", async () => {
    const grant = (Condition: object) =>
      doc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKET/*", Condition });
    expect(
      await anonGet(
        await bucketWith(grant({ IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "127.0.0.1/32"] } })),
        "pub/a.txt",
      ),
    ).toBe(200);
    expect(await anonGet(await bucketWith(grant({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" } })), "pub/a.txt")).toBe(
      403,
    );
    expect(
      await anonGet(await bucketWith(grant({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } })), "pub/a.txt"),
    ).toBe(200);
    expect(await anonGet(await bucketWith(grant({ Bool: { "aws:SecureTransport": "true" } })), "pub/a.txt")).toBe(403); // plain HTTP here
    expect(
      await anonGet(
        await bucketWith(grant({ DateLessThan: { "aws:CurrentTime": "2000-01-01T00:00:00Z" } })),
        "pub/a.txt",
      ),
    ).toBe(403);
    expect(
      await anonGet(
        await bucketWith(grant({ DateGreaterThan: { "aws:CurrentTime": "2000-01-01T00:00:00Z" } })),
        "pub/a.txt",
      ),
    ).toBe(200);
    expect(
      await anonGet(
        await bucketWith(grant({ StringEqualsIfExists: { "aws:Referer": "https://mine.example/" } })),
        "pub/a.txt",
      ),
    ).toBe(200);
    expect(
      await anonGet(await bucketWith(grant({ StringEquals: { "aws:Referer": "https://mine.example/" } })), "pub/a.txt"),
    ).toBe(403);
    // Deny everyone but the owner's account: NotPrincipal.
    const fenced = await bucketWith(
      doc({ Effect: "Deny", NotPrincipal: { AWS: adminAccount }, Action: "s3:*", Resource: "arn:aws:s3:::BUCKET/*" }),
    );
    await s3(t).send(new PutObjectAclCommand({ Bucket: fenced, Key: "pub/a.txt", ACL: "public-read" }));
    expect(await anonGet(fenced, "pub/a.txt")).toBe(403);
    expect(await may(s3(t).send(new GetObjectCommand({ Bucket: fenced, Key: "pub/a.txt" })))).toBe(true);
  });
});
