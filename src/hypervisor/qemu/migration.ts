/**
 * Live migration between two QEMUs over QMP (the sequence libvirt uses for non-shared
 * storage): the target starts paused with `-incoming defer` and serves its local disks
 * over NBD; the source mirrors its local disks into them (blockdev-mirror, sync=full,
 * write-blocking once in step, so no write is left behind) and then moves the guest's RAM
 * and devices (migrate), which ends with the guest paused here for its final pass; the
 * mirrors are then cancelled (a ready mirror's cancel leaves the copy complete), this
 * QEMU quits, and only then does the target continue the guest. Network-attached volumes
 * are not copied: the target opens them itself. Both channels are TLS with a key made
 * for this one migration, so neither the guest's memory nor its disks cross in clear.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { HypervisorError, type MigrationEndpoint, type MigrationFigures } from "../types";
import type { QmpConnection } from "./qmp";

/** The PSK identity both ends use (the key is what is secret). */
export const MIGRATION_IDENTITY = "euca-migration";
const TLS_ID = "migration-tls";
/** QEMU aims for a final pause no longer than this (its default is 300 ms). */
const DOWNTIME_LIMIT_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The key where QEMU's tls-creds-psk reads it (a directory of its own, 0700, the file 0600). */
export function writeMigrationKey(dir: string, key: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "keys.psk"), `${MIGRATION_IDENTITY}:${key}\n`, { mode: 0o600 });
  return dir;
}

async function addTls(c: QmpConnection, endpoint: "server" | "client", dir: string): Promise<void> {
  await c.execute("object-add", {
    "qom-type": "tls-creds-psk",
    id: TLS_ID,
    endpoint,
    dir,
    ...(endpoint === "client" ? { username: MIGRATION_IDENTITY } : {}),
  });
}

/** The block node under each of the local disks (-drive ids disk0, disk1, …). */
async function localNodes(c: QmpConnection, count: number): Promise<string[]> {
  const block = (await c.execute("query-block")) as Array<{ device: string; inserted?: { "node-name": string } }>;
  return Array.from({ length: count }, (_, i) => {
    const node = block.find((b) => b.device === `disk${i}`)?.inserted?.["node-name"];
    if (!node) throw new HypervisorError("start-failed", `QEMU has no disk${i} to migrate`);
    return node;
  });
}

/** Target: serves the local disks for the mirror and waits for the guest's state. */
export async function awaitIncoming(
  c: QmpConnection,
  localDisks: number,
  at: MigrationEndpoint,
  keyDir: string,
): Promise<void> {
  await addTls(c, "server", keyDir);
  await c.execute("nbd-server-start", {
    addr: { type: "inet", data: { host: at.host, port: String(at.nbdPort) } },
    "tls-creds": TLS_ID,
  });
  const nodes = await localNodes(c, localDisks);
  for (const [i, node] of nodes.entries()) {
    await c.execute("block-export-add", {
      type: "nbd",
      id: `migration-disk${i}`,
      "node-name": node,
      writable: true,
      name: `disk${i}`,
    });
  }
  await c.execute("migrate-set-parameters", { "tls-creds": TLS_ID });
  await c.execute("migrate-incoming", { uri: `tcp:${at.host}:${at.migrationPort}` });
}

