/**
 * The systemd units shipped in packaging/systemd: `systemd-analyze verify` accepts them,
 * and `euca run` under a (fake) NOTIFY_SOCKET says READY=1 once it serves, naming itself
 * as the main process, and STOPPING=1 at SIGTERM; under JOURNAL_STREAM each log line
 * carries its syslog priority for journald.
 */
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { tempDir } from "../support/cloud";
import { startEuca } from "../support/process";
import { until } from "../support/until";
import { journalLines } from "../../src/common/logger";

const UNITS = resolve(__dirname, "..", "..", "packaging", "systemd");
const LAUNCHER = resolve(__dirname, "..", "..", "bin", "euca");
const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

describe.runIf(hasAnalyze || process.env.CI === "true")("systemd units", () => {
  it("systemd-analyze verify accepts euca@.service (as an instance) and euca.target", () => {
    const dir = tempDir();
    // The units as shipped, but for ExecStart's path: /usr/bin/euca is where a package puts the launcher, not this checkout.
    const unit = readFileSync(join(UNITS, "euca@.service"), "utf8");
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/euca run --config \/etc\/euca\/%i\.conf$/m);
    expect(unit).toMatch(/^KillMode=process$/m);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=/m); // V8's JIT
    writeFileSync(join(dir, "euca@head.service"), unit.replace("/usr/bin/euca", LAUNCHER));
    copyFileSync(join(UNITS, "euca.target"), join(dir, "euca.target"));
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", "euca@head.service", "euca.target"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("readiness and journald", () => {
  it("euca run tells a NOTIFY_SOCKET it is ready once it serves, as the main process, and that it stops at SIGTERM", async () => {
    const dir = tempDir();
    const socket = join(dir, "notify");
    const listener = spawn("/usr/bin/python3", [join(__dirname, "..", "support", "notify-socket.py"), socket]);
    let heard = "";
    listener.stdout.on("data", (d) => (heard += d));
    try {
      await until(() => heard.includes("listening"), { what: "the fake notify socket" });
      const p = await startEuca(
        ["run", "--role", "all", "--data-dir", join(dir, "data"), "--ec2-port", "0", "--s3-port", "0"],
        {
          NOTIFY_SOCKET: socket,
        },
      );
      await until(() => heard.includes("READY=1"), { what: "READY=1" });
      expect(heard).toContain(`MAINPID=${p.child.pid}`);
      expect(heard).toMatch(/STATUS=serving: roles clc,cc,nc,walrus,sc/);
      p.child.kill("SIGTERM");
      await p.exited;
      await until(() => heard.includes("STOPPING=1"), { what: "STOPPING=1" });
    } finally {
      listener.kill();
    }
  });

  it("under JOURNAL_STREAM each line starts with its syslog priority", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d) => (text += d));
    const lines = journalLines(out);
    for (const [level, msg] of [
      [30, "info"],
      [40, "warn"],
      [50, "error"],
      [20, "debug"],
    ] as const)
      await new Promise<void>((r) => lines.write(`{"level":${level},"msg":"${msg}"}\n`, () => r()));
    expect(text.split("\n").filter(Boolean)).toEqual([
      '<6>{"level":30,"msg":"info"}',
      '<4>{"level":40,"msg":"warn"}',
      '<3>{"level":50,"msg":"error"}',
      '<7>{"level":20,"msg":"debug"}',
    ]);
  });
});
