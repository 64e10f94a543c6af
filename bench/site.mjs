#!/usr/bin/env node
// bench/site: a site on the built euca, each role set its own process on loopback: the head
// (CLC, Walrus), and two clusters side by side — one joined by token (`euca join`: mutual
// TLS between hosts), one registered with keys (`cluster register` / `node register` /
// `component-key install`: signed HTTP) — each a cluster process (CC, SC) and a node
// process (fake hypervisor). Prints:
//   join time: from `euca join` of a node to its first instance running;
//   internal-call cost: p50/p99 of 1,000 GetConsoleOutput the CLC's way, CLC → CC → NC
//   (two hops), over mutual TLS against signed HTTP, and the ratio (goal ≤ 1.2×);
//   `euca doctor` run time on the joined node (goal < 2 s).
// Asserts nothing. Loopback, not namespaces: the same TLS and signatures, no root needed.
//   node bench/site.mjs [calls=1000]
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const CALLS = Number(process.argv[2] ?? 1000);
const root = mkdtempSync(join(tmpdir(), "euca-bench-site-"));
const procs = [];
const env = { ...process.env, EUCA_WEB_PORT: "0", EUCA_INTERNAL_PORT: "0", EUCA_LOG_LEVEL: "warn" };

// The role clients, bundled from the sources for this run (the CLI bundle exports nothing).
// Written under node_modules/.cache so its imports resolve to this checkout's packages.
const lib = fileURLToPath(new URL("../node_modules/.cache/euca-bench/site-lib.mjs", import.meta.url));
writeFileSync(
  join(root, "entry.ts"),
  `export { createHttpClient } from ${JSON.stringify(fileURLToPath(new URL("../src/rpc/http-client.ts", import.meta.url)))};
export { loadHostTls } from ${JSON.stringify(fileURLToPath(new URL("../src/rpc/host-tls.ts", import.meta.url)))};
export { dataDirLayout } from ${JSON.stringify(fileURLToPath(new URL("../src/common/data-dir.ts", import.meta.url)))};
export { CLUSTER_METHODS } from ${JSON.stringify(fileURLToPath(new URL("../src/roles/cc/client.ts", import.meta.url)))};
export { systemClock } from ${JSON.stringify(fileURLToPath(new URL("../src/common/clock.ts", import.meta.url)))};
export { randomIds } from ${JSON.stringify(fileURLToPath(new URL("../src/common/ids.ts", import.meta.url)))};
`,
);
await build({
  entryPoints: [join(root, "entry.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: lib,
  logLevel: "error",
  packages: "external",
  define: { __EUCA_VERSION__: '"bench"' },
});
const L = await import(lib);

const euca = (...args) => execFileSync(process.execPath, [bundle, ...args], { env, encoding: "utf8" });
const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
function start(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], { env, stdio: ["ignore", "pipe", "inherit"] });
    procs.push(child);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^euca ready: (.*)$/m.exec(out);
      if (m) resolve({ child, line: m[1] });
    });
    child.on("exit", (code) => reject(new Error(`euca ${args.join(" ")} exited ${code}: ${out}`)));
  });
}
const field = (line, name) => new RegExp(`${name}=(\\S+)`).exec(line)?.[1];
const token = (out) => /euca join (euca1\.\S+)/.exec(out)[1];

