#!/usr/bin/env node
// bench/startup: exec → ready time and idle RSS of `euca run --role all` (the built
// dist/euca.mjs). Prints figures; asserts nothing. Goals: ready < 1 s, RSS < 120 MB.
//   node bench/startup.mjs [runs=10]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bundle = fileURLToPath(new URL("../dist/euca.mjs", import.meta.url));
const runs = Number(process.argv[2] ?? 10);

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

function once(dataDir) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
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
        "--log-level",
        "warn",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", async (d) => {
      out += d;
      const m = /^euca ready: .* heartbeat=(\S+)/m.exec(out);
      if (!m || child.readyMs !== undefined) return;
      child.readyMs = Number(process.hrtime.bigint() - started) / 1e6;
      const hb = await fetch(m[1]);
      await new Promise((r) => setTimeout(r, 1000)); // idle a moment, then measure
      const rss = rssOf(child.pid);
      child.kill("SIGTERM");
      child.on("exit", () => resolve({ readyMs: child.readyMs, rssMb: rss, heartbeat: hb.status }));
    });
    child.on("error", reject);
  });
}

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

const dir = mkdtempSync(join(tmpdir(), "euca-bench-"));
try {
  const first = await once(join(dir, "first"));
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(await once(join(dir, "first")));
  const ready = warm.map((r) => r.readyMs);
  const rss = warm.map((r) => r.rssMb);
  console.log(`euca startup (${runs} warm runs, node ${process.version})`);
  console.log(
    `  first start (init: CA, admin key pair, databases): ready ${first.readyMs.toFixed(0)} ms, idle RSS ${first.rssMb.toFixed(1)} MB`,
  );
  console.log(
    `  warm start: ready p50 ${pct(ready, 50).toFixed(0)} ms, p99 ${pct(ready, 99).toFixed(0)} ms, min ${Math.min(...ready).toFixed(0)} ms   (goal < 1000 ms)`,
  );
  console.log(
    `  idle RSS:   p50 ${pct(rss, 50).toFixed(1)} MB, max ${Math.max(...rss).toFixed(1)} MB   (goal < 120 MB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
