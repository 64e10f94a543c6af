#!/usr/bin/env node
// bench/ebs: EBS on this machine, in one run (euca on the built bundle; asserts nothing).
//  1. A 1 GiB volume with 100 MiB written: the first snapshot's time and bytes sent to Walrus,
//     against a full copy of the volume to Walrus (Eucalyptus 1.6's method: the whole file PUT)
//     and against this disk's write limit (100 MiB written with fsync).
//  2. A second snapshot after 10 MiB changed: time and bytes sent.
//  3. Restore (CreateVolume --snapshot-id until available): throughput against the write limit.
//  4. AttachVolume → the guest's kernel names the disk (TCG test guest), against a bare QMP
//     hot-plug (blockdev-add + device_add) of the same file into a bare QEMU.
// Goals: first snapshot ≤ 1.1× written, second ≤ 1.2× changed, restore ≥ 70% of the write limit,
// attach overhead < 100 ms over bare QMP.
//   node bench/ebs.mjs [attach-runs=5]
import { spawn, execFileSync } from "node:child_process";
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
  closeSync,
  fsyncSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import {
  EC2Client,
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { S3Client, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const RUNS = Number(process.argv[2] ?? 5);
const MiB = 1024 * 1024;
const G = process.env.EUCA_TEST_GUEST ?? "/var/tmp/euca-test-guest";
execFileSync("sh", [fileURLToPath(new URL("../scripts/test-guest.sh", import.meta.url)), G], { stdio: "inherit" });
const root = mkdtempSync(join(tmpdir(), "euca-bench-ebs-"));
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  try {
    execFileSync("pkill", ["-KILL", "-f", "--", `qemu-system-x86_64 .*${root}/`]);
  } catch {
    /* nothing was left running */
  }
  rmSync(root, { recursive: true, force: true });
});
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const mb = (bytes) => (bytes / MiB).toFixed(1);

