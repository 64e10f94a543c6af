/** The storage controller of this host's zone: its database, its volume backend, its exporters, its limits. */
import { runProgram } from "../common/run-program";
import { recordStart } from "../db/role-meta";
import { checkStorageHost, nbdAvailable, nbdExportsDirOf, tgtControlPortOf, volumesDirOf } from "../config/storage";
import { openScDatabase } from "../roles/sc/database";
import { createVolumeBackend } from "../roles/sc/backends/registry";
import { createStorageService } from "../roles/sc/service";
import type { StorageClient } from "../roles/sc/client";
import { createRestoreCache } from "../roles/sc/restore-cache";
import { createSnapshotStore } from "../roles/sc/snapshots";
import { createNbdExporter } from "../roles/sc/nbd-exports";
import { createIscsiExporter } from "../roles/sc/iscsi-exports";
import type { WalrusClient } from "../roles/walrus/client";
import { join } from "node:path";
import type { Assembly } from "./assembly";

/** The SC's service, and what it finishes after a crash (`recover`, once Walrus is there: restores and snapshots need it). */
export function assembleStorage(
  a: Assembly,
  o: { walrus: () => WalrusClient | undefined },
): { service: StorageClient; recover(): Promise<void> } {
  const s = a.settings;
  checkStorageHost(s);
  const db = openScDatabase(a.layout.database("sc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const dir = volumesDirOf(s, a.layout.volumesDir);
  const nbd = nbdAvailable()
    ? createNbdExporter({ dir: nbdExportsDirOf(dir), host: s.host, ports: s.scNbdPorts, run: runProgram, log: a.log })
    : undefined;
  if (!nbd) a.log.warn("sc: no qemu-storage-daemon: only nodes on this host can attach this zone's volumes");
  const service = createStorageService({
    zone: s.clusterName,
    db,
    backend: createVolumeBackend(s.scBackend, { dir, format: s.scVolumeFormat, run: runProgram }),
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
    snapshots: createSnapshotStore({ zone: s.clusterName, db, walrus: o.walrus, run: runProgram, log: a.log }),
    stagingDir: join(dir, "staging"),
    restoreCache: createRestoreCache({ dir: join(dir, "snapshot-cache"), run: runProgram }),
    nbd,
    iscsi:
      s.scExport === "iscsi"
        ? createIscsiExporter({
            host: s.host,
            port: s.scIscsiPort,
            controlPort: tgtControlPortOf(s.dataDir),
            log: a.log,
          })
        : undefined,
  });
  a.cleanups.push(() => service.drain()); // before the database closes (cleanups run in reverse)
  return { service, recover: () => service.recover() };
}
