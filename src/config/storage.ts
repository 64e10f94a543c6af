/**
 * The storage controller's settings read as what they mean: where volumes live, which
 * exporter serves other hosts and on what ports, and the checks made at start.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { onPath } from "../common/on-path";
import type { Settings } from "./setting-types";
import { ConfigError } from "./values";

/** SC_VOLUMES_DIR, else volumes/ in the data directory. */
export const volumesDirOf = (s: Pick<Settings, "scVolumesDir">, layoutVolumesDir: string): string =>
  s.scVolumesDir || layoutVolumesDir;

/** Whether nodes on other hosts can be served over NBD: qemu-storage-daemon (Debian: qemu-system-common / qemu-utils). */
export const nbdAvailable = (): boolean => onPath("qemu-storage-daemon");

/** SC_EXPORT=iscsi needs tgt on this host; checked at start. */
export function checkStorageHost(s: Pick<Settings, "scExport">): void {
  if (s.scExport === "iscsi" && !onPath("tgtd"))
    throw new ConfigError(
      "SC_EXPORT=iscsi needs tgt (tgtd, tgtadm) on the storage controller's host: apt-get install tgt",
    );
}

/**
 * One tgtd per SC: its control socket (/var/run/tgtd/socket.<n>) numbered from the data
 * directory, so two SCs on a host do not share one.
 */
export function tgtControlPortOf(dataDir: string): number {
  return 100 + (parseInt(createHash("sha256").update(dataDir).digest("hex").slice(0, 6), 16) % 900);
}

/** Where the SC's NBD exports keep their files, under the volumes directory. */
export const nbdExportsDirOf = (volumesDir: string): string => join(volumesDir, "exports");
