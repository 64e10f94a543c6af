#!/usr/bin/env node
// bench/failures: what a node failure costs, with the built euca in network namespaces
// (head with CLC, Walrus, CC and SC; node n1 with QEMU/TCG; node n2 fake; an outside host;
// MANAGED). Root only; nothing leaves the machine. Prints figures; asserts nothing.
//  1. detection: `kill -9` of the NC running a guest → the CC's `down` (euca admin node
//     list) and the API's `impaired` (DescribeInstanceStatus), against the configured
//     NODE_DOWN_SECONDS and INSTANCE_REACHABILITY_SECONDS and the poll interval;
//  2. interruption: a 10/s ping from outside to the guest's elastic address while its NC
//     is restarted (SIGTERM, start), and while it is away 30 s (kill -9) — goal: 0 lost;
//  3. live migration: `euca admin node drain` of a TCG guest with 256 MiB RAM (c1.medium)
//     and a 1 GiB root (256 MiB of it written): total time, the guest's pause as QEMU and
//     the CC count it, and as a 10/s ping from outside sees it (goal: downtime < 500 ms).
//   node bench/failures.mjs [--down 10] [--reachability 20] [--poll 1]
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DOWN = arg("down", 10),
  REACH = arg("reachability", 20),
  POLL = arg("poll", 1);
if (process.getuid() !== 0) {
  console.error("bench/failures: run as root (it makes network namespaces)");
  process.exit(1);
}
const guestScript = join(root, "scripts/test-guest.sh");

