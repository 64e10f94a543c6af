/**
 * The Eucalyptus-compatible export: iSCSI from one `tgtd` per SC (as Eucalyptus 2–4 used
 * tgt), a target per attachment (`iqn.2010-12.euca:<volume>`) whose one LUN is the volume's
 * file, bound to a CHAP account made for that attachment alone. QEMU's libiscsi on the node
 * logs in itself (no host initiator). `SC_EXPORT=iscsi` picks it; NBD is the default.
 * tgtd is told what to do over its management socket (./tgt-admin.ts), not by `tgtadm`,
 * whose command line would show every account's password to any local user.
 */
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import type { Logger } from "pino";
import { createTgtAdmin, TGT_ERRORS, TgtError } from "./tgt-admin";

export interface IscsiExport {
  portal: string;
  target: string;
  lun: number;
  /** The CHAP account of this attachment. */
  user: string;
  password: string;
}

export const targetOf = (volumeId: string) => `iqn.2010-12.euca:${volumeId}`;

export function createIscsiExporter(o: { host: string; port: number; controlPort: number; log: Logger }) {
  let started: Promise<void> | undefined;
  const tgt = createTgtAdmin({ controlPort: o.controlPort });
  /** Already gone is done (stop is idempotent). */
  const gone = (e: unknown) => {
    if (!(e instanceof TgtError && (e.code === TGT_ERRORS.noTarget || e.code === TGT_ERRORS.noUser))) throw e;
  };
  /** The daemon, once: found running (an SC restart keeps it, and its targets), or started. */
  const daemon = () =>
    (started ??= (async () => {
      if (await tgt.running()) return;
      const p = spawn("tgtd", ["-f", "-C", String(o.controlPort), "--iscsi", `portal=${o.host}:${o.port}`], {
        stdio: "ignore",
        detached: true,
      });
      p.unref();
      for (let i = 0; i < 100; i++) {
        if (await tgt.running()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("tgtd did not start");
    })().catch((e) => {
      started = undefined;
      throw e;
    }));
  const showTargets = () => tgt.request({ mode: "target", op: "show" });
  /** Target ids in use, from tgtd itself. */
  const tids = async () =>
    new Map([...(await showTargets()).matchAll(/^Target (\d+): (\S+)/gm)].map((m) => [m[2]!, Number(m[1])]));

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
      await tgt.request({ mode: "target", op: "new", tid, params: { targetname: target } });
      await tgt.request({ mode: "device", op: "new", tid, lun: 1, params: { path } });
      await tgt.request({ mode: "account", op: "new", params: { user, password } });
      await tgt.request({ mode: "account", op: "bind", tid, params: { user } });
      // The account, not the address, admits.
      await tgt.request({ mode: "target", op: "bind", tid, params: { "initiator-address": "ALL" } });
      o.log.info({ volumeId, instanceId, tid }, "sc: volume exported over iSCSI");
      return { portal: `${o.host}:${o.port}`, target, lun: 1, user, password };
    },

    /** Ends the attachment's target and its account. Idempotent. */
    async stop(volumeId: string): Promise<void> {
      if (!(await tgt.running())) return; // no daemon: no target
      const tid = (await tids()).get(targetOf(volumeId));
      if (tid === undefined) return;
      const shown = await showTargets();
      const section = shown.split(/^Target /m).find((x) => x.startsWith(`${tid}: `)) ?? "";
      const accounts = [...section.matchAll(/^\s+Account information:\s*\n((?:\s+\S+\n)*)/gm)]
        .flatMap((m) => m[1]!.trim().split(/\s+/))
        .filter(Boolean);
      await tgt.request({ mode: "target", op: "delete", tid, force: true }).catch(gone);
      for (const a of accounts) await tgt.request({ mode: "account", op: "delete", params: { user: a } }).catch(gone);
    },
  };
}

export type IscsiExporter = ReturnType<typeof createIscsiExporter>;
