/**
 * A running guest's disks over QMP: hot-plug and unplug (with the credentials an NBD or
 * iSCSI disk needs), and the external overlay that holds a disk still for a snapshot.
 * Each block node is `n-<device>`, its credentials `t-<device>`, its overlay `o-<device>`.
 */
import { rmSync } from "node:fs";
import { diskSerial, HypervisorError, type DiskSpec } from "../types";
import type { QmpConnection } from "./qmp";

/**
 * A disk's block node and the credentials it names, as QMP's blockdev-add / object-add (and
 * the command line's -blockdev / -object) take them. An iSCSI password is read from
 * `secretFile` when given (a command line must not carry it), else passed as data over QMP.
 */
export function blockdevOf(
  disk: DiskSpec,
  secretFile?: string,
): { objects: Array<Record<string, unknown>>; blockdev: Record<string, unknown> } {
  const file = disk.nbd
    ? {
        driver: "nbd",
        server: { type: "inet", host: disk.nbd.host, port: String(disk.nbd.port) },
        export: disk.nbd.export,
        "tls-creds": `t-${disk.device}`,
        "reconnect-delay": 5,
      }
    : disk.iscsi
      ? {
          driver: "iscsi",
          transport: "tcp",
          portal: disk.iscsi.portal,
          target: disk.iscsi.target,
          lun: disk.iscsi.lun,
          user: disk.iscsi.user,
          "password-secret": `t-${disk.device}`,
        }
      : { driver: "file", filename: disk.path, aio: "threads" };
  // The attachment's credentials: a TLS-PSK key file (NBD) or the CHAP password (iSCSI), as an object the block layer names.
  const objects: Array<Record<string, unknown>> = [];
  if (disk.nbd)
    objects.push({
      "qom-type": "tls-creds-psk",
      id: `t-${disk.device}`,
      endpoint: "client",
      dir: disk.nbd.pskDir,
      username: disk.nbd.identity,
    });
  if (disk.iscsi)
    objects.push({
      "qom-type": "secret",
      id: `t-${disk.device}`,
      ...(secretFile ? { file: secretFile } : { data: disk.iscsi.password }),
    });
  return {
    objects,
    blockdev: {
      driver: disk.nbd || disk.iscsi ? "raw" : (disk.format ?? "raw"),
      "node-name": `n-${disk.device}`,
      "read-only": disk.readOnly ?? false,
      file,
    },
  };
}

/** The virtio device of a disk's block node: the guest sees a volume's id as its serial. */
export function diskDevice(disk: DiskSpec): Record<string, string> {
  return {
    driver: "virtio-blk-pci",
    id: disk.device,
    drive: `n-${disk.device}`,
    serial: disk.volumeId ? diskSerial(disk.volumeId) : disk.device,
  };
}

/** Hot-plugs a disk: its credentials, its block node, its virtio device (at `slot` when given: a migration target matches its source). */
export async function plugDisk(c: QmpConnection, disk: DiskSpec, slot?: number): Promise<void> {
  const { objects, blockdev } = blockdevOf(disk);
  for (const obj of objects) await c.execute("object-add", obj);
  await c.execute("blockdev-add", blockdev);
  await c.execute("device_add", {
    ...diskDevice(disk),
    ...(slot !== undefined ? { addr: `0x${slot.toString(16)}` } : {}),
  });
}

/** Unplugs a disk: the guest must let go of the device first; then its block node and credentials go. */
export async function unplugDisk(c: QmpConnection, device: string): Promise<void> {
  await c.execute("device_del", { id: device });
  // A first DEVICE_DELETED names only the virtio backend; the one that counts carries the id.
  const gone = await c.waitEvent((e) => e.event === "DEVICE_DELETED" && e.data?.device === device, 15_000);
  if (!gone) throw new HypervisorError("device-busy", `the guest did not release ${device}`);
  await c.execute("blockdev-del", { "node-name": `n-${device}` });
  await c.execute("object-del", { id: `t-${device}` }).catch(() => undefined); // an NBD or iSCSI disk's credentials
}

/** Makes the qcow2 overlay at `overlayPath` (already created over the disk's file) the drive's top. */
export async function addOverlay(c: QmpConnection, device: string, overlayPath: string): Promise<void> {
  await c.execute("blockdev-add", {
    driver: "qcow2",
    "node-name": `o-${device}`,
    file: { driver: "file", filename: overlayPath, aio: "threads" },
    backing: null,
  });
  await c.execute("blockdev-snapshot", { node: `n-${device}`, overlay: `o-${device}` });
}

/** Commits a disk's overlay back into its file (the active-layer commit) and removes it; nothing to do without one. */
export async function commitOverlay(c: QmpConnection, device: string): Promise<void> {
  const nodes = (await c.execute("query-named-block-nodes", { flat: true })) as Array<{
    "node-name": string;
    image: { filename: string };
  }>;
  const overlay = nodes.find((n) => n["node-name"] === `o-${device}`);
  if (!overlay) return; // thawed already
  const job = `thaw-${device}`;
  await c.execute("block-commit", { "job-id": job, device: `o-${device}` });
  const ready = await c.waitEvent((e) => e.event === "BLOCK_JOB_READY" && e.data?.device === job, 120_000);
  if (!ready) throw new HypervisorError("device-busy", `the overlay of ${device} did not commit`);
  await c.execute("block-job-complete", { device: job });
  await c.waitEvent((e) => e.event === "BLOCK_JOB_COMPLETED" && e.data?.device === job, 60_000);
  await c.execute("blockdev-del", { "node-name": `o-${device}` });
  rmSync(overlay.image.filename, { force: true });
}
