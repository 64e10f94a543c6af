/**
 * The volume backends a storage controller can keep volumes in, by SC_BACKEND's name
 * (config lists the names; this record must have one entry for each). A new backend (LVM,
 * Ceph RBD) is one file implementing ./types.ts and one entry here.
 */
import type { ProgramRunner } from "../../../common/run-program";
import type { VolumeBackendName } from "../../../config/settings";
import { createFileBackend } from "./files";
import type { VolumeBackend } from "./types";

/** What every backend is given: the SC's volumes directory and format settings, and how to run programs. */
export interface VolumeBackendOptions {
  dir: string;
  format: "raw" | "qcow2";
  run: ProgramRunner;
}

export const VOLUME_BACKENDS: Record<VolumeBackendName, (o: VolumeBackendOptions) => VolumeBackend> = {
  files: createFileBackend,
};

export function createVolumeBackend(name: VolumeBackendName, o: VolumeBackendOptions): VolumeBackend {
  return VOLUME_BACKENDS[name](o);
}
