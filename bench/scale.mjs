#!/usr/bin/env node
// bench/scale: a simulated site on the built euca — one head process (CLC + Walrus) and
// CLUSTERS cluster processes, each a CC with NODES simulated nodes (--fake-nodes),
// registered and keyed through the CLI like a real site. Prints:
//   RunInstances → all running for 1,000 instances; DescribeInstances p50/p99 at 10,000;
//   RSS of the head and of the cluster processes; DescribeInstances of 100 instances
//   side by side with moto_server in the same run. Asserts nothing.
// Goals (compute issue): 1,000 → running < 10 s; p50 < 100 ms at 10k; ≥ 5× moto; RSS < 300 MB.
//   node bench/scale.mjs [--clusters 10] [--nodes 100] [--instances 10000] [--skip-moto]
// Diagnostics (environment): SAMPLES=n describes to time; PROFILE_HEAD=dir writes the head's
// CPU profile there; HEAD_LOG=info HEAD_LOG_FILE=f keeps the head's request log (per-request ms).
import { spawn, execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CLUSTERS = arg("clusters", 10);
const NODES = arg("nodes", 100);
const TOTAL = arg("instances", 10_000);
const BATCH = 100; // instances per RunInstances call
const SAMPLES = Number(process.env.SAMPLES ?? 30);

const root = mkdtempSync(join(tmpdir(), "euca-scale-"));
const children = [];
const cleanup = () => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
};
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

function start(args, pattern, nodeFlags = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, bundle, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    let err = "";
    let ready = false;
    child.stdout.on("data", (d) => {
      if (ready) return; // output after the ready line is not kept
      out += d;
      const m = pattern.exec(out);
      if (m) {
        ready = true;
        resolve({ child, m });
      }
    });
    child.stderr.on("data", (d) => {
      if (process.env.HEAD_LOG_FILE && args.includes("clc,walrus")) appendFileSync(process.env.HEAD_LOG_FILE, d);
      else err += d;
    });
    child.on("exit", (c) => reject(new Error(`euca ${args.join(" ")} exited ${c}: ${err}`)));
  });
}

const euca = (...args) => execFileSync(process.execPath, [bundle, ...args], { encoding: "utf8" });
const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const peak = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const hmac = (k, v) => createHmac("sha256", k).update(v).digest();

/** A SigV4-signed EC2 Query POST (raw, so AddressingType and every parameter go as written). */
async function query(endpoint, creds, region, params) {
  const u = new URL(endpoint);
  const body = new URLSearchParams({ Version: "2016-11-15", ...params }).toString();
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const hash = createHash("sha256").update(body).digest("hex");
  const headers = {
    host: u.host,
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    "x-amz-date": amzDate,
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    "POST",
    u.pathname || "/",
    "",
    ...names.map((n) => `${n}:${headers[n]}`),
    "",
    names.join(";"),
    hash,
  ].join("\n");
  const scope = `${day}/${region}/ec2/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secret}`, day), region), "ec2"), "aws4_request");
  const authorization = `AWS4-HMAC-SHA256 Credential=${creds.access}/${scope}, SignedHeaders=${names.join(";")}, Signature=${hmac(key, toSign).toString("hex")}`;
  const sent = process.hrtime.bigint();
  const res = await fetch(endpoint, { method: "POST", headers: { ...headers, authorization }, body });
  query.ttfb = Number(process.hrtime.bigint() - sent) / 1e6;
  const text = await res.text();
  if (!res.ok) throw new Error(`${params.Action} ${res.status}: ${text.slice(0, 400)}`);
  return text;
}

const ids = (xml) => [...xml.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/gi)].map((m) => m[1]);
const count = (xml, state) => [...xml.matchAll(new RegExp(`<name>${state}</name>`, "g"))].length;

async function timed(fn) {
  const t = process.hrtime.bigint();
  const r = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
}

