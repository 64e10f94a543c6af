/**
 * A node's EBS part: volumes hot-plugged into its running guests (ncAttachVolume,
 * ncDetachVolume) as files or over NBD, and held still for their snapshots. What is
 * attached is the hypervisor's record (its per-domain state), so it survives an NC restart.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IncorrectStateError, InvalidParameterError, NotFoundError } from "../../common/errors";
import { HypervisorError, type Hypervisor } from "../../hypervisor/types";
import type { NodeClient } from "./client";

type VolumeMethods = Pick<NodeClient, "attachVolume" | "detachVolume" | "freezeVolume" | "thawVolume">;

export function nodeVolumes(o: {
  hypervisor: Hypervisor;
  instanceDir: (instanceId: string) => string | undefined;
}): VolumeMethods {
  return {
    async attachVolume({ instanceId, volumeId, device, target }) {
      const dir = o.instanceDir(instanceId);
      if (!dir) throw new NotFoundError("instance", instanceId);
      const dom = await o.hypervisor.get(instanceId);
      if (!dom || dom.state !== "running")
        throw new IncorrectStateError(`instance ${instanceId} is not running`, "instance");
      if (dom.disks.some((x) => x.volumeId === volumeId)) return; // attached already
      if (dom.disks.some((x) => x.device === device))
        throw new InvalidParameterError("Device", `Attachment point ${device} is already in use`);
      if (target.kind === "file") {
        await o.hypervisor.attachDisk(instanceId, { path: target.path, device, format: target.format, volumeId });
        return;
      }
      if (target.kind === "iscsi") {
        await o.hypervisor.attachDisk(instanceId, {
          path: `iscsi://${target.portal}/${target.target}/${target.lun}`,
          device,
          volumeId,
          iscsi: {
            portal: target.portal,
            target: target.target,
            lun: target.lun,
            user: target.user,
            password: target.password,
          },
        });
        return;
      }
      // Over NBD: this attachment's key, where QEMU reads it (the instance's own directory, 0700).
      const pskDir = join(dir, `${volumeId}.psk`);
      mkdirSync(pskDir, { recursive: true, mode: 0o700 });
      writeFileSync(join(pskDir, "keys.psk"), `${target.identity}:${target.key}\n`, { mode: 0o600 });
      try {
        await o.hypervisor.attachDisk(instanceId, {
          path: `nbd://${target.host}:${target.port}/${target.export}`,
          device,
          volumeId,
          nbd: { host: target.host, port: target.port, export: target.export, identity: target.identity, pskDir },
        });
      } catch (e) {
        rmSync(pskDir, { recursive: true, force: true });
        throw e;
      }
    },

    async detachVolume({ instanceId, volumeId }) {
      const dom = o.instanceDir(instanceId) ? await o.hypervisor.get(instanceId) : undefined;
      const disk = dom?.disks.find((x) => x.volumeId === volumeId);
      if (!disk) return; // gone with its domain, or detached already
      await o.hypervisor.thawDisk(instanceId, disk.device); // a snapshot cut short must not keep the guest's writes in its overlay
      try {
        await o.hypervisor.detachDisk(instanceId, disk.device);
      } catch (e) {
        if (!(e instanceof HypervisorError && (e.kind === "not-attached" || e.kind === "not-found"))) throw e;
      }
      if (disk.nbd) rmSync(disk.nbd.pskDir, { recursive: true, force: true });
    },

    async freezeVolume({ instanceId, volumeId }) {
      const dir = o.instanceDir(instanceId);
      const disk = dir && (await o.hypervisor.get(instanceId))?.disks.find((x) => x.volumeId === volumeId);
      if (!dir || !disk) throw new IncorrectStateError(`${volumeId} is not attached to ${instanceId} here`);
      try {
        await o.hypervisor.freezeDisk(instanceId, disk.device, join(dir, `${volumeId}.overlay.qcow2`));
        return { frozen: true };
      } catch (e) {
        if (e instanceof HypervisorError && e.kind === "unsupported")
          return { frozen: false, heldByStorage: !!disk.nbd };
        throw e;
      }
    },

    async thawVolume({ instanceId, volumeId }) {
      const disk =
        o.instanceDir(instanceId) && (await o.hypervisor.get(instanceId))?.disks.find((x) => x.volumeId === volumeId);
      if (disk) await o.hypervisor.thawDisk(instanceId, disk.device);
    },
  };
}
