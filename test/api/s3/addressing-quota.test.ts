import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:http";
import { createHmac } from "node:crypto";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startTestCloud, unique, type TestCloud } from "../../support/cloud";
import { bodyText, bucketName, expectS3Error, s3 } from "../../support/s3";
import { sigV4S3Headers } from "../../support/s3-signing";

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ settings: { walrusMaxBucketMb: 1 } });
});
afterAll(() => t.stop());

describe("addressing", () => {
  it("the SDK works through /services/Walrus on the EC2 port as well as the root of the S3 port", async () => {
    const walrusUrl = t.cloud.endpoints.walrusUrl;
    const b = bucketName("walrus");
    await s3(t, t.admin, walrusUrl).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t, t.admin, walrusUrl).send(new PutObjectCommand({ Bucket: b, Key: "via/walrus", Body: "same data" }));
    expect(await bodyText((await s3(t).send(new GetObjectCommand({ Bucket: b, Key: "via/walrus" }))).Body)).toBe(
      "same data",
    );
    expect((await s3(t, t.admin, walrusUrl).send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(1);
  });

  it("virtual-host style: bucket.<s3 domain> in the Host header", async () => {
    const b = bucketName("vhost");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "dir/file.txt", Body: "hosted" }));
    const port = new URL(t.cloud.endpoints.s3Url).port;
    const host = `${b}.walrus.localhost:${port}`;
    const url = `http://${host}/dir/file.txt`;
    const headers = sigV4S3Headers("GET", url, t.admin, "", { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
    const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/dir/file.txt", method: "GET", headers: { ...headers, host } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(body).toEqual({ status: 200, text: "hosted" });
  });
});

describe("SigV2 presigned URLs", () => {
  it("work until they expire", async () => {
    const b = bucketName("v2pre");
    await s3(t).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t).send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "v2 presigned" }));
    const url = (expires: number) => {
      const sts = `GET\n\n\n${expires}\n/${b}/k`;
      const sig = createHmac("sha1", t.admin.secretAccessKey).update(sts).digest("base64");
      return `${t.cloud.endpoints.s3Url}/${b}/k?AWSAccessKeyId=${t.admin.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    };
    const ok = await fetch(url(Math.floor(Date.now() / 1000) + 300));
    expect([ok.status, await ok.text()]).toEqual([200, "v2 presigned"]);
    const old = await fetch(url(Math.floor(Date.now() / 1000) - 10));
    expect(old.status).toBe(403);
    expect(await old.text()).toContain("Request has expired");
  });
});

describe("Walrus quotas", () => {
  it("a bucket may not grow past its size quota (admins exempt)", async () => {
    const user = await t.createUser(unique("quota"));
    const b = bucketName("quota");
    await s3(t, user).send(new CreateBucketCommand({ Bucket: b }));
    await s3(t, user).send(new PutObjectCommand({ Bucket: b, Key: "a", Body: Buffer.alloc(700 * 1024) }));
    await expectS3Error(
      s3(t, user).send(new PutObjectCommand({ Bucket: b, Key: "b", Body: Buffer.alloc(700 * 1024) })),
      "QuotaExceeded",
      403,
    );
    await expectS3Error(s3(t, user).send(new GetObjectCommand({ Bucket: b, Key: "b" })), "NoSuchKey", 404);
    const admin = bucketName("quotaadm");
    await s3(t).send(new CreateBucketCommand({ Bucket: admin }));
    await s3(t).send(new PutObjectCommand({ Bucket: admin, Key: "big", Body: Buffer.alloc(2 * 1024 * 1024) }));
  });
});
