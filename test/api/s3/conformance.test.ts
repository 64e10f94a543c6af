/**
 * Corners S3 clients and conformance suites probe (cases after ceph's s3-tests, which
 * run against AWS): listing edge cases with boto3-equivalent SDK calls, bucket
 * re-creation and GetBucketLocation outside and inside us-east-1, SigV2 dates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHmac } from "node:crypto";
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3, type Creds } from "../../support/s3";
import { stringToSignS3V2 } from "../../../src/api/s3/auth";

let t: TestCloud;
let bob: Creds;
beforeAll(async () => {
  t = await startTestCloud();
  bob = await t.createUser(unique("bob"));
});
afterAll(() => t.stop());

async function bucketOf(keys: string[]): Promise<string> {
  const b = bucketName("conf");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
  for (const k of keys) await s3(t).send(new PutObjectCommand({ Bucket: b, Key: k, Body: "x" }));
  return b;
}
const keysOf = (r: { Contents?: Array<{ Key?: string }> }) => (r.Contents ?? []).map((c) => c.Key);
const prefixesOf = (r: { CommonPrefixes?: Array<{ Prefix?: string }> }) =>
  (r.CommonPrefixes ?? []).map((c) => c.Prefix);

describe("listings", () => {
  it("max-keys=0: empty and not truncated (v1 and v2)", async () => {
    const b = await bucketOf(["bar", "baz", "foo", "quxx"]);
    for (const r of [
      await s3(t).send(new ListObjectsCommand({ Bucket: b, MaxKeys: 0 })),
      await s3(t).send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 0 })),
    ]) {
      expect([keysOf(r), r.IsTruncated]).toEqual([[], false]);
    }
  });

  it("an empty continuation-token is a first page, echoed; marker and start-after past the end are empty pages", async () => {
    const b = await bucketOf(["bar", "baz", "foo", "quxx"]);
    const v2 = await s3(t).send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: "" }));
    expect([v2.ContinuationToken, v2.IsTruncated, keysOf(v2)]).toEqual(["", false, ["bar", "baz", "foo", "quxx"]]);
    const after = await s3(t).send(new ListObjectsV2Command({ Bucket: b, StartAfter: "zzz" }));
    expect([after.StartAfter, after.IsTruncated, keysOf(after)]).toEqual(["zzz", false, []]);
    const marker = await s3(t).send(new ListObjectsCommand({ Bucket: b, Marker: "zzz" }));
    expect([marker.Marker, marker.IsTruncated, keysOf(marker)]).toEqual(["zzz", false, []]);
    await expectS3Error(
      s3(t).send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: "not-a-token" })),
      "InvalidArgument",
      400,
    );
  });

  it("a prefix that ends with the delimiter; delimiters other than /", async () => {
    const slash = await bucketOf(["asdf/"]);
    const r = await s3(t).send(new ListObjectsV2Command({ Bucket: slash, Prefix: "asdf/", Delimiter: "/" }));
    expect([keysOf(r), prefixesOf(r)]).toEqual([["asdf/"], []]);
    const alt = await bucketOf(["bar", "baz", "cab", "foo"]);
    const a = await s3(t).send(new ListObjectsCommand({ Bucket: alt, Delimiter: "a" }));
    expect([a.Delimiter, keysOf(a), prefixesOf(a)]).toEqual(["a", ["foo"], ["ba", "ca"]]);
    const pct = await bucketOf(["b%ar", "b%az", "c%ab", "foo"]);
    const p = await s3(t).send(new ListObjectsV2Command({ Bucket: pct, Delimiter: "%" }));
    expect([keysOf(p), prefixesOf(p)]).toEqual([["foo"], ["b%", "c%"]]);
    const multi = await bucketOf(["a::b::c", "a::d", "e"]);
    const m = await s3(t).send(new ListObjectsV2Command({ Bucket: multi, Delimiter: "::", Prefix: "a::" }));
    expect([keysOf(m), prefixesOf(m)]).toEqual([["a::d"], ["a::b::"]]);
  });
});

describe("buckets and regions", () => {
  it("outside us-east-1: re-creating an owned bucket is BucketAlreadyOwnedByYou; GetBucketLocation names the region", async () => {
    const b = bucketName("reg");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    await expectS3Error(s3(t).send(new CreateBucketCommand({ Bucket: b })), "BucketAlreadyOwnedByYou", 409);
    await expectS3Error(s3(t, bob).send(new CreateBucketCommand({ Bucket: b })), "BucketAlreadyExists", 409);
    expect((await s3(t).send(new GetBucketLocationCommand({ Bucket: b }))).LocationConstraint).toBe("eucalyptus");
    expect((await s3(t).send(new HeadBucketCommand({ Bucket: b }))).BucketRegion).toBe("eucalyptus");
    const named = bucketName("reg");
    await s3(t).send(
      new CreateBucketCommand({
        Bucket: named,
        CreateBucketConfiguration: { LocationConstraint: "eucalyptus" as never },
      }),
    );
    await expectS3Error(
      s3(t).send(
        new CreateBucketCommand({
          Bucket: bucketName("reg"),
          CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
        }),
      ),
      "IllegalLocationConstraintException",
      400,
    );
  });

  it("in us-east-1: re-creating an owned bucket succeeds and resets its ACL; its LocationConstraint is null", async () => {
    const east = await startTestCloud({ settings: { region: "us-east-1" } });
    try {
      const b = bucketName("east");
      await s3(east).send(new CreateBucketCommand({ Bucket: b, ACL: "public-read" }));
      expect((await s3(east).send(new GetBucketAclCommand({ Bucket: b }))).Grants?.length).toBe(2);
      expect((await s3(east).send(new CreateBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(200);
      expect((await s3(east).send(new GetBucketAclCommand({ Bucket: b }))).Grants?.length).toBe(1);
      expect((await s3(east).send(new GetBucketLocationCommand({ Bucket: b }))).LocationConstraint).toBeUndefined();
      await expectS3Error(
        s3(east).send(
          new CreateBucketCommand({
            Bucket: bucketName("east"),
            CreateBucketConfiguration: { LocationConstraint: "us-east-1" as never },
          }),
        ),
        "InvalidLocationConstraint",
        400,
      );
    } finally {
      await east.stop();
    }
  });
});

describe("SigV2 dates", () => {
  /** A SigV2-signed ListBuckets with this x-amz-date (undefined: none) and no Date header. */
  async function listWithDate(date: string | undefined): Promise<[number, string | undefined]> {
    const headers: Record<string, string> = date === undefined ? {} : { "x-amz-date": date };
    const sts = stringToSignS3V2(
      { method: "GET", query: [], header: (n) => headers[n], headerNames: Object.keys(headers) },
      "/",
      date === undefined ? "" : "",
    );
    const sig = createHmac("sha1", t.admin.secretAccessKey).update(sts).digest("base64");
    const r = await fetch(`${t.cloud.endpoints.s3Url}/`, {
      headers: { ...headers, authorization: `AWS ${t.admin.accessKeyId}:${sig}` },
    });
    return [r.status, /<Code>(\w+)<\/Code>/.exec(await r.text())?.[1]];
  }
  it("unparseable, empty, missing or before the epoch → AccessDenied; valid but skewed → RequestTimeTooSkewed", async () => {
    expect(await listWithDate(new Date().toUTCString())).toEqual([200, undefined]);
    for (const bad of ["Bad Date", "", undefined, "Tue, 07 Jul 1950 21:53:04 GMT", "1"])
      expect(await listWithDate(bad), String(bad)).toEqual([403, "AccessDenied"]);
    for (const skewed of ["Tue, 07 Jul 2010 21:53:04 GMT", "Tue, 07 Jul 9999 21:53:04 GMT"])
      expect(await listWithDate(skewed), skewed).toEqual([403, "RequestTimeTooSkewed"]);
  });
});
