#!/usr/bin/env node
// bench/s3: PUT, GET and DELETE of 1,000 x 4 KiB and PUT and GET of 20 x 64 MiB objects
// with 8 concurrent @aws-sdk/client-s3 clients against the built euca and, in the same
// run, the same load against Ceph RGW 16.2 (../shared/peers/radosgw, or S3_PEER_* for one
// already running): both servers up at once, measured in interleaved rounds (which goes
// first alternates), with each round's figures, the medians and the ratios; the same
// bytes with plain file I/O (the disk's limit, measured in every round) and a plain
// loopback TCP stream; the small-object load against moto_server; and the server's peak
// RSS while streaming a 5 GiB object. Prints figures; asserts nothing.
//   node bench/s3.mjs [--rounds=N (3)] [--skip-huge] [--skip-moto] [--skip-rgw] [--only-large] [--only-huge]
//   RGW_PEER_DIR (default ../shared/peers/radosgw) or S3_PEER_ENDPOINT, S3_PEER_ACCESS_KEY, S3_PEER_SECRET_KEY;
//   S3_BENCH_NODE_ARGS: more node options for the euca process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
import { spawn, spawnSync } from "node:child_process";
import { createServer, connect } from "node:net";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  readSync,
  mkdirSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { open } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  DeleteObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const args = new Set(process.argv.slice(2));
const ROUNDS = Number(/^--rounds=(\d+)$/.exec(process.argv.find((a) => a.startsWith("--rounds=")) ?? "")?.[1] ?? 3);
const launcher = fileURLToPath(new URL("../bin/euca", import.meta.url));
const CONCURRENCY = 8;
const SMALL = { count: 1000, size: 4096 };
const LARGE = { count: 20, size: 64 * 1024 * 1024 };
const MB = 1e6;

const median = (xs) => pct(xs, 50);
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (n, d = 1) => n.toFixed(d);

const progress = (what) =>
  process.env.S3_BENCH_VERBOSE && console.error(`bench/s3: ${what} at ${new Date().toISOString()}`);

