/** bin/euca, what users run: its shebang sets what glibc and node need (env -S), and it runs the bundle. */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { run } from "../support/exec";

const LAUNCHER = fileURLToPath(new URL("../../bin/euca", import.meta.url));

describe("bin/euca", () => {
  it("runs the bundle with V8's young generation capped and glibc's mmap threshold fixed", async () => {
    expect(readFileSync(LAUNCHER, "utf8").split("\n")[0]).toBe(
      "#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=1",
    );
    const r = await run(LAUNCHER, ["--help"], { env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Usage: euca");
  });
});
