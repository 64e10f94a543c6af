/** The storage controller of this host's zone: its database, its volume backend, its limits. */
import { recordStart } from "../db/role-meta";
import { runCommand } from "../common/run-command";
import { openScDatabase } from "../roles/sc/database";
import { createFileBackend } from "../roles/sc/backends/files";
import { createStorageService } from "../roles/sc/service";
import type { StorageClient } from "../roles/sc/client";
import type { Assembly } from "./assembly";

export async function assembleStorage(a: Assembly): Promise<StorageClient> {
  const s = a.settings;
  const db = openScDatabase(a.layout.database("sc"));
  a.cleanups.push(() => db.close());
  recordStart(db.db, a.version, a.clock.now());
  const backend = createFileBackend({ dir: s.scVolumesDir || a.layout.volumesDir, format: s.scVolumeFormat, run: runCommand });
  const service = createStorageService({ zone: s.clusterName, db, backend, limits: { maxVolumeGiB: s.scMaxVolumeGb, maxTotalGiB: s.scMaxTotalGb }, clock: a.clock, log: a.log });
  await service.recover();
  a.cleanups.push(() => service.drain()); // before the database closes (cleanups run in reverse)
  return service;
}
