/** The storage controller of this host's zone: its database, its volume backend, its limits. */
import { recordStart } from "../db/role-meta";
import { runCommand } from "../common/run-command";
import { openScDatabase } from "../roles/sc/database";
import { createFileBackend } from "../roles/sc/backends/files";
import { createStorageService } from "../roles/sc/service";
import type { StorageClient } from "../roles/sc/client";
import { createSnapshotStore } from "../roles/sc/snapshots";
import { createNbdExporter } from "../roles/sc/nbd-exports";
import { createIscsiExporter } from "../roles/sc/iscsi-exports";
import { ConfigError } from "../config/settings";
import { createHash } from "node:crypto";
import { onPath } from "../common/on-path";
import type { WalrusClient } from "../roles/walrus/client";
import { join } from "node:path";
import type { Assembly } from "./assembly";

/** The SC's service, and what it finishes after a crash (`recover`, once Walrus is there: restores and snapshots need it). */
export function assembleStorage(
  a: Assembly,
  o: { walrus: () => WalrusClient | undefined },
): { service: StorageClient; recover(): Promise<void> } {
  const s = a.settings;
  const db = openScDatabase(a.layout.database("sc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const dir = s.scVolumesDir || a.layout.volumesDir;
  const backend = createFileBackend({ dir, format: s.scVolumeFormat, run: runCommand });
  const snapshots = createSnapshotStore({ zone: s.clusterName, db, walrus: o.walrus, run: runCommand, log: a.log });
  // Nodes on other hosts open volumes over NBD from qemu-storage-daemon (Debian: qemu-system-common / qemu-utils).
  const [from, to] = s.scNbdPorts.split("-").map(Number) as [number, number];
  const nbd = onPath("qemu-storage-daemon")
    ? createNbdExporter({ dir: join(dir, "exports"), host: s.host, ports: [from, to], run: runCommand, log: a.log })
    : undefined;
  if (!nbd) a.log.warn("sc: no qemu-storage-daemon: only nodes on this host can attach this zone's volumes");
  if (s.scExport === "iscsi" && !onPath("tgtd"))
    throw new ConfigError(
      "SC_EXPORT=iscsi needs tgt (tgtd, tgtadm) on the storage controller's host: apt-get install tgt",
    );
  // One tgtd per SC: its control socket numbered from the data directory, so two SCs on a host do not share one.
  const iscsi =
    s.scExport === "iscsi"
      ? createIscsiExporter({
          host: s.host,
          port: s.scIscsiPort,
          controlPort: 100 + (parseInt(createHash("sha256").update(s.dataDir).digest("hex").slice(0, 6), 16) % 900),
          log: a.log,
        })
      : undefined;
  const service = createStorageService({
    zone: s.clusterName,
    db,
    backend,
    limits: {
      get maxVolumeGiB() {
        return s.scMaxVolumeGb;
      },
      get maxTotalGiB() {
        return s.scMaxTotalGb;
      },
    },
    clock: a.clock,
    log: a.log,
    snapshots,
    stagingDir: join(dir, "staging"),
    run: runCommand,
    nbd,
    iscsi,
  });
  a.cleanups.push(() => service.drain()); // before the database closes (cleanups run in reverse)
  return { service, recover: () => service.recover() };
}