async function pool(n, jobs) {
  let next = 0;
  const lat = [];
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (next < jobs.length) {
        const i = next++;
        const t0 = performance.now();
        await jobs[i](w);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return lat;
}

/** Everything started here, stopped when the benchmark ends (however it ends). */
const children = new Set();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** The environment and node flags bin/euca's first line sets (one place says them): `#!/usr/bin/env -S [NAME=value…] node [flags…]`. */
const shebang = (/^#!\/usr\/bin\/env -S (.*)$/.exec(readFileSync(launcher, "utf8").split("\n")[0])?.[1] ?? "")
  .split(" ")
  .filter(Boolean);
const launcherEnv = Object.fromEntries(shebang.slice(0, shebang.indexOf("node")).map((a) => a.split("=", 2)));
const launcherFlags = shebang.slice(shebang.indexOf("node") + 1);

/** euca as users run it: bin/euca with the environment and node flags it sets, plus S3_BENCH_NODE_ARGS (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
function startEuca(dir) {
  return new Promise((resolve, reject) => {
    const nodeArgs = (process.env.S3_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const child = spawn(
      process.execPath,
      [
        ...launcherFlags,
        ...nodeArgs,
        launcher,
        "run",
        "--data-dir",
        dir,
        "--ec2-port",
        "0",
        "--s3-port",
        "0",
        "--web-port",
        "0",
        "--log-level",
        "warn",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, ...launcherEnv },
      },
    );
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
    return {
      url: process.env.S3_PEER_ENDPOINT,
      creds: { accessKeyId: process.env.S3_PEER_ACCESS_KEY, secretAccessKey: process.env.S3_PEER_SECRET_KEY },
      stop: () => undefined,
    };
  }
  const peer = process.env.RGW_PEER_DIR ?? fileURLToPath(new URL("../../shared/peers/radosgw/", import.meta.url));
  const port = 18100 + Math.floor(Math.random() * 800);
  const out = await new Promise((resolve, reject) => {
    const child = spawn(join(peer, "start-radosgw-minicluster.sh"), [workdir, String(port)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.on("exit", (c) =>
      c === 0 ? resolve(text) : reject(new Error(`RGW did not start (${c}): ${text.slice(-500)}`)),
    );
  });
  const val = (n) => new RegExp(`${n}='?([^'\\s]+)`).exec(out)?.[1];
  return {
    url: val("S3_ENDPOINT"),
    creds: { accessKeyId: val("S3_MAIN_ACCESS_KEY"), secretAccessKey: val("S3_MAIN_SECRET_KEY") },
    stop: () => spawnSync(join(peer, "stop-peer.sh"), [join(workdir, "pid")], { stdio: "ignore" }),
  };
}

function startMoto() {
  return new Promise((resolve, reject) => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
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

/**
 * Every body here is a fixed buffer sent again and again, so its digests are computed once:
 * the clients send that SHA-256 for the signature (x-amz-content-sha256) and that CRC32
 * (x-amz-checksum-crc32), and the servers verify both as ever. Computed per request, the one
 * benchmark process hashed each 64 MiB body twice, in series for all 8 clients, on the cores
 * the server uses: a CPU profile showed 0.8 s of every 4 s there, with the uploads waiting,
 * and a plain Node server that only writes and fsyncs the bytes got no more than ~300 MB/s
 * from this client (650–750 MB/s with the digests computed once). The benchmark measures
 * the servers, not the client's hashing.
 */
const digestsOf = new WeakMap();
function fixedBody(size) {
  const body = randomBytes(size);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  digestsOf.set(body, { sha256: createHash("sha256").update(body).digest("hex"), crc32: crc.toString("base64") });
  return body;
}
/** A PutObject of a fixed body, with its digests. */
const putFixed = (Bucket, Key, Body) =>
  new PutObjectCommand({ Bucket, Key, Body, ChecksumCRC32: digestsOf.get(Body).crc32 });

function clients(url, creds) {
  return Array.from({ length: CONCURRENCY }, () => {
    const c = new S3Client({
      endpoint: url,
      region: "us-east-1",
      credentials: creds,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    // Before signing: the signer uses a payload hash it finds in the headers.
    c.middlewareStack.add(
      (next) => (a) => {
        const d = a.input?.Body && digestsOf.get(a.input.Body);
        if (d && a.request?.headers) a.request.headers["x-amz-content-sha256"] = d.sha256;
        return next(a);
      },
      { step: "build", name: "fixedBodyDigest" },
    );
    return c;
  });
}

async function smallLoad(url, creds, bucket) {
  const cs = clients(url, creds);
  await cs[0].send(new CreateBucketCommand({ Bucket: bucket }));
  const body = fixedBody(SMALL.size);
  const t0 = performance.now();
  progress(`small PUT ${url}`);
  const putLat = await pool(
    CONCURRENCY,
    Array.from({ length: SMALL.count }, (_, i) => (w) => cs[w].send(putFixed(bucket, `small/${i}`, body))),
  );
  progress("small GET");
  const putS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const getLat = await pool(
    CONCURRENCY,
    Array.from({ length: SMALL.count }, (_, i) => async (w) => {
      const r = await cs[w].send(new GetObjectCommand({ Bucket: bucket, Key: `small/${i}` }));
      await r.Body.transformToByteArray();
    }),
  );
  const getS = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  progress("small DELETE");
  await pool(
    CONCURRENCY,
    Array.from(
      { length: SMALL.count },
      (_, i) => (w) => cs[w].send(new DeleteObjectCommand({ Bucket: bucket, Key: `small/${i}` })),
    ),
  );
  const delS = (performance.now() - t2) / 1000;
  return { putOps: SMALL.count / putS, getOps: SMALL.count / getS, delOps: SMALL.count / delS, putLat, getLat };
}

async function largeLoad(url, creds, bucket) {
  const cs = clients(url, creds);
  await cs[0].send(new CreateBucketCommand({ Bucket: bucket }));
  const body = fixedBody(LARGE.size);
  const bytes = LARGE.count * LARGE.size;
  const t0 = performance.now();
  progress(`large PUT ${url}`);
  const putLat = await pool(
    CONCURRENCY,
    Array.from({ length: LARGE.count }, (_, i) => (w) => cs[w].send(putFixed(bucket, `large/${i}`, body))),
  );
  const putS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  progress("large GET");
  const getLat = await pool(
    CONCURRENCY,
    Array.from({ length: LARGE.count }, (_, i) => async (w) => {
      const r = await cs[w].send(new GetObjectCommand({ Bucket: bucket, Key: `large/${i}` }));
      for await (const _ of r.Body) {
        /* drain */
      }
    }),
  );
  const getS = (performance.now() - t1) / 1000;
  // Untimed: the next round starts with the disk as empty as this one did.
  await pool(
    CONCURRENCY,
    Array.from(
      { length: LARGE.count },
      (_, i) => (w) => cs[w].send(new DeleteObjectCommand({ Bucket: bucket, Key: `large/${i}` })),
    ),
  );
  return { putMBs: bytes / MB / putS, getMBs: bytes / MB / getS, putLat, getLat };
}

/**
 * The same bytes with plain file I/O: 20 x 64 MiB written (fsync each) one file at a time,
 * then again by 8 writers at once, and read back; 1,000 x 4 KiB with an fsync each.
 */
async function fileLimit(dir) {
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
  for (let i = 0; i < LARGE.count; i++) rmSync(join(dir, `l${i}`));
  let next = 0;
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < LARGE.count) {
        const fh = await open(join(dir, `l${next++}`), "w");
        for (let off = 0; off < big.length; off += 1024 * 1024) await fh.write(big, off, 1024 * 1024);
        await fh.sync();
        await fh.close();
      }
    }),
  );
  const parallelWriteMBs = (LARGE.count * LARGE.size) / MB / ((performance.now() - t0) / 1000);
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
  rmSync(dir, { recursive: true, force: true });
  return { writeMBs, parallelWriteMBs, readMBs, smallOps };
}

