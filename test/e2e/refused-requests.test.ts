/**
 * The built euca, sent refused requests with every body encoding (plain,
 * Transfer-Encoding: chunked, aws-chunked signed with a bad chunk signature,
 * aws-chunked unsigned with a trailer) to refused targets (no bucket, another
 * tenant's bucket, an unsigned internal route, an over-size declaration), on the S3
 * port and on /services/Walrus: every one gets a 4xx, the process keeps serving, and
 * its memory does not grow by more than the bodies' bound.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { readEucarc, startEuca, BUNDLE, type EucaProcess } from "../support/process";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { signedChunkedPut, sigV4S3Headers } from "../support/s3-signing";
import { rawRequest, rssOf } from "../support/raw-http";
import { signV4 } from "../../src/auth/sigv4";
import type { Creds } from "../support/s3";

let p: EucaProcess;
let dir: string;
let admin: Creds;
let bob: Creds;
const foreign = `foreign-${process.pid}`;

const creds = (file: string): Creds => {
  const v = readEucarc(file);
  return { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! };
};

beforeAll(async () => {
  dir = tempDir();
  p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake"]);
  admin = creds(join(dir, "credentials/admin/eucarc"));
  await run(process.execPath, [BUNDLE, "admin", "user", "create", "bob", "--data-dir", dir], { timeoutMs: 30_000 });
  bob = creds(join(dir, "credentials/bob/eucarc"));
  const s3 = new S3Client({
    endpoint: p.s3Url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: admin,
    maxAttempts: 1,
  });
  await s3.send(new CreateBucketCommand({ Bucket: foreign })); // the admin's: bob may not write to it
  await s3.send(new PutObjectCommand({ Bucket: foreign, Key: "warm", Body: "x" }));
});
afterAll(async () => {
  p?.child.kill("SIGTERM");
  await p?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/** aws-chunked, unsigned payload with a checksum trailer, signed in the header as SDKs send it. */
function unsignedTrailerPut(url: string, c: Creds, data: Buffer, declared = data.length) {
  const u = new URL(url);
  const headers = signV4({
    method: "PUT",
    rawPath: u.pathname,
    query: [],
    headers: {
      host: u.host,
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(declared),
      "x-amz-trailer": "x-amz-checksum-crc32",
    },
    body: "",
    payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    accessKeyId: c.accessKeyId,
    secret: c.secretAccessKey,
    region: "us-east-1",
    service: "s3",
    now: new Date(),
    doubleEncodePath: false,
  });
  delete headers.host;
  const body = Buffer.concat([
    Buffer.from(`${data.length.toString(16)}\r\n`),
    data,
    Buffer.from("\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"),
  ]);
  return { headers, body };
}

type Encoding = "plain" | "chunked" | "aws-chunked signed, bad chunk" | "aws-chunked unsigned trailer";
const ENCODINGS: Encoding[] = ["plain", "chunked", "aws-chunked signed, bad chunk", "aws-chunked unsigned trailer"];

/** A PUT of `data` in one encoding; `declared` signs another decoded length (aws-chunked only). */
function requestFor(enc: Encoding, url: string, c: Creds, data: Buffer, declared?: number) {
  switch (enc) {
    case "plain":
      return { headers: sigV4S3Headers("PUT", url, c, data), body: data };
    case "chunked":
      return {
        headers: { ...sigV4S3Headers("PUT", url, c, data), "transfer-encoding": "chunked" },
        body: data,
        chunked: true,
      };
    case "aws-chunked signed, bad chunk":
      return signedChunkedPut(url, c, [data.subarray(0, 64 * 1024), data.subarray(64 * 1024)], 1, declared);
    case "aws-chunked unsigned trailer":
      return unsignedTrailerPut(url, c, data, declared);
  }
}

async function stillServing(): Promise<void> {
  expect(p.child.exitCode).toBeNull();
  expect((await fetch(p.heartbeatUrl)).status).toBe(200);
}

describe("refused requests with bodies", () => {
  it("are answered 4xx for every encoding and target, on both S3 entry points, and the cloud keeps serving with flat memory", async () => {
    const data = Buffer.alloc(256 * 1024, 7);
    const bases = [p.s3Url, `${new URL(p.ec2Url).origin}/services/Walrus`];
    const before = rssOf(p.child.pid!);
    const seen: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const base of bases) {
        for (const enc of ENCODINGS) {
          const targets: Array<[string, string, Creds, number | undefined]> = [
            ["no such bucket", `${base}/no-such-bucket-${round}/k`, admin, undefined],
            ["another tenant's bucket", `${base}/${foreign}/k`, bob, undefined],
            ["over 5 GiB declared", `${base}/${foreign}/big`, admin, 6 * 1024 ** 3],
          ];
          for (const [what, url, c, declared] of targets) {
            if (declared !== undefined && !enc.startsWith("aws-chunked")) continue; // a plain body cannot declare another length
            const r = await rawRequest(url, { method: "PUT", ...requestFor(enc, url, c, data, declared) }).catch(
              (e: Error) => {
                throw new Error(`${what}, ${enc}, ${base}: ${e.message}`);
              },
            );
            seen.push(`${what} / ${enc}: ${r.status}`);
            expect(r.status, `${what}, ${enc}, ${base}`).toBeGreaterThanOrEqual(400);
            expect(r.status, `${what}, ${enc}, ${base}`).toBeLessThan(500);
          }
        }
        // Internal Walrus routes on the EC2 port, unsigned: refused before the body is read.
        const internal = `${new URL(p.ec2Url).origin}/internal/walrus/putObject?bucket=${foreign}&key=x&size=1000000`;
        const r = await rawRequest(internal, { method: "POST", size: 16 * 1024 * 1024 });
        expect(r.status).toBe(401);
      }
      await stillServing();
    }
    expect(seen.length).toBeGreaterThan(20);
    // The bodies were thrown away as they came: memory does not keep them (64 MiB of slack for the heap's own moods).
    expect(rssOf(p.child.pid!) - before).toBeLessThan(64 * 1024 * 1024);
  });
});