/** Source: mirrors, migrates, lets the mirrors go. Throws (the guest running on here) when it cannot. */
export async function sendGuest(
  c: QmpConnection,
  localDisks: number,
  to: MigrationEndpoint,
  keyDir: string,
  o: { mirrorTimeoutMs: number; migrateTimeoutMs: number },
): Promise<MigrationFigures> {
  const started = Date.now();
  await addTls(c, "client", keyDir);
  const jobs: string[] = [];
  const cleanup = async () => {
    for (const j of jobs) await c.execute("block-job-cancel", { device: j, force: true }).catch(() => undefined);
    await sleep(200);
    for (let i = 0; i < jobs.length; i++)
      await c.execute("blockdev-del", { "node-name": `migration-target${i}` }).catch(() => undefined);
    await c.execute("object-del", { id: TLS_ID }).catch(() => undefined);
  };
  try {
    const nodes = await localNodes(c, localDisks);
    for (const [i, node] of nodes.entries()) {
      await c.execute("blockdev-add", {
        driver: "nbd",
        "node-name": `migration-target${i}`,
        server: { type: "inet", host: to.host, port: String(to.nbdPort) },
        export: `disk${i}`,
        "tls-creds": TLS_ID,
      });
      await c.execute("blockdev-mirror", {
        "job-id": `migration-mirror${i}`,
        device: node,
        target: `migration-target${i}`,
        sync: "full",
        "copy-mode": "write-blocking",
      });
      jobs.push(`migration-mirror${i}`);
    }
    let diskBytes = 0;
    for (const deadline = Date.now() + o.mirrorTimeoutMs; ;) {
      const list = (await c.execute("query-block-jobs")) as Array<{
        device: string;
        ready: boolean;
        len: number;
        status: string;
      }>;
      const mine = list.filter((j) => jobs.includes(j.device));
      if (mine.length < jobs.length)
        throw new HypervisorError("start-failed", "a disk mirror to the migration target stopped");
      if (mine.every((j) => j.ready)) {
        diskBytes = mine.reduce((n, j) => n + j.len, 0);
        break;
      }
      if (Date.now() > deadline)
        throw new HypervisorError("start-failed", `the disks were not mirrored within ${o.mirrorTimeoutMs} ms`);
      await sleep(100);
    }
    await c.execute("migrate-set-parameters", { "tls-creds": TLS_ID, "downtime-limit": DOWNTIME_LIMIT_MS });
    await c.execute("migrate", { uri: `tcp:${to.host}:${to.migrationPort}` });
    let m: { status?: string; "error-desc"?: string; downtime?: number; ram?: { transferred?: number } } = {};
    for (const deadline = Date.now() + o.migrateTimeoutMs; ;) {
      m = (await c.execute("query-migrate")) as typeof m;
      if (m.status === "completed") break;
      if (m.status === "failed" || m.status === "cancelled")
        throw new HypervisorError("start-failed", `the migration ${m.status}: ${m["error-desc"] ?? "no reason given"}`);
      if (Date.now() > deadline) {
        await c.execute("migrate_cancel").catch(() => undefined);
        throw new HypervisorError("start-failed", `the migration did not complete within ${o.migrateTimeoutMs} ms`);
      }
      await sleep(50);
    }
    // The guest is paused here now and runs there: the mirrors are complete; cancel them and go.
    for (const j of jobs) await c.execute("block-job-cancel", { device: j }).catch(() => undefined);
    return { totalMs: Date.now() - started, downtimeMs: m.downtime ?? 0, ramBytes: m.ram?.transferred ?? 0, diskBytes };
  } catch (e) {
    await cleanup();
    // A migration that failed after the switch would leave the guest paused here: let it run.
    await c.execute("cont").catch(() => undefined);
    throw e;
  }
}

/** Target, after the source finished and let its mirrors go: the guest continues here; the NBD server closes. */
export async function finishIncoming(c: QmpConnection, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const s = (await c.execute("query-status")) as { status: string; running: boolean };
    if (s.running) break;
    if (s.status === "paused" || s.status === "postmigrate" || s.status === "prelaunch") {
      await c.execute("cont");
      continue;
    }
    if (s.status !== "inmigrate") throw new HypervisorError("start-failed", `the migrated guest is ${s.status}`);
    if (Date.now() > deadline)
      throw new HypervisorError("start-failed", `the migration did not arrive within ${timeoutMs} ms`);
    await sleep(20);
  }
  await c.execute("nbd-server-stop").catch(() => undefined);
  await c.execute("object-del", { id: TLS_ID }).catch(() => undefined);
}
