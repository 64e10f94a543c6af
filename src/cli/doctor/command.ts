/**
 * `euca doctor [--role R]`: one line per check of what this host needs for its roles —
 * `PASS` / `WARN` / `FAIL`, a stable id, what was found and, for a non-pass, the fix (as
 * kubeadm's preflight and libvirt's virt-host-validate print them). Exits 1 on a FAIL.
 */
import { Command } from "commander";
import { dataDirLayout } from "../../common/data-dir";
import type { Settings } from "../../config/settings";
import { settingsOf, withSettings, type CliIo } from "../settings-flags";
import type { CheckResult } from "./check";
import { HOST_CHECKS } from "./host-checks";
import { CLOUD_CHECKS } from "./cloud-checks";

export async function runDoctor(s: Settings, now = new Date()): Promise<CheckResult[]> {
  const c = { s, layout: dataDirLayout(s.dataDir), has: (r: string) => s.roles.includes(r as never), now };
  const out: CheckResult[] = [];
  for (const check of [...HOST_CHECKS, ...CLOUD_CHECKS]) {
    try {
      const r = await check(c);
      if (r) out.push(...(Array.isArray(r) ? r : [r]));
    } catch (e) {
      out.push({ id: "doctor.internal", status: "FAIL", detail: `a check failed to run: ${(e as Error).message}` });
    }
  }
  return out;
}

export function formatResults(results: readonly CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.id.length));
  return results
    .map((r) => `${r.status}  ${r.id.padEnd(w)}  ${r.detail}${r.fix ? `\n${" ".repeat(w + 8)}fix: ${r.fix}` : ""}`)
    .join("\n")
    .concat("\n");
}

export function doctorCommand(io: CliIo): Command {
  const cmd = withSettings(new Command("doctor")).description(
    "check this host for its roles (--role, or the config file's): hypervisor and acceleration, /dev/net/tun and vhost, the network mode's programs and kernel features, the storage exporters, disk and inodes, ports, the host certificate (expiry, chain, revocation), the CLC and Walrus over mutual TLS, the clock against the CLC's, and the site's settings; one line per check with its fix; exits 1 on a FAIL",
  );
  cmd.action(async () => {
    const results = await runDoctor(settingsOf(cmd, io));
    io.out(formatResults(results));
    const failed = results.filter((r) => r.status === "FAIL").length;
    const warned = results.filter((r) => r.status === "WARN").length;
    io.out(`euca doctor: ${results.length} checks, ${failed} failed, ${warned} warned\n`);
    if (failed) throw new DoctorFailed();
  });
  return cmd;
}

/** Exit 1 without another message: the lines above say what failed. */
export class DoctorFailed extends Error {
  constructor() {
    super("");
  }
}
