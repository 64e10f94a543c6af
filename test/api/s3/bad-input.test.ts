/** Bad S3 input: the right code, no 5xx, nothing partial stored, and the server keeps serving. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  ListBucketsCommand,
} from "@aws-sdk/client-s3";
import { startTestCloud, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3 } from "../../support/s3";
import { signedChunkedPut, sigV4S3Headers } from "../../support/s3-signing";

let t: TestCloud;
let bucket: string;
beforeAll(async () => {
  t = await startTestCloud();
  bucket = bucketName("bad");
  await s3(t).send(new CreateBucketCommand({ Bucket: bucket }));
  await s3(t).send(new PutObjectCommand({ Bucket: bucket, Key: "keep", Body: "the old version" }));
});
afterAll(() => t.stop());

async function oldVersionIntact() {
  expect(await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "keep" }))).Body)).toBe(
    "the old version",
  );
  expect((await s3(t).send(new ListBucketsCommand({}))).Buckets?.length).toBeGreaterThan(0);
}

function code(body: string) {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}

describe("S3 refuses bad input", () => {
  it("a correctly signed aws-chunked upload is stored", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${bucket}/chunked`;
    const { headers, body } = signedChunkedPut(url, t.admin, [Buffer.alloc(70_000, 7), Buffer.from("end")]);
    const res = await fetch(url, { method: "PUT", headers, body });
    expect(res.status).toBe(200);
    const got = Buffer.from(
      await (await s3(t).send(new GetObjectCommand({ Bucket: bucket, Key: "chunked" }))).Body!.transformToByteArray(),
    );
    expect(got.length).toBe(70_003);
  });

  it("a tampered chunk → SignatureDoesNotMatch, and the old object stays", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${bucket}/keep`;
    const { headers, body } = signedChunkedPut(url, t.admin, [Buffer.alloc(70_000, 1), Buffer.alloc(10, 2)], 1);
    const res = await fetch(url, { method: "PUT", headers, body });
    expect([res.status, code(await res.text())]).toEqual([403, "SignatureDoesNotMatch"]);
    await oldVersionIntact();
  });

  it("a body that does not match x-amz-content-sha256 → XAmzContentSHA256Mismatch", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${bucket}/keep`;
    const headers = sigV4S3Headers("PUT", url, t.admin, "what was signed");
    const res = await fetch(url, { method: "PUT", headers, body: "something else!" });
    expect([res.status, code(await res.text())]).toEqual([400, "XAmzContentSHA256Mismatch"]);
    await oldVersionIntact();
  });

  it("a body shorter than Content-Length stores nothing and the server keeps serving", async () => {
    const url = new URL(`${t.cloud.endpoints.s3Url}/${bucket}/keep`);
    const headers = sigV4S3Headers("PUT", url.href, t.admin, "", { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
    await new Promise<void>((resolve) => {
      const sock = connect(Number(url.port), url.hostname, () => {
        const lines = [
          `PUT ${url.pathname} HTTP/1.1`,
          `Host: ${url.host}`,
          "Content-Length: 100000",
          ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
          "",
          "",
        ];
        sock.write(lines.join("\r\n"));
        sock.end("only part of the body");
      });
      sock.on("close", () => resolve());
      sock.on("error", () => resolve());
      sock.resume();
    });
    await new Promise((r) => setTimeout(r, 200));
    await oldVersionIntact();
    expect(t.logs()).not.toMatch(/"api":"s3"[^\n]*"status":5\d\d/);
  });

  it("malformed XML in Complete, Delete and versioning bodies → MalformedXML", async () => {
    const { UploadId } = await s3(t).send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "mp" }));
    const cases: Array<[string, string, string]> = [
      [
        "POST",
        `${bucket}/mp?uploadId=${encodeURIComponent(UploadId!)}`,
        "<CompleteMultipartUpload><Part><PartNumber>1",
      ],
      [
        "POST",
        `${bucket}/mp?uploadId=${encodeURIComponent(UploadId!)}`,
        "<CompleteMultipartUpload></CompleteMultipartUpload>",
      ],
      ["POST", `${bucket}?delete=`, "<Delete><Object><Key>a</Key></Object>"],
      ["POST", `${bucket}?delete=`, "not xml at all"],
      ["PUT", `${bucket}?versioning=`, "<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>"],
    ];
    for (const [method, path, body] of cases) {
      const url = `${t.cloud.endpoints.s3Url}/${path}`;
      // DeleteObjects must carry a digest (S3 refuses it otherwise): these bodies do, to reach the XML.
      const md5 = createHash("md5").update(body).digest("base64");
      const res = await fetch(url, {
        method,
        body,
        headers: { ...sigV4S3Headers(method, url, t.admin, body), "content-md5": md5 },
      });
      expect([res.status, code(await res.text())], `${method} ${path}`).toEqual([400, "MalformedXML"]);
    }
  });

  it("auth failures: unknown key, wrong secret, skewed date, SigV2 without a date", async () => {
    await expectS3Error(
      s3(t, { accessKeyId: "AKIDNOTKNOWN00000000", secretAccessKey: "x" }).send(new ListBucketsCommand({})),
      "InvalidAccessKeyId",
      403,
    );
    await expectS3Error(
      s3(t, { ...t.admin, secretAccessKey: "wrong" }).send(new ListBucketsCommand({})),
      "SignatureDoesNotMatch",
      403,
    );
    const url = `${t.cloud.endpoints.s3Url}/`;
    const skewed = new S3ClientAtTime(url);
    expect(await skewed.status()).toEqual([403, "RequestTimeTooSkewed"]);
    const res = await fetch(url, { headers: { authorization: `AWS ${t.admin.accessKeyId}:c2lnbmF0dXJl` } });
    expect([res.status, code(await res.text())]).toEqual([403, "AccessDenied"]);
  });

  it("unsupported sub-resources → NotImplemented 501; bad methods → 405", async () => {
    const url = `${t.cloud.endpoints.s3Url}/${bucket}?website=`;
    const res = await fetch(url, {
      headers: sigV4S3Headers("GET", url, t.admin, "", {
        "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      }),
    });
    expect([res.status, code(await res.text())]).toEqual([501, "NotImplemented"]);
    const patch = await fetch(`${t.cloud.endpoints.s3Url}/${bucket}/keep`, { method: "PATCH" });
    expect(patch.status).toBe(405);
  });
});

/** A ListBuckets signed an hour ago. */
class S3ClientAtTime {
  constructor(private readonly url: string) {}
  async status(): Promise<[number, string | undefined]> {
    const { signV4 } = await import("../../../src/auth/sigv4");
    const u = new URL(this.url);
    const h = signV4({
      method: "GET",
      rawPath: u.pathname,
      headers: { host: u.host },
      body: "",
      accessKeyId: t.admin.accessKeyId,
      secret: t.admin.secretAccessKey,
      region: "us-east-1",
      service: "s3",
      now: new Date(Date.now() - 3600_000),
      doubleEncodePath: false,
    });
    delete h.host;
    const res = await fetch(this.url, { headers: h });
    return [res.status, code(await res.text())];
  }
}
