/**
 * Where a storage controller keeps volumes. Files today (sparse raw, qcow2); the interface
 * is what LVM or Ceph RBD would implement too: a volume is made, found, frozen for a
 * snapshot (a point-in-time copy that reads like the volume did then, while the guest
 * keeps writing), and removed. Nothing else of the SC knows how.
 */
export interface VolumeBackend {
  /** "raw" or "qcow2" (what QEMU is told the file holds), or a later backend's name. */
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
}

export interface VolumeLocation {
  /** A path QEMU (or xl) can open on this host. */
  path: string;
  /** QEMU's format driver for it. */
  format: "raw" | "qcow2";
}

export const GIB = 1024 ** 3;
