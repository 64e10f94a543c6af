/**
 * Expect: 100-continue with raw requests (the SDKs hide it): 100 only once the upload
 * is authenticated and would be accepted; otherwise the final error at once, with no
 * byte of the body sent. Other Expect values are ignored, as S3 ignores them (ceph's
 * s3-tests, which run against AWS, expect `Expect: 200` and an empty Expect to succeed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3, type Creds } from "../../support/s3";
import { sigV4S3Headers } from "../../support/s3-signing";
import { sigV4Headers, formEncode } from "../../support/query-client";

let t: TestCloud;
let bob: Creds;
let bucket: string;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBucketMb: 1 } });
  bob = await t.createUser(unique("bob"));
  bucket = bucketName("exp");
  await s3(t).send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => t.stop());

interface Outcome {
  status: number;
  body: string;
  continued: boolean;
  sentBody: boolean;
}

/** Sends headers, waits for 100 or the final answer, and sends the body only after a 100. */
function expectingPut(url: string, headers: Record<string, string>, body: Buffer, method = "PUT"): Promise<Outcome> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let continued = false;
    let sentBody = false;
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        headers: { ...headers, "content-length": headers["content-length"] ?? String(body.length) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, continued, sentBody }));
      },
    );
    req.on("continue", () => {
      continued = true;
      sentBody = true;
      req.end(body);
    });
    req.on("error", reject);
    req.flushHeaders();
    if (headers.expect !== "100-continue") {
      sentBody = true;
      req.end(body);
    }
  });
}

const signed = (method: string, url: string, creds: Creds, body: Buffer, extra: Record<string, string> = {}) => ({
  ...extra,
  ...sigV4S3Headers(method, url, creds, body, extra),
});

describe("Expect: 100-continue", () => {
  it("an accepted upload gets 100 Continue, then sends its body (S3 port and /services/Walrus)", async () => {
    for (const base of [t.cloud.endpoints.s3Url, `${t.ec2Url.replace(/\/services\/.*$/, "")}/services/Walrus`]) {
      const url = `${base}/${bucket}/ok-${base.length}`;
      const body = Buffer.from("payload");
      const r = await expectingPut(url, signed("PUT", url, t.admin, body, { expect: "100-continue" }), body);
      expect([r.status, r.continued]).toEqual([200, true]);
      expect(
        await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: `ok-${base.length}` }))).Body),
      ).toBe("payload");
    }
  });

  it.each([
    [
      "no such bucket",
      () => `${t.cloud.endpoints.s3Url}/no-such-bucket-here/k`,
      () => t.admin,
      {},
      404,
      "NoSuchBucket",
    ],
    ["another account's bucket", () => `${t.cloud.endpoints.s3Url}/${bucket}/k`, () => bob, {}, 403, "AccessDenied"],
    [
      "over 5 GiB",
      () => `${t.cloud.endpoints.s3Url}/${bucket}/k`,
      () => t.admin,
      { "content-length": String(6 * 1024 ** 3) },
      400,
      "EntityTooLarge",
    ],
  ])("%s: the final error at once, no body sent", async (_what, url, who, extra, status, code) => {
    const u = url();
    const body = Buffer.from("never sent");
    const r = await expectingPut(
      u,
      {
        ...signed("PUT", u, who(), body, { expect: "100-continue", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" }),
        ...extra,
      },
      body,
    );
    expect([r.status, r.continued, r.sentBody, r.body.match(/<Code>(\w+)<\/Code>/)?.[1]]).toEqual([
      status,
      false,
      false,
      code,
    ]);
  });

  it("a bad signature or quota: refused before the body", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${bucket}/q`;
    const big = {
      expect: "100-continue",
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
      "content-length": String(2 * 1024 * 1024),
    };
    const quota = await expectingPut(
      url,
      { ...signed("PUT", url, t.admin, Buffer.alloc(0), big), ...big },
      Buffer.alloc(2 * 1024 * 1024),
    );
    // The admin is exempt from quotas: it continues. A user is not.
    expect([quota.status, quota.continued]).toEqual([200, true]);
    const carol = await t.createUser(unique("carol"));
    const own = bucketName("q");
    await s3(t, carol).send(new CreateBucketCommand({ Bucket: own }));
    const u2 = `${t.cloud.endpoints.s3Url}/${own}/q`;
    const over = await expectingPut(
      u2,
      { ...signed("PUT", u2, carol, Buffer.alloc(0), big), ...big },
      Buffer.alloc(2 * 1024 * 1024),
    );
    expect([over.status, over.continued, over.body.match(/<Code>(\w+)<\/Code>/)?.[1]]).toEqual([
      403,
      false,
      "QuotaExceeded",
    ]);
    const tampered = { ...signed("PUT", url, t.admin, Buffer.from("x"), { expect: "100-continue" }) };
    tampered.authorization = tampered.authorization!.replace(/Signature=\w{4}/, "Signature=0000");
    const bad = await expectingPut(url, tampered, Buffer.from("x"));
    expect([bad.status, bad.continued, bad.sentBody]).toEqual([403, false, false]);
    await expectS3Error(s3(t).send(new HeadObjectCommand({ Bucket: own, Key: "q" })), "NotFound", 404);
  });

  it("Expect values other than 100-continue, and an empty one, are ignored as S3 ignores them", async () => {
    for (const value of ["200", "", "something-else"]) {
      const url = `${t.cloud.endpoints.s3Url}/${bucket}/odd-${value || "empty"}`;
      const body = Buffer.from("odd");
      const r = await expectingPut(url, signed("PUT", url, t.admin, body, { expect: value }), body);
      expect(r.status, `Expect: ${JSON.stringify(value)}`).toBe(200);
    }
  });

  it("the EC2 API tells a client waiting for 100 to continue at once", async () => {
    const body = Buffer.from(formEncode({ Action: "DescribeRegions", Version: "2016-11-15" }));
    const r = await expectingPut(
      t.ec2Url,
      {
        ...sigV4Headers(t.ec2Url, t.admin, body),
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        expect: "100-continue",
      },
      body,
      "POST",
    );
    expect([r.status, r.continued]).toEqual([200, true]);
  });
});
