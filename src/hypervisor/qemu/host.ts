/**
 * QEMU's host side: its process (started until it daemonizes, found again by its pid file
 * and command line) and the guest's tap on its bridge, in the node's network namespace.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { ProgramRunner } from "../../common/run-program";
import { HypervisorError, type DomainSpec } from "../types";
import { tapMac, tapName } from "../tap-name";
import type { QemuNet } from "./args";

/** QEMU's pid when it still runs this instance (a recycled pid running something else does not count). */
export function qemuPid(pidFile: string, id: string): number | undefined {
  try {
    // QEMU removes its pid file as it exits, so it can vanish between any two reads.
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const at = cmdline.indexOf("-name");
    return at >= 0 && cmdline[at + 1] === id ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** `ip` in the node's namespace. */
export async function ipIn(run: ProgramRunner, netns: string | undefined, args: string[]): Promise<void> {
  const r = await run("ip", [...(netns ? ["-n", netns] : []), ...args]);
  if (r.code !== 0) throw new HypervisorError("start-failed", `ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/** A bridge NIC gets a tap on its bridge (root; the virtual network makes the bridges); a user NIC rootless user networking. */
export async function guestNetwork(
  ip: (args: string[]) => Promise<void>,
  spec: DomainSpec,
  md: { host: string; port: number } | undefined,
): Promise<QemuNet> {
  const nic = spec.nics[0];
  if (!nic) return { mode: "none" };
  if (nic.mode === "bridge") {
    const tap = tapName(spec.instanceId);
    await ip(["tuntap", "add", "dev", tap, "mode", "tap"]);
    // Its host-side MAC is the node's way to the guest's metadata requests (net/lan.ts).
    await ip(["link", "set", tap, "address", tapMac(nic.mac), "master", nic.bridge, "up"]).catch(async (e) => {
      await ip(["link", "del", tap]).catch(() => undefined);
      throw e;
    });
    return { mode: "tap", ifname: tap };
  }
  const bind = nic.ip ? `,bind=${nic.ip}` : "";
  return { mode: "user", metadataCommand: md ? `socat - TCP:${md.host}:${md.port}${bind}` : undefined };
}

/** Runs QEMU until it daemonizes: exit 0 means the guest is running; otherwise its message says why not. */
export function spawnQemu(binary: string, netns: string | undefined, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = netns ? ["ip", ["netns", "exec", netns, binary, ...args]] : [binary, args];
    const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new HypervisorError("start-failed", `cannot run ${binary}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new HypervisorError(
            "start-failed",
            `QEMU failed to start (${signal ?? `exit ${code}`}): ${err.trim().split("\n").slice(-3).join(" / ") || "no message"}`,
          ),
        );
    });
  });
}
