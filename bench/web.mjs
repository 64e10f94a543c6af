#!/usr/bin/env node
// bench/web: the web interface on the built euca (one process, --role all, simulated
// nodes). Prints: time to first byte of the instances page for a user with 1,000
// instances and of the admin's dashboard in a cloud of 10,000 instances (p50/p99), and
// the compressed size of the scripts and styles each page loads. Asserts nothing.
// Goals (web issue): p50 < 100 ms for both pages; < 150 KB of scripts and styles per page.
//   node bench/web.mjs [--nodes 100] [--instances 10000] [--user-instances 1000]
import { spawn, execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const NODES = arg("nodes", 100);
const TOTAL = arg("instances", 10_000);
const USER = arg("user-instances", 1000);
const SAMPLES = Number(process.env.SAMPLES ?? 30);
const BATCH = 100;

const root = mkdtempSync(join(tmpdir(), "euca-webbench-"));
let child;
process.on("exit", () => {
  child?.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});
process.on("SIGINT", () => process.exit(130));

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const hmac = (k, v) => createHmac("sha256", k).update(v).digest();

// ---- the cloud ----------------------------------------------------------------------
const dir = join(root, "cloud");
const out = await new Promise((resolve, reject) => {
  child = spawn(
    process.execPath,
    [
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
      String(NODES),
      "--max-mem",
      "65536",
      "--max-cores",
      "512",
      "--max-disk",
      "100000",
      "--vnet-addrs-per-net",
      "16384",
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let text = "";
  let err = "";
  child.stdout.on("data", (d) => {
    text += d;
    if (/^euca ready: /m.test(text)) resolve(text);
  });
  child.stderr.on("data", (d) => (err += d));
  child.on("exit", (c) => reject(new Error(`euca exited ${c}: ${err}`)));
});
const ec2 = /^euca ready: .* ec2=(\S+)/m.exec(out)[1];
const web = /web interface at (\S+)/.exec(out)[1];
const adminPassword = /first web password .*: (\S+)$/m.exec(out)[1];
const ca = readFileSync(join(dir, "keys", "cloud-cert.pem"), "utf8");
const rc = readFileSync(join(dir, "credentials", "admin", "eucarc"), "utf8");
const env = (name) => new RegExp(`^export ${name}=['"]?([^'"\\n]*)`, "m").exec(rc)[1];
const admin = { access: env("EC2_ACCESS_KEY"), secret: env("EC2_SECRET_KEY") };

/** A SigV4-signed EC2 Query POST. */
async function query(creds, params) {
  const u = new URL(ec2);
  const body = new URLSearchParams({ Version: "2016-11-15", ...params }).toString();
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
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
    createHash("sha256").update(body).digest("hex"),
  ].join("\n");
  const scope = `${day}/eucalyptus/ec2/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secret}`, day), "eucalyptus"), "ec2"), "aws4_request");
  const authorization = `AWS4-HMAC-SHA256 Credential=${creds.access}/${scope}, SignedHeaders=${names.join(";")}, Signature=${hmac(key, toSign).toString("hex")}`;
  const res = await fetch(ec2, { method: "POST", headers: { ...headers, authorization }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${params.Action} ${res.status}: ${text.slice(0, 400)}`);
  return text;
}

/** A browser of the web interface: cookies, the page's CSRF token, time to first byte. */
function browser() {
  const cookies = new Map();
  const go = (method, path, form, headers = {}) =>
    new Promise((resolve, reject) => {
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const h = {
        ...headers,
        ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        ...(cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {}),
      };
      const sent = process.hrtime.bigint();
      const req = request(new URL(path, web), { method, headers: h, ca }, (res) => {
        const ttfb = Number(process.hrtime.bigint() - sent) / 1e6;
        for (const c of [].concat(res.headers["set-cookie"] ?? [])) {
          const [pair] = c.split(";");
          const i = pair.indexOf("=");
          if (/max-age=0/i.test(c)) cookies.delete(pair.slice(0, i));
          else cookies.set(pair.slice(0, i), pair.slice(i + 1));
        }
        const parts = [];
        res.on("data", (b) => parts.push(b));
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            location: res.headers.location,
            body: Buffer.concat(parts),
            ttfb,
            total: Number(process.hrtime.bigint() - sent) / 1e6,
          }),
        );
      });
      req.on("error", reject);
      req.end(body);
    });
  const csrf = async (path) => /name="_csrf" value="([^"]+)"/.exec((await go("GET", path)).body.toString())[1];
  return {
    go,
    post: async (path, form, from = path) => go("POST", path, { _csrf: await csrf(from), ...form }),
    async login(name, password) {
      return go("POST", "/login", { _csrf: await csrf("/login"), userName: name, password, next: "/" });
    },
  };
}

const adminWeb = browser();
await adminWeb.login("admin", adminPassword);
await adminWeb.post("/password", {
  current: adminPassword,
  password: "bench-admin-pass",
  password2: "bench-admin-pass",
});
const added = (
  await adminWeb.post("/admin/users/add", { userName: "alice", fullName: "Alice" }, "/admin/users")
).body.toString();
const temp = /<code>([^<]+)<\/code>/.exec(added)[1];
const aliceWeb = browser();
await aliceWeb.login("alice", temp);
await aliceWeb.post("/password", { current: temp, password: "bench-alice-pass", password2: "bench-alice-pass" });
const keyPage = (await aliceWeb.post("/credentials/keys/create", {}, "/credentials")).body.toString();
const codes = [...keyPage.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]);
const alice = { access: codes[0], secret: codes[1] };

// A small public image, run by both.
const img = join(root, "tiny.img");
writeFileSync(img, randomBytes(4096));
const eucaEnv = {
  ...process.env,
  ...Object.fromEntries(
    [...rc.matchAll(/^export (\w+)=['"]?([^'"\n]*)/gm)].map((m) => [
      m[1],
      m[2].replace("${EUCA_KEY_DIR}", join(dir, "credentials", "admin")),
    ]),
  ),
};
const emi = /IMAGE\t(\S+)/.exec(
  execFileSync(process.execPath, [bundle, "image", "import", img, "--name", "tiny"], {
    env: eucaEnv,
    encoding: "utf8",
  }),
)[1];
await query(admin, { Action: "ModifyImageAttribute", ImageId: emi, "LaunchPermission.Add.1.Group": "all" });

async function launch(creds, n) {
  const calls = [];
  for (let done = 0; done < n; done += BATCH) calls.push(String(Math.min(BATCH, n - done)));
  for (let i = 0; i < calls.length; i += 4) {
    await Promise.all(
      calls.slice(i, i + 4).map((size) =>
        query(creds, {
          Action: "RunInstances",
          ImageId: emi,
          MinCount: size,
          MaxCount: size,
          InstanceType: "m1.small",
          AddressingType: "private",
        }),
      ),
    );
  }
}
const t0 = Date.now();
await launch(alice, USER);
await launch(admin, TOTAL - USER);
console.log(
  `euca web (node ${process.version}): ${TOTAL} instances on ${NODES} simulated nodes (${USER} of them alice's) launched in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);

/** As a browser asks (gzip): first byte, the whole page, and its size on the wire. */
async function sample(b, path) {
  const gz = { "accept-encoding": "gzip" };
  await b.go("GET", path, undefined, gz); // warm-up
  const xs = [];
  const totals = [];
  let size = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const r = await b.go("GET", path, undefined, gz);
    if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    xs.push(r.ttfb);
    totals.push(r.total);
    size = r.body.length;
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99), total: pct(totals, 50), size };
}

/** The scripts and styles a page loads, as a browser gets them (gzip). */
async function assets(b, path) {
  const html = (await b.go("GET", path)).body.toString();
  const refs = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
  let bytes = 0;
  for (const ref of refs) bytes += (await b.go("GET", ref, undefined, { "accept-encoding": "gzip" })).body.length;
  return { bytes, refs };
}

for (const [who, b, path, label] of [
  ["alice", aliceWeb, "/instances", `instances page, a user with ${USER} instances`],
  ["admin", adminWeb, "/", `admin's dashboard, ${TOTAL}-instance cloud`],
  ["admin", adminWeb, "/admin/clusters", `admin's clusters page (${NODES} nodes, chart)`],
]) {
  const s = await sample(b, path);
  const a = await assets(b, path);
  console.log(
    `  ${label}: first byte p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms (goal p50 < 100 ms); whole page p50 ${s.total.toFixed(1)} ms, ${(s.size / 1024).toFixed(0)} KiB gzip; scripts+styles ${(a.bytes / 1024).toFixed(1)} KB gzip (${a.refs.join(", ")}; goal < 150 KB) [${who}]`,
  );
}
process.exit(0);
