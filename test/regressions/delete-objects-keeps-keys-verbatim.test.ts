/**
 * Regression (issue 9, finding 8): DeleteObjects trimmed whitespace and did not decode
 * character references in keys: for " ", "_ " and "a\n" it answered Deleted and left
 * them, deleting "", "_" and "a&#xA;" instead. Keys are data: read verbatim.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../support/cloud";
import { bucketName, s3 } from "../support/s3";
import { sigV4S3Headers } from "../support/s3-signing";

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(() => t.stop());

const TARGETS = [" ", "_ ", "a\n", "\ttab", "x&y<z>\"'"];
const DECOYS = ["_", "a", "a&#xA;", "tab", "x&amp;y"];

async function fill(): Promise<string> {
  const b = bucketName("verbatim");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
  for (const k of [...TARGETS, ...DECOYS]) await s3(t).send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
  return b;
}

const keys = async (b: string) =>
  ((await s3(t).send(new ListObjectsV2Command({ Bucket: b, EncodingType: "url" }))).Contents ?? [])
    .map((o) => decodeURIComponent(o.Key!))
    .sort();

describe("DeleteObjects", () => {
  it("through the SDK deletes exactly the keys named", async () => {
    const b = await fill();
    const r = await s3(t).send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: TARGETS.map((Key) => ({ Key })) } }),
    );
    expect(r.Deleted?.map((d) => d.Key).sort()).toEqual([...TARGETS].sort());
    expect(await keys(b)).toEqual([...DECOYS].sort());
  });

  it("with character references and whitespace written by hand", async () => {
    const b = await fill();
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Delete>\n  <Object><Key> </Key></Object>\n  <Object><Key>_ </Key></Object>\n  <Object><Key>a&#xA;</Key></Object>\n  <Object><Key>&#9;tab</Key></Object>\n  <Object><Key><![CDATA[x&y<z>"']]></Key></Object>\n</Delete>`;
    const url = `${t.cloud.endpoints.s3Url}/${b}?delete=`;
    const r = await fetch(url, {
      method: "POST",
      body,
      headers: {
        ...sigV4S3Headers("POST", url, t.admin, body),
        "content-md5": createHash("md5").update(body).digest("base64"),
      },
    });
    expect(r.status).toBe(200);
    expect(await keys(b)).toEqual([...DECOYS].sort());
  });
});
