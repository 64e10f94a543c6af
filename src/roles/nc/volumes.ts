/**
 * A node's EBS part: volumes hot-plugged into its running guests (ncAttachVolume,
 * ncDetachVolume) as files or over NBD, and held still for their snapshots. What is
 * attached is the hypervisor's record (its per-domain state), so it survives an NC restart.
 */
import { join } from "node:path";
import { IncorrectStateError, InvalidParameterError, NotFoundError } from "../../common/errors";
import { HypervisorError, type Hypervisor } from "../../hypervisor/types";
import type { NodeClient } from "./client";
import { forgetVolumeDisk, volumeDisk } from "./volume-disks";

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
      const disk = volumeDisk(target, { volumeId, device, dir });
      try {
        await o.hypervisor.attachDisk(instanceId, disk);
      } catch (e) {
        forgetVolumeDisk(disk);
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
      forgetVolumeDisk(disk);
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
