/**
 * Every command line seen while a test runs, to check that no secret is on one (any
 * local user reads /proc/<pid>/cmdline). Two ways at once: wrappers for the programs
 * euca runs by name (put `binDir` first on its PATH: each logs its argv, then execs
 * the real program), which see even a process that lives a millisecond; and a poll of
 * /proc, which sees long-lived ones however they were started.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { tempDir } from "./cloud";

/** What euca runs by name (src/: run, spawn and runProgram calls). */
export const PROGRAMS = [
  "tgtd",
  "tgtadm",
  "qemu-img",
  "qemu-storage-daemon",
  "qemu-system-x86_64",
  "nft",
  "ip",
  "dnsmasq",
  "conntrack",
  "arping",
  "debugfs",
  "socat",
  "timeout",
  "xl",
];

function which(name: string, skip: string): string | undefined {
  for (const d of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter)) {
    if (d && d !== skip && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

export interface ArgvWatch {
  /** Put first on PATH of what is watched. */
  binDir: string;
  /** Stops the poll; every command line seen (arguments joined by spaces). */
  stop(): string[];
}

export function watchArgv(programs: readonly string[] = PROGRAMS): ArgvWatch {
  const binDir = tempDir("euca-argv-");
  const log = join(binDir, "argv.log");
  writeFileSync(log, "");
  chmodSync(binDir, 0o755);
  chmodSync(log, 0o666);
  for (const name of programs) {
    const real = which(name, binDir);
    if (!real) continue;
    writeFileSync(
      join(binDir, name),
      `#!/bin/sh\n{ printf '%s' '${name}'; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n'; } >> '${log}'\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
  }
  const seen = new Set<string>();
  const poll = () => {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const line = readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0+$/, "").replace(/\0/g, " ");
        if (line) seen.add(line);
      } catch {
        // gone already
      }
    }
  };
  const timer = setInterval(poll, 10);
  poll();
  return {
    binDir,
    stop() {
      clearInterval(timer);
      poll();
      return [...seen, ...readFileSync(log, "latin1").split("\n").filter(Boolean)];
    },
  };
}

/** The command lines that hold one of `secrets`, or a password given as an argument. */
export function withSecrets(lines: readonly string[], secrets: readonly string[]): string[] {
  const known = secrets.filter((s) => s.length >= 8);
  return lines.filter((l) => known.some((s) => l.includes(s)) || /--password\b|\bpassword=/i.test(l));
}
