/**
 * Where a storage controller keeps volumes, chosen by SC_BACKEND from ./registry.ts. Files
 * today (sparse raw, qcow2); the interface is what LVM or Ceph RBD implement too: a volume
 * is made, found, copied at a point in time for a snapshot (a copy that reads like the
 * volume did then, while the guest keeps writing), written from a snapshot, handed to an
 * exporter, and removed. Nothing else of the SC knows how.
 */
export interface VolumeBackend {
  /** What describeStorage and the logs call it: how it holds volumes ("raw" or "qcow2" for files). */
  readonly name: string;
  /** Makes an empty volume of `sizeGiB`; idempotent for the same size. */
  create(volumeId: string, sizeGiB: number): Promise<VolumeLocation>;
  /** Where a volume is, or undefined when it does not exist. */
  locate(volumeId: string): VolumeLocation | undefined;
  /** The volume's size as the backend holds it, bytes. */
  sizeOf(volumeId: string): Promise<number>;
  /** Removes it. Idempotent. */
  remove(volumeId: string): Promise<void>;
  /** Every volume the backend holds (the SC's restart reconciles its records with them). */
  list(): Promise<string[]>;
  /**
   * A raw image at `dest` of the volume as it is now (a reflink where the filesystem has
   * them), made before the snapshot is answered; the chunks are read from it afterwards.
   */
  copyAt(volumeId: string, dest: string): Promise<void>;
  /** The raw file a snapshot's chunks are written into to make the volume (refused where there is none). */
  restoreTarget(volumeId: string): VolumeLocation;
  /** What an exporter serves to another host (iSCSI's tgt reads raw files only), or undefined when the volume is gone. */
  exportSource(volumeId: string, to: "nbd" | "iscsi"): VolumeLocation | undefined;
}

export interface VolumeLocation {
  /** A path QEMU (or xl) can open on this host. */
  path: string;
  /** QEMU's format driver for it. */
  format: "raw" | "qcow2";
}

export const GIB = 1024 ** 3;
