/**
 * Debian's s3cmd (SigV4 and SigV2), awscli v2 (`aws s3`, `aws s3api`) and boto3,
 * unmodified, against the S3 root port: mb, put (a file over 100 MiB goes multipart),
 * ls, get, sync, rm, rb, contents compared byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startTestCloud, tempDir, type TestCloud } from "../support/cloud";
import { bucketName } from "../support/s3";
import { run } from "../support/exec";

const AWS = "/usr/bin/aws";
const S3CMD = "/usr/bin/s3cmd";
const PYTHON = "/usr/bin/python3";
const BOTO3_PROBE = new URL("../support/clients/boto3_s3.py", import.meta.url).pathname;
const hasBoto3 = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import boto3"]).status === 0;

let t: TestCloud;
let work: string;
let big: string;
let bigMd5: string;

async function md5File(path: string): Promise<string> {
  const h = createHash("md5");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

beforeAll(async () => {
  t = await startTestCloud();
  work = tempDir("euca-s3-clients-");
  big = join(work, "big.bin");
  // 105 MiB of pseudo-random data: above every client's multipart threshold.
  const block = randomBytes(1024 * 1024);
  const parts: Buffer[] = [];
  for (let i = 0; i < 105; i++) parts.push(Buffer.concat([block.subarray(i), block.subarray(0, i)]));
  writeFileSync(big, Buffer.concat(parts));
  bigMd5 = await md5File(big);
});
afterAll(() => t.stop());

function awsEnv(): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/bin:/bin",
    HOME: work,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: t.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.admin.secretAccessKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_MAX_ATTEMPTS: "1",
    S3_URL: t.cloud.endpoints.s3Url,
  };
}

describe.skipIf(!existsSync(S3CMD))("Debian s3cmd", () => {
  for (const sigv2 of [false, true]) {
    it(`mb, put (multipart), ls, get, sync, rm, rb with ${sigv2 ? "SigV2" : "SigV4"}`, async () => {
      const host = new URL(t.cloud.endpoints.s3Url).host;
      const cfg = join(work, `s3cfg-${sigv2}`);
      writeFileSync(
        cfg,
        [
          "[default]",
          `access_key = ${t.admin.accessKeyId}`,
          `secret_key = ${t.admin.secretAccessKey}`,
          `host_base = ${host}`,
          `host_bucket = ${host}`,
          "use_https = False",
          `signature_v2 = ${sigv2 ? "True" : "False"}`,
          "bucket_location = us-east-1",
          "multipart_chunk_size_mb = 15",
          "",
        ].join("\n"),
      );
      const b = bucketName(sigv2 ? "s3cmdv2" : "s3cmdv4");
      const s3cmd = (...args: string[]) =>
        run(S3CMD, ["-c", cfg, "--no-progress", ...args], {
          env: { PATH: "/usr/bin:/bin", HOME: work },
          timeoutMs: 300_000,
        });
      const ok = async (...args: string[]) => {
        const r = await s3cmd(...args);
        expect(r.status, `s3cmd ${args.join(" ")}: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      await ok("mb", `s3://${b}`);
      await ok("put", big, `s3://${b}/dir/big.bin`);
      expect(await ok("ls", "--recursive", `s3://${b}`)).toMatch(/110100480\s+s3:\/\/.*\/dir\/big\.bin/);
      const back = join(work, `back-${sigv2}.bin`);
      await ok("get", "--force", `s3://${b}/dir/big.bin`, back);
      expect(await md5File(back)).toBe(bigMd5);
      const tree = join(work, `tree-${sigv2}`);
      mkdirSync(join(tree, "sub"), { recursive: true });
      writeFileSync(join(tree, "a.txt"), "alpha");
      writeFileSync(join(tree, "sub", "b.txt"), "beta");
      await ok("sync", `${tree}/`, `s3://${b}/tree/`);
      const synced = join(work, `synced-${sigv2}`);
      mkdirSync(synced, { recursive: true });
      await ok("sync", `s3://${b}/tree/`, `${synced}/`);
      expect(readFileSync(join(synced, "sub", "b.txt"), "utf8")).toBe("beta");
      await ok("info", `s3://${b}/tree/a.txt`);
      await ok("rm", "--recursive", "--force", `s3://${b}/`);
      await ok("rb", `s3://${b}`);
      expect((await s3cmd("ls", `s3://${b}`)).status).not.toBe(0);
    });
  }
});

describe.skipIf(!existsSync(AWS))("Debian awscli v2", () => {
  it("aws s3 mb, cp (multipart), ls, cp back, sync, rm, rb; aws s3api list-objects-v2 and head-object", async () => {
    const b = bucketName("awscli");
    const aws = async (...args: string[]) => {
      const r = await run(AWS, ["--endpoint-url", t.cloud.endpoints.s3Url, ...args], {
        env: awsEnv(),
        timeoutMs: 300_000,
      });
      expect(r.status, `aws ${args.join(" ")}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await aws("s3", "mb", `s3://${b}`);
    await aws("s3", "cp", "--no-progress", big, `s3://${b}/dir/big.bin`);
    expect(await aws("s3", "ls", "--recursive", `s3://${b}`)).toMatch(/110100480 dir\/big\.bin/);
    const head = JSON.parse(await aws("s3api", "head-object", "--bucket", b, "--key", "dir/big.bin"));
    expect(head.ContentLength).toBe(110100480);
    expect(head.ETag).toMatch(/-\d+"$/);
    const back = join(work, "aws-back.bin");
    await aws("s3", "cp", "--no-progress", `s3://${b}/dir/big.bin`, back);
    expect(await md5File(back)).toBe(bigMd5);
    const tree = join(work, "aws-tree");
    mkdirSync(join(tree, "x"), { recursive: true });
    writeFileSync(join(tree, "x", "1.txt"), "one");
    writeFileSync(join(tree, "2.txt"), "two");
    await aws("s3", "sync", "--no-progress", tree, `s3://${b}/tree`);
    const listed = JSON.parse(
      await aws("s3api", "list-objects-v2", "--bucket", b, "--prefix", "tree/", "--delimiter", "/"),
    );
    expect(listed.Contents.map((c: { Key: string }) => c.Key)).toEqual(["tree/2.txt"]);
    expect(listed.CommonPrefixes).toEqual([{ Prefix: "tree/x/" }]);
    const presigned = (await aws("s3", "presign", `s3://${b}/tree/2.txt`, "--expires-in", "300")).trim();
    expect(await (await fetch(presigned)).text()).toBe("two");
    await aws("s3", "rm", "--recursive", `s3://${b}`);
    await aws("s3", "rb", `s3://${b}`);
  });
});

describe.skipIf(!hasBoto3)("Debian boto3", () => {
  it("create, upload_file (multipart), list, head, download_file, delete_objects, delete_bucket", async () => {
    const out = join(work, "boto3-back.bin");
    const r = await run(PYTHON, [BOTO3_PROBE, bucketName("boto3"), big, out], { env: awsEnv(), timeoutMs: 300_000 });
    expect(r.stderr).not.toMatch(/Traceback/);
    const res = JSON.parse(r.stdout);
    expect(res.keys).toEqual(["dir/big.bin", "small.txt"]);
    expect(res.size).toBe(110100480);
    expect(res.meta).toEqual({ k: "v" });
    expect(res.deleted).toEqual(["dir/big.bin", "small.txt"]);
    expect(await md5File(out)).toBe(bigMd5);
  });
});

describe.skipIf(!existsSync("/usr/bin/rclone"))("Debian rclone (plain S3 remote)", () => {
  it("mkdir, copy (multipart), ls, check, sync back, purge", async () => {
    const b = bucketName("rclone");
    const remote = `:s3:${b}`;
    const flags = [
      "--s3-provider",
      "Other",
      "--s3-endpoint",
      t.cloud.endpoints.s3Url,
      "--s3-access-key-id",
      t.admin.accessKeyId,
      "--s3-secret-access-key",
      t.admin.secretAccessKey,
      "--s3-force-path-style=true",
      "--s3-region",
      "us-east-1",
    ];
    // A clean environment: AWS_CA_BUNDLE (set on some machines) breaks rclone's plain-HTTP transport.
    const rclone = async (...args: string[]) => {
      const r = await run("/usr/bin/rclone", [...flags, ...args], {
        env: { PATH: "/usr/bin:/bin", HOME: work, RCLONE_CONFIG: "/dev/null" },
        timeoutMs: 300_000,
      });
      expect(r.status, `rclone ${args.join(" ")}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const src = join(work, "rclone-src");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "sub", "small.txt"), "small");
    await run("/bin/cp", [big, join(src, "big.bin")]);
    await rclone("mkdir", remote);
    await rclone("copy", src, `${remote}/x`);
    expect(await rclone("ls", remote)).toMatch(/110100480 x\/big\.bin/);
    await rclone("check", src, `${remote}/x`);
    const back = join(work, "rclone-back");
    await rclone("sync", `${remote}/x`, back);
    expect(await md5File(join(back, "big.bin"))).toBe(bigMd5);
    await rclone("purge", remote);
  });
});
