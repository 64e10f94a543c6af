#!/usr/bin/env node
// bench/ebs-instances: EBS-backed instances on this machine, in one run (the built bundle,
// QEMU under TCG, the tiny test guest; asserts nothing).
//  1. Launch to running, and to the guest's "ready" line on its console, of an EBS-backed
//     image (root volume restored from a 1 GiB snapshot holding 300 MiB) against the same
//     disk as an instance-store image (its bundle fetched and decrypted into the node's cache
//     on the first launch, copied from it after).
//  2. Stop → Start round trip (forced stop: the test guest has no ACPI daemon), to running
//     and to the guest's ready line.
//  3. CreateImage of a stopped instance whose root changed 50 MiB since its image: time,
//     and bytes its snapshot sent to Walrus against the bytes changed.
// Goals: EBS launch within 1.5× instance-store launch; Stop→Start < 10 s plus the guest's own
// boot; CreateImage sends ≤ 1.2× the changed data.
//   node bench/ebs-instances.mjs [runs=3]
import { spawn, execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import {
  EC2Client,
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const RUNS = Number(process.argv[2] ?? 3);
const MiB = 1024 * 1024;
const G = process.env.EUCA_TEST_GUEST ?? "/var/tmp/euca-test-guest";
execFileSync("sh", [fileURLToPath(new URL("../scripts/test-guest.sh", import.meta.url)), G], { stdio: "inherit" });
const root = mkdtempSync(join(tmpdir(), "euca-bench-ebs-inst-"));
let child;
process.on("exit", () => {
  child?.kill("SIGKILL");
  try {
    execFileSync("pkill", ["-KILL", "-f", "--", `qemu-system-x86_64 .*${root}/`]);
  } catch {
    /* nothing was left running */
  }
  rmSync(root, { recursive: true, force: true });
});
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => (ms / 1000).toFixed(1);
const until = async (ok, ms = 600_000) => {
  const end = now() + ms;
  while (!(await ok())) {
    if (now() > end) throw new Error("timed out");
    await sleep(50);
  }
};

// The disk: the test guest's root filesystem, then 268 MiB of random data (300 MiB held in 1 GiB).
const disk = join(root, "disk.raw");
execFileSync("cp", [join(G, "root.ext4"), disk]);
execFileSync("truncate", ["-s", "1G", disk]);
{
  const fd = openSync(disk, "r+");
  for (let at = 32 * MiB; at < 300 * MiB; at += 4 * MiB) writeSync(fd, randomBytes(4 * MiB), 0, 4 * MiB, at);
  closeSync(fd);
}

const dataDir = join(root, "cloud");
child = spawn(
  process.execPath,
  [bundle, "run", "--data-dir", dataDir, "--ec2-port", "0", "--s3-port", "0", "--web-port", "0"].concat([
    "--hypervisor",
    "qemu",
    "--qemu-accel",
    "tcg",
    "--node-poll-seconds",
    "0.2",
    "--log-level",
    "warn",
  ]),
  { stdio: ["ignore", "pipe", "inherit"] },
);
const ec2Url = await new Promise((resolve) => {
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    const m = /^euca ready: .* ec2=(\S+)/m.exec(out);
    if (m) resolve(m[1]);
  });
});
const credDir = join(dataDir, "credentials", "admin");
const rc = readFileSync(join(credDir, "eucarc"), "utf8");
const vars = Object.fromEntries(
  [...rc.matchAll(/^export (\w+)=['"]?([^'"\n]*)/gm)].map((m) => [m[1], m[2].replace("${EUCA_KEY_DIR}", credDir)]),
);
const ec2 = new EC2Client({
  endpoint: ec2Url,
  region: "eucalyptus",
  credentials: { accessKeyId: vars.EC2_ACCESS_KEY, secretAccessKey: vars.EC2_SECRET_KEY },
  maxAttempts: 1,
});
const env = { ...process.env, ...vars };
const imp = (...flags) =>
  execFileSync(
    process.execPath,
    [bundle, "image", "import", disk, "--kernel", join(G, "vmlinux"), "--ramdisk", join(G, "initrd.cpio.gz"), ...flags],
    { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
let t = now();
const ebsEmi = /IMAGE\t(\S+)/.exec(imp("--ebs", "--name", "bench-ebs"))[1];
const importMs = now() - t;
t = now();
const storeEmi = /IMAGE\t(\S+)/.exec(imp("--name", "bench-store"))[1];
const bundleMs = now() - t;

const instance = async (id) =>
  (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations[0].Instances[0];
const ready = async (id) => {
  const out = (await ec2.send(new GetConsoleOutputCommand({ InstanceId: id }))).Output ?? "";
  return Buffer.from(out, "base64").toString().includes("EUCA-GUEST-READY");
};
/** Launch → running → the guest's ready line, in ms. */
async function launch(emi) {
  const t0 = now();
  const id = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances[0]
    .InstanceId;
  await until(async () => (await instance(id)).State.Name === "running");
  const running = now() - t0;
  await until(() => ready(id));
  return { id, running, ready: now() - t0 };
}
const terminate = async (id) => {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await until(async () => (await instance(id)).State.Name === "terminated");
};

const ebs = [];
const store = [];
for (let i = 0; i < RUNS; i++) {
  const a = await launch(storeEmi);
  store.push(a);
  await terminate(a.id);
  const b = await launch(ebsEmi);
  ebs.push(b);
  if (i < RUNS - 1) await terminate(b.id);
}
const keep = ebs[ebs.length - 1].id;

// 2. Stop → Start.
const rounds = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = now();
  await ec2.send(new StopInstancesCommand({ InstanceIds: [keep], Force: true }));
  await until(async () => (await instance(keep)).State.Name === "stopped");
  const stopped = now() - t0;
  const t1 = now();
  await ec2.send(new StartInstancesCommand({ InstanceIds: [keep] }));
  await until(async () => (await instance(keep)).State.Name === "running");
  const running = now() - t1;
  await until(() => ready(keep));
  rounds.push({ stopped, running, ready: now() - t1 });
}

// 3. CreateImage after 50 MiB changed on the (stopped) root.
await ec2.send(new StopInstancesCommand({ InstanceIds: [keep], Force: true }));
await until(async () => (await instance(keep)).State.Name === "stopped");
const rootVol = (await instance(keep)).BlockDeviceMappings.find((m) => m.DeviceName === "/dev/sda1").Ebs.VolumeId;
{
  const fd = openSync(join(dataDir, "volumes", `${rootVol}.img`), "r+");
  for (let at = 400 * MiB; at < 450 * MiB; at += 5 * MiB) writeSync(fd, randomBytes(5 * MiB), 0, 5 * MiB, at);
  closeSync(fd);
}
t = now();
const made = (await ec2.send(new CreateImageCommand({ InstanceId: keep, Name: "bench-made" }))).ImageId;
await until(
  async () => (await ec2.send(new DescribeImagesCommand({ ImageIds: [made] }))).Images[0].State === "available",
);
const createMs = now() - t;
const snapId = (await ec2.send(new DescribeImagesCommand({ ImageIds: [made] }))).Images[0].BlockDeviceMappings.find(
  (m) => m.DeviceName === "/dev/sda1",
).Ebs.SnapshotId;
const db = new Database(join(dataDir, "sc.db"), { readonly: true });
const sent = db.prepare("SELECT uploaded_bytes AS sent FROM snapshots WHERE id = ?").get(snapId).sent;
db.close();

const med = (xs, k) => median(xs.map((x) => x[k]));
console.log(`euca EBS-backed instances (${RUNS} runs; node ${process.version}; QEMU TCG, the test guest, one host)`);
console.log(
  `  image from a 1 GiB disk holding 300 MiB: --ebs import ${s(importMs)} s; instance-store bundle, upload, register ${s(bundleMs)} s`,
);
console.log(
  `  launch → running: EBS-backed p50 ${s(med(ebs, "running"))} s (first, before the SC has a local copy of the snapshot: ${s(ebs[0].running)} s), instance-store p50 ${s(med(store, "running"))} s (first, cold cache: ${s(store[0].running)} s) — ${(med(ebs, "running") / med(store, "running")).toFixed(2)}× (goal ≤ 1.5×)`,
);
console.log(
  `  launch → guest ready: EBS-backed p50 ${s(med(ebs, "ready"))} s, instance-store p50 ${s(med(store, "ready"))} s — ${(med(ebs, "ready") / med(store, "ready")).toFixed(2)}×`,
);
console.log(
  `  stop (forced) p50 ${med(rounds, "stopped").toFixed(0)} ms; start → running p50 ${s(med(rounds, "running"))} s, → guest ready p50 ${s(med(rounds, "ready"))} s (goal: < 10 s plus the guest's boot)`,
);
console.log(
  `  CreateImage of a stopped instance, 50 MiB changed: ${s(createMs)} s to available, ${(sent / MiB).toFixed(1)} MiB sent (${(sent / (50 * MiB)).toFixed(2)}× changed; goal ≤ 1.2×)`,
);
process.exit(0);
