#!/usr/bin/env node
// bench/s3: PUT, GET and DELETE of 1,000 x 4 KiB and PUT and GET of 20 x 64 MiB objects
// with 8 concurrent @aws-sdk/client-s3 clients against the built euca; the same load
// against Ceph RGW 16.2 in the same run (../shared/peers/radosgw, or S3_PEER_* for one
// already running) with the ratios; the same bytes with plain file I/O and a plain
// loopback TCP stream (the machine's physical limit); the small-object load against
// moto_server; and the server's peak RSS while streaming a 5 GiB object. Prints
// figures; asserts nothing.
//   node bench/s3.mjs [--skip-huge] [--skip-moto] [--skip-rgw] [--only-large] [--only-huge]
//   RGW_PEER_DIR (default ../shared/peers/radosgw) or S3_PEER_ENDPOINT, S3_PEER_ACCESS_KEY, S3_PEER_SECRET_KEY;
//   S3_BENCH_NODE_ARGS: more node options for the euca process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
import { spawn, spawnSync } from "node:child_process";
import { createServer, connect } from "node:net";
import { mkdtempSync, readFileSync, rmSync, openSync, writeSync, fsyncSync, closeSync, readSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, DeleteObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const args = new Set(process.argv.slice(2));
const launcher = fileURLToPath(new URL("../bin/euca", import.meta.url));
const CONCURRENCY = 8;
const SMALL = { count: 1000, size: 4096 };
const LARGE = { count: 20, size: 64 * 1024 * 1024 };
const MB = 1e6;

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (n, d = 1) => n.toFixed(d);

const progress = (what) => process.env.S3_BENCH_VERBOSE && console.error(`bench/s3: ${what} at ${new Date().toISOString()}`);

async function pool(n, jobs) {
  let next = 0;
  const lat = [];
  await Promise.all(Array.from({ length: n }, async (_, w) => {
    while (next < jobs.length) {
      const i = next++;
      const t0 = performance.now();
      await jobs[i](w);
      lat.push(performance.now() - t0);
    }
  }));
  return lat;
}

/** Everything started here, stopped when the benchmark ends (however it ends). */
const children = new Set();
process.on("exit", () => { for (const c of children) c.kill("SIGKILL"); });

/** The node flags bin/euca's first line gives node (one place says them). */
const launcherFlags = (/^#!\/usr\/bin\/env -S node(.*)$/.exec(readFileSync(launcher, "utf8").split("\n")[0])?.[1] ?? "").split(" ").filter(Boolean);

/** euca as users run it: bin/euca with the node flags it sets, plus S3_BENCH_NODE_ARGS (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
function startEuca(dir) {
  return new Promise((resolve, reject) => {
    const nodeArgs = (process.env.S3_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const child = spawn(process.execPath, [...launcherFlags, ...nodeArgs, launcher, "run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--web-port", "0", "--log-level", "warn"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.add(child);
    child.on("exit", () => children.delete(child));
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /s3=(\S+)/.exec(out);
      if (/^euca ready:/m.test(out) && m) resolve({ child, url: m[1] });
    });
    child.on("exit", (c) => reject(new Error(`euca exited ${c}`)));
  });
}

/** Ceph RGW on loopback: one already running (S3_PEER_*), or a throw-away minicluster started here. */
async function startRgw(workdir) {
  if (process.env.S3_PEER_ENDPOINT) {
    return { url: process.env.S3_PEER_ENDPOINT, creds: { accessKeyId: process.env.S3_PEER_ACCESS_KEY, secretAccessKey: process.env.S3_PEER_SECRET_KEY }, stop: () => undefined };
  }
  const peer = process.env.RGW_PEER_DIR ?? fileURLToPath(new URL("../../shared/peers/radosgw/", import.meta.url));
  const port = 18100 + Math.floor(Math.random() * 800);
  const out = await new Promise((resolve, reject) => {
    const child = spawn(join(peer, "start-radosgw-minicluster.sh"), [workdir, String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("exit", (c) => (c === 0 ? resolve(text) : reject(new Error(`RGW did not start (${c}): ${text.slice(-500)}`))));
  });
  const val = (n) => new RegExp(`${n}='?([^'\\s]+)`).exec(out)?.[1];
  return {
    url: val("S3_ENDPOINT"), creds: { accessKeyId: val("S3_MAIN_ACCESS_KEY"), secretAccessKey: val("S3_MAIN_SECRET_KEY") },
    stop: () => spawnSync(join(peer, "stop-peer.sh"), [join(workdir, "pid")], { stdio: "ignore" }),
  };
}

function startMoto() {
  return new Promise((resolve, reject) => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
      if (/Running on/.test(err)) resolve({ child, url: `http://127.0.0.1:${port}` });
    });
    child.on("exit", (c) => reject(new Error(`moto exited ${c}: ${err}`)));
  });
}

/** Peak RSS (VmHWM) of a process, MB. */
const peakRss = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

function clients(url, creds) {
  return Array.from({ length: CONCURRENCY }, () => new S3Client({ endpoint: url, region: "us-east-1", credentials: creds, forcePathStyle: true, maxAttempts: 1 }));
}

async function smallLoad(url, creds, bucket) {
  const cs = clients(url, creds);
  await cs[0].send(new CreateBucketCommand({ Bucket: bucket }));
  const body = randomBytes(SMALL.size);
  const t0 = performance.now();
  progress(`small PUT ${url}`);
  const putLat = await pool(CONCURRENCY, Array.from({ length: SMALL.count }, (_, i) => (w) => cs[w].send(new PutObjectCommand({ Bucket: bucket, Key: `small/${i}`, Body: body }))));
  progress("small GET");
  const putS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const getLat = await pool(CONCURRENCY, Array.from({ length: SMALL.count }, (_, i) => async (w) => {
    const r = await cs[w].send(new GetObjectCommand({ Bucket: bucket, Key: `small/${i}` }));
    await r.Body.transformToByteArray();
  }));
  const getS = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  progress("small DELETE");
  await pool(CONCURRENCY, Array.from({ length: SMALL.count }, (_, i) => (w) => cs[w].send(new DeleteObjectCommand({ Bucket: bucket, Key: `small/${i}` }))));
  const delS = (performance.now() - t2) / 1000;
  return { putOps: SMALL.count / putS, getOps: SMALL.count / getS, delOps: SMALL.count / delS, putLat, getLat };
}

async function largeLoad(url, creds, bucket) {
  const cs = clients(url, creds);
  await cs[0].send(new CreateBucketCommand({ Bucket: bucket }));
  const body = randomBytes(LARGE.size);
  const bytes = LARGE.count * LARGE.size;
  const t0 = performance.now();
  progress(`large PUT ${url}`);
  const putLat = await pool(CONCURRENCY, Array.from({ length: LARGE.count }, (_, i) => (w) => cs[w].send(new PutObjectCommand({ Bucket: bucket, Key: `large/${i}`, Body: body }))));
  const putS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  progress("large GET");
  const getLat = await pool(CONCURRENCY, Array.from({ length: LARGE.count }, (_, i) => async (w) => {
    const r = await cs[w].send(new GetObjectCommand({ Bucket: bucket, Key: `large/${i}` }));
    for await (const _ of r.Body) { /* drain */ }
  }));
  const getS = (performance.now() - t1) / 1000;
  return { putMBs: bytes / MB / putS, getMBs: bytes / MB / getS, putLat, getLat };
}

/** The same bytes with plain file I/O: 16 x 64 MiB written (fsync each) and read back, and 1,000 x 4 KiB with an fsync each. */
function fileLimit(dir) {
  mkdirSync(dir, { recursive: true });
  const big = randomBytes(LARGE.size);
  let t0 = performance.now();
  for (let i = 0; i < LARGE.count; i++) {
    const fd = openSync(join(dir, `l${i}`), "w");
    for (let off = 0; off < big.length; off += 1024 * 1024) writeSync(fd, big, off, 1024 * 1024);
    fsyncSync(fd);
    closeSync(fd);
  }
  const writeMBs = (LARGE.count * LARGE.size) / MB / ((performance.now() - t0) / 1000);
  const buf = Buffer.alloc(1024 * 1024);
  t0 = performance.now();
  for (let i = 0; i < LARGE.count; i++) {
    const fd = openSync(join(dir, `l${i}`), "r");
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
  const readMBs = (LARGE.count * LARGE.size) / MB / ((performance.now() - t0) / 1000);
  const small = randomBytes(SMALL.size);
  t0 = performance.now();
  for (let i = 0; i < SMALL.count; i++) {
    const fd = openSync(join(dir, `s${i}`), "w");
    writeSync(fd, small);
    fsyncSync(fd);
    closeSync(fd);
  }
  const smallOps = SMALL.count / ((performance.now() - t0) / 1000);
  return { writeMBs, readMBs, smallOps };
}

/** 8 loopback TCP streams moving 1 GiB in total. */
function tcpLimit() {
  const total = LARGE.count * LARGE.size;
  const per = total / CONCURRENCY;
  const chunk = randomBytes(1024 * 1024);
  return new Promise((resolve) => {
    let received = 0;
    const t0 = performance.now();
    const server = createServer((s) => s.on("data", (d) => {
      received += d.length;
      if (received >= total) {
        server.close();
        resolve(total / MB / ((performance.now() - t0) / 1000));
      }
    }));
    server.listen(0, "127.0.0.1", () => {
      const port = server.address().port;
      for (let i = 0; i < CONCURRENCY; i++) {
        const sock = connect(port, "127.0.0.1", () => {
          let sent = 0;
          const pump = () => {
            while (sent < per) {
              sent += chunk.length;
              if (!sock.write(chunk)) return sock.once("drain", pump);
            }
            sock.end();
          };
          pump();
        });
      }
    });
  });
}

/** The server's RSS while a 5 GiB object is PUT (multipart) and GET back. */
async function hugeObject(url, creds, pid) {
  const c = new S3Client({ endpoint: url, region: "us-east-1", credentials: creds, forcePathStyle: true, maxAttempts: 1 });
  await c.send(new CreateBucketCommand({ Bucket: "huge" }));
  const total = 5 * 1024 ** 3;
  const block = randomBytes(8 * 1024 * 1024);
  let sent = 0;
  const source = new Readable({ read() { if (sent >= total) return this.push(null); sent += block.length; this.push(block); } });
  let maxRss = 0;
  const timer = setInterval(() => { maxRss = Math.max(maxRss, rss(pid)); }, 100);
  const t0 = performance.now();
  await new Upload({ client: c, params: { Bucket: "huge", Key: "5g", Body: source }, partSize: 64 * 1024 * 1024, queueSize: 4 }).done();
  const putS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const r = await c.send(new GetObjectCommand({ Bucket: "huge", Key: "5g" }));
  let got = 0;
  for await (const d of r.Body) got += d.length;
  const getS = (performance.now() - t1) / 1000;
  clearInterval(timer);
  return { maxRss, putMBs: total / MB / putS, getMBs: got / MB / getS };
}

const dir = mkdtempSync(join(tmpdir(), "euca-bench-s3-"));
try {
  if (!args.has("--only-huge")) await loads();
  if (!args.has("--skip-huge")) {
    // A fresh server, so the figure is what streaming one huge object costs.
    const fresh = await startEuca(join(dir, "euca-huge"));
    const rc = readFileSync(join(dir, "euca-huge", "credentials", "admin", "eucarc"), "utf8");
    const fv = (n) => new RegExp(`^export ${n}='([^']*)'`, "m").exec(rc)[1];
    const h = await hugeObject(fresh.url, { accessKeyId: fv("AWS_ACCESS_KEY_ID"), secretAccessKey: fv("AWS_SECRET_ACCESS_KEY") }, fresh.child.pid);
    console.log(`5 GiB object (fresh server): PUT ${fmt(h.putMBs)} MB/s, GET ${fmt(h.getMBs)} MB/s, server RSS at most ${fmt(h.maxRss)} MB while streaming (goal < 150 MB)`);
    fresh.child.kill("SIGTERM");
  }
} finally {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all([...children].map((c) => new Promise((r) => c.once("exit", r))));
  rmSync(dir, { recursive: true, force: true });
}

async function loads() {
  const euca = await startEuca(join(dir, "euca"));
  const eucarc = readFileSync(join(dir, "euca", "credentials", "admin", "eucarc"), "utf8");
  const v = (n) => new RegExp(`^export ${n}='([^']*)'`, "m").exec(eucarc)[1];
  const creds = { accessKeyId: v("AWS_ACCESS_KEY_ID"), secretAccessKey: v("AWS_SECRET_ACCESS_KEY") };

  const onlyLarge = args.has("--only-large");
  const small = onlyLarge ? undefined : await smallLoad(euca.url, creds, "small");
  const large = await largeLoad(euca.url, creds, "large");
  let rgw;
  if (!args.has("--skip-rgw")) {
    const peer = await startRgw(join(dir, "rgw"));
    try {
      rgw = { small: onlyLarge ? undefined : await smallLoad(peer.url, peer.creds, "small"), large: await largeLoad(peer.url, peer.creds, "large") };
    } finally {
      peer.stop();
    }
  }
  const file = fileLimit(join(dir, "plain"));
  const tcp = await tcpLimit();
  console.log(`euca S3 (walrus) benchmark, ${CONCURRENCY} concurrent @aws-sdk/client-s3 clients, node ${process.version}`);
  if (small) console.log(`small ${SMALL.count} x 4 KiB: PUT ${fmt(small.putOps, 0)} ops/s (p50 ${fmt(pct(small.putLat, 50))} ms, p99 ${fmt(pct(small.putLat, 99))} ms); GET ${fmt(small.getOps, 0)} ops/s (p50 ${fmt(pct(small.getLat, 50))} ms, p99 ${fmt(pct(small.getLat, 99))} ms); DELETE ${fmt(small.delOps, 0)} ops/s`);
  console.log(`large ${LARGE.count} x 64 MiB: PUT ${fmt(large.putMBs)} MB/s (p50 ${fmt(pct(large.putLat, 50), 0)} ms); GET ${fmt(large.getMBs)} MB/s (p50 ${fmt(pct(large.getLat, 50), 0)} ms)`);
  console.log(`physical limit: file write+fsync ${fmt(file.writeMBs)} MB/s, file read ${fmt(file.readMBs)} MB/s, 4 KiB files with fsync ${fmt(file.smallOps, 0)} ops/s, loopback TCP (8 streams) ${fmt(tcp)} MB/s`);
  const putLimit = Math.min(file.writeMBs, tcp);
  const getLimit = Math.min(file.readMBs, tcp);
  console.log(`ratio to the physical limit: large PUT ${fmt((100 * large.putMBs) / putLimit)}% of min(file write, TCP) = ${fmt(putLimit)} MB/s (goal >= 80%); large GET ${fmt((100 * large.getMBs) / getLimit)}% of min(file read, TCP) = ${fmt(getLimit)} MB/s`);
  if (rgw) {
    const r = (a, b) => `${fmt(a / b, 2)}x`;
    if (small && rgw.small) {
      console.log(`Ceph RGW peer, small: PUT ${fmt(rgw.small.putOps, 0)} ops/s, GET ${fmt(rgw.small.getOps, 0)} ops/s, DELETE ${fmt(rgw.small.delOps, 0)} ops/s`);
    }
    console.log(`Ceph RGW peer, large: PUT ${fmt(rgw.large.putMBs)} MB/s, GET ${fmt(rgw.large.getMBs)} MB/s`);
    console.log(`euca / RGW (goal >= 1.2x each): ${small && rgw.small ? `PUT 4 KiB ${r(small.putOps, rgw.small.putOps)}, GET 4 KiB ${r(small.getOps, rgw.small.getOps)}, DELETE ${r(small.delOps, rgw.small.delOps)}, ` : ""}PUT 64 MiB ${r(large.putMBs, rgw.large.putMBs)}, GET 64 MiB ${r(large.getMBs, rgw.large.getMBs)}`);
  }
  console.log(`server peak RSS after these loads: ${fmt(peakRss(euca.child.pid))} MB`);

  if (small && !args.has("--skip-moto")) {
    try {
      const moto = await startMoto();
      const m = await smallLoad(moto.url, { accessKeyId: "testing", secretAccessKey: "testing" }, "small");
      moto.child.kill("SIGTERM");
      console.log(`moto_server peer, small ${SMALL.count} x 4 KiB: PUT ${fmt(m.putOps, 0)} ops/s, GET ${fmt(m.getOps, 0)} ops/s`);
      console.log(`euca / moto: PUT ${fmt(small.putOps / m.putOps, 2)}x, GET ${fmt(small.getOps / m.getOps, 2)}x (goal >= 3x)`);
    } catch (e) {
      console.log(`moto_server peer not measured: ${e.message}`);
    }
  }
  euca.child.kill("SIGTERM");
}
