/**
 * Regression (issue 9, finding 1): a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT with a
 * valid seed signature and a bad chunk signature, sent where it is refused before the
 * body is read (no such bucket, another tenant's bucket, a declared size over 5 GiB),
 * made the process exit on the chunk decoder's unhandled 'error'. Run in this process:
 * a crash would fail the run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateBucketCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../support/cloud";
import { bodyText, bucketName, s3, type Creds } from "../support/s3";
import { signedChunkedPut } from "../support/s3-signing";
import { rawRequest } from "../support/raw-http";

let t: TestCloud;
let bob: Creds;
const foreign = bucketName("foreign");
beforeAll(async () => {
  t = await startTestCloud();
  bob = await t.createUser(unique("bob"));
  await s3(t).send(new CreateBucketCommand({ Bucket: foreign }));
});
afterAll(() => t.stop());

describe("a bad chunk signature on a refused upload", () => {
  it("is answered 4xx and the cloud keeps serving, on the S3 port and on /services/Walrus", async () => {
    const chunks = [Buffer.alloc(70_000, 1), Buffer.alloc(70_000, 2)];
    for (const base of [t.cloud.endpoints.s3Url, t.cloud.endpoints.walrusUrl]) {
      const cases: Array<[string, Creds, number | undefined, string]> = [
        [`${base}/no-such-bucket-here/k`, t.admin, undefined, "NoSuchBucket"],
        [`${base}/${foreign}/k`, bob, undefined, "AccessDenied"],
        [`${base}/${foreign}/huge`, t.admin, 5 * 1024 ** 3 + 1, "EntityTooLarge"],
      ];
      for (const [url, creds, declared, code] of cases) {
        const r = await rawRequest(url, { method: "PUT", ...signedChunkedPut(url, creds, chunks, 1, declared) });
        expect([r.status >= 400 && r.status < 500, /<Code>([^<]+)/.exec(r.body)?.[1]], url).toEqual([true, code]);
      }
    }
    // Still serving, and nothing was stored.
    await expect(s3(t).send(new GetObjectCommand({ Bucket: foreign, Key: "k" }))).rejects.toMatchObject({
      name: "NoSuchKey",
    });
    const ok = signedChunkedPut(`${t.cloud.endpoints.s3Url}/${foreign}/good`, t.admin, chunks);
    expect((await rawRequest(`${t.cloud.endpoints.s3Url}/${foreign}/good`, { method: "PUT", ...ok })).status).toBe(200);
    expect(
      (await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: foreign, Key: "good" }))).Body)).length,
    ).toBe(140_000);
  });
});
