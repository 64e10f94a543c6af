/**
 * On Node 24.19+ better-sqlite3 12, built against that runtime's own headers, aborted the
 * whole process (SIGABRT, "Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook)
 * when the GC collected a prepared statement outside a JS context: a worker thread's end, an
 * idle GC. A Walrus or EBS crash test's euca died this way before it was ready. The addon is
 * now built against Node 24.18.1's headers (scripts/with-node.sh); this runs the pattern in
 * fresh processes of the runtime the tests run on and expects each to end cleanly.
 */
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { run } from "../support/exec";

const PROBE = fileURLToPath(new URL("../support/sqlite-gc-probe.mjs", import.meta.url));

describe("better-sqlite3 statements collected outside a JS context", () => {
  it("never abort the process (worker threads' ends, idle collections)", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await run(process.execPath, ["--expose-gc", PROBE], { timeoutMs: 60_000 });
      expect(r.stderr).not.toContain("RemoveEnvironmentCleanupHook");
      expect(r.status, r.stderr.slice(0, 400)).toBe(0);
      expect(r.stdout.trim()).toBe("ok");
    }
  });
});