/** 8 loopback TCP streams moving 1 GiB in total. */
function tcpLimit() {
  const total = LARGE.count * LARGE.size;
  const per = total / CONCURRENCY;
  const chunk = randomBytes(1024 * 1024);
  return new Promise((resolve) => {
    let received = 0;
    const t0 = performance.now();
    const server = createServer((s) =>
      s.on("data", (d) => {
        received += d.length;
        if (received >= total) {
          server.close();
          resolve(total / MB / ((performance.now() - t0) / 1000));
        }
      }),
    );
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
  const c = new S3Client({
    endpoint: url,
    region: "us-east-1",
    credentials: creds,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  await c.send(new CreateBucketCommand({ Bucket: "huge" }));
  const total = 5 * 1024 ** 3;
  const block = randomBytes(8 * 1024 * 1024);
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      sent += block.length;
      this.push(block);
    },
  });
  let maxRss = 0;
  const timer = setInterval(() => {
    maxRss = Math.max(maxRss, rss(pid));
  }, 100);
  const t0 = performance.now();
  await new Upload({
    client: c,
    params: { Bucket: "huge", Key: "5g", Body: source },
    partSize: 64 * 1024 * 1024,
    queueSize: 4,
  }).done();
  const putS = (performance.now() - t0) / 1000;
  const putRss = maxRss;
  maxRss = 0;
  const t1 = performance.now();
  const r = await c.send(new GetObjectCommand({ Bucket: "huge", Key: "5g" }));
  let got = 0;
  for await (const d of r.Body) got += d.length;
  const getS = (performance.now() - t1) / 1000;
  clearInterval(timer);
  return {
    maxRss: Math.max(putRss, maxRss),
    putRss,
    getRss: maxRss,
    putMBs: total / MB / putS,
    getMBs: got / MB / getS,
  };
}

const dir = mkdtempSync(join(tmpdir(), "euca-bench-s3-"));
try {
  if (!args.has("--only-huge")) await loads();
  if (!args.has("--skip-huge")) {
    // A fresh server, so the figure is what streaming one huge object costs.
    const fresh = await startEuca(join(dir, "euca-huge"));
    const rc = readFileSync(join(dir, "euca-huge", "credentials", "admin", "eucarc"), "utf8");
    const fv = (n) => new RegExp(`^export ${n}='([^']*)'`, "m").exec(rc)[1];
    const h = await hugeObject(
      fresh.url,
      { accessKeyId: fv("AWS_ACCESS_KEY_ID"), secretAccessKey: fv("AWS_SECRET_ACCESS_KEY") },
      fresh.child.pid,
    );
    console.log(
      `5 GiB object (fresh server): PUT ${fmt(h.putMBs)} MB/s, GET ${fmt(h.getMBs)} MB/s, server RSS at most ${fmt(h.maxRss)} MB while streaming (goal < 150 MB; ${fmt(h.putRss)} MB during the PUT, ${fmt(h.getRss)} MB during the GET)`,
    );
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
  const servers = [
    {
      name: "euca",
      url: euca.url,
      creds: { accessKeyId: v("AWS_ACCESS_KEY_ID"), secretAccessKey: v("AWS_SECRET_ACCESS_KEY") },
    },
  ];
  const peer = args.has("--skip-rgw") ? undefined : await startRgw(join(dir, "rgw"));
  if (peer) servers.push({ name: "RGW", url: peer.url, creds: peer.creds });
  const onlyLarge = args.has("--only-large");
  /** Per server, per round: { small, large }; per round: the disk's limits. */
  const runs = new Map(servers.map((s) => [s.name, []]));
  const disks = [];
  console.log(
    `euca S3 (walrus) benchmark, ${CONCURRENCY} concurrent @aws-sdk/client-s3 clients, node ${process.version}, ${ROUNDS} rounds`,
  );
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      // Which server goes first alternates, so neither always meets a disk still writing back the other's bytes.
      const order = r % 2 ? servers : [...servers].reverse();
      const got = new Map();
      for (const s of order)
        got.set(s.name, { small: onlyLarge ? undefined : await smallLoad(s.url, s.creds, `small-${r}`) });
      for (const s of order) got.get(s.name).large = await largeLoad(s.url, s.creds, `large-${r}`);
      for (const s of servers) runs.get(s.name).push(got.get(s.name));
      disks.push(await fileLimit(join(dir, "plain")));
      const d = disks.at(-1);
      for (const s of servers) {
        const { small, large } = got.get(s.name);
        console.log(
          `round ${r} ${s.name}: ${small ? `4 KiB PUT ${fmt(small.putOps, 0)} ops/s (p50 ${fmt(pct(small.putLat, 50))} ms, p99 ${fmt(pct(small.putLat, 99))} ms), GET ${fmt(small.getOps, 0)} ops/s (p50 ${fmt(pct(small.getLat, 50))} ms, p99 ${fmt(pct(small.getLat, 99))} ms), DELETE ${fmt(small.delOps, 0)} ops/s; ` : ""}64 MiB PUT ${fmt(large.putMBs)} MB/s (p50 ${fmt(pct(large.putLat, 50), 0)} ms), GET ${fmt(large.getMBs)} MB/s (p50 ${fmt(pct(large.getLat, 50), 0)} ms)`,
        );
      }
      console.log(
        `round ${r} disk: write+fsync ${fmt(d.writeMBs)} MB/s one file at a time, ${fmt(d.parallelWriteMBs)} MB/s with ${CONCURRENCY} writers; read ${fmt(d.readMBs)} MB/s; 4 KiB files with fsync ${fmt(d.smallOps, 0)} ops/s`,
      );
    }
  } finally {
    peer?.stop();
  }
  const tcp = await tcpLimit();
  const figures = [
    ["4 KiB PUT", "ops/s", (x) => x.small?.putOps],
    ["4 KiB GET", "ops/s", (x) => x.small?.getOps],
    ["4 KiB DELETE", "ops/s", (x) => x.small?.delOps],
    ["64 MiB PUT", "MB/s", (x) => x.large.putMBs],
    ["64 MiB GET", "MB/s", (x) => x.large.getMBs],
  ].filter(([, , f]) => f(runs.get("euca")[0]) !== undefined);
  const e = runs.get("euca");
  const rgw = runs.get("RGW");
  console.log(`medians of ${ROUNDS} rounds:`);
  for (const [name, unit, f] of figures) {
    const mine = median(e.map(f));
    if (!rgw) {
      console.log(`  ${name}: euca ${fmt(mine, unit === "ops/s" ? 0 : 1)} ${unit}`);
      continue;
    }
    // The ratio of each round (both measured minutes apart), then their median.
    const ratios = e.map((x, i) => f(x) / f(rgw[i]));
    console.log(
      `  ${name}: euca ${fmt(mine, unit === "ops/s" ? 0 : 1)} ${unit}, RGW ${fmt(median(rgw.map(f)), unit === "ops/s" ? 0 : 1)} ${unit}; euca / RGW ${fmt(median(ratios), 2)}x (rounds: ${ratios.map((x) => fmt(x, 2)).join(", ")}; goal >= 1.2x)`,
    );
  }
  const write = median(disks.map((d) => d.writeMBs));
  const putLimit = Math.min(write, tcp);
  const putShares = e.map((x, i) => (100 * x.large.putMBs) / Math.min(disks[i].writeMBs, tcp));
  console.log(
    `  disk: write+fsync ${fmt(write)} MB/s one file at a time (rounds: ${disks.map((d) => fmt(d.writeMBs, 0)).join(", ")}), ${fmt(median(disks.map((d) => d.parallelWriteMBs)))} MB/s with ${CONCURRENCY} writers; loopback TCP (${CONCURRENCY} streams) ${fmt(tcp)} MB/s`,
  );
  console.log(
    `  64 MiB PUT: ${fmt(median(putShares))}% of the disk's write+fsync limit of its round (rounds: ${putShares.map((x) => `${fmt(x, 0)}%`).join(", ")}; goal >= 80%); ${fmt((100 * median(e.map((x) => x.large.putMBs))) / putLimit)}% of the median limit ${fmt(putLimit)} MB/s`,
  );
  console.log(`server peak RSS after these loads: ${fmt(peakRss(euca.child.pid))} MB`);

  if (!onlyLarge && !args.has("--skip-moto")) {
    try {
      const moto = await startMoto();
      const m = await smallLoad(moto.url, { accessKeyId: "testing", secretAccessKey: "testing" }, "small");
      moto.child.kill("SIGTERM");
      const mine = { put: median(e.map((x) => x.small.putOps)), get: median(e.map((x) => x.small.getOps)) };
      console.log(
        `moto_server peer, small ${SMALL.count} x 4 KiB: PUT ${fmt(m.putOps, 0)} ops/s, GET ${fmt(m.getOps, 0)} ops/s`,
      );
      console.log(
        `euca (median) / moto: PUT ${fmt(mine.put / m.putOps, 2)}x, GET ${fmt(mine.get / m.getOps, 2)}x (goal >= 3x)`,
      );
    } catch (err) {
      console.log(`moto_server peer not measured: ${err.message}`);
    }
  }
  euca.child.kill("SIGTERM");
}
