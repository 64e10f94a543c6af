/**
 * Regression (issue 9, finding 11), decided by AWS semantics:
 * - Modify/Deregister on someone else's private image is InvalidAMIID.NotFound, as
 *   Describe says (UnauthorizedOperation would reveal that it exists);
 * - DescribeImageAttribute launchPermission is the owner's to see;
 * - a ClientToken re-sent with other parameters is IdempotentParameterMismatch;
 * - DeleteObjects without Content-MD5 or a checksum is refused;
 * - a PutBucketAcl body naming another Owner, or a bogus grantee, is refused;
 * - a SigV4 credential scope for another service is refused (s3 at EC2, ec2 at S3).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import {
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateBucketCommand, DeleteObjectsCommand, PutObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { imageFile, makeUser, uploadBundle, type TestUser } from "../support/bundles";
import { bucketName, s3, type Creds } from "../support/s3";
import { sigV4S3Headers } from "../support/s3-signing";
import { errorCode, formEncode, post } from "../support/query-client";
import { signV4 } from "../../src/auth/sigv4";
import { ec2Client } from "../support/ec2";

let t: TestCloud;
let alice: TestUser;
let bob: TestUser;
let privateImage: string;
let sharedImage: string;
const ec2 = (c: Creds) => ec2Client(t.ec2Url, c);

beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBuckets: 0 } });
  alice = await makeUser(t, unique("alice"));
  bob = await makeUser(t, unique("bob"));
  privateImage = (
    await ec2(alice).send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("private.img", 50_000)),
        Name: "p",
      }),
    )
  ).ImageId!;
  sharedImage = (
    await ec2(alice).send(
      new RegisterImageCommand({
        ImageLocation: await uploadBundle(t, alice, imageFile("shared.img", 50_000)),
        Name: "s",
      }),
    )
  ).ImageId!;
  await ec2(alice).send(
    new ModifyImageAttributeCommand({ ImageId: sharedImage, LaunchPermission: { Add: [{ UserId: bob.account }] } }),
  );
});
afterAll(() => t.stop());

describe("images", () => {
  it("someone else's private image does not exist for Modify and Deregister either", async () => {
    await expect(
      ec2(bob).send(new ModifyImageAttributeCommand({ ImageId: privateImage, Description: { Value: "x" } })),
    ).rejects.toMatchObject({ name: "InvalidAMIID.NotFound" });
    await expect(ec2(bob).send(new DeregisterImageCommand({ ImageId: privateImage }))).rejects.toMatchObject({
      name: "InvalidAMIID.NotFound",
    });
    // One shared with bob exists for him, and is still not his to change.
    await expect(ec2(bob).send(new DeregisterImageCommand({ ImageId: sharedImage }))).rejects.toMatchObject({
      name: "UnauthorizedOperation",
    });
  });

  it("launch permissions are shown to the owner only", async () => {
    await expect(
      ec2(bob).send(new DescribeImageAttributeCommand({ ImageId: sharedImage, Attribute: "launchPermission" })),
    ).rejects.toMatchObject({ name: "UnauthorizedOperation" });
    expect(
      (await ec2(bob).send(new DescribeImageAttributeCommand({ ImageId: sharedImage, Attribute: "description" })))
        .ImageId,
    ).toBe(sharedImage);
    expect(
      (
        await ec2(alice).send(
          new DescribeImageAttributeCommand({ ImageId: sharedImage, Attribute: "launchPermission" }),
        )
      ).LaunchPermissions,
    ).toEqual([{ UserId: bob.account }]);
  });
});

describe("RunInstances ClientToken", () => {
  it("the same token with other parameters is IdempotentParameterMismatch and launches nothing", async () => {
    const first = await ec2(alice).send(
      new RunInstancesCommand({ ImageId: privateImage, MinCount: 1, MaxCount: 1, ClientToken: "tok-a" }),
    );
    expect(
      (
        await ec2(alice).send(
          new RunInstancesCommand({ ImageId: privateImage, MinCount: 1, MaxCount: 1, ClientToken: "tok-a" }),
        )
      ).ReservationId,
    ).toBe(first.ReservationId);
    await expect(
      ec2(alice).send(
        new RunInstancesCommand({
          ImageId: privateImage,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: "c1.medium",
          ClientToken: "tok-a",
        }),
      ),
    ).rejects.toMatchObject({ name: "IdempotentParameterMismatch", $metadata: { httpStatusCode: 400 } });
    await ec2(alice).send(new TerminateInstancesCommand({ InstanceIds: first.Instances!.map((i) => i.InstanceId!) }));
  });
});

describe("S3 bodies", () => {
  it("DeleteObjects needs Content-MD5 or a checksum that matches", async () => {
    const b = bucketName("del");
    await s3(t, alice).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t, alice).send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
    const url = `${t.cloud.endpoints.s3Url}/${b}?delete=`;
    const body = "<Delete><Object><Key>k</Key></Object></Delete>";
    const send = (extra: Record<string, string>) =>
      fetch(url, { method: "POST", body, headers: { ...sigV4S3Headers("POST", url, alice, body), ...extra } });
    let r = await send({});
    expect([r.status, errorCode(await r.text())]).toEqual([400, "InvalidRequest"]);
    r = await send({ "content-md5": createHash("md5").update("other").digest("base64") });
    expect([r.status, errorCode(await r.text())]).toEqual([400, "BadDigest"]);
    await s3(t, alice).send(new HeadObjectCommand({ Bucket: b, Key: "k" })); // still there
    // The SDK sends its checksum header: accepted.
    const sdk = await s3(t, alice).send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: "k" }] } }));
    expect(sdk.Deleted?.map((d) => d.Key)).toEqual(["k"]);
  });

  it("PutBucketAcl refuses a foreign Owner and grantees S3 does not know", async () => {
    const b = bucketName("acl");
    await s3(t, alice).send(new CreateBucketCommand({ Bucket: b }));
    const url = `${t.cloud.endpoints.s3Url}/${b}?acl=`;
    const acl = (owner: string, grantee: string) =>
      `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${owner}</ID></Owner><AccessControlList><Grant>${grantee}<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`;
    const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
    const put = async (body: string) => {
      const r = await fetch(url, { method: "PUT", body, headers: sigV4S3Headers("PUT", url, alice, body) });
      return [r.status, errorCode(await r.text()) ?? "ok"];
    };
    expect(
      await put(acl(bob.account, `<Grantee ${xsi} xsi:type="CanonicalUser"><ID>${bob.account}</ID></Grantee>`)),
    ).toEqual([403, "AccessDenied"]);
    expect(
      await put(acl(alice.account, `<Grantee ${xsi} xsi:type="Wizard"><ID>${bob.account}</ID></Grantee>`)),
    ).toEqual([400, "MalformedACLError"]);
    expect(
      await put(acl(alice.account, `<Grantee ${xsi} xsi:type="CanonicalUser"><ID>999999999999</ID></Grantee>`)),
    ).toEqual([400, "InvalidArgument"]);
    expect(
      await put(
        acl(alice.account, `<Grantee ${xsi} xsi:type="Group"><URI>http://example.com/everyone</URI></Grantee>`),
      ),
    ).toEqual([400, "InvalidArgument"]);
    expect(
      await put(acl(alice.account, `<Grantee ${xsi} xsi:type="CanonicalUser"><ID>${bob.account}</ID></Grantee>`)),
    ).toEqual([200, "ok"]);
  });
});

describe("SigV4 credential scopes", () => {
  it("a signature made for S3 is refused at EC2, and one made for EC2 at S3", async () => {
    const body = formEncode({ Action: "DescribeRegions", Version: "2014-10-01" });
    const u = new URL(t.ec2Url);
    const sign = (service: string) => {
      const h = signV4({
        method: "POST",
        rawPath: u.pathname,
        headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body,
        accessKeyId: alice.accessKeyId,
        secret: alice.secretAccessKey,
        region: "eucalyptus",
        service,
        now: new Date(),
        doubleEncodePath: true,
      });
      delete h.host;
      return h;
    };
    const s3Scoped = await post(t.ec2Url, body, sign("s3"));
    expect([s3Scoped.status, errorCode(s3Scoped.body)]).toEqual([401, "AuthFailure"]);
    expect((await post(t.ec2Url, body, sign("ec2"))).status).toBe(200);

    const url = `${t.cloud.endpoints.s3Url}/`;
    const s = new URL(url);
    const h = signV4({
      method: "GET",
      rawPath: "/",
      headers: { host: s.host },
      body: "",
      accessKeyId: alice.accessKeyId,
      secret: alice.secretAccessKey,
      region: "us-east-1",
      service: "ec2",
      now: new Date(),
      doubleEncodePath: false,
    });
    delete h.host;
    const r = await fetch(url, { headers: h });
    expect([r.status, errorCode(await r.text())]).toEqual([400, "AuthorizationHeaderMalformed"]);
  });
});
