import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  HeadObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3, type Creds } from "../../support/s3";

let t: TestCloud;
let bob: Creds;
let bobAccount: string;
beforeAll(async () => {
  t = await startTestCloud();
  const name = unique("bob");
  bob = await t.createUser(name);
  bobAccount = t.cloud.identity!.getUser(name).accountId;
});
afterAll(() => t.stop());

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

describe("ACLs", () => {
  it("canned public-read lets anonymous GET; private does not", async () => {
    const b = bucketName("acl");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "pub", Body: "public", ACL: "public-read" }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "priv", Body: "private" }));
    const base = t.cloud.endpoints.s3Url;
    expect(await (await fetch(`${base}/${b}/pub`)).text()).toBe("public");
    const denied = await fetch(`${base}/${b}/priv`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toMatch(/<Code>AccessDenied<\/Code>[\s\S]*<RequestId>[0-9a-f-]{36}<\/RequestId>/);
    expect((await fetch(`${base}/${b}`)).status).toBe(403); // listing needs bucket READ
    const acl = await s3(t).send(new GetObjectAclCommand({ Bucket: b, Key: "pub" }));
    expect(acl.Grants?.map((g) => [g.Grantee?.Type, g.Grantee?.URI ?? g.Grantee?.DisplayName, g.Permission])).toEqual([
      ["CanonicalUser", "eucalyptus", "FULL_CONTROL"],
      ["Group", ALL_USERS, "READ"],
    ]);
  });

  it("grants to another account by id, via headers and via an AccessControlPolicy body", async () => {
    const b = bucketName("grant");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "shared", Body: "for bob" }));
    await expectS3Error(s3(t, bob).send(new GetObjectCommand({ Bucket: b, Key: "shared" })), "AccessDenied", 403);
    await s3(t).send(new PutObjectAclCommand({ Bucket: b, Key: "shared", GrantRead: `id="${bobAccount}"` }));
    expect(await bodyText((await s3(t, bob).send(new GetObjectCommand({ Bucket: b, Key: "shared" }))).Body)).toBe(
      "for bob",
    );
    const owner = (await s3(t).send(new GetBucketAclCommand({ Bucket: b }))).Owner!;
    await s3(t).send(
      new PutBucketAclCommand({
        Bucket: b,
        AccessControlPolicy: {
          Owner: owner,
          Grants: [{ Grantee: { Type: "CanonicalUser", ID: bobAccount }, Permission: "WRITE" }],
        },
      }),
    );
    await s3(t, bob).send(new PutObjectCommand({ Bucket: b, Key: "from-bob", Body: "hi" }));
    const grants = (await s3(t).send(new GetBucketAclCommand({ Bucket: b }))).Grants;
    expect(grants?.map((g) => [g.Grantee?.ID, g.Permission])).toEqual([[bobAccount, "WRITE"]]);
    await expectS3Error(s3(t, bob).send(new GetBucketAclCommand({ Bucket: b })), "AccessDenied", 403);
  });

  it("aws-exec-read lets the cloud's own account read; a bad canned ACL is 400", async () => {
    const b = bucketName("exec");
    const user = await t.createUser(unique("img"));
    await s3(t, user).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t, user).send(
      new PutObjectCommand({ Bucket: b, Key: "image.manifest.xml", Body: "<manifest/>", ACL: "aws-exec-read" }),
    );
    expect(
      await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: b, Key: "image.manifest.xml" }))).Body),
    ).toBe("<manifest/>");
    await expectS3Error(
      s3(t, bob).send(new GetObjectCommand({ Bucket: b, Key: "image.manifest.xml" })),
      "AccessDenied",
      403,
    );
    await expectS3Error(
      s3(t, user).send(new PutObjectCommand({ Bucket: b, Key: "x", Body: "x", ACL: "everyone-please" as "private" })),
      "InvalidArgument",
      400,
    );
  });

  it("malformed ACL XML is MalformedACLError", async () => {
    const b = bucketName("badacl");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    const { sigV4S3Headers } = await import("../../support/s3-signing");
    const body = "<AccessControlPolicy><AccessControlList><Grant>";
    const url = `${t.cloud.endpoints.s3Url}/${b}?acl=`;
    const res = await fetch(url, { method: "PUT", body, headers: sigV4S3Headers("PUT", url, t.admin, body) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("<Code>MalformedACLError</Code>");
  });
});

describe("versioning", () => {
  it("Enabled keeps versions; delete markers; GET/HEAD/DELETE by versionId; Suspended writes null", async () => {
    const c = s3(t);
    const b = bucketName("ver");
    await c.send(new CreateBucketCommand({ Bucket: b }));
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined();
    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
    expect((await c.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe("Enabled");
    const v1 = await c.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "one" }));
    const v2 = await c.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "two" }));
    expect(v1.VersionId).toBeTruthy();
    expect(v1.VersionId).not.toBe(v2.VersionId);
    expect(
      await bodyText((await c.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: v1.VersionId }))).Body),
    ).toBe("one");
    const del = await c.send(new DeleteObjectCommand({ Bucket: b, Key: "doc" }));
    expect(del.DeleteMarker).toBe(true);
    await expectS3Error(c.send(new GetObjectCommand({ Bucket: b, Key: "doc" })), "NoSuchKey", 404);
    const list = await c.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [v2.VersionId, false],
      [v1.VersionId, false],
    ]);
    expect(list.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[del.VersionId, true]]);
    // Removing the delete marker brings v2 back.
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: del.VersionId }));
    expect(await bodyText((await c.send(new GetObjectCommand({ Bucket: b, Key: "doc" }))).Body)).toBe("two");
    await c.send(new DeleteObjectCommand({ Bucket: b, Key: "doc", VersionId: v2.VersionId }));
    expect(await bodyText((await c.send(new GetObjectCommand({ Bucket: b, Key: "doc" }))).Body)).toBe("one");
    await expectS3Error(
      c.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: "no-such-version" })),
      "NoSuchVersion",
      404,
    );
    await expectS3Error(
      c.send(new HeadObjectCommand({ Bucket: b, Key: "doc", VersionId: "no-such-version" })),
      "NotFound",
      404,
    );

    await c.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Suspended" } }));
    const n1 = await c.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "null-1" }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "null-2" }));
    expect(n1.VersionId).toBeUndefined();
    const after = await c.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: "doc" }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual(["null", v1.VersionId]);
  });
});

describe("presigned URLs", () => {
  it("GET and PUT work; an expired URL is AccessDenied", async () => {
    const b = bucketName("pre");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    const putUrl = await getSignedUrl(s3(t), new PutObjectCommand({ Bucket: b, Key: "up" }), { expiresIn: 300 });
    expect((await fetch(putUrl, { method: "PUT", body: "via presigned put" })).status).toBe(200);
    const getUrl = await getSignedUrl(s3(t), new GetObjectCommand({ Bucket: b, Key: "up" }), { expiresIn: 300 });
    expect(await (await fetch(getUrl)).text()).toBe("via presigned put");
    const old = await getSignedUrl(s3(t), new GetObjectCommand({ Bucket: b, Key: "up" }), {
      expiresIn: 1,
      signingDate: new Date(Date.now() - 3600_000),
    });
    const res = await fetch(old);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Request has expired");
    const tampered = getUrl.replace("/up?", "/up2?");
    expect((await fetch(tampered)).status).toBe(403);
  });
});
