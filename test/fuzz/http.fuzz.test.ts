/**
 * The server under random requests (fast-check, fixed seed, bounded): signed EC2
 * Query requests with random actions and parameters, and S3 requests with random
 * methods, paths, queries, headers and bodies, signed and anonymous. No answer is a
 * 5xx (but S3's own 501 NotImplemented), and the cloud keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { actionTable } from "../../src/api/ec2/actions";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bucketName, s3 } from "../support/s3";
import { formEncode, post, sigV4Headers } from "../support/query-client";
import { sigV4S3Headers } from "../support/s3-signing";
import { rawRequest } from "../support/raw-http";

let t: TestCloud;
let bucket: string;
beforeAll(async () => {
  t = await startTestCloud();
  bucket = bucketName("fuzz");
  await s3(t).send(new CreateBucketCommand({ Bucket: bucket, ACL: "public-read-write" }));
});
afterAll(() => t.stop());

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "",
    "*",
    "?*",
    "constructor",
    "__proto__",
    "i-00000000",
    "emi-00000000",
    "default",
    "1",
    "-1",
    "true",
    "%",
    "<a>",
  ),
);
const actions = [...actionTable().keys()];

describe("EC2 Query under random requests", () => {
  it("answers every one below 500", async () => {
    const names = fc.oneof(
      fc.constantFrom(
        "Filter.1.Name",
        "Filter.1.Value.1",
        "InstanceId.1",
        "ImageId",
        "KeyName",
        "GroupName",
        "MaxResults",
        "DryRun",
        "Resource.1",
        "Tag.1.Key",
        "Tag.1.Value",
        "MinCount",
        "MaxCount",
        "IpPermissions.1.IpProtocol",
        "Attribute",
        "PublicIp",
      ),
      text,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...actions),
        fc.array(fc.tuple(names, text), { maxLength: 6 }),
        async (action, params) => {
          const body = formEncode({ Action: action, Version: "2016-11-15", ...Object.fromEntries(params) });
          const r = await post(t.ec2Url, body, sigV4Headers(t.ec2Url, t.admin, body));
          expect(r.status, `${action} ${body}`).toBeLessThan(500);
        },
      ),
      { seed: 20261201, numRuns: 300 },
    );
  });
});

describe("S3 under random requests", () => {
  it("answers every one below 500", async () => {
    const method = fc.constantFrom("GET", "PUT", "POST", "DELETE", "HEAD");
    const segment = fc.oneof(
      fc.constantFrom(bucket, "no-such-bucket", "%zz", "a%2Fb", "..", ""),
      fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/),
    );
    const sub = fc.constantFrom(
      "",
      "?acl",
      "?versioning",
      "?uploads",
      "?delete",
      "?versions",
      "?location",
      "?list-type=2&max-keys=-1",
      "?uploadId=x&partNumber=0",
      "?tagging",
      "?max-keys=0",
      "?encoding-type=url&prefix=%",
    );
    const headers = fc.dictionary(
      fc.constantFrom(
        "x-amz-acl",
        "x-amz-copy-source",
        "range",
        "content-md5",
        "x-amz-meta-__proto__",
        "if-match",
        "x-amz-grant-read",
        "x-amz-metadata-directive",
      ),
      text,
      { maxKeys: 3 },
    );
    const body = fc.oneof(
      fc.constant(""),
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        "<Delete><Object><Key>k</Key></Object></Delete>",
        "<CompleteMultipartUpload/>",
        "<!DOCTYPE x><x/>",
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        method,
        segment,
        segment,
        sub,
        headers,
        body,
        fc.boolean(),
        async (m, b, k, q, h, payload, signed) => {
          const url = `${t.cloud.endpoints.s3Url}/${b}${k ? `/${k}` : ""}${q}`;
          const data = m === "GET" || m === "HEAD" || m === "DELETE" ? Buffer.alloc(0) : Buffer.from(payload);
          const hs = Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)));
          const all = signed ? { ...sigV4S3Headers(m, url, t.admin, data, hs), ...hs } : hs;
          const r = await rawRequest(url, { method: m, headers: all, body: data.length ? data : undefined });
          // 501 NotImplemented is S3's own answer for sub-resources we do not implement (?tagging, ?cors…); no other 5xx.
          if (r.status !== 501) expect(r.status, `${m} ${url} ${JSON.stringify(hs)}`).toBeLessThan(500);
          else if (m !== "HEAD") expect(r.body).toContain("<Code>NotImplemented</Code>");
        },
      ),
      { seed: 20261201, numRuns: 400 },
    );
    expect((await fetch(t.cloud.endpoints.heartbeatUrl)).status).toBe(200);
  });
});
