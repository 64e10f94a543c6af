/**
 * The Eucalyptus-compatible export: iSCSI from one `tgtd` per SC (as Eucalyptus 2–4 used
 * tgt), a target per attachment (`iqn.2010-12.euca:<volume>`) whose one LUN is the volume's
 * file, bound to a CHAP account made for that attachment alone. QEMU's libiscsi on the node
 * logs in itself (no host initiator). `SC_EXPORT=iscsi` picks it; NBD is the default.
 */
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import type { Logger } from "pino";
import type { CommandRunner } from "../../common/run-command";

export interface IscsiExport {
  portal: string;
  target: string;
  lun: number;
  /** The CHAP account of this attachment. */
  user: string;
  password: string;
}

export const targetOf = (volumeId: string) => `iqn.2010-12.euca:${volumeId}`;

export function createIscsiExporter(o: { host: string; port: number; controlPort: number; run: CommandRunner; log: Logger }) {
  let started: Promise<void> | undefined;
  const tgtadm = async (args: string[], ok: (stderr: string) => boolean = () => false) => {
    const r = await o.run("tgtadm", ["-C", String(o.controlPort), "--lld", "iscsi", ...args], { timeoutMs: 15_000 });
    if (r.code !== 0 && !ok(r.stderr)) throw new Error(`tgtadm ${args.slice(0, 4).join(" ")}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  };
  const running = async () => (await o.run("tgtadm", ["-C", String(o.controlPort), "--lld", "iscsi", "--op", "show", "--mode", "target"], { timeoutMs: 5000 })).code === 0;
  /** The daemon, once: found running (an SC restart keeps it, and its targets), or started. */
  const daemon = () => (started ??= (async () => {
    if (await running()) return;
    const p = spawn("tgtd", ["-f", "-C", String(o.controlPort), "--iscsi", `portal=${o.host}:${o.port}`], { stdio: "ignore", detached: true });
    p.unref();
    for (let i = 0; i < 100; i++) {
      if ((await o.run("tgtadm", ["-C", String(o.controlPort), "--lld", "iscsi", "--op", "show", "--mode", "target"], { timeoutMs: 5000 })).code === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("tgtd did not start");
  })().catch((e) => {
    started = undefined;
    throw e;
  }));
  /** Target ids in use, from tgtd itself. */
  const tids = async () => new Map([...(await tgtadm(["--op", "show", "--mode", "target"])).matchAll(/^Target (\d+): (\S+)/gm)].map((m) => [m[2]!, Number(m[1])]));

  return {
    async start(volumeId: string, instanceId: string, path: string): Promise<IscsiExport> {
      await daemon();
      await this.stop(volumeId);
      const used = new Set((await tids()).values());
      let tid = 1;
      while (used.has(tid)) tid++;
      const user = `${instanceId}-${randomBytes(3).toString("hex")}`;
      const password = randomBytes(8).toString("hex");
      const target = targetOf(volumeId);
      await tgtadm(["--op", "new", "--mode", "target", "--tid", String(tid), "-T", target]);
      await tgtadm(["--op", "new", "--mode", "logicalunit", "--tid", String(tid), "--lun", "1", "-b", path]);
      await tgtadm(["--op", "new", "--mode", "account", "--user", user, "--password", password]);
      await tgtadm(["--op", "bind", "--mode", "account", "--tid", String(tid), "--user", user]);
      await tgtadm(["--op", "bind", "--mode", "target", "--tid", String(tid), "-I", "ALL"]); // the account, not the address, admits
      o.log.info({ volumeId, instanceId, tid }, "sc: volume exported over iSCSI");
      return { portal: `${o.host}:${o.port}`, target, lun: 1, user, password };
    },

    /** Ends the attachment's target and its account. Idempotent. */
    async stop(volumeId: string): Promise<void> {
      if (!(await running())) return; // no daemon: no target
      const tid = (await tids()).get(targetOf(volumeId));
      if (tid === undefined) return;
      const shown = await tgtadm(["--op", "show", "--mode", "target"]);
      const section = shown.split(/^Target /m).find((x) => x.startsWith(`${tid}: `)) ?? "";
      const accounts = [...section.matchAll(/^\s+Account information:\s*\n((?:\s+\S+\n)*)/gm)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter(Boolean);
      await tgtadm(["--op", "delete", "--mode", "target", "--tid", String(tid), "--force"], (e) => /can't find/i.test(e));
      for (const a of accounts) await tgtadm(["--op", "delete", "--mode", "account", "--user", a], (e) => /can't find/i.test(e));
    },
  };
}

export type IscsiExporter = ReturnType<typeof createIscsiExporter>;