try {
  const headDir = join(root, "head");
  const step = (s) => process.env.BENCH_TRACE && console.error(`bench: ${s}`);
  const head = await start([
    "run",
    "--role",
    "clc,walrus",
    "--data-dir",
    headDir,
    "--ec2-port",
    "0",
    "--s3-port",
    "0",
    "--hypervisor",
    "fake",
  ]);
  const rc = readFileSync(join(headDir, "credentials", "admin", "eucarc"), "utf8");
  const userEnv = {
    ...env,
    ...Object.fromEntries(
      [...rc.matchAll(/^export (\w+)=['"]?([^'"\n]*)/gm)].map((m) => [
        m[1],
        m[2].replace("${EUCA_KEY_DIR}", join(headDir, "credentials", "admin")),
      ]),
    ),
  };
  const ec2 = (...args) =>
    execFileSync("/usr/bin/aws", ["--endpoint-url", field(head.line, "ec2"), "--output", "json", "ec2", ...args], {
      env: {
        ...userEnv,
        AWS_ACCESS_KEY_ID: userEnv.EC2_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: userEnv.EC2_SECRET_KEY,
        AWS_DEFAULT_REGION: "eucalyptus",
        AWS_PAGER: "",
      },
      encoding: "utf8",
    });

  step("head up");
  // The joined cluster: its host joins, then a node — timed from `euca join` to its first instance running.
  const ccPort = await freePort();
  euca(
    "join",
    token(euca("admin", "cluster", "add", "joined", "--data-dir", headDir)),
    "--data-dir",
    join(root, "cc"),
    "--host",
    "127.0.0.1",
    "--cc-port",
    String(ccPort),
  );
  step("cluster joined");
  const cc = await start(["run", "--config", join(root, "cc", "euca.conf"), "--ec2-port", "0"]);
  const img = join(root, "tiny.img");
  writeFileSync(img, Buffer.alloc(4096, 1));
  const emi = /IMAGE\t(\S+)/.exec(
    execFileSync(process.execPath, [bundle, "image", "import", img, "--name", "tiny"], {
      env: userEnv,
      encoding: "utf8",
    }),
  )[1];
  const nodeToken = token(euca("admin", "node", "add", "n1", "--cluster", "joined", "--data-dir", headDir));
  const ncPort = await freePort();
  const t0 = performance.now();
  euca(
    "join",
    nodeToken,
    "--data-dir",
    join(root, "n1"),
    "--host",
    "127.0.0.1",
    "--nc-port",
    String(ncPort),
    "--hypervisor",
    "fake",
  );
  const n1 = await start(["run", "--config", join(root, "n1", "euca.conf"), "--ec2-port", "0"]);
  let joinedId;
  for (;;) {
    try {
      joinedId ??= JSON.parse(ec2("run-instances", "--image-id", emi, "--placement", "AvailabilityZone=joined"))
        .Instances[0].InstanceId;
      const state = JSON.parse(ec2("describe-instances", "--instance-ids", joinedId)).Reservations[0].Instances[0].State
        .Name;
      if (state === "running") break;
    } catch {
      // the node is not up at its CC yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const joinMs = performance.now() - t0;
  step("node joined and ran an instance");

  // The keyed cluster: registered and keyed by hand, as before joins.
  const kcPort = await freePort();
  const knPort = await freePort();
  const kc = await start([
    "run",
    "--role",
    "cc,sc",
    "--data-dir",
    join(root, "kc"),
    "--cluster-name",
    "keyed",
    "--cc-port",
    String(kcPort),
    "--ec2-port",
    "0",
    "--walrus-url",
    new URL(field(head.line, "ec2")).origin,
  ]);
  const kn = await start([
    "run",
    "--role",
    "nc",
    "--data-dir",
    join(root, "kn"),
    "--nc-port",
    String(knPort),
    "--ec2-port",
    "0",
    "--hypervisor",
    "fake",
    "--walrus-url",
    new URL(field(head.line, "ec2")).origin,
  ]);
  euca(
    "admin",
    "cluster",
    "register",
    "keyed",
    "--url",
    field(kc.line, "cc"),
    "--out",
    join(root, "keyed.key"),
    "--data-dir",
    headDir,
  );
  euca("admin", "component-key", "install", join(root, "keyed.key"), "--data-dir", join(root, "kc"));
  euca(
    "admin",
    "node",
    "register",
    "k1",
    "--url",
    field(kn.line, "nc"),
    "--out",
    join(root, "k1.key"),
    "--data-dir",
    join(root, "kc"),
  );
  euca("admin", "component-key", "install", join(root, "k1.key"), "--data-dir", join(root, "kn"));
  // As the old guide had it: the node also holds its cluster's key, the only one the head's Walrus knows.
  euca("admin", "component-key", "install", join(root, "keyed.key"), "--data-dir", join(root, "kn"));
  let keyedId;
  for (;;) {
    try {
      keyedId ??= JSON.parse(ec2("run-instances", "--image-id", emi, "--placement", "AvailabilityZone=keyed"))
        .Instances[0].InstanceId;
      if (
        JSON.parse(ec2("describe-instances", "--instance-ids", keyedId)).Reservations[0].Instances[0].State.Name ===
        "running"
      )
        break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  // CLC → CC → NC, the CLC's way: the head's certificate over TLS, the cluster's key signed.
  const common = { role: "cc", clock: L.systemClock, ids: L.randomIds };
  const viaTls = L.createHttpClient(L.CLUSTER_METHODS, {
    ...common,
    baseUrl: field(cc.line, "cc"),
    tls: L.loadHostTls(L.dataDirLayout(headDir)),
  });
  const key = JSON.parse(readFileSync(join(root, "keyed.key"), "utf8"));
  const viaKey = L.createHttpClient(L.CLUSTER_METHODS, { ...common, baseUrl: field(kc.line, "cc"), key });
  async function measure(client, id) {
    for (let i = 0; i < 50; i++) await client.getConsoleOutput({ instanceId: id }, { requestId: `warm-${i}` });
    const ms = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await client.getConsoleOutput({ instanceId: id }, { requestId: `bench-${i}` });
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)] };
  }
  // Alternate the two, twice, so neither gets the warmer machine.
  const tls1 = await measure(viaTls, joinedId);
  const key1 = await measure(viaKey, keyedId);
  const tls2 = await measure(viaTls, joinedId);
  const key2 = await measure(viaKey, keyedId);
  const tls = { p50: Math.min(tls1.p50, tls2.p50), p99: Math.min(tls1.p99, tls2.p99) };
  const signed = { p50: Math.min(key1.p50, key2.p50), p99: Math.min(key1.p99, key2.p99) };

  // euca doctor on the joined node (a process start included), median of 5.
  const doctor = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    try {
      execFileSync(
        process.execPath,
        [
          bundle,
          "doctor",
          "--config",
          join(root, "n1", "euca.conf"),
          "--ec2-port",
          field(n1.line, "heartbeat").split(":")[2].split("/")[0],
        ],
        { env, encoding: "utf8" },
      );
    } catch {
      // a WARN-free FAIL would exit 1; the time is what is measured
    }
    doctor.push(performance.now() - t);
  }
  doctor.sort((a, b) => a - b);

  const f = (n) => n.toFixed(2);
  console.log(`euca site bench (node ${process.version}), loopback, fake hypervisor, ${CALLS} calls per transport`);
  console.log(`join: euca join → the node's first instance running: ${(joinMs / 1000).toFixed(2)} s`);
  console.log(`CLC → CC → NC GetConsoleOutput, mutual TLS:  p50 ${f(tls.p50)} ms  p99 ${f(tls.p99)} ms`);
  console.log(`CLC → CC → NC GetConsoleOutput, signed HTTP: p50 ${f(signed.p50)} ms  p99 ${f(signed.p99)} ms`);
  console.log(`ratio mutual TLS / signed HTTP (p50): ${(tls.p50 / signed.p50).toFixed(2)}× (goal ≤ 1.2×)`);
  console.log(
    `euca doctor (node role, process start included): median ${(doctor[2] / 1000).toFixed(2)} s (goal < 2 s)`,
  );
} finally {
  for (const p of procs) p.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
}
