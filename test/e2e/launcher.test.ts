/** bin/euca, what users run: it picks euca's Node.js, sets what glibc and V8 need, and runs the bundle. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../support/exec";
import { BUNDLE } from "../support/process";

const LAUNCHER = fileURLToPath(new URL("../../bin/euca", import.meta.url));

describe("bin/euca", () => {
  it("runs the bundle with V8's young generation capped and glibc's mmap threshold fixed", async () => {
    const r = await run(LAUNCHER, ["--help"], { env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Usage: euca");
  });

  it("with EUCA_NODE=system runs the node on PATH, with the flags and environment it needs", async () => {
    // A `node` first on PATH that records how it was started, then runs the tests' own runtime.
    const dir = mkdtempSync(join(tmpdir(), "euca-launcher-"));
    try {
      writeFileSync(
        join(dir, "node"),
        `#!/bin/sh\necho "$MALLOC_MMAP_THRESHOLD_ $*" > ${dir}/started\nexec ${process.execPath} "$@"\n`,
        { mode: 0o755 },
      );
      const r = await run(LAUNCHER, ["--version"], {
        env: { PATH: `${dir}:${process.env.PATH}`, EUCA_NODE: "system" },
        timeoutMs: 30_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
      expect(readFileSync(join(dir, "started"), "utf8").trim()).toBe(
        `131072 --max-semi-space-size=1 ${BUNDLE} --version`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
