/**
 * How a node opens an EBS volume its SC exported to it: the disk the hypervisor is given
 * (its file, or QEMU's own NBD or iSCSI client). An NBD attachment's key is written where
 * QEMU reads it — a 0700 directory in the instance's own — and goes with the disk.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DiskSpec } from "../../hypervisor/types";
import type { VolumeTarget } from "../sc/client";

export function volumeDisk(target: VolumeTarget, at: { volumeId: string; device: string; dir: string }): DiskSpec {
  const { volumeId, device } = at;
  if (target.kind === "file") return { path: target.path, device, format: target.format, volumeId };
  if (target.kind === "iscsi") {
    const { portal, target: iqn, lun, user, password } = target;
    return {
      path: `iscsi://${portal}/${iqn}/${lun}`,
      device,
      volumeId,
      iscsi: { portal, target: iqn, lun, user, password },
    };
  }
  const pskDir = join(at.dir, `${volumeId}.psk`);
  mkdirSync(pskDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(pskDir, "keys.psk"), `${target.identity}:${target.key}\n`, { mode: 0o600 });
  return {
    path: `nbd://${target.host}:${target.port}/${target.export}`,
    device,
    volumeId,
    nbd: { host: target.host, port: target.port, export: target.export, identity: target.identity, pskDir },
  };
}

/** What volumeDisk left on the node for the disk (an NBD key). */
export function forgetVolumeDisk(disk: DiskSpec): void {
  if (disk.nbd) rmSync(disk.nbd.pskDir, { recursive: true, force: true });
}
