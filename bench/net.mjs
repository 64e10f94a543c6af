#!/usr/bin/env node
// bench/net: the MANAGED network at scale and end to end. Root only (it makes its own
// network namespaces and removes them; nothing leaves the machine). Prints figures;
// asserts nothing.
//  1. render: 1,000 groups x 10 rules, 10,000 instances on 100 nodes, 1,000 elastic
//     addresses — the gateway's host network and every node's;
//  2. apply: `nft -f` of the largest rulesets (all 10,000 guests and 1,000 groups on one
//     node, the worst case; a typical node of 100 guests; the gateway's 1,000 elastic
//     maps) in a scratch namespace, first and again (a replace), and a rule change;
//     the gateway's links for 100 segments;
//  3. end to end with the built euca (head + 2 nodes in namespaces, fake hypervisor):
//     AuthorizeSecurityGroupIngress until the rule is in force on both nodes, p50/p99;
//     and a CC killed and restarted until its network is reconciled.
//   node bench/net.mjs [--skip-e2e]
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = new Set(process.argv.slice(2));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();
const sh = (cmd, input) => {
  const r = spawnSync("sh", ["-c", cmd], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
};

if (process.getuid() !== 0) {
  console.error("bench/net: run as root (it makes network namespaces)");
  process.exit(1);
}

// The renderers and the executor, bundled from the sources (they are pure TypeScript).
const work = mkdtempSync(join(tmpdir(), "euca-bench-net-"));
chmodSync(work, 0o755);
const entry = join(work, "entry.ts");
writeFileSync(
  entry,
  `export * from ${JSON.stringify(join(root, "src/net/managed.ts"))};
export * from ${JSON.stringify(join(root, "src/net/executor.ts"))};
export * from ${JSON.stringify(join(root, "src/net/nft/names.ts"))};
export { runProgram } from ${JSON.stringify(join(root, "src/common/run-command.ts"))};
export { nodeViewsOf } from ${JSON.stringify(join(root, "src/roles/cc/cluster-view.ts"))};`,
);
// Inside the project, so the bundle's imports of packages resolve to its node_modules.
const bundled = join(root, "node_modules", ".cache", `euca-bench-net-${process.pid}.mjs`);
await build({
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: bundled,
  logLevel: "error",
  packages: "external",
});
const net = await import(bundled);
rmSync(bundled, { force: true });

// ---- 1. render ----
const GROUPS = 1000,
  RULES = 10,
  NODES = 100,
  PER_NODE = 100,
  ELASTIC = 1000;
const hex = (n, w = 8) => n.toString(16).padStart(w, "0");
const group = (g) => `sg-${hex(g)}`;
const rules = {};
for (let g = 0; g < GROUPS; g++) {
  const rs = [];
  for (let r = 0; r < RULES; r++) {
    if (r < 5) rs.push({ protocol: "tcp", fromPort: 1000 + r, toPort: 1000 + r, cidr: `10.${r}.${g % 256}.0/24` });
    else if (r < 8)
      rs.push({ protocol: r === 7 ? "udp" : "tcp", fromPort: 2000 + r * 10, toPort: 2009 + r * 10, cidr: "0.0.0.0/0" });
    else rs.push({ protocol: "tcp", fromPort: 22, toPort: 22, sourceGroupId: group((g + r) % GROUPS) });
  }
  rules[group(g)] = rs;
}
const segments = [];
for (let g = 0; g < GROUPS; g++) {
  const base = (g + 1) * 64; // networks of 64 in a /16: 1,000 fit
  const ip = (o) => `10.128.${(base + o) >> 8}.${(base + o) & 255}`;
  segments.push({ vlan: g + 11, cidr: `${ip(0)}/26`, gateway: ip(1), ip });
}
const instances = [];
for (let i = 0; i < NODES * PER_NODE; i++) {
  const g = i % GROUPS;
  const slot = Math.floor(i / GROUPS) + 2;
  instances.push({
    instanceId: `i-${hex(i)}`,
    node: `n${Math.floor(i / PER_NODE)}`,
    mac: `d0:0d:${hex(i).match(/../g).join(":")}`,
    ip: segments[g].ip(slot),
    hostname: `euca-${i}`,
    vlan: g + 11,
    groupIds: [group(g)],
    ...(i < ELASTIC ? { publicIp: `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` } : {}),
  });
}
const nodes = Object.fromEntries(
  Array.from({ length: NODES }, (_, n) => [`n${n}`, `192.168.${100 + (n >> 8)}.${(n & 255) + 2}`]),
);
const view = {
  mode: "MANAGED",
  privateRange: "10.128.0.0/16",
  segments: segments.map(({ ip: _ip, ...s }) => s),
  instances,
  rules,
  nodes,
  gateway: { underlay: "192.168.99.1", publicDev: "pub0", metadata: { ip: "192.168.99.1", port: 8773 } },
  vxlan: { port: 4789, mtu: 1450, novlanVni: 1 },
  dhcp: { leaseSeconds: 3600, user: "nobody", group: "nogroup" },
};
const tap = (id) => `eu${id.slice(2)}`;

console.log(
  `bench/net: ${GROUPS} groups x ${RULES} rules, ${instances.length} instances on ${NODES} nodes, ${ELASTIC} elastic addresses`,
);
let t = now();
const gw = net.renderGatewayHost(view);
console.log(
  `render  gateway host network                 ${ms(t).toFixed(1)} ms  (${gw.links.length} links, ${gw.addresses.length} addresses, ${gw.dhcp.hosts.length} leases)`,
);
t = now();
const views = net.nodeViewsOf(view, Object.keys(nodes));
const sent = [...views.values()].reduce((n, x) => n + JSON.stringify(x).length, 0);
console.log(
  `render  the CC's part for each of ${NODES} nodes        ${ms(t).toFixed(1)} ms  (${(sent / 1e6).toFixed(1)} MB of views, as sent)`,
);
t = now();
const parts = Object.keys(nodes).map((n) => net.renderNodeHost(views.get(n), n, tap));
console.log(`render  a node's host network from its part     ${(ms(t) / NODES).toFixed(2)} ms each`);
const worstView = { ...view, instances: instances.map((i) => ({ ...i, node: "n0" })) };
t = now();
const worst = net.renderNodeHost(worstView, "n0", tap);
const worstScript = net.replaceScript(worst.tables);
console.log(
  `render  one node with all ${instances.length} guests      ${ms(t).toFixed(1)} ms  (${worstScript.split("\n").length} lines of nft)`,
);

// ---- 2. apply ----
const NS = `eubench${process.pid}`;
const inNs = (cmd) => `ip netns exec ${NS} ${cmd}`;
sh(`ip netns add ${NS}`);
const nftApply = (script) => {
  const t0 = now();
  sh(inNs("nft -f -"), script);
  return ms(t0);
};
try {
  const a1 = nftApply(worstScript);
  const a2 = nftApply(worstScript);
  console.log(
    `apply   nft -f, ${GROUPS} groups x ${RULES} rules, ${instances.length} guests   first ${a1.toFixed(0)} ms, replace ${a2.toFixed(0)} ms`,
  );
  const typical = net.replaceScript(parts[0].tables);
  const t1 = nftApply(typical),
    t2 = nftApply(typical);
  console.log(
    `apply   nft -f, a node of ${PER_NODE} guests              first ${t1.toFixed(1)} ms, replace ${t2.toFixed(1)} ms`,
  );
  // A rule change on a typical node: render its part again and replace its tables.
  const times = [];
  for (let k = 0; k < 50; k++) {
    const changed = {
      ...view,
      rules: {
        ...rules,
        [group(0)]: [
          ...rules[group(0)],
          { protocol: "tcp", fromPort: 30000 + k, toPort: 30000 + k, cidr: "0.0.0.0/0" },
        ],
      },
    };
    const t0 = now();
    sh(inNs("nft -f -"), net.replaceScript(net.renderNodeHost(changed, "n0", tap).tables));
    times.push(ms(t0));
  }
  console.log(
    `apply   a rule change on a node (render + nft)   p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms`,
  );
  sh(inNs("nft flush ruleset"));
  const g1 = nftApply(net.replaceScript(gw.tables));
  const g2 = nftApply(net.replaceScript(gw.tables));
  console.log(
    `apply   nft -f, the gateway's ${ELASTIC} elastic maps     first ${g1.toFixed(1)} ms, replace ${g2.toFixed(1)} ms`,
  );
  sh(inNs("nft flush ruleset"));

  // The gateway's links for 100 segments, through the executor (every command a process).
  sh(`ip -n ${NS} link add pub0 type dummy 2>/dev/null || ip -n ${NS} link add pub0 type bridge`);
  sh(`ip -n ${NS} addr add 192.168.99.1/24 dev lo`);
  const small = {
    ...view,
    segments: view.segments.slice(0, 100),
    instances: instances.filter((i) => i.vlan < 111).map(({ publicIp: _p, ...i }) => i),
  };
  const log = { info() {}, warn() {}, error() {} };
  const run = (cmd, a, o) => net.runProgram("ip", ["netns", "exec", NS, cmd, ...a], o);
  const ex = net.createNetworkExecutor({ run, dir: join(work, "state"), dhcpDir: join(work, "dhcp"), log });
  const host = net.renderGatewayHost(small);
  t = now();
  let r = await ex.apply({ ...host, dhcp: undefined });
  console.log(
    `apply   gateway, 100 segments from nothing       ${ms(t).toFixed(0)} ms  (${r.commands} commands, ${r.linksAdded.length} links)`,
  );
  t = now();
  r = await ex.apply({ ...host, dhcp: undefined });
  console.log(`apply   gateway, the same again (a reconcile)    ${ms(t).toFixed(0)} ms  (${r.commands} commands)`);
  t = now();
  await ex.teardown();
  console.log(`apply   gateway teardown                         ${ms(t).toFixed(0)} ms`);
} finally {
  sh(`ip netns pids ${NS} | xargs -r kill -9; ip netns del ${NS}`);
}

const CLIENT = `
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire("__ROOT__/package.json");
const { EC2Client, CreateSecurityGroupCommand, AuthorizeSecurityGroupIngressCommand, RunInstancesCommand, DescribeInstancesCommand } = require("@aws-sdk/client-ec2");
const [ec2Url, headDir, bundle, n1, n2] = process.argv.slice(2);
const rc = Object.fromEntries([...readFileSync(headDir + "/credentials/admin/eucarc", "utf8").matchAll(/^export (\\w+)=['"]?([^'"\\n]*)/gm)].map((m) => [m[1], m[2]]));
const env = { ...process.env, ...Object.fromEntries(Object.entries(rc).map(([k, v]) => [k, v.replace("\${EUCA_KEY_DIR}", headDir + "/credentials/admin")])) };
const ec2 = new EC2Client({ endpoint: ec2Url, region: "eucalyptus", credentials: { accessKeyId: rc.EC2_ACCESS_KEY, secretAccessKey: rc.EC2_SECRET_KEY }, maxAttempts: 1 });
spawnSync("dd", ["if=/dev/urandom", "of=/tmp/euca-bench-net.img", "bs=1k", "count=100"]);
const imp = spawnSync(process.execPath, [bundle, "image", "import", "/tmp/euca-bench-net.img", "--name", "bench"], { env, encoding: "utf8" });
const emi = /IMAGE\\t(\\S+)/.exec(imp.stdout)[1];
const GROUPS = 10;
for (let g = 0; g < GROUPS; g++) await ec2.send(new CreateSecurityGroupCommand({ GroupName: "b" + g, Description: "bench" }));
// The CC learns its nodes' capacity on its first poll of them.
const launch = async (g) => {
  for (let i = 0; ; i++) {
    try {
      return await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 2, MaxCount: 2, SecurityGroups: ["b" + g] }));
    } catch (e) {
      if (e.name !== "InsufficientInstanceCapacity" || i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
};
for (let g = 0; g < GROUPS; g++) await launch(g);
const nft = (ns) => spawnSync("ip", ["netns", "exec", ns, "nft", "list", "table", "inet", "euca_node"], { encoding: "utf8" }).stdout;
const times = [];
let missing = 0;
for (let k = 0; k < 60; k++) {
  const port = 20000 + k;
  const t0 = process.hrtime.bigint();
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "b" + (k % GROUPS), IpProtocol: "tcp", FromPort: port, ToPort: port, CidrIp: "0.0.0.0/0" }));
  // In force on every node with a member when the call returns (both nodes hold every group here).
  for (const ns of [n1, n2]) if (!nft(ns).includes("tcp dport " + port + " accept")) missing++;
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
console.log("e2e     AuthorizeSecurityGroupIngress to in force on both nodes (60 calls, 20 instances, 10 groups): p50 " + pct(times, 50).toFixed(0) + " ms, p99 " + pct(times, 99).toFixed(0) + " ms; not yet in force at the answer: " + missing);
`;

// ---- 3. end to end ----
if (!args.has("--skip-e2e")) await endToEnd();
rmSync(work, { recursive: true, force: true });

async function endToEnd() {
  const bundle = join(root, "dist/euca.mjs");
  const P = `eub${process.pid % 10000}`;
  const name = (n) => `${P}${n}`;
  const procs = [];
  const start = (ns, argv) =>
    new Promise((resolve, reject) => {
      const child = spawn("ip", ["netns", "exec", name(ns), process.execPath, bundle, ...argv], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      procs.push(child);
      let out = "";
      child.stderr.on("data", (d) => (out += d)); // the log
      child.stdout.on("data", (d) => {
        out += d;
        const m = /^euca ready: .* ec2=(\S+)/m.exec(out);
        if (m) resolve({ child, ec2: m[1], out: () => out });
      });
      child.on("exit", (c) => reject(new Error(`euca exited ${c}: ${out}`)));
    });
  const dir = join(work, "e2e");
  try {
    for (const n of ["lan", "head", "n1", "n2"]) sh(`ip netns add ${name(n)} && ip -n ${name(n)} link set lo up`);
    sh(`ip -n ${name("lan")} link add lan0 type bridge && ip -n ${name("lan")} link set lan0 up`);
    [
      ["head", 1],
      ["n1", 2],
      ["n2", 3],
    ].forEach(([n, i]) =>
      sh(
        `ip -n ${name("lan")} link add l-${n} type veth peer name eth0 netns ${name(n)} && ip -n ${name("lan")} link set l-${n} master lan0 up && ip -n ${name(n)} addr add 192.168.50.${i}/24 dev eth0 && ip -n ${name(n)} link set eth0 up && ip -n ${name(n)} link add pub0 type bridge && ip -n ${name(n)} link set pub0 up`,
      ),
    );
    const headArgs = [
      "run",
      "--role",
      "clc,walrus,cc",
      "--data-dir",
      join(dir, "head"),
      "--host",
      "192.168.50.1",
      "--vnet-mode",
      "MANAGED",
      "--vnet-pub-interface",
      "pub0",
      "--public-ips",
      "198.51.100.50-198.51.100.99",
      "--hypervisor",
      "fake",
      "--node-poll-seconds",
      "0.5",
      "--log-level",
      "info",
    ];
    let head = await start("head", headArgs);
    for (const [n, i] of [
      ["n1", 2],
      ["n2", 3],
    ]) {
      await start(n, [
        "run",
        "--role",
        "nc",
        "--data-dir",
        join(dir, n),
        "--host",
        `192.168.50.${i}`,
        "--vnet-mode",
        "MANAGED",
        "--hypervisor",
        "fake",
        "--max-cores",
        "64",
        "--max-mem",
        "65536",
        "--max-disk",
        "1000",
        "--walrus-url",
        new URL(head.ec2).origin,
      ]);
      sh(
        `${process.execPath} ${bundle} admin node register ${n} --url http://192.168.50.${i}:8775 --out ${join(dir, `${n}.key`)} --data-dir ${join(dir, "head")} >/dev/null`,
      );
      sh(
        `${process.execPath} ${bundle} admin component-key install ${join(dir, `${n}.key`)} --data-dir ${join(dir, n)} >/dev/null`,
      );
    }
    // The client runs inside the head's namespace (the API is not reachable from the host's).
    const client = join(work, "client.mjs");
    writeFileSync(client, CLIENT.replace("__ROOT__", root));
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        name("head"),
        process.execPath,
        client,
        head.ec2,
        join(dir, "head"),
        bundle,
        name("n1"),
        name("n2"),
      ],
      { encoding: "utf8", cwd: root, timeout: 600_000 },
    );
    process.stdout.write(r.stdout);
    if (r.status !== 0) throw new Error(r.stderr);

    // A CC killed and restarted: from its start to "network reconciled".
    head.child.kill("SIGKILL");
    await new Promise((res) => head.child.once("exit", res));
    const t0 = now();
    head = await start("head", headArgs);
    const readyMs = ms(t0);
    for (let i = 0; i < 200 && !/cc: network reconciled/.test(head.out()); i++)
      await new Promise((res) => setTimeout(res, 25));
    const line = head
      .out()
      .split("\n")
      .find((l) => l.includes("cc: network reconciled"));
    console.log(
      `e2e     CC restart: ready ${readyMs.toFixed(0)} ms after start; network reconciled ${line ? JSON.parse(line).ms : "?"} ms after that`,
    );
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    for (const n of ["lan", "head", "n1", "n2"])
      spawnSync("sh", ["-c", `ip netns pids ${name(n)} | xargs -r kill -9; ip netns del ${name(n)}`]);
  }
}