// ---- the site -----------------------------------------------------------------------
const headDir = join(root, "head");
const head = await start(
  [
    "run",
    "--role",
    "clc,walrus",
    "--data-dir",
    headDir,
    "--ec2-port",
    "0",
    "--s3-port",
    "0",
    "--web-port",
    "0",
    "--hypervisor",
    "fake",
    "--log-level",
    process.env.HEAD_LOG ?? "warn",
  ],
  /^euca ready: .* ec2=(\S+)/m,
  process.env.PROFILE_HEAD ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_HEAD}`] : [],
);
const ec2 = head.m[1];
const rc = readFileSync(join(headDir, "credentials", "admin", "eucarc"), "utf8");
const env = (name) => new RegExp(`^export ${name}=['"]?([^'"\\n]*)`, "m").exec(rc)[1];
const admin = { access: env("EC2_ACCESS_KEY"), secret: env("EC2_SECRET_KEY") };

const t0 = Date.now();
const clusters = await Promise.all(
  Array.from({ length: CLUSTERS }, async (_, k) => {
    const name = `zone${String(k + 1).padStart(2, "0")}`;
    const dir = join(root, name);
    const p = await start(
      [
        "run",
        "--role",
        "cc,nc",
        "--data-dir",
        dir,
        "--ec2-port",
        "0",
        "--s3-port",
        "0",
        "--web-port",
        "0",
        "--cc-port",
        "0",
        "--hypervisor",
        "fake",
        "--fake-nodes",
        String(NODES),
        "--max-mem",
        "4096",
        "--max-cores",
        "16",
        "--max-disk",
        "1000",
        "--vnet-addrs-per-net",
        "16384",
        "--walrus-url",
        new URL(ec2).origin,
        "--log-level",
        "warn",
      ],
      /^euca ready: .* cc=(\S+)/m,
    );
    return { name, dir, url: p.m[1], child: p.child };
  }),
);
for (const c of clusters) {
  const keyFile = join(root, `${c.name}.key`);
  euca("admin", "cluster", "register", c.name, "--url", c.url, "--out", keyFile, "--data-dir", headDir);
  euca("admin", "component-key", "install", keyFile, "--data-dir", c.dir);
}
console.log(
  `euca scale (node ${process.version}): ${CLUSTERS} clusters × ${NODES} simulated nodes up and registered in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);

// A small image, so 10,000 root disks fit on a laptop.
const img = join(root, "tiny.img");
writeFileSync(img, randomBytes(4096));
const eucaEnv = {
  ...process.env,
  ...Object.fromEntries(
    [...rc.matchAll(/^export (\w+)=['"]?([^'"\n]*)/gm)].map((m) => [
      m[1],
      m[2].replace("${EUCA_KEY_DIR}", join(headDir, "credentials", "admin")),
    ]),
  ),
};
const imported = execFileSync(process.execPath, [bundle, "image", "import", img, "--name", "tiny"], {
  env: eucaEnv,
  encoding: "utf8",
});
const emi = /IMAGE\t(\S+)/.exec(imported)[1];

async function launch(n) {
  const perZone = Math.ceil(n / CLUSTERS);
  const all = [];
  await Promise.all(
    clusters.map(async (c) => {
      for (let done = 0; done < perZone; done += BATCH) {
        const size = String(Math.min(BATCH, perZone - done));
        const xml = await query(ec2, admin, "eucalyptus", {
          Action: "RunInstances",
          ImageId: emi,
          MinCount: size,
          MaxCount: size,
          InstanceType: "m1.small",
          "Placement.AvailabilityZone": c.name,
          AddressingType: "private",
        });
        all.push(...ids(xml));
      }
    }),
  );
  return all;
}

async function untilRunning(expected) {
  for (;;) {
    const xml = await query(ec2, admin, "eucalyptus", {
      Action: "DescribeInstances",
      "Filter.1.Name": "instance-state-name",
      "Filter.1.Value.1": "running",
    });
    if (count(xml, "running") >= expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const first = Math.min(1000, TOTAL);
const { ms: runMs } = await timed(async () => {
  await launch(first);
  await untilRunning(first);
});
console.log(
  `  RunInstances → all running, ${first} instances (${first / BATCH} calls of ${BATCH}, ${CLUSTERS} zones in parallel): ${(runMs / 1000).toFixed(2)} s   (goal < 10 s)`,
);

let launched = first;
while (launched < TOTAL) {
  const n = Math.min(1000, TOTAL - launched);
  await launch(n);
  launched += n;
  await untilRunning(launched);
}

const lat = [];
const ttfb = [];
for (let i = 0; i < SAMPLES; i++) {
  const { ms, r } = await timed(() => query(ec2, admin, "eucalyptus", { Action: "DescribeInstances" }));
  if (i === 0)
    console.log(
      `  DescribeInstances returns ${ids(r).length} instances (${(r.length / 1024 / 1024).toFixed(1)} MiB of XML)`,
    );
  lat.push(ms);
  ttfb.push(query.ttfb);
}
console.log(
  `  DescribeInstances at ${launched} instances: p50 ${pct(lat, 50).toFixed(0)} ms, p99 ${pct(lat, 99).toFixed(0)} ms   (goal p50 < 100 ms); first byte p50 ${pct(ttfb, 50).toFixed(0)} ms`,
);
const ccRss = clusters.map((c) => rss(c.child.pid));
console.log(
  `  RSS: head (CLC + Walrus) ${rss(head.child.pid).toFixed(0)} MB, peak ${peak(head.child.pid).toFixed(0)} MB (goal < 300 MB); each cluster process (CC + ${NODES} nodes) ${Math.min(...ccRss).toFixed(0)}–${Math.max(...ccRss).toFixed(0)} MB`,
);

// ---- DescribeInstances of 100 instances, euca against moto ------------------------------
async function describe100(endpoint, creds, region, some) {
  const params = { Action: "DescribeInstances" };
  some.forEach((id, i) => (params[`InstanceId.${i + 1}`] = id));
  await query(endpoint, creds, region, params); // warm-up
  const xs = [];
  const t = Date.now();
  while (Date.now() - t < 3000) xs.push((await timed(() => query(endpoint, creds, region, params))).ms);
  return { p50: pct(xs, 50), ops: xs.length / ((Date.now() - t) / 1000) };
}

const all = ids(await query(ec2, admin, "eucalyptus", { Action: "DescribeInstances" }));
const ours = await describe100(ec2, admin, "eucalyptus", all.slice(0, 100));
console.log(
  `  DescribeInstances (100 ids of ${launched}): euca p50 ${ours.p50.toFixed(1)} ms, ${ours.ops.toFixed(0)} req/s`,
);

if (process.env.PROFILE_HEAD) {
  head.child.kill("SIGTERM"); // the profile is written at a clean exit
  await new Promise((r) => head.child.once("exit", r));
}

if (!process.argv.includes("--skip-moto")) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const moto = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(moto);
  await new Promise((resolve) => {
    let err = "";
    moto.stderr.on("data", (d) => {
      err += d;
      if (/Running on/.test(err)) resolve();
    });
  });
  const murl = `http://127.0.0.1:${port}/`;
  const mcreds = { access: "AKIAIOSFODNN7EXAMPLE", secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
  const images = await query(murl, mcreds, "us-east-1", { Action: "DescribeImages", "Owner.1": "amazon" });
  const ami = /<imageId>(ami-[0-9a-f]+)<\/imageId>/.exec(images)[1];
  const run = await query(murl, mcreds, "us-east-1", {
    Action: "RunInstances",
    ImageId: ami,
    MinCount: "100",
    MaxCount: "100",
    InstanceType: "t2.micro",
  });
  const theirs = await describe100(murl, mcreds, "us-east-1", ids(run));
  console.log(
    `  DescribeInstances (100 ids of 100): moto p50 ${theirs.p50.toFixed(1)} ms, ${theirs.ops.toFixed(0)} req/s`,
  );
  console.log(`  euca / moto: ${(ours.ops / theirs.ops).toFixed(1)}× the requests per second   (goal ≥ 5×)`);
}
process.exit(0);