// The tests' namespace cloud, bundled from test/support (it is TypeScript).
const bundled = join(root, "node_modules", ".cache", `euca-bench-failures-${process.pid}.mjs`);
await build({
  stdin: {
    contents: `export * from "./test/support/managed-cloud.ts"; export { testGuest, qemuPid, GUEST_DIR } from "./test/support/guest.ts"; export { BUNDLE } from "./test/support/process.ts"; export { run } from "./test/support/exec.ts";`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: bundled,
  logLevel: "error",
  packages: "external",
  define: {
    __dirname: JSON.stringify(join(root, "test/support")),
    "import.meta.url": JSON.stringify(`file://${join(root, "test/support/process.ts")}`),
  },
});
const m = await import(bundled);
rmSync(bundled, { force: true });
process.env.EUCA_TEST_TMP ??= "/tmp";
if (!m.testGuest()) {
  const r = spawnSync("sh", [guestScript, m.GUEST_DIR], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the test guest: ${r.stderr}`);
}
const guest = m.testGuest();
const s = (t0) => ((Date.now() - t0) / 1000).toFixed(1);
// busybox's ping (Debian's minimal images have no iputils): "seq=N" per answer and a summary.
const PING = ["ping", "-i", "0.1", "-W", "1"];
const pingFigures = (out) => {
  const [, tx = 0, rx = 0] = /(\d+) packets transmitted, (\d+) packets received/.exec(out) ?? [];
  const seqs = [...out.matchAll(/seq=(\d+)/g)].map((x) => Number(x[1]));
  const longestGap = seqs.reduce((gap, q, i) => Math.max(gap, i ? q - seqs[i - 1] - 1 : q), 0);
  return { tx: Number(tx), lost: tx - rx, longestGap };
};

const c = await m.startManagedCloud(
  "ebf",
  [
    { name: "n1", hypervisor: "qemu" },
    { name: "n2", hypervisor: "qemu" },
  ],
  {
    headArgs: [
      "--node-poll-seconds",
      String(POLL),
      "--node-down-seconds",
      String(DOWN),
      "--instance-reachability-seconds",
      String(REACH),
    ],
  },
);
try {
  const emi = await c.importImage([
    guest.root,
    "--kernel",
    guest.vmlinux,
    "--ramdisk",
    guest.initrd,
    "--name",
    "bench-failures",
  ]);
  await c.ec2(
    "authorize-security-group-ingress",
    "--group-name",
    "default",
    "--protocol",
    "icmp",
    "--port",
    "-1",
    "--cidr",
    "198.51.100.0/24",
  );
  const { instance } = await m.runGuest(c, emi);
  const elastic = (await c.ec2("allocate-address")).PublicIp;
  await c.ec2("associate-address", "--instance-id", instance.InstanceId, "--public-ip", elastic);
  await m.until(
    async () => (await c.inNs("out", "busybox", ["ping", "-c", "1", "-W", "1", elastic])).status === 0,
    30_000,
  );
  const nodeState = async () => {
    const r = await m.run(process.execPath, [m.BUNDLE, "admin", "node", "list", "--data-dir", join(c.dir, "head")], {
      timeoutMs: 30_000,
    });
    return /^n1\s+\S+\s+(\S+)/m.exec(r.stdout)?.[1];
  };
  const status = async () =>
    (await c.ec2("describe-instance-status", "--instance-ids", instance.InstanceId)).InstanceStatuses[0].SystemStatus
      .Status;

  // 1. detection
  await c.kill("n1", "SIGKILL");
  const t0 = Date.now();
  let down, impaired;
  while (!down || !impaired) {
    if (!down && (await nodeState()) === "down") down = s(t0);
    if (!impaired && (await status()) === "impaired") impaired = s(t0);
    await new Promise((r) => setTimeout(r, 200));
  }
  await c.start("n1");
  const back = Date.now();
  await m.until(async () => (await status()) === "ok", 120_000);
  console.log(
    `detection (poll ${POLL} s): node down after ${down} s (NODE_DOWN_SECONDS ${DOWN}); instance impaired after ${impaired} s (INSTANCE_REACHABILITY_SECONDS ${REACH}); ok again ${s(back)} s after the NC restarted`,
  );

  // 2. interruption
  const pinged = async (during) => {
    const p = c.nss.spawn("out", "busybox", [...PING, elastic]);
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    await new Promise((r) => setTimeout(r, 2_000));
    await during();
    await new Promise((r) => setTimeout(r, 2_000));
    p.kill("SIGINT");
    await new Promise((r) => p.on("exit", r));
    const f = pingFigures(out);
    return `${f.tx} sent, ${f.lost} lost (longest run without an answer: ${f.longestGap})`;
  };
  const restart = await pinged(() => c.restart("n1", "SIGTERM"));
  const away = await pinged(async () => {
    await c.kill("n1", "SIGKILL");
    await new Promise((r) => setTimeout(r, 30_000));
    await c.start("n1");
  });
  console.log(
    `interruption (10/s ping from outside to the elastic address): NC restart (SIGTERM, start) ${restart}; NC killed and away 30 s ${away}`,
  );
  await c.ec2("terminate-instances", "--instance-ids", instance.InstanceId);

  // 3. live migration
  const big = join(c.dir, "root-1g.ext4");
  spawnSync("sh", [
    "-c",
    `cp ${guest.root} ${big} && truncate -s 1G ${big} && dd if=/dev/urandom of=${big} bs=1M seek=512 count=256 conv=notrunc status=none`,
  ]);
  const emi1g = await c.importImage([
    big,
    "--kernel",
    guest.vmlinux,
    "--ramdisk",
    guest.initrd,
    "--name",
    "bench-migration",
  ]);
  const moving = (await c.ec2("run-instances", "--image-id", emi1g, "--instance-type", "c1.medium")).Instances[0];
  await m.until(
    async () =>
      ((await c.ec2("get-console-output", "--instance-id", moving.InstanceId)).Output ?? "").includes(
        "EUCA-GUEST-READY",
      ),
    180_000,
  );
  const eip = (await c.ec2("allocate-address")).PublicIp;
  await c.ec2("associate-address", "--instance-id", moving.InstanceId, "--public-ip", eip);
  await m.until(async () => (await c.inNs("out", "busybox", ["ping", "-c", "1", "-W", "1", eip])).status === 0, 30_000);
  const p = c.nss.spawn("out", "busybox", [...PING, eip]);
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  await new Promise((r) => setTimeout(r, 2_000));
  // Drain the node it landed on (the namespace its QEMU runs in).
  const ns = spawnSync("ip", ["netns", "identify", String(m.qemuPid(moving.InstanceId))], {
    encoding: "utf8",
  }).stdout.trim();
  const from = ["n1", "n2"].find((n) => c.nss.name(n) === ns);
  const drained = await m.run(
    process.execPath,
    [m.BUNDLE, "admin", "node", "drain", from, "--data-dir", join(c.dir, "head")],
    { timeoutMs: 900_000 },
  );
  await new Promise((r) => setTimeout(r, 2_000));
  p.kill("SIGINT");
  await new Promise((r) => p.on("exit", r));
  const row = new RegExp(`^${moving.InstanceId}\\s+${from}\\s+(\\S+)\\s+(\\S+)\\s+(.*)$`, "m").exec(drained.stdout);
  const { lost: missed, longestGap } = pingFigures(out);
  console.log(
    `live migration (TCG, 256 MiB RAM, 1 GiB root with 256 MiB written, over the namespaces' veths): ${row ? `${row[2]} to ${row[1]}: ${row[3]}` : `drain failed: ${drained.stderr || drained.stdout}`}; ping from outside: ${missed} of 10/s unanswered, longest run ${longestGap} (≈ ${longestGap * 100} ms without an answer)`,
  );
} finally {
  m.dropManagedCloud(c);
}
