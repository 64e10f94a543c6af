/**
 * A volume exported to a node on another host: one `qemu-storage-daemon` per attachment,
 * serving that volume alone over NBD behind TLS-PSK with a key made for that attachment
 * (the node it was given to is the only one that can open it), and controlled over its
 * QMP socket (`quit` ends it). QEMU on the node opens it itself — no initiator on the
 * host. The daemon outlives an SC restart (the guest keeps its disk); the SC finds it
 * again by its pid file.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ProgramRunner } from "../../common/run-program";
import { withQmp } from "../../hypervisor/qemu/qmp";

export interface NbdExport {
  host: string;
  port: number;
  /** The export's name: the volume id. */
  export: string;
  /** The TLS-PSK identity and key (hex) of this attachment. */
  identity: string;
  key: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return (
      existsSync(`/proc/${pid}/comm`) && readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("qemu-storage")
    );
  } catch {
    return false;
  }
};

export function createNbdExporter(o: {
  dir: string;
  host: string;
  ports: readonly [number, number];
  run: ProgramRunner;
  log: Logger;
}) {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const dirOf = (volumeId: string) => join(o.dir, volumeId);
  const pidOf = (volumeId: string) => {
    const f = join(dirOf(volumeId), "pid");
    const pid = existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : 0;
    return pid && alive(pid) ? pid : undefined;
  };
  const recorded = (volumeId: string): NbdExport | undefined => {
    const f = join(dirOf(volumeId), "export.json");
    return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as NbdExport) : undefined;
  };

  async function stop(volumeId: string): Promise<void> {
    const d = dirOf(volumeId);
    const pid = pidOf(volumeId);
    if (pid) {
      await withQmp(join(d, "qmp.sock"), (c) => c.execute("quit")).catch(() => process.kill(pid, "SIGTERM"));
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    }
    rmSync(d, { recursive: true, force: true });
  }

  return {
    /** Serves `path` (a volume's file) for `identity` alone; idempotent for the same attachment. */
    async start(
      volumeId: string,
      identity: string,
      path: string,
      format: "raw" | "qcow2",
      usedPorts: ReadonlySet<number>,
    ): Promise<NbdExport> {
      const prior = recorded(volumeId);
      if (prior && prior.identity === identity && pidOf(volumeId)) return prior;
      // A daemon that died (a crash, a reboot of this host) comes back with the same port and key: the node's QEMU reconnects.
      const again = prior && prior.identity === identity ? prior : undefined;
      await stop(volumeId);
      const d = dirOf(volumeId);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      const key = again?.key ?? randomBytes(32).toString("hex");
      writeFileSync(join(d, "keys.psk"), `${identity}:${key}\n`, { mode: 0o600 });
      const ports = again
        ? [again.port]
        : Array.from({ length: o.ports[1] - o.ports[0] + 1 }, (_, i) => o.ports[0] + i);
      for (const port of ports) {
        if (usedPorts.has(port) && port !== again?.port) continue;
        const r = await o.run(
          "qemu-storage-daemon",
          [
            "--object",
            `tls-creds-psk,id=tls0,endpoint=server,dir=${d}`,
            "--blockdev",
            `driver=file,node-name=file0,filename=${path},aio=threads`,
            "--blockdev",
            `driver=${format},node-name=vol0,file=file0`,
            "--nbd-server",
            `addr.type=inet,addr.host=${o.host},addr.port=${port},tls-creds=tls0`,
            "--export",
            `type=nbd,id=exp0,node-name=vol0,name=${volumeId},writable=on`,
            "--chardev",
            `socket,id=qmp,path=${join(d, "qmp.sock")},server=on,wait=off`,
            "--monitor",
            "chardev=qmp",
            "--daemonize",
            "--pidfile",
            join(d, "pid"),
          ],
          { timeoutMs: 30_000 },
        );
        if (r.code === 0) {
          const e: NbdExport = { host: o.host, port, export: volumeId, identity, key };
          writeFileSync(join(d, "export.json"), JSON.stringify(e), { mode: 0o600 });
          o.log.info({ volumeId, instanceId: identity, port }, "sc: volume exported over NBD");
          return e;
        }
        if (!/Address already in use|Failed to bind/i.test(r.stderr)) {
          rmSync(d, { recursive: true, force: true });
          throw new Error(`qemu-storage-daemon: ${r.stderr.trim().split("\n")[0]}`);
        }
      }
      rmSync(d, { recursive: true, force: true });
      throw new Error(`no free NBD port in ${o.ports[0]}-${o.ports[1]}`);
    },

    stop,

    /**
     * Holds an exported volume's file still for a snapshot while the node keeps writing: the
     * daemon's graph gets a qcow2 overlay on top (blockdev-snapshot moves the export onto
     * it); release commits it back and drops it. Same as a node does for a local disk.
     */
    async hold(volumeId: string, path: string, format: "raw" | "qcow2"): Promise<void> {
      const d = dirOf(volumeId);
      const overlay = join(d, "hold.qcow2");
      const made = await o.run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", format, "-b", path, overlay], {
        timeoutMs: 30_000,
      });
      if (made.code !== 0) throw new Error(`qemu-img create: ${made.stderr.trim()}`);
      await withQmp(join(d, "qmp.sock"), async (c) => {
        await c.execute("blockdev-add", {
          driver: "qcow2",
          "node-name": "hold0",
          file: { driver: "file", filename: overlay, aio: "threads" },
          backing: null,
        });
        await c.execute("blockdev-snapshot", { node: "vol0", overlay: "hold0" });
      });
    },

    async release(volumeId: string): Promise<void> {
      const d = dirOf(volumeId);
      if (!existsSync(join(d, "hold.qcow2"))) return;
      await withQmp(join(d, "qmp.sock"), async (c) => {
        await c.execute("block-commit", { "job-id": "release", device: "hold0" });
        if (!(await c.waitEvent((e) => e.event === "BLOCK_JOB_READY" && e.data?.device === "release", 120_000)))
          throw new Error("the hold did not commit");
        await c.execute("block-job-complete", { device: "release" });
        await c.waitEvent((e) => e.event === "BLOCK_JOB_COMPLETED" && e.data?.device === "release", 60_000);
        await c.execute("blockdev-del", { "node-name": "hold0" });
      });
      rmSync(join(d, "hold.qcow2"), { force: true });
    },

    /** The exports whose daemons still run (after a restart), and those gone (their attachments must be made again). */
    running(): Map<string, NbdExport> {
      const out = new Map<string, NbdExport>();
      for (const v of readdirSync(o.dir)) {
        const e = recorded(v);
        if (e && pidOf(v)) out.set(v, e);
      }
      return out;
    },
  };
}

export type NbdExporter = ReturnType<typeof createNbdExporter>;
