#!/usr/bin/env node
// bench/boot: RunInstances → the guest's first console line ("EUCA-GUEST-BOOTED", printed by
// its init) for the tiny test image already in the node's cache, against a bare
// qemu-system-x86_64 boot of the same kernel, initrd and root filesystem in the same run.
// Prints both and the difference (euca's overhead; goal < 300 ms), and the first launch
// (download from Walrus, decrypt, cache) separately. TCG, one guest at a time. Asserts nothing.
//   node bench/boot.mjs [runs=5]
import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EC2Client, RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const RUNS = Number(process.argv[2] ?? 5);
const MARKER = "EUCA-GUEST-BOOTED";
const G = process.env.EUCA_TEST_GUEST ?? "/var/tmp/euca-test-guest";
execFileSync("sh", [fileURLToPath(new URL("../scripts/test-guest.sh", import.meta.url)), G], { stdio: "inherit" });

const root = mkdtempSync(join(tmpdir(), "euca-boot-"));
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
  try {
    execFileSync("pkill", ["-KILL", "-f", "--", `qemu-system-x86_64 .*${root}/`]);
  } catch {
    // nothing was left running
  }
  rmSync(root, { recursive: true, force: true });
});
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The guest's own uptime when it printed the marker (its init prints `up=`). */
const upOf = (file) => Number(/EUCA-GUEST-BOOTED up=([\d.]+)/.exec(readFileSync(file, "latin1"))?.[1] ?? NaN) * 1000;

/** Polls a file every 5 ms until it contains MARKER; the time it did. */
async function markerIn(file, limitMs = 60_000) {
  const start = now();
  while (now() - start < limitMs) {
    if (existsSync(file) && readFileSync(file, "latin1").includes(MARKER)) {
      markerIn.up = upOf(file);
      return now();
    }
    await sleep(5);
  }
  throw new Error(`no ${MARKER} in ${file}`);
}

// ---- bare QEMU: the same kernel, initrd, disks (root + two blank), NIC and memory as euca's guest ----
async function bare(i) {
  const dir = join(root, `bare-${i}`);
  execFileSync("mkdir", ["-p", dir]);
  copyFileSync(join(G, "root.ext4"), join(dir, "root"));
  for (const f of ["ephemeral", "swap"]) execFileSync("truncate", ["-s", "512M", join(dir, f)]);
  const consoleFile = join(dir, "console.log");
  const t0 = now();
  const q = spawn(
    "qemu-system-x86_64",
    [
      "-name",
      `bare-${i}`,
      "-nodefaults",
      "-no-user-config",
      "-accel",
      "tcg",
      "-cpu",
      "max",
      "-m",
      "128",
      "-smp",
      "1",
      "-display",
      "none",
      "-monitor",
      "none",
      "-serial",
      `file:${consoleFile}`,
      "-netdev",
      "user,id=net0,restrict=on,net=169.254.169.0/24,host=169.254.169.2,dhcpstart=169.254.169.15",
      "-device",
      "virtio-net-pci,netdev=net0",
      "-kernel",
      join(G, "vmlinux"),
      "-initrd",
      join(G, "initrd.cpio.gz"),
      "-append",
      "root=/dev/vda console=ttyS0",
      ...["root", "ephemeral", "swap"].flatMap((f, k) => [
        "-drive",
        `file=${join(dir, f)},format=raw,if=none,id=disk${k}`,
        "-device",
        `virtio-blk-pci,drive=disk${k}`,
      ]),
    ],
    { stdio: "ignore" },
  );
  children.push(q);
  const t1 = await markerIn(consoleFile);
  q.kill("SIGKILL");
  await new Promise((r) => q.once("exit", r));
  return { ms: t1 - t0, up: markerIn.up };
}

// ---- euca --------------------------------------------------------------------------------------
const dataDir = join(root, "euca");
const euca = spawn(
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
    "qemu",
    "--qemu-accel",
    "tcg",
    "--log-level",
    "warn",
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
children.push(euca);
const ec2Url = await new Promise((resolve) => {
  let out = "";
  euca.stdout.on("data", (d) => {
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
  { env: { ...process.env, ...vars }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
);
const emi = /IMAGE\t(emi-\S+)/.exec(imported)[1];
const ec2 = new EC2Client({
  endpoint: ec2Url,
  region: "eucalyptus",
  credentials: { accessKeyId: vars.EC2_ACCESS_KEY, secretAccessKey: vars.EC2_SECRET_KEY },
  maxAttempts: 1,
});

function consoleOf(id) {
  const base = join(dataDir, "instances");
  for (const account of existsSync(base) ? readdirSync(base) : []) {
    const f = join(base, account, id, "console.log");
    if (existsSync(join(base, account, id))) return f;
  }
  return undefined;
}

async function launch() {
  const t0 = now();
  const id = (
    await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, InstanceType: "m1.small" }))
  ).Instances[0].InstanceId;
  const accepted = now();
  let file;
  while (!(file = consoleOf(id))) await sleep(5);
  const t1 = await markerIn(file);
  const up = markerIn.up;
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  return { ms: t1 - t0, apiMs: accepted - t0, up };
}

const first = await launch();
const ours = [];
const theirs = [];
for (let i = 0; i < RUNS; i++) {
  theirs.push(await bare(i));
  ours.push(await launch());
}
const o = pct(
  ours.map((r) => r.ms),
  50,
);
const b = pct(
  theirs.map((r) => r.ms),
  50,
);
console.log(
  `euca boot (${RUNS} runs each, alternating; TCG, 128 MB, PVH vmlinux + initramfs + ext4 root; node ${process.version})`,
);
console.log(`  first launch (Walrus → decrypt → node cache → disks → boot): ${first.ms.toFixed(0)} ms to ${MARKER}`);
console.log(
  `  cached image, RunInstances → ${MARKER}: p50 ${o.toFixed(0)} ms (RunInstances answered in p50 ${pct(
    ours.map((r) => r.apiMs),
    50,
  ).toFixed(0)} ms; guest uptime at the marker p50 ${pct(
    ours.map((r) => r.up),
    50,
  ).toFixed(0)} ms)`,
);
console.log(
  `  bare qemu-system-x86_64, exec → ${MARKER}: p50 ${b.toFixed(0)} ms (guest uptime at the marker p50 ${pct(
    theirs.map((r) => r.up),
    50,
  ).toFixed(0)} ms)`,
);
console.log(`  euca overhead: ${(o - b).toFixed(0)} ms   (goal < 300 ms)`);
process.exit(0);
