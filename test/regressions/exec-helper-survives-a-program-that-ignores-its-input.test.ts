/**
 * The tests' `run` helper wrote its input to a program's stdin without listening for the
 * stream's errors: a program that exited before reading it (the EBS node-crash test's, once
 * in CI) made the write fail with EPIPE, an uncaught exception that failed the whole run.
 * Now the program's exit status is the answer, whatever became of its input.
 */
import { describe, expect, it } from "vitest";
import { run } from "../support/exec";

describe("regression: run() and a program that does not read its input", () => {
  it("answers with the exit status; the broken pipe is not an uncaught error", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await run("/bin/sh", ["-c", "exit 3"], { input: "x".repeat(4 * 1024 * 1024) });
      expect(r.status).toBe(3);
    }
  });
});
