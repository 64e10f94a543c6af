/**
 * The host's dnsmasq for a network that wants DHCP: its files written (and re-read on
 * SIGHUP when only they changed), started again when its arguments change, stopped when
 * no DHCP is wanted. Its pid file is trusted only while that pid is a dnsmasq.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../common/files";
import { dhcpArgs, dhcpHostsFile, dhcpOptionsFile } from "./dnsmasq";
import type { HostNetwork } from "./host-network";

export type DhcpOutcome = "unchanged" | "started" | "reloaded" | "stopped" | "none";

export function createDhcpProcess(o: {
  /** dnsmasq's files and pid file (readable by its unprivileged user). */
  dir: string;
  kill: (pid: number, signal: NodeJS.Signals | 0) => void;
  /** Runs a program (counted with the executor's commands). */
  sh: (cmd: string, args: string[]) => Promise<string>;
}) {
  const pidFile = `${o.dir}/dnsmasq.pid`;

  const pid = (): number | undefined => {
    if (!existsSync(pidFile)) return undefined;
    const n = Number(readFileSync(pidFile, "utf8").trim());
    try {
      o.kill(n, 0);
      // A pid file that outlived its dnsmasq may name another process now.
      const comm = existsSync(`/proc/${n}/comm`) ? readFileSync(`/proc/${n}/comm`, "utf8").trim() : "dnsmasq";
      return comm === "dnsmasq" ? n : undefined;
    } catch {
      return undefined;
    }
  };

  function stopPid(n: number): void {
    try {
      o.kill(n, "SIGTERM");
    } catch {
      /* gone already */
    }
    rmSync(pidFile, { force: true });
  }

  return {
    pid,
    /** Stops the running dnsmasq, if any. */
    stop(): void {
      const n = pid();
      if (n) stopPid(n);
    },
    /** Makes DHCP `want` (with `lastArgs`, the arguments the running one was started with); returns what it did and the arguments now. */
    async apply(
      want: HostNetwork["dhcp"],
      lastArgs: string[] | undefined,
    ): Promise<{ outcome: DhcpOutcome; args: string[] | undefined }> {
      const running = pid();
      if (!want) {
        if (running) stopPid(running);
        return { outcome: running ? "stopped" : "none", args: undefined };
      }
      mkdirSync(o.dir, { recursive: true, mode: 0o755 });
      const hosts = dhcpHostsFile(want);
      const opts = dhcpOptionsFile(want);
      const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : undefined);
      const changed = read(`${o.dir}/hosts`) !== hosts || read(`${o.dir}/options`) !== opts;
      if (changed) {
        writeFileAtomic(`${o.dir}/hosts`, hosts, 0o644);
        writeFileAtomic(`${o.dir}/options`, opts, 0o644);
      }
      const args = dhcpArgs(want, o.dir);
      if (running && JSON.stringify(args) === JSON.stringify(lastArgs)) {
        if (!changed) return { outcome: "unchanged", args };
        o.kill(running, "SIGHUP");
        return { outcome: "reloaded", args };
      }
      if (running) stopPid(running);
      await o.sh("dnsmasq", args); // forks into the background once it has bound, writing its pid file
      return { outcome: "started", args };
    },
  };
}
