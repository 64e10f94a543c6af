/**
 * SIGKILL the built euca in the middle of a large PUT and around a multipart
 * Complete; after a restart the earlier version is intact, nothing partial is
 * visible, and the sweep leaves no temporary or unreferenced files.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readdirSync, existsSync } from "node:fs";
import { request } from "node:http";
import Database from "better-sqlite3";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  ListObjectVersionsCommand,
} from "@aws-sdk/client-s3";
import { readEucarc, startEuca, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { sigV4S3Headers } from "../support/s3-signing";

const MiB = 1024 * 1024;
const freePorts = ["--ec2-port", "0", "--s3-port", "0"];

function client(p: EucaProcess, dir: string): { c: S3Client; creds: { accessKeyId: string; secretAccessKey: string } } {
  const v = readEucarc(join(dir, "credentials/admin/eucarc"));
  const creds = { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! };
  return {
    c: new S3Client({
      endpoint: p.s3Url,
      region: "us-east-1",
      credentials: creds,
      forcePathStyle: true,
      maxAttempts: 1,
    }),
    creds,
  };
}

async function text(c: S3Client, Bucket: string, Key: string): Promise<string> {
  return (await c.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
}

/** Files under walrus/tmp, blob files that no blobs row references, and blob rows nothing references. */
function leftovers(dir: string): { tmp: string[]; orphans: string[]; unreferencedRows: number } {
  const tmp = existsSync(join(dir, "walrus/tmp")) ? readdirSync(join(dir, "walrus/tmp")) : [];
  const db = new Database(join(dir, "walrus.db"), { readonly: true });
  const known = new Set(
    (db.prepare("SELECT id FROM blobs WHERE refs > 0").all() as Array<{ id: string }>).map((r) => r.id),
  );
  const unreferencedRows = (db.prepare("SELECT count(*) AS n FROM blobs WHERE refs <= 0").get() as { n: number }).n;
  db.close();
  const orphans: string[] = [];
  for (const sub of readdirSync(join(dir, "walrus/blobs"))) {
    for (const f of readdirSync(join(dir, "walrus/blobs", sub))) if (!known.has(f)) orphans.push(f);
  }
  return { tmp, orphans, unreferencedRows };
}

describe("Walrus survives SIGKILL", () => {
  it("in the middle of a large PUT: old version intact, no partial object, nothing left behind", async () => {
    const dir = tempDir();
    const first = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    const { c, creds } = client(first, dir);
    await c.send(new CreateBucketCommand({ Bucket: "crash" }));
    await c.send(new PutObjectCommand({ Bucket: "crash", Key: "obj", Body: "old version" }));

    // Stream 64 MiB slowly; kill the server once half of it has gone out.
    const url = new URL(`${first.s3Url}/crash/obj`);
    const headers = sigV4S3Headers("PUT", url.href, creds, "", { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "PUT",
      headers: { ...headers, "content-length": String(64 * MiB) },
    });
    req.on("error", () => {});
    const chunk = Buffer.alloc(MiB, 0x5a);
    for (let i = 0; i < 32; i++) await new Promise<void>((r) => req.write(chunk, () => r()));
    await new Promise((r) => setTimeout(r, 300));
    expect(readdirSync(join(dir, "walrus/tmp")).length).toBe(1); // the upload is in flight
    first.child.kill("SIGKILL");
    await first.exited;
    req.destroy();

    const second = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    try {
      expect(leftovers(dir)).toEqual({ tmp: [], orphans: [], unreferencedRows: 0 });
      expect(second.stderr()).toContain("removed what an interrupted write left behind");
      expect(await text(client(second, dir).c, "crash", "obj")).toBe("old version");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it("around a multipart Complete: the object is the old version or the whole new one", async () => {
    const dir = tempDir();
    let p = await startEuca(["run", "--data-dir", dir, ...freePorts]);
    let { c } = client(p, dir);
    await c.send(new CreateBucketCommand({ Bucket: "mpcrash" }));
    await c.send(new PutObjectCommand({ Bucket: "mpcrash", Key: "obj", Body: "old version" }));
    const outcomes: string[] = [];
    for (const delayMs of [0, 2, 5, 10, 20]) {
      const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: "mpcrash", Key: "obj" }));
      const parts = [];
      for (let n = 1; n <= 3; n++) {
        const body = Buffer.alloc(n < 3 ? 5 * MiB : 1024, n);
        const r = await c.send(
          new UploadPartCommand({ Bucket: "mpcrash", Key: "obj", UploadId, PartNumber: n, Body: body }),
        );
        parts.push({ PartNumber: n, ETag: r.ETag });
      }
      const completing = c
        .send(
          new CompleteMultipartUploadCommand({
            Bucket: "mpcrash",
            Key: "obj",
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        )
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, delayMs));
      p.child.kill("SIGKILL");
      await p.exited;
      await completing;

      p = await startEuca(["run", "--data-dir", dir, ...freePorts]);
      ({ c } = client(p, dir));
      expect(leftovers(dir)).toEqual({ tmp: [], orphans: [], unreferencedRows: 0 });
      const got = Buffer.from(
        await (await c.send(new GetObjectCommand({ Bucket: "mpcrash", Key: "obj" }))).Body!.transformToByteArray(),
      );
      if (got.toString() === "old version") outcomes.push("old");
      else {
        expect(got.length).toBe(10 * MiB + 1024);
        expect(got[0]).toBe(1);
        expect(got[10 * MiB]).toBe(3);
        outcomes.push("new");
        await c.send(new PutObjectCommand({ Bucket: "mpcrash", Key: "obj", Body: "old version" }));
      }
      const versions = await c.send(new ListObjectVersionsCommand({ Bucket: "mpcrash" }));
      expect(versions.Versions).toHaveLength(1);
    }
    expect(outcomes.length).toBe(5);
    p.child.kill("SIGTERM");
    await p.exited;
  });
});
