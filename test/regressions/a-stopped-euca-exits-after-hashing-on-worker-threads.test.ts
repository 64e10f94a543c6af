/**
 * Bodies are hashed on worker threads (common/hash-pool.ts). The pool unref'd each worker
 * before adding its "message" listener, which refs it again: once an object had been
 * written, a SIGTERM'd euca shut everything down and then never exited (seen as an
 * upload "stalling" in the SIGKILL test, whose restarted process could not be stopped).
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { S3Client, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { readEucarc, startEuca } from "../support/process";
import { tempDir } from "../support/cloud";

describe("a stopped euca exits after hashing on worker threads", () => {
  it("PUT (hashed on a worker), then SIGTERM: the process exits 0", async () => {
    const dir = tempDir();
    const p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake"]);
    const v = readEucarc(join(dir, "credentials/admin/eucarc"));
    const c = new S3Client({
      endpoint: p.s3Url,
      region: "us-east-1",
      credentials: { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await c.send(new CreateBucketCommand({ Bucket: "exits" }));
    await c.send(new PutObjectCommand({ Bucket: "exits", Key: "obj", Body: Buffer.alloc(5 * 1024 * 1024, 7) }));
    p.child.kill("SIGTERM");
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });
});
