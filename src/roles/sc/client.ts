/**
 * The CLC's (and a node's) view of one zone's storage controller: volumes made, found,
 * exported to the node that attaches them, removed. In process and over signed HTTP
 * (the same interface; one contract suite runs against both).
 */
import type { CallContext } from "../../rpc/types";
import type { StoredVolumeState } from "../../lifecycle/volume";

export interface StoredVolume {
  volumeId: string;
  sizeGiB: number;
  state: StoredVolumeState;
  /** Why it is in error. */
  reason?: string;
}

/**
 * How a node opens a volume: its file, when the SC and the node share a host; otherwise
 * a network export QEMU speaks itself (NBD, with a secret for this attachment alone).
 */
export type VolumeTarget =
  | { kind: "file"; path: string; format: "raw" | "qcow2" }
  | { kind: "nbd"; host: string; port: number; export: string; identity: string; key: string }
  | { kind: "iscsi"; portal: string; target: string; lun: number; user: string; password: string };

export interface StoredSnapshot {
  snapshotId: string;
  volumeId: string;
  sizeGiB: number;
  state: "pending" | "completed" | "error" | "deleting";
  /** Percent done. */
  progress: number;
  /** Chunks in it, and those (and bytes) it had to upload: the rest this SC held already. */
  chunks: number;
  uploaded: number;
  uploadedBytes: number;
  reason?: string;
}

export interface StorageInfo {
  zone: string;
  backend: string;
  maxVolumeGiB: number;
  maxTotalGiB: number;
  usedGiB: number;
}

export interface StorageClient {
  describeStorage(input: Record<string, never>, ctx: CallContext): Promise<StorageInfo>;
  /**
   * Records the volume and makes it (in the background: `creating`, then `available` or
   * `error`), empty or with a snapshot's data (from any zone's). Idempotent per id.
   */
  createVolume(
    input: { volumeId: string; sizeGiB: number; snapshotId?: string },
    ctx: CallContext,
  ): Promise<StoredVolume>;
  describeVolumes(input: { volumeIds?: string[] }, ctx: CallContext): Promise<{ volumes: StoredVolume[] }>;
  /** Removes it and everything of it. Idempotent (an unknown id is gone already). */
  deleteVolume(input: { volumeId: string }, ctx: CallContext): Promise<void>;
  /**
   * Where the node running `instanceId` opens the volume for that attachment (one at a
   * time): its file when `local` (the node shares the SC's host), else an NBD export only
   * that attachment's key opens.
   */
  exportVolume(
    input: { volumeId: string; instanceId: string; local: boolean },
    ctx: CallContext,
  ): Promise<VolumeTarget>;
  /** The attachment's export is no longer needed. Idempotent. */
  unexportVolume(input: { volumeId: string; instanceId: string }, ctx: CallContext): Promise<void>;
  /**
   * Takes a snapshot: answers once the volume's point-in-time copy is made (a guest writing
   * to it may be let go on again), then uploads in the background (`pending` → `completed`).
   */
  createSnapshot(input: { snapshotId: string; volumeId: string }, ctx: CallContext): Promise<StoredSnapshot>;
  describeSnapshots(input: { snapshotIds?: string[] }, ctx: CallContext): Promise<{ snapshots: StoredSnapshot[] }>;
  /**
   * CopySnapshot within the region: a new snapshot of the same chunks (this SC's, the
   * source's zone), completed when this answers; no data is read or sent. Idempotent per id.
   */
  copySnapshot(input: { snapshotId: string; sourceSnapshotId: string }, ctx: CallContext): Promise<StoredSnapshot>;
  /**
   * ImportSnapshot: a snapshot of a raw disk image in Walrus (`bucket`/`key`), `pending`
   * while it is read and chunked in the background. Idempotent per id.
   */
  importSnapshot(
    input: { snapshotId: string; bucket: string; key: string; sizeGiB: number },
    ctx: CallContext,
  ): Promise<StoredSnapshot>;
  /** Removes it and the chunks no other snapshot uses. Idempotent. */
  deleteSnapshot(input: { snapshotId: string }, ctx: CallContext): Promise<void>;
}

export const STORAGE_METHODS = [
  "describeStorage",
  "createVolume",
  "describeVolumes",
  "deleteVolume",
  "exportVolume",
  "unexportVolume",
  "createSnapshot",
  "describeSnapshots",
  "copySnapshot",
  "importSnapshot",
  "deleteSnapshot",
] as const satisfies readonly (keyof StorageClient)[];