async function startEuca(name, hypervisor) {
  const dataDir = join(root, name);
  const p = spawn(
    process.execPath,
    [
      bundle,
      "run",
      "--data-dir",
      dataDir,
      "--ec2-port",
      "0",
      "--s3-port",
      "0",
      "--web-port",
      "0",
      "--hypervisor",
      hypervisor,
      "--qemu-accel",
      "tcg",
      "--node-poll-seconds",
      "0.2",
      "--log-level",
      "warn",
      "--sc-max-volume-gb",
      "4",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(p);
  const urls = await new Promise((resolve) => {
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      const m = /^euca ready: .* ec2=(\S+) s3=(\S+)/m.exec(out);
      if (m) resolve({ ec2: m[1], s3: m[2] });
    });
  });
  const credDir = join(dataDir, "credentials", "admin");
  const rc = readFileSync(join(credDir, "eucarc"), "utf8");
  const vars = Object.fromEntries(
    [...rc.matchAll(/^export (\w+)=['"]?([^'"\n]*)/gm)].map((m) => [m[1], m[2].replace("${EUCA_KEY_DIR}", credDir)]),
  );
  const credentials = { accessKeyId: vars.EC2_ACCESS_KEY, secretAccessKey: vars.EC2_SECRET_KEY };
  return {
    dataDir,
    vars,
    ec2: new EC2Client({ endpoint: urls.ec2, region: "eucalyptus", credentials, maxAttempts: 1 }),
    s3: new S3Client({ endpoint: urls.s3, region: "us-east-1", credentials, forcePathStyle: true }),
  };
}
const until = async (ok, ms = 600_000) => {
  const end = now() + ms;
  while (!(await ok())) {
    if (now() > end) throw new Error("timed out");
    await sleep(20);
  }
};
const volState = async (e, id) => (await e.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes[0].State;
async function newVolume(e, o) {
  const id = (await e.ec2.send(new CreateVolumeCommand({ AvailabilityZone: "cluster1", ...o }))).VolumeId;
  await until(async () => (await volState(e, id)) === "available");
  return id;
}
function writeAt(file, offset, data, sync = false) {
  const fd = openSync(file, "r+");
  writeSync(fd, data, 0, data.length, offset);
  if (sync) fsyncSync(fd);
  closeSync(fd);
}
async function snapshot(e, vol) {
  const t0 = now();
  const id = (await e.ec2.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId;
  await until(
    async () =>
      (await e.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots[0].State === "completed",
  );
  const db = new Database(join(e.dataDir, "sc.db"), { readonly: true });
  const r = db.prepare("SELECT uploaded_bytes AS sent, chunks FROM snapshots WHERE id = ?").get(id);
  db.close();
  return { id, ms: now() - t0, ...r };
}

// ---- 1-3: snapshots and restores (fake hypervisor: the volume's file is written as a guest would) ----
const e = await startEuca("snap", "fake");
const vol = await newVolume(e, { Size: 1 });
const file = join(e.dataDir, "volumes", `${vol}.img`);
const written = randomBytes(100 * MiB);
// The write limit: 100 MiB with fsync into a fresh file, median of three (one is noisy: the page cache).
const writes = [];
for (let i = 0; i < 3; i++) {
  const f = join(e.dataDir, `write-limit-${i}`);
  execFileSync("truncate", ["-s", "0", f]);
  const t0 = now();
  writeAt(f, 0, written, true);
  writes.push(now() - t0);
  rmSync(f);
}
const writeMs = pct(writes, 50);
const writeLimit = (100 * MiB) / (writeMs / 1000);
writeAt(file, 0, written, true);
let t = now();
void t;
const s1 = await snapshot(e, vol);
await e.s3.send(new CreateBucketCommand({ Bucket: "full-copies" }));
t = now();
await e.s3.send(
  new PutObjectCommand({
    Bucket: "full-copies",
    Key: vol,
    Body: createReadStream(file),
    ContentLength: statSync(file).size,
  }),
);
const fullMs = now() - t;
writeAt(file, 50 * MiB, randomBytes(10 * MiB));
const s2 = await snapshot(e, vol);
const restores = [];
for (let i = 0; i < 3; i++) {
  t = now();
  await newVolume(e, { SnapshotId: s2.id });
  restores.push(now() - t);
}
const restoreMs = pct(restores, 50);
const restoreRate = (100 * MiB) / (restoreMs / 1000);

console.log(
  `euca EBS (one run; node ${process.version}; raw sparse volumes, Walrus in the same process, 512 KiB chunks, 4 uploads at a time)`,
);
console.log(`  disk write limit: 100 MiB with fsync in p50 ${writeMs.toFixed(0)} ms of 3 = ${mb(writeLimit)} MiB/s`);
console.log(
  `  first snapshot of 1 GiB holding 100 MiB: ${s1.ms.toFixed(0)} ms, ${mb(s1.sent)} MiB sent (${(s1.sent / (100 * MiB)).toFixed(2)}× written; goal ≤ 1.1×), ${s1.chunks} chunks`,
);
console.log(
  `  full copy to Walrus (Eucalyptus 1.6): ${fullMs.toFixed(0)} ms, ${mb(statSync(file).size)} MiB sent (${(fullMs / s1.ms).toFixed(1)}× the snapshot's time)`,
);
console.log(
  `  second snapshot after 10 MiB changed: ${s2.ms.toFixed(0)} ms, ${mb(s2.sent)} MiB sent (${(s2.sent / (10 * MiB)).toFixed(2)}× changed; goal ≤ 1.2×)`,
);
console.log(
  `  restore (CreateVolume --snapshot-id → available, p50 of 3): ${restoreMs.toFixed(0)} ms = ${mb(restoreRate)} MiB/s of data (${((restoreRate / writeLimit) * 100).toFixed(0)}% of the write limit; goal ≥ 70%)`,
);

// ---- 4: attach to a real guest, against a bare QMP hot-plug ----
/** Waits until the console file says the kernel found a disk named `vdX` after `from` bytes. */
async function diskSeen(consoleFile, from) {
  await until(
    () =>
      existsSync(consoleFile) &&
      /\[vd[b-z]\] \d+ 512-byte logical blocks/.test(readFileSync(consoleFile, "latin1").slice(from)),
    30_000,
  );
  return now();
}
async function qmp(sock, cmds) {
  const c = createConnection(sock);
  let buf = "";
  const lines = [];
  c.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  await until(() => lines.length > 0, 5000);
  for (const cmd of [{ execute: "qmp_capabilities" }, ...cmds]) {
    const n = lines.filter((l) => "return" in l || "error" in l).length;
    c.write(JSON.stringify(cmd) + "\n");
    await until(() => lines.filter((l) => "return" in l || "error" in l).length > n, 5000);
  }
  c.destroy();
}
const bareDir = join(root, "bare");
execFileSync("mkdir", ["-p", bareDir]);
execFileSync("cp", [join(G, "root.ext4"), join(bareDir, "root")]);
const bareConsole = join(bareDir, "console.log");
const bare = spawn(
  "qemu-system-x86_64",
  [
    "-nodefaults",
    "-no-user-config",
    "-accel",
    "tcg",
    "-cpu",
    "max",
    "-m",
    "128",
    "-display",
    "none",
    "-serial",
    `file:${bareConsole}`,
    "-qmp",
    `unix:${join(bareDir, "qmp.sock")},server=on,wait=off`,
    "-kernel",
    join(G, "vmlinux"),
    "-initrd",
    join(G, "initrd.cpio.gz"),
    "-append",
    "root=/dev/vda console=ttyS0",
    "-drive",
    `file=${join(bareDir, "root")},format=raw,if=none,id=d0`,
    "-device",
    "virtio-blk-pci,drive=d0",
    "-netdev",
    "user,id=n0,restrict=on",
    "-device",
    "virtio-net-pci,netdev=n0",
  ],
  { stdio: "ignore" },
);
children.push(bare);
await until(() => existsSync(bareConsole) && readFileSync(bareConsole, "latin1").includes("EUCA-GUEST-READY"), 120_000);
const bareMs = [];
for (let i = 0; i < RUNS; i++) {
  const f = join(bareDir, `v${i}.img`);
  execFileSync("truncate", ["-s", "1G", f]);
  const from = statSync(bareConsole).size;
  const t0 = now();
  await qmp(join(bareDir, "qmp.sock"), [
    {
      execute: "blockdev-add",
      arguments: { driver: "raw", "node-name": `n${i}`, file: { driver: "file", filename: f, aio: "threads" } },
    },
    {
      execute: "device_add",
      arguments: { driver: "virtio-blk-pci", id: `d${i}`, drive: `n${i}`, serial: `vol-bench${i}` },
    },
  ]);
  bareMs.push((await diskSeen(bareConsole, from)) - t0);
  await qmp(join(bareDir, "qmp.sock"), [{ execute: "device_del", arguments: { id: `d${i}` } }]);
  await sleep(1000);
}

const q = await startEuca("attach", "qemu");
const imported = execFileSync(
  process.execPath,
  [
    bundle,
    "image",
    "import",
    join(G, "root.ext4"),
    "--kernel",
    join(G, "vmlinux"),
    "--ramdisk",
    join(G, "initrd.cpio.gz"),
    "--name",
    "tiny",
  ],
  { env: { ...process.env, ...q.vars }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
);
const emi = /IMAGE\t(emi-\S+)/.exec(imported)[1];
const inst = (
  await q.ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, InstanceType: "m1.small" }))
).Instances[0].InstanceId;
const consoleOf = () => {
  const base = join(q.dataDir, "instances");
  for (const a of existsSync(base) ? readdirSync(base) : [])
    if (existsSync(join(base, a, inst))) return join(base, a, inst, "console.log");
  return join(base, "none");
};
await until(() => existsSync(consoleOf()) && readFileSync(consoleOf(), "latin1").includes("EUCA-GUEST-READY"), 180_000);
const eucaMs = [];
for (let i = 0; i < RUNS; i++) {
  const v = await newVolume(q, { Size: 1 });
  const from = statSync(consoleOf()).size;
  const t0 = now();
  await q.ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: inst, Device: "/dev/sdf" }));
  eucaMs.push((await diskSeen(consoleOf(), from)) - t0);
  await q.ec2.send(new DetachVolumeCommand({ VolumeId: v }));
}
const oe = pct(eucaMs, 50);
const ob = pct(bareMs, 50);
console.log(
  `  attach → the guest's kernel names the disk (${RUNS} runs each, TCG): AttachVolume p50 ${oe.toFixed(0)} ms; bare QMP hot-plug p50 ${ob.toFixed(0)} ms; overhead ${(oe - ob).toFixed(0)} ms (goal < 100 ms)`,
);
process.exit(0);
