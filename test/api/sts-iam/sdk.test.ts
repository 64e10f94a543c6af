/** @aws-sdk/client-sts and client-iam (v3), against the EC2 endpoint (by credential scope) and against /services/Tokens and /services/Euare. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAccountAliasesCommand,
} from "@aws-sdk/client-iam";
import { DescribeRegionsCommand } from "@aws-sdk/client-ec2";
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { s3 } from "../../support/s3";
import { ec2Client } from "../../support/ec2";

let t: TestCloud;
let origin: string;
beforeAll(async () => {
  t = await startTestCloud();
  origin = new URL(t.ec2Url).origin;
});
afterAll(() => t.stop());

describe("the AWS SDK v3 for STS and IAM", () => {
  it("STS at both endpoints; session credentials with EC2 and S3", async () => {
    const user = await t.createUser(unique("sdk"));
    for (const endpoint of [t.ec2Url, `${origin}/services/Tokens`]) {
      const sts = new STSClient({ endpoint, region: "eucalyptus", credentials: user, maxAttempts: 1 });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toMatch(/:user\/sdk/);
    }
    const c = (
      await new STSClient({ endpoint: t.ec2Url, region: "eucalyptus", credentials: user, maxAttempts: 1 }).send(
        new GetSessionTokenCommand({ DurationSeconds: 900 }),
      )
    ).Credentials!;
    const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    expect(c.Expiration!.getTime()).toBeGreaterThan(Date.now());
    expect((await ec2Client(t.ec2Url, session).send(new DescribeRegionsCommand({}))).Regions).toHaveLength(4);
    expect((await s3(t, session).send(new ListBucketsCommand({}))).Buckets).toEqual([]);
    // Presigned with session credentials: the token travels in the query (X-Amz-Security-Token), and is checked.
    const bucket = unique("presign").toLowerCase();
    await s3(t, session).send(new CreateBucketCommand({ Bucket: bucket }));
    await s3(t, session).send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body: "hello" }));
    const url = await getSignedUrl(s3(t, session), new GetObjectCommand({ Bucket: bucket, Key: "k" }), {
      expiresIn: 60,
    });
    expect(url).toContain("X-Amz-Security-Token=");
    expect(await (await fetch(url)).text()).toBe("hello");
    expect((await fetch(url.replace(/X-Amz-Security-Token=[^&]+/, "X-Amz-Security-Token=forged"))).status).toBe(403);
  });

  it("IAM at both endpoints: who am I, my keys, a new key and its deletion", async () => {
    const name = unique("sdkiam");
    const user = await t.createUser(name);
    for (const endpoint of [t.ec2Url, `${origin}/services/Euare`]) {
      const iam = new IAMClient({ endpoint, region: "eucalyptus", credentials: user, maxAttempts: 1 });
      expect((await iam.send(new GetUserCommand({}))).User?.UserName).toBe(name);
      expect((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([name]);
    }
    const iam = new IAMClient({ endpoint: t.ec2Url, region: "eucalyptus", credentials: user, maxAttempts: 1 });
    const made = (await iam.send(new CreateAccessKeyCommand({}))).AccessKey!;
    expect((await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.map((k) => k.AccessKeyId)).toContain(
      made.AccessKeyId,
    );
    await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: made.AccessKeyId }));
    expect((await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata).toHaveLength(1);
  });
});
