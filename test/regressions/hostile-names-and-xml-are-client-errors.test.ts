/**
 * Regression (issue 9, finding 7): 500s that must be 4xx. Filter names that are
 * JavaScript object properties (`constructor`, `__proto__`, …) on every Describe*
 * action; XML bodies with a DOCTYPE, an external entity or 100,000 nested elements,
 * even anonymously on a public-read-write bucket; a malformed percent-encoding in
 * an S3 path (was 501).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { CreateBucketCommand, CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { actionTable } from "../../src/api/ec2/actions";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bucketName, s3 } from "../support/s3";
import { errorCode, formEncode, post, sigV4Headers } from "../support/query-client";
import { rawRequest } from "../support/raw-http";

let t: TestCloud;
let open: string;
beforeAll(async () => {
  t = await startTestCloud();
  open = bucketName("open");
  await s3(t).send(new CreateBucketCommand({ Bucket: open, ACL: "public-read-write" }));
});
afterAll(() => t.stop());

const describeActions = [...actionTable().values()]
  .filter((a) => a.name.startsWith("Describe") && Object.hasOwn(a.params, "Filter"))
  .map((a) => a.name);

describe("EC2 filter names that are object properties", () => {
  it("are unknown filters (400) on every Describe* action, and tag:__proto__ is a tag like any other", async () => {
    expect(describeActions.length).toBeGreaterThan(8);
    for (const action of describeActions) {
      for (const name of [
        "constructor",
        "__proto__",
        "hasOwnProperty",
        "valueOf",
        "toString",
        "tag:__proto__",
        "tag:constructor",
      ]) {
        const body = formEncode({
          Action: action,
          Version: "2016-11-15",
          "Filter.1.Name": name,
          "Filter.1.Value.1": "x",
        });
        const r = await post(t.ec2Url, body, sigV4Headers(t.ec2Url, t.admin, body));
        if (name.startsWith("tag:") && r.status === 200) continue; // actions with tags: simply nothing matches
        expect([action, name, r.status, errorCode(r.body)]).toEqual([action, name, 400, "InvalidParameterValue"]);
      }
    }
  });

  it("as parameter names are unknown parameters", async () => {
    for (const name of ["constructor", "__proto__", "Filter.1.constructor", "Filter.1.__proto__"]) {
      const body = `${formEncode({ Action: "DescribeKeyPairs", Version: "2016-11-15" })}&${encodeURIComponent(name)}=x`;
      const r = await post(t.ec2Url, body, sigV4Headers(t.ec2Url, t.admin, body));
      expect([name, r.status, errorCode(r.body)]).toEqual([name, 400, "UnknownParameter"]);
    }
  });
});

describe("hostile XML bodies", () => {
  const nested = `${"<a>".repeat(100_000)}${"</a>".repeat(100_000)}`;
  const bodies: Array<[string, string]> = [
    [
      "a DOCTYPE",
      '<?xml version="1.0"?><!DOCTYPE Delete [<!ELEMENT Delete ANY>]><Delete><Object><Key>k</Key></Object></Delete>',
    ],
    [
      "an external entity",
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>',
    ],
    [
      "an entity bomb",
      `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Delete><Object><Key>&c;</Key></Object></Delete>`,
    ],
    ["100,000 nested elements", nested],
    ["an undefined entity", "<Delete><Object><Key>&nope;</Key></Object></Delete>"],
  ];

  it("are MalformedXML (400), anonymously too, on every operation that reads XML", async () => {
    const { UploadId } = await s3(t).send(new CreateMultipartUploadCommand({ Bucket: open, Key: "mp" }));
    const base = t.cloud.endpoints.s3Url;
    const targets: Array<[string, string]> = [
      ["POST", `${base}/${open}?delete=`],
      ["POST", `${base}/${open}/mp?uploadId=${encodeURIComponent(UploadId!)}`],
      ["PUT", `${base}/${open}?versioning=`],
      ["PUT", `${base}/${open}?acl=`],
      ["PUT", `${base}/${bucketName("newb")}`],
    ];
    for (const [method, url] of targets) {
      for (const [what, body] of bodies) {
        const md5 = createHash("md5").update(body).digest("base64");
        const r = await rawRequest(url, {
          method,
          headers: { "content-md5": md5, "content-type": "application/xml" },
          body: Buffer.from(body),
        });
        expect(r.status, `${what} → ${method} ${url}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${what} → ${method} ${url}`).toBeLessThan(500);
      }
    }
    // Where an anonymous caller may write (DeleteObjects, Complete on a public-read-write bucket), the XML itself is refused.
    for (const [what, body] of bodies) {
      const md5 = createHash("md5").update(body).digest("base64");
      const r = await rawRequest(`${base}/${open}?delete=`, {
        method: "POST",
        headers: { "content-md5": md5 },
        body: Buffer.from(body),
      });
      expect([what, r.status, errorCode(r.body)]).toEqual([what, 400, "MalformedXML"]);
    }
    expect((await fetch(t.cloud.endpoints.heartbeatUrl)).status).toBe(200);
  });
});

describe("S3 paths", () => {
  it("a malformed percent-encoding is 400 InvalidURI", async () => {
    for (const path of [`/${open}/%E0%A4%A`, `/${open}/%zz`, "/%ff%fe/k"]) {
      const r = await rawRequest(`${t.cloud.endpoints.s3Url}${path}`, { method: "GET" });
      expect([path, r.status, errorCode(r.body)]).toEqual([path, 400, "InvalidURI"]);
    }
  });
});
