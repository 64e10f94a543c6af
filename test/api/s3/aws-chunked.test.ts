/**
 * Content-Encoding: aws-chunked as SDKs send it: with their own encoding beside it
 * (aws-chunked,gzip), with unsigned and signed trailers (x-amz-trailer-signature
 * checked), and x-amz-decoded-content-length checked. Readers never see aws-chunked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync, gunzipSync, crc32 } from "node:zlib";
import { Readable } from "node:stream";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../../support/cloud";
import { bucketName, expectS3Error, s3 } from "../../support/s3";
import { signedChunkedPut } from "../../support/s3-signing";

let t: TestCloud;
let b: string;
beforeAll(async () => {
  t = await startTestCloud();
  b = bucketName("chunk");
  await s3(t).send(new CreateBucketCommand({ Bucket: b }));
});
afterAll(() => t.stop());

const crc = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString("base64");
};
const put = (key: string, signedBody: { headers: Record<string, string>; body: Buffer }) =>
  fetch(`${t.cloud.endpoints.s3Url}/${b}/${key}`, {
    method: "PUT",
    headers: signedBody.headers,
    body: signedBody.body,
  });
const code = (xml: string) => /<Code>(\w+)<\/Code>/.exec(xml)?.[1];

describe("aws-chunked", () => {
  const text = Buffer.from("compressible ".repeat(10_000));
  const gz = gzipSync(text);

  it("the SDK streaming a gzip body (aws-chunked with a trailing checksum): readers get gzip, never aws-chunked", async () => {
    await s3(t).send(
      new PutObjectCommand({
        Bucket: b,
        Key: "sdk.gz",
        Body: Readable.from([gz]),
        ContentLength: gz.length,
        ContentEncoding: "gzip",
        ContentType: "text/plain",
      }),
    );
    const got = await s3(t).send(new GetObjectCommand({ Bucket: b, Key: "sdk.gz" }));
    expect(got.ContentEncoding).toBe("gzip");
    expect(gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).equals(text)).toBe(true);
  });

  it("aws-chunked,gzip signed by hand: the chunks decoded, gzip kept", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${b}/hand.gz`;
    const r = await put(
      "hand.gz",
      signedChunkedPut(
        url,
        t.admin,
        [gz.subarray(0, gz.length >> 1), gz.subarray(gz.length >> 1)],
        undefined,
        undefined,
        { contentEncoding: "aws-chunked,gzip" },
      ),
    );
    expect(r.status).toBe(200);
    const got = await s3(t).send(new GetObjectCommand({ Bucket: b, Key: "hand.gz" }));
    expect([got.ContentEncoding, got.ContentLength]).toEqual(["gzip", gz.length]);
  });

  it("a signed trailer: its checksum is verified and kept; a bad trailer signature or checksum stores nothing", async () => {
    const data = [Buffer.alloc(70_000, 3), Buffer.from("end")];
    const whole = Buffer.concat(data);
    const url = (k: string) => `${t.cloud.endpoints.s3Url}/${b}/${k}`;
    const ok = await put(
      "trailer-ok",
      signedChunkedPut(url("trailer-ok"), t.admin, data, undefined, undefined, {
        trailer: { name: "x-amz-checksum-crc32", value: crc(whole) },
      }),
    );
    expect(ok.status, await ok.clone().text()).toBe(200);
    const head = await s3(t).send(new HeadObjectCommand({ Bucket: b, Key: "trailer-ok", ChecksumMode: "ENABLED" }));
    expect([head.ChecksumCRC32, head.ContentLength]).toEqual([crc(whole), whole.length]);

    const badSig = await put(
      "trailer-bad-sig",
      signedChunkedPut(url("trailer-bad-sig"), t.admin, data, undefined, undefined, {
        trailer: { name: "x-amz-checksum-crc32", value: crc(whole), badSignature: true },
      }),
    );
    expect([badSig.status, code(await badSig.text())]).toEqual([403, "SignatureDoesNotMatch"]);
    const badSum = await put(
      "trailer-bad-sum",
      signedChunkedPut(url("trailer-bad-sum"), t.admin, data, undefined, undefined, {
        trailer: { name: "x-amz-checksum-crc32", value: crc(Buffer.from("other")) },
      }),
    );
    expect([badSum.status, code(await badSum.text())]).toEqual([400, "BadDigest"]);
    for (const k of ["trailer-bad-sig", "trailer-bad-sum"])
      await expectS3Error(s3(t).send(new HeadObjectCommand({ Bucket: b, Key: k })), "NotFound", 404);
  });

  it("x-amz-decoded-content-length that does not match the chunks is IncompleteBody", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${b}/short`;
    const r = await put("short", signedChunkedPut(url, t.admin, [Buffer.from("12345")], undefined, 9));
    expect([r.status, code(await r.text())]).toEqual([400, "IncompleteBody"]);
  });
});
