#!/usr/bin/env node
// bench/soak: 8 clients run a mixed EC2 + S3 workload against the built euca (fake
// hypervisor) for a while: DescribeInstances, DescribeImages, RunInstances +
// TerminateInstances, PutObject, GetObject, ListObjectsV2, DeleteObject and a
// two-part multipart upload. Prints requests, errors (expected 0), p50/p99 per kind
// and the server's RSS at the start, middle and end (expected flat). Asserts nothing.
//   node bench/soak.mjs [--seconds 300] [--clients 8]
//   SOAK_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" passes Node flags to the server (profiles).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  EC2Client,
  DescribeInstancesCommand,
  DescribeImagesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  DeleteObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from "@aws-sdk/client-s3";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SECONDS = opt("seconds", 300);
const CLIENTS = opt("clients", 8);
const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));

const rss = (pid) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;
const pct = (xs, p) =>
  xs.length ? xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN;
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function startEuca(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.SOAK_NODE_ARGS ?? "").split(" ").filter(Boolean),
        bundle,
        "run",
        "--data-dir",
        dir,
        "--ec2-port",
        "0",
        "--s3-port",
        "0",
        "--web-port",
        "0",
        "--hypervisor",
        "fake",
        "--fake-nodes",
        "2",
        "--max-cores",
        "64",
        "--max-mem",
        "65536",
        "--max-disk",
        "1000",
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^euca ready: .* ec2=(\S+) s3=(\S+)/m.exec(out);
      if (m) resolve({ child, ec2: m[1], s3: m[2] });
    });
    child.on("exit", (c) => reject(new Error(`euca exited ${c}`)));
  });
}

function eucarc(dir) {
  const credDir = join(dir, "credentials", "admin");
  const vars = {};
  for (const m of readFileSync(join(credDir, "eucarc"), "utf8").matchAll(/^export (\w+)=['"]?([^'"\n]*)['"]?$/gm))
    vars[m[1]] = m[2].replace("${EUCA_KEY_DIR}", credDir);
  return vars;
}

const dir = mkdtempSync(join(tmpdir(), "euca-soak-"));
const euca = await startEuca(dir);
const env = eucarc(dir);
const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
const image = join(dir, "root.img");
writeFileSync(image, randomBytes(256 * 1024));
const imported = execFileSync(process.execPath, [bundle, "image", "import", image], {
  env: { PATH: process.env.PATH, ...env, EC2_URL: euca.ec2, S3_URL: euca.s3 },
  encoding: "utf8",
});
const imageId = /IMAGE\t(\S+)/.exec(imported)[1];

const stats = new Map(); // kind → { lat: number[], errors: number, lastError?: string }
async function timed(kind, fn) {
  const s = stats.get(kind) ?? { lat: [], errors: 0 };
  stats.set(kind, s);
  const t0 = performance.now();
  try {
    const r = await fn();
    s.lat.push(performance.now() - t0);
    return r;
  } catch (e) {
    s.errors++;
    s.lastError = `${e.name}: ${e.message}`.slice(0, 160);
    return undefined;
  }
}

const small = Buffer.alloc(16 * 1024, 1);
const part = Buffer.alloc(5 * 1024 * 1024, 2);
async function client(w, until) {
  const ec2 = new EC2Client({ endpoint: euca.ec2, region: "eucalyptus", credentials, maxAttempts: 1 });
  const s3 = new S3Client({
    endpoint: euca.s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
  });
  const bucket = `soak-${w}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; performance.now() < until; i++) {
    const key = `k-${i % 50}`;
    await timed("DescribeInstances", () => ec2.send(new DescribeInstancesCommand({})));
    await timed("PutObject 16 KiB", () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: small })));
    await timed("GetObject 16 KiB", async () =>
      (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body.transformToByteArray(),
    );
    await timed("ListObjectsV2", () => s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 100 })));
    if (i % 2 === 1) await timed("DeleteObject", () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    if (i % 5 === 0) await timed("DescribeImages", () => ec2.send(new DescribeImagesCommand({})));
    if (i % 10 === 0) {
      const run = await timed("RunInstances", () =>
        ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })),
      );
      const id = run?.Instances?.[0]?.InstanceId;
      if (id) await timed("TerminateInstances", () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })));
    }
    if (i % 25 === 0) {
      await timed("multipart 5 MiB + 16 KiB", async () => {
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "mp" }));
        const p1 = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: "mp", UploadId, PartNumber: 1, Body: part }),
        );
        const p2 = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: "mp", UploadId, PartNumber: 2, Body: small }),
        );
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: "mp",
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: p1.ETag },
                { PartNumber: 2, ETag: p2.ETag },
              ],
            },
          }),
        );
      });
    }
  }
}

const pid = euca.child.pid;
const rssAt = { start: rss(pid) };
const started = performance.now();
const until = started + SECONDS * 1000;
const middle = setTimeout(() => (rssAt.middle = rss(pid)), (SECONDS * 1000) / 2);
console.log(`bench/soak: ${CLIENTS} clients for ${SECONDS} s against euca ${euca.ec2} (fake hypervisor, 2 nodes)`);
await Promise.all(Array.from({ length: CLIENTS }, (_, w) => client(w, until)));
clearTimeout(middle);
rssAt.end = rss(pid);
const elapsed = (performance.now() - started) / 1000;

let total = 0;
let errors = 0;
console.log(
  `\n${"kind".padEnd(28)}${"requests".padStart(10)}${"errors".padStart(8)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}`,
);
for (const [kind, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
  total += s.lat.length + s.errors;
  errors += s.errors;
  console.log(
    `${kind.padEnd(28)}${String(s.lat.length + s.errors).padStart(10)}${String(s.errors).padStart(8)}${pct(s.lat, 50).toFixed(1).padStart(9)}${pct(s.lat, 99).toFixed(1).padStart(9)}${s.lastError ? `   last error: ${s.lastError}` : ""}`,
  );
}
console.log(`\nrequests ${total} in ${elapsed.toFixed(0)} s (${(total / elapsed).toFixed(0)}/s), errors ${errors}`);
console.log(`server RSS: start ${mb(rssAt.start)}, middle ${mb(rssAt.middle ?? NaN)}, end ${mb(rssAt.end)}`);
euca.child.kill("SIGTERM");
await new Promise((r) => euca.child.on("exit", r));
rmSync(dir, { recursive: true, force: true });
