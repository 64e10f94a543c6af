/** Runs a program without a shell and collects its output (the outside world's CLIs: mkswap, debugfs, xl). */
import { spawn } from "node:child_process";

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One program runner per boundary, injected so tests can record argv or play a double. */
export type ProgramRunner = (
  cmd: string,
  args: readonly string[],
  opts?: { input?: string; timeoutMs?: number },
) => Promise<ProgramResult>;

export const runProgram: ProgramRunner = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    // A command that exits without reading its input must not take this process down (EPIPE).
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
